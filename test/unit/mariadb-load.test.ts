import { describe, expect, it } from 'vitest';
import { compatibleTypes } from '../../activities/job-plan';
import { redactedMessage } from '../../activities/failures';
import { loadWarningError } from '../../dialects/mariadb/mariadb-errors';
import { loadDataSql } from '../../dialects/mariadb/mariadb-load';
import { tableColumnInfo } from '../../dialects/mariadb/mariadb-types';

describe('LOAD DATA into MariaDB', () => {
  it('reads a column MariaDB takes as written directly, and one it would misread through a variable', () => {
    const table = new Map([
      ['id', { name: 'id', dataType: 'bigint', columnType: 'bigint(20)' }],
      ['raw', { name: 'raw', dataType: 'varbinary', columnType: 'varbinary(16)' }],
    ]);
    const sql = loadDataSql('`db`.`t`', ['id', 'raw'], table);
    expect(sql).toContain('(`id`, @v1)');
    expect(sql).toMatch(/SET `raw` = .*UNHEX\(SUBSTRING\(@v1, 3\)\)/);
    expect(sql).toContain(`ESCAPED BY '\\\\'`);
  });

  it('turns a warning into an error that names the column and holds no value, whatever the quotes', () => {
    const truncated = loadWarningError({ Level: 'Warning', Code: 1265, Message: "Data truncated for column 'note' at row 7" }, 3);
    expect(truncated.code).toBe('22000');
    expect(redactedMessage(truncated)).toBe('Data truncated for column `note` at row 7 (and 2 more warnings) [MariaDB 1265]: (value redacted) [SQLSTATE 22000]');
    const integer = loadWarningError({ Level: 'Warning', Code: 1366, Message: "Incorrect integer value: 'secret, it''s' for column `db`.`t`.`qty` at row 1" }, 1);
    expect(redactedMessage(integer)).not.toContain('secret');
    expect(redactedMessage(integer)).toContain('for column `db`.`t`.`qty` at row 1');
    const duplicate = loadWarningError({ Level: 'Warning', Code: 1062, Message: "Duplicate entry 'alice@example.com' for key 'email'" }, 1);
    expect(duplicate.code).toBe('23000');
    expect(redactedMessage(duplicate)).toBe('Duplicate entry (value) for key `email` [MariaDB 1062] [SQLSTATE 23000]');
  });
});

describe('type families across engines', () => {
  const pgBoolean = { name: 'paid', type: 'boolean', family: 'boolean' as const };
  it("takes PostgreSQL's boolean into MariaDB's BOOLEAN (TINYINT(1)), but not into another integer", () => {
    expect(compatibleTypes(pgBoolean, tableColumnInfo({ name: 'paid', dataType: 'tinyint', columnType: 'tinyint(1)' }))).toBe(true);
    expect(compatibleTypes(pgBoolean, tableColumnInfo({ name: 'paid', dataType: 'int', columnType: 'int(11)' }))).toBe(false);
  });

  it('takes bytes into bytes and JSON into MariaDB JSON (a text to information_schema)', () => {
    const bytea = { name: 'raw', type: 'bytea', family: 'bytes' as const };
    expect(compatibleTypes(bytea, tableColumnInfo({ name: 'raw', dataType: 'blob', columnType: 'blob' }))).toBe(true);
    expect(compatibleTypes(bytea, tableColumnInfo({ name: 'raw', dataType: 'int', columnType: 'int(11)' }))).toBe(false);
    expect(compatibleTypes({ name: 'j', type: 'jsonb', family: 'json' }, tableColumnInfo({ name: 'j', dataType: 'longtext', columnType: 'longtext' }))).toBe(true);
  });
});
