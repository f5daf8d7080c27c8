import { describe, expect, it } from 'vitest';
import { compatibleTypes } from '../../plan/job-plan';
import { redactedMessage } from '../../activities/failures';
import { loadWarningError } from '../../dialects/mariadb/mariadb-errors';
import { bytesColumns, loadDataSql } from '../../dialects/mariadb/mariadb-load';
import { encodeTabBytes, escapeBytes, WIDE_VALUE } from '../../dialects/tab-text';
import { tableColumnInfo } from '../../dialects/mariadb/mariadb-types';

describe('LOAD DATA into MariaDB', () => {
  const column = (name: string, dataType: string, columnType = dataType) => ({ name, dataType, columnType });
  const table = new Map(
    [
      column('id', 'bigint', 'bigint(20)'),
      column('note', 'varchar', 'varchar(40)'),
      column('paid', 'tinyint', 'tinyint(1)'),
      column('at', 'datetime', 'datetime(6)'),
      column('raw', 'varbinary', 'varbinary(16)'),
      column('doc', 'longblob'),
    ].map((c) => [c.name, c]),
  );

  // Each row: the columns loaded, then what the statement must hold.
  it.each([
    [
      'no column holds bytes: text read as utf8mb4',
      ['id', 'note', 'paid'],
      ['CHARACTER SET utf8mb4', '(`id`, `note`, @v2)', "SET `paid` = CASE @v2 WHEN 't'"],
    ],
    [
      'a column holds bytes: read as binary, bytes as they are, text converted',
      ['id', 'note', 'raw', 'doc'],
      ['CHARACTER SET binary', '(`id`, @v1, `raw`, `doc`)', 'SET `note` = CONVERT(@v1 USING utf8mb4)'],
    ],
    [
      'an expression reads the converted text',
      ['paid', 'at', 'doc'],
      [
        'CHARACTER SET binary',
        '(@v0, @v1, `doc`)',
        "`paid` = CASE CONVERT(@v0 USING utf8mb4) WHEN 't'",
        "`at` = IF(CONVERT(@v1 USING utf8mb4) LIKE '%+00'",
      ],
    ],
  ])('%s', (_, columns, expected) => {
    const sql = loadDataSql('`db`.`t`', columns, table);
    for (const part of expected) expect(sql).toContain(part);
    expect(sql).toContain(`ESCAPED BY '\\\\'`);
    expect(sql).not.toContain('UNHEX');
    expect(bytesColumns(columns, table)).toEqual(columns.map((c) => c === 'raw' || c === 'doc'));
  });

  it('turns a warning into an error that names the column and holds no value, whatever the quotes', () => {
    const truncated = loadWarningError(
      { Level: 'Warning', Code: 1265, Message: "Data truncated for column 'note' at row 7" },
      3,
    );
    expect(truncated.code).toBe('22000');
    expect(redactedMessage(truncated)).toBe(
      'Data truncated for column `note` at row 7 (and 2 more warnings) [MariaDB 1265]: (value redacted) [SQLSTATE 22000]',
    );
    const integer = loadWarningError(
      {
        Level: 'Warning',
        Code: 1366,
        Message: "Incorrect integer value: 'secret, it''s' for column `db`.`t`.`qty` at row 1",
      },
      1,
    );
    expect(redactedMessage(integer)).not.toContain('secret');
    expect(redactedMessage(integer)).toContain('for column `db`.`t`.`qty` at row 1');
    const duplicate = loadWarningError(
      { Level: 'Warning', Code: 1062, Message: "Duplicate entry 'alice@example.com' for key 'email'" },
      1,
    );
    expect(duplicate.code).toBe('23000');
    expect(redactedMessage(duplicate)).toBe('Duplicate entry (value) for key `email` [MariaDB 1062] [SQLSTATE 23000]');
  });
});

