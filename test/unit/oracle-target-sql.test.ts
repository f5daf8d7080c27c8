// Oracle's target SQL (dialects/oracle/oracle-target-sql.ts), proven by its text and binds: the
// Oracle target itself is not built yet, and no Oracle server runs here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkpointOf,
  checkpointTableDdl,
  storedCheckpoint,
  insertSql,
  lockCheckpointSql,
  mergeSql,
  valueBind,
  writeCheckpointSql,
} from '../../dialects/oracle/oracle-target-sql';

const placeholders = (sql: string) => [...sql.matchAll(/:k\d+/g)].map((m) => m[0]);

describe('DMS_CHKPNT on Oracle', () => {
  it('is created by exactly the DDL docs/oracle.md gives DBAs', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'oracle.md'), 'utf8');
    const block =
      [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('DMS_CHKPNT')) ?? '';
    expect(block.replace(/^ {4}/gm, '').trim()).toBe(checkpointTableDdl('ETL'));
  });

  it('has the columns every dialect keeps, in the target schema', () => {
    const ddl = checkpointTableDdl('DWH');
    expect(ddl).toMatch(/^CREATE TABLE "DWH"."DMS_CHKPNT" \(/);
    for (const c of [
      '"MAPREF" VARCHAR2(128) NOT NULL PRIMARY KEY',
      '"EPOCH" NUMBER(19) NOT NULL',
      '"LASTROW" VARCHAR2(4000)',
      '"TRNCPEND" VARCHAR2(4000)',
    ])
      expect(ddl).toContain(c);
  });

  it('is locked with a bounded wait, so a lock held elsewhere ends in a retried error (ORA-30006)', () => {
    expect(lockCheckpointSql('DWH', 30)).toBe(
      `SELECT "MAPREF", "PRCID", "EPOCH", "JOBID", "KEYCOLS", "CHKPNT", "LASTROW", "BATCHCNT", "TRGROWS", "TRNCPEND" FROM "DWH"."DMS_CHKPNT" WHERE "MAPREF" = :k1 FOR UPDATE WAIT 30`,
    );
    expect(lockCheckpointSql('DWH', 0.2)).toMatch(/WAIT 1$/);
  });

  it('is written by one MERGE with its ten values', () => {
    const sql = writeCheckpointSql('DWH');
    expect(placeholders(sql)).toEqual(Array.from({ length: 10 }, (_, i) => `:k${i + 1}`));
    expect(sql).toContain('ON (t."MAPREF" = s."MAPREF")');
    expect(sql).not.toContain('t."MAPREF" = s."MAPREF",');
  });
});

describe('loading text values into typed Oracle columns', () => {
  it('converts each bind through the column type, as ALL_TAB_COLUMNS names it', () => {
    expect(valueBind('NUMBER', ':k1')).toBe('TO_NUMBER(:k1)');
    expect(valueBind('TIMESTAMP(6)', ':k1')).toBe(`TO_TIMESTAMP(:k1, 'YYYY-MM-DD HH24:MI:SS.FF9')`);
    expect(valueBind('TIMESTAMP(6) WITH TIME ZONE', ':k1')).toBe(
      `TO_TIMESTAMP_TZ(:k1, 'YYYY-MM-DD HH24:MI:SS.FF9TZH')`,
    );
    // DATE has no fraction: a timestamp's is dropped (docs/oracle.md).
    expect(valueBind('DATE', ':k1')).toBe(
      `TO_DATE(REGEXP_REPLACE(:k1, '^([0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9:]{8})?)[.0-9]*([+-][0-9:]+)?', '\\1'), 'YYYY-MM-DD HH24:MI:SS')`,
    );
    expect(valueBind('RAW', ':k1')).toBe('HEXTORAW(SUBSTR(:k1, 3))');
    expect(valueBind('VARCHAR2', ':k1')).toBe(':k1');
  });

  it('inserts a row with one bind per column, in order', () => {
    const sql = insertSql('DWH', 'SALES', [
      { name: 'ID', type: 'NUMBER' },
      { name: 'NOTE', type: 'VARCHAR2' },
    ]);
    expect(sql).toBe('INSERT INTO "DWH"."SALES" ("ID", "NOTE") VALUES (TO_NUMBER(:k1), :k2)');
  });

  it('merges a row on its key, updating the other columns', () => {
    const sql = mergeSql(
      'DWH',
      'SALES',
      [
        { name: 'ID', type: 'NUMBER' },
        { name: 'NOTE', type: 'VARCHAR2' },
      ],
      ['ID'],
    );
    expect(sql).toBe(
      `MERGE INTO "DWH"."SALES" t USING (SELECT TO_NUMBER(:k1) AS "ID", :k2 AS "NOTE" FROM DUAL) s ON (t."ID" = s."ID")\n` +
        `WHEN MATCHED THEN UPDATE SET t."NOTE" = s."NOTE"\n` +
        `WHEN NOT MATCHED THEN INSERT ("ID", "NOTE") VALUES (s."ID", s."NOTE")`,
    );
    // A table of key columns only has nothing to update.
    expect(mergeSql('DWH', 'K', [{ name: 'ID', type: 'NUMBER' }], ['ID'])).not.toContain('WHEN MATCHED');
  });
});

describe("Oracle's DMS_CHKPNT.CHKPNT, where '' is NULL", () => {
  it.each([
    { name: "a key whose one value is ''", checkpoint: '' },
    { name: 'a text that begins with the marker', checkpoint: '\u001eabc' },
    { name: 'a plain key', checkpoint: '42' },
    { name: 'a composite key', checkpoint: '["",""]' },
    { name: 'no checkpoint', checkpoint: null },
  ])('keeps $name apart from no checkpoint, and reads it back as it was', ({ checkpoint }) => {
    const stored = storedCheckpoint(checkpoint);
    // Oracle keeps '' as NULL: only no checkpoint may be stored as '' or NULL.
    if (checkpoint !== null) expect(stored).not.toBe('');
    expect(checkpointOf(stored === '' ? null : stored)).toBe(checkpoint);
  });

  it('keeps a plain checkpoint as it is, so rows written before read the same', () => {
    expect(storedCheckpoint('2026-01-01 00:00:00')).toBe('2026-01-01 00:00:00');
  });
});
