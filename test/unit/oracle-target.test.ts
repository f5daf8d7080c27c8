// Oracle's target (dialects/oracle/oracle-target.ts) against a fake of node-oracledb's
// connection (execute, executeMany, commit, rollback, close), shaped as the driver documents
// it. No Oracle server runs here: what this proves is the order of statements, commits and
// rollbacks, the binds, and where a truncate is paid; not that Oracle accepts them.
import { describe, expect, it } from 'vitest';
import oracledb from 'oracledb';
import { DuplicateKeyInBatchError } from '../../common/errors';
import { OracleTarget } from '../../dialects/oracle/oracle-target';
import { OracleSource } from '../../dialects/oracle/oracle-source';
import { fakeOraclePool } from '../support/oracle-fake';
import type { RowBatch, RowValue } from '../../dialects';

const fakePool = fakeOraclePool;

const COLUMNS = [
  ['ID', 'NUMBER'],
  ['NOTE', 'VARCHAR2'],
];
const ROW = ['SALES', 7, 3, 1, '["ID"]', '100', null, 1, 100, null];

async function* chunks(...batches: RowValue[][][]): AsyncIterable<RowBatch> {
  for (const rows of batches) yield { columns: ['ID', 'NOTE'], rows };
}

describe('the Oracle target', () => {
  it('loads a batch in one transaction: the row locked with a bounded wait, rows by executeMany, the checkpoint, one commit', async () => {
    const { pool, log, many, closed } = fakePool((sql) =>
      sql.includes('ALL_TAB_COLUMNS') ? { rows: COLUMNS } : sql.includes('FOR UPDATE WAIT') ? { rows: [ROW] } : {},
    );
    const target = new OracleTarget(pool, 30_000);
    const loaded = await target.transaction(async (tx) => {
      const row = await tx.lockCheckpoint('DWH', 'SALES');
      expect(row).toMatchObject({ prcid: 7, epoch: 3, checkpoint: '100', batches: 1, rows: 100 });
      const n = await tx.load(
        'DWH',
        'SALES',
        ['ID', 'NOTE'],
        chunks(
          [
            ['101', 'a'],
            ['102', null],
          ],
          [['103', 'ccc']],
        ),
      );
      await tx.writeCheckpoint('DWH', { ...row!, checkpoint: '103', batches: 2, rows: 103 });
      return n;
    });
    expect(loaded).toBe(3);
    expect(log.filter((l) => !l.includes('COLUMN_NAME'))).toEqual([
      'SELECT "MAPREF", "PRCID", "EPOCH",',
      '(executeMany 2)',
      '(executeMany 1)',
      'MERGE INTO "DWH"."DMS_CHKPNT" t',
      '(commit)',
    ]);
    expect(many[0].sql).toBe('INSERT INTO "DWH"."SALES" ("ID", "NOTE") VALUES (TO_NUMBER(:k1), :k2)');
    // Every bind a string, as long as its longest value (never autoCommit).
    expect(many[0].options).toEqual({
      bindDefs: [
        { type: oracledb.STRING, maxSize: 3 },
        { type: oracledb.STRING, maxSize: 1 },
      ],
      autoCommit: false,
    });
    expect(closed[closed.length - 1]).toBe(false);
  });

  const wide = Buffer.alloc(40_000, 0xfe);
  const wideHex = `\\x${'fe'.repeat(40_000)}`;
  const text = 'é'.repeat(40_000);
  it.each([
    ['BLOB', 'wide bytes', wide, ':k2', wide, { type: oracledb.DB_TYPE_BLOB }],
    ['BLOB', 'bytes as \\x hex', '\\x00ff', ':k2', Buffer.from([0, 255]), { type: oracledb.DB_TYPE_BLOB }],
    ['BLOB', 'NULL', null, ':k2', null, { type: oracledb.DB_TYPE_BLOB }],
    ['CLOB', 'text of 80,000 bytes', text, ':k2', text, { type: oracledb.DB_TYPE_CLOB }],
    ['NCLOB', 'text of 80,000 bytes', text, ':k2', text, { type: oracledb.DB_TYPE_NCLOB }],
    [
      'RAW',
      'bytes as \\x hex',
      '\\x00ff',
      'HEXTORAW(SUBSTR(:k2, 3))',
      '\\x00ff',
      { type: oracledb.STRING, maxSize: 6 },
    ],
    ['VARCHAR2', 'wide bytes', wide, ':k2', wideHex, { type: oracledb.STRING, maxSize: wideHex.length }],
  ])(
    "binds a %s column's value (%s) as the driver takes it for that column",
    async (type, _, value, bind, bound, bindDef) => {
      const { pool, many } = fakePool((sql) =>
        sql.includes('ALL_TAB_COLUMNS')
          ? {
              rows: [
                ['ID', 'NUMBER'],
                ['NOTE', type],
              ],
            }
          : {},
      );
      await new OracleTarget(pool, 30_000).transaction((tx) =>
        tx.load(
          'DWH',
          'SALES',
          ['ID', 'NOTE'],
          chunks([
            ['1', value],
            ['2', null],
          ]),
        ),
      );
      expect(many[0].sql).toBe(`INSERT INTO "DWH"."SALES" ("ID", "NOTE") VALUES (TO_NUMBER(:k1), ${bind})`);
      expect(many[0].binds).toEqual([
        ['1', bound],
        ['2', null],
      ]);
      expect(many[0].options).toEqual({
        bindDefs: [{ type: oracledb.STRING, maxSize: 1 }, bindDef],
        autoCommit: false,
      });
    },
  );

  it("refuses a BLOB column's text that is not \\x hex as Oracle's HEXTORAW would, naming the column, and binds nothing", async () => {
    const { pool, many } = fakePool((sql) =>
      sql.includes('ALL_TAB_COLUMNS')
        ? {
            rows: [
              ['ID', 'NUMBER'],
              ['NOTE', 'BLOB'],
            ],
          }
        : {},
    );
    const load = new OracleTarget(pool, 30_000).transaction((tx) =>
      tx.load(
        'DWH',
        'SALES',
        ['ID', 'NOTE'],
        chunks([
          ['1', '\\x00'],
          ['2', 'abc'],
        ]),
      ),
    );
    await expect(load).rejects.toMatchObject({
      code: '22P02',
      message: expect.stringMatching(/BLOB column NOTE .*\[ORA-01465\]$/),
    });
    expect(many).toHaveLength(0);
  });

  it('rolls back and drops the session when the batch fails; a merge refuses a key met twice in a batch', async () => {
    const { pool, log, many, closed } = fakePool((sql) => (sql.includes('ALL_TAB_COLUMNS') ? { rows: COLUMNS } : {}));
    const target = new OracleTarget(pool, 30_000);
    const failed = target.transaction((tx) =>
      tx.upsert(
        'DWH',
        'SALES',
        ['ID', 'NOTE'],
        ['ID'],
        chunks(
          [
            ['1', 'a'],
            ['2', 'b'],
          ],
          [['1', 'again']],
        ),
      ),
    );
    await expect(failed).rejects.toBeInstanceOf(DuplicateKeyInBatchError);
    expect(many[0].sql).toMatch(
      /^MERGE INTO "DWH"."SALES" t USING \(SELECT TO_NUMBER\(:k1\) AS "ID", :k2 AS "NOTE" FROM DUAL\) s ON \(t."ID" = s."ID"\)/,
    );
    expect(many).toHaveLength(1);
    expect(log[log.length - 1]).toBe('(rollback)');
    expect(closed[closed.length - 1]).toBe(true);
  });

  it("pays a takeover's TRUNCATE after its commit, under the row's lock, and clears the debt", async () => {
    let owed: string | null = null;
    const { pool, log } = fakePool((sql, binds) => {
      if (sql.startsWith('MERGE INTO "DWH"."DMS_CHKPNT"')) owed = (binds as unknown[])[9] as string | null;
      if (sql.includes('FOR UPDATE WAIT')) return { rows: owed ? [[...ROW.slice(0, 9), owed]] : [] };
      return {};
    });
    const target = new OracleTarget(pool, 30_000);
    await target.transaction(async (tx) => {
      await tx.truncate('DWH', 'SALES');
      await tx.writeCheckpoint('DWH', {
        mapref: 'SALES',
        prcid: 7,
        epoch: 3,
        jobid: 1,
        keyColumns: '["ID"]',
        checkpoint: null,
        lastRow: null,
        batches: 0,
        rows: 0,
      });
    });
    expect(owed).toBe(JSON.stringify({ schema: 'DWH', table: 'SALES' }));
    expect(log).toEqual([
      'MERGE INTO "DWH"."DMS_CHKPNT" t',
      '(commit)',
      'SELECT "MAPREF", "PRCID", "EPOCH",',
      'TRUNCATE TABLE "DWH"."SALES"',
      'UPDATE "DWH"."DMS_CHKPNT" SET "TRNCPEND"',
      '(commit)',
    ]);
  });

  it('pays a truncate left owed by a crash before loading anything, then locks the row again', async () => {
    let owed: string | null = JSON.stringify({ schema: 'DWH', table: 'SALES' });
    const { pool, log } = fakePool((sql) => {
      if (sql.startsWith('UPDATE "DWH"."DMS_CHKPNT" SET "TRNCPEND" = NULL')) owed = null;
      if (sql.includes('FOR UPDATE WAIT')) return { rows: [[...ROW.slice(0, 9), owed]] };
      return {};
    });
    const row = await new OracleTarget(pool, 30_000).transaction((tx) => tx.lockCheckpoint('DWH', 'SALES'));
    expect(row).toMatchObject({ prcid: 7, checkpoint: '100' });
    expect(log.filter((l) => l.startsWith('TRUNCATE'))).toEqual(['TRUNCATE TABLE "DWH"."SALES"']);
  });

  it('creates DMS_CHKPNT only when missing, and takes a race lost to another run (ORA-00955) as created', async () => {
    const exists = fakePool((sql) => (sql.includes('ALL_TABLES') ? { rows: [[1]] } : {}));
    await new OracleTarget(exists.pool, 30_000).ensureCheckpointTable('DWH');
    expect(exists.log.some((l) => l.startsWith('CREATE TABLE'))).toBe(false);
    const raced = fakePool((sql) =>
      sql.startsWith('CREATE TABLE')
        ? {
            error: Object.assign(new Error('ORA-00955: name is already used by an existing object'), {
              errorNum: 955,
              code: 'ORA-00955',
            }),
          }
        : {},
    );
    await new OracleTarget(raced.pool, 30_000).ensureCheckpointTable('DWH');
    expect(raced.log.filter((l) => l.startsWith('CREATE TABLE'))).toEqual(['CREATE TABLE "DWH"."DMS_CHKPNT" (']);
  });

  it('describes a table and its NOT NULL unique keys', async () => {
    const { pool } = fakePool((sql) =>
      sql.includes('ALL_TAB_COLUMNS') && !sql.includes('ALL_CONSTRAINTS')
        ? {
            rows: [
              ['ID', 'NUMBER'],
              ['AT', 'TIMESTAMP(6)'],
            ],
          }
        : {
            rows: [
              ['PK', 'ID', 1, 'N'],
              ['UQ_AT', 'AT', 0, 'Y'],
            ],
          },
    );
    const target = new OracleTarget(pool, 30_000);
    expect(await target.describeTable('DWH', 'SALES')).toEqual([
      { name: 'ID', type: 'NUMBER', family: 'number' },
      { name: 'AT', type: 'TIMESTAMP(6)', family: 'datetime' },
    ]);
    expect(await target.uniqueKeys('DWH', 'SALES')).toEqual([['ID']]);
  });

  describe('from an Oracle source in the same database', () => {
    /** A source whose user is `schema`, in database DB1/FREEPDB1 unless told. */
    function source(schema: string, database = 'DB1/FREEPDB1') {
      return new OracleSource(
        fakePool((sql) =>
          sql.includes('USERENV')
            ? { rows: [[database, schema]] }
            : sql.includes('WHERE 1 = 0')
              ? {
                  metaData: [
                    { name: 'ID', dbTypeName: 'NUMBER' },
                    { name: 'NOTE', dbTypeName: 'VARCHAR2' },
                  ],
                }
              : {},
        ).pool,
      );
    }
    const key = { query: 'SELECT * FROM SALES', key: ['ID'] };

    it("moves each range with one INSERT … SELECT in the batch's transaction, reading as the source's schema", async () => {
      const { pool, calls, log } = fakePool((sql) =>
        sql.includes('USERENV')
          ? { rows: [['DB1/FREEPDB1', 'ETL']] }
          : sql.includes('FOR UPDATE WAIT')
            ? { rows: [ROW] }
            : sql.startsWith('INSERT')
              ? { rowsAffected: 250 }
              : {},
      );
      const target = new OracleTarget(pool, 30_000);
      const mover = await target.rangeMover(source('APP'), key, 'DWH', 'SALES', ['ID', 'NOTE']);
      expect(mover?.method).toMatch(/INSERT … SELECT per batch inside the Oracle database/);
      // Planning probed, as the source's user would read it, whether the target's user may run SRCQUERY.
      expect(log.slice(1)).toEqual([
        'ALTER SESSION SET CURRENT_SCHEMA',
        'SELECT * FROM (',
        'ALTER SESSION SET CURRENT_SCHEMA',
      ]);
      log.length = 0;
      calls.length = 0;
      const moved = await target.transaction(async (tx) => {
        const row = await tx.lockCheckpoint('DWH', 'SALES');
        const n = await mover!.move(tx, ['100'], ['350']);
        await tx.writeCheckpoint('DWH', { ...row!, checkpoint: '350' });
        return n;
      });
      expect(moved).toBe(250);
      expect(calls.map((c) => c.sql).filter((t) => t.startsWith('ALTER') || t.startsWith('INSERT'))).toEqual([
        'ALTER SESSION SET CURRENT_SCHEMA = "APP"',
        'INSERT INTO "DWH"."SALES" ("ID", "NOTE")\nSELECT dms_src."ID", dms_src."NOTE" FROM (\nSELECT * FROM SALES\n) dms_src\nWHERE dms_src."ID" IS NOT NULL AND ((dms_src."ID" > TO_NUMBER(:k1))) AND NOT ((dms_src."ID" > TO_NUMBER(:k2)))',
        'ALTER SESSION SET CURRENT_SCHEMA = "ETL"',
      ]);
      expect(calls.find((c) => c.sql.startsWith('INSERT'))?.binds).toEqual(['100', '350']);
      expect(log.at(-1)).toBe('(commit)');
    });

    it('switches no schema when both users are one; takes the worker path for another database, a merge, a query that calls anything, or a query the target may not run', async () => {
      const same = fakePool((sql) => (sql.includes('USERENV') ? { rows: [['DB1/FREEPDB1', 'APP']] } : {}));
      expect(
        await new OracleTarget(same.pool, 30_000).rangeMover(source('APP'), key, 'DWH', 'SALES', ['ID', 'NOTE']),
      ).not.toBeNull();
      expect(same.log.filter((l) => l.startsWith('ALTER'))).toEqual([]);
      const target = new OracleTarget(same.pool, 30_000);
      expect(await target.rangeMover(source('APP', 'DB2/ORCLPDB'), key, 'DWH', 'SALES', ['ID', 'NOTE'])).toBeNull();
      expect(await target.rangeMover(source('APP'), key, 'DWH', 'SALES', ['ID', 'NOTE'], ['ID'])).toBeNull();
      expect(
        await target.rangeMover(
          source('APP'),
          { ...key, query: 'SELECT * FROM SALES WHERE audit_pkg.seen(ID) = 1' },
          'DWH',
          'SALES',
          ['ID', 'NOTE'],
        ),
      ).toBeNull();
      expect(
        await target.rangeMover(
          source('APP'),
          { ...key, query: 'SELECT s.ID, s.NOTE FROM SALES s JOIN X ON 1 = 1' },
          'DWH',
          'SALES',
          ['ID', 'NOTE'],
        ),
      ).toBeNull();
      const denied = fakePool((sql) =>
        sql.includes('USERENV')
          ? { rows: [['DB1/FREEPDB1', 'ETL']] }
          : sql.includes('WHERE 1 = 0')
            ? { error: Object.assign(new Error('ORA-00942: table or view does not exist'), { errorNum: 942 }) }
            : {},
      );
      expect(
        await new OracleTarget(denied.pool, 30_000).rangeMover(source('APP'), key, 'DWH', 'SALES', ['ID', 'NOTE']),
      ).toBeNull();
      // The session that switched schema and failed is dropped, never reused as another user's.
      expect(denied.closed.at(-1)).toBe(true);
    });
  });
});