describe('type families across engines', () => {
  const pgBoolean = { name: 'paid', type: 'boolean', family: 'boolean' as const };
  it("takes PostgreSQL's boolean into MariaDB's BOOLEAN (TINYINT(1)), but not into another integer", () => {
    expect(
      compatibleTypes(pgBoolean, tableColumnInfo({ name: 'paid', dataType: 'tinyint', columnType: 'tinyint(1)' })),
    ).toBe(true);
    expect(compatibleTypes(pgBoolean, tableColumnInfo({ name: 'paid', dataType: 'int', columnType: 'int(11)' }))).toBe(
      false,
    );
  });

  it('takes bytes into bytes and JSON into MariaDB JSON (a text to information_schema)', () => {
    const bytea = { name: 'raw', type: 'bytea', family: 'bytes' as const };
    expect(compatibleTypes(bytea, tableColumnInfo({ name: 'raw', dataType: 'blob', columnType: 'blob' }))).toBe(true);
    expect(compatibleTypes(bytea, tableColumnInfo({ name: 'raw', dataType: 'int', columnType: 'int(11)' }))).toBe(
      false,
    );
    expect(
      compatibleTypes(
        { name: 'j', type: 'jsonb', family: 'json' },
        tableColumnInfo({ name: 'j', dataType: 'longtext', columnType: 'longtext' }),
      ),
    ).toBe(true);
  });
});

/** The values of a LOAD DATA stream as MariaDB reads it (FIELDS ESCAPED BY '\\', CHARACTER SET binary): bytes per field. */
function readLoadStream(stream: Buffer): (Buffer | null)[][] {
  const unescape: Record<number, number> = { 0x30: 0x00, 0x74: 0x09, 0x6e: 0x0a, 0x72: 0x0d, 0x5c: 0x5c };
  const rows: (Buffer | null)[][] = [];
  let row: (Buffer | null)[] = [];
  let field: number[] = [];
  let escapedNull = false;
  for (let i = 0; i < stream.length; i++) {
    const b = stream[i];
    if (b === 0x5c) {
      const next = stream[++i];
      if (next === 0x4e) escapedNull = true;
      else field.push(unescape[next]);
    } else if (b === 0x09 || b === 0x0a) {
      row.push(escapedNull ? null : Buffer.from(field));
      field = [];
      escapedNull = false;
      if (b === 0x0a) {
        rows.push(row);
        row = [];
      }
    } else field.push(b);
  }
  return rows;
}

describe('rows for LOAD DATA … CHARACTER SET binary', () => {
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const wide = Buffer.concat(Array.from({ length: 300 }, () => every)); // 76,800 bytes: sliced
  const encode = (rows: (string | Buffer | null)[][], columns: boolean[]) => {
    const refused: number[] = [];
    const parts = [...encodeTabBytes(rows, [], { columns, refuse: (c) => refused.push(c) })];
    return { stream: Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))), refused };
  };

  it('writes every byte back as itself, from bytes and from their hex form, and text as its UTF-8', () => {
    const rows = [
      ['1', every, 'tab\there é', null],
      ['2', `\\x${every.toString('hex')}`, null, `\\x${wide.toString('hex')}`],
      ['3', '\\x', 'line\nend\\', wide],
    ];
    const { stream, refused } = encode(rows, [false, true, false, true]);
    expect(refused).toEqual([]);
    expect(readLoadStream(stream)).toEqual([
      [Buffer.from('1'), every, Buffer.from('tab\there é'), null],
      [Buffer.from('2'), every, null, wide],
      [Buffer.from('3'), Buffer.alloc(0), Buffer.from('line\nend\\'), wide],
    ]);
    expect(escapeBytes(every).length).toBe(256 + 5);
  });

  // A value of a column of bytes that is not bytes: the rows end at it, and the column is named.
  it.each([
    ['text', 'not hex'],
    ['a pair that is not hex', '\\x0g'],
    ['an odd count of digits', '\\xabc'],
    ['a bad pair in a later slice of a wide value', `\\x${'ab'.repeat(WIDE_VALUE)}zz`],
  ])('refuses %s', (_, value) => {
    const { stream, refused } = encode(
      [
        ['1', '\\x01'],
        ['2', value],
        ['3', '\\x02'],
      ],
      [false, true],
    );
    expect(refused).toEqual([1]);
    expect(readLoadStream(stream)).toEqual([[Buffer.from('1'), Buffer.from([1])]]);
  });
});
