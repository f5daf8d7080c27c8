// REJECTLMT on an Oracle target (dialects/oracle/oracle-reject-table.ts and the transaction's
// savepoints) against the fake of node-oracledb's connection: no Oracle server runs here, so
// this proves the statements, binds and order, and that ORA- errors about a row are told from
// the rest; not that Oracle accepts them.
import { describe, expect, it } from 'vitest';
import type { JobPlan } from '../../plan/job-plan';
import type { Live } from '../../activities/live';
import { rejectsFor } from '../../activities/rejects';
import type { RowBatch } from '../../dialects';
import { insertRejectSql, rejectBinds, rejectTableDdl } from '../../dialects/oracle/oracle-reject-table';
import { OracleTarget } from '../../dialects/oracle/oracle-target';
import { fakeOraclePool } from '../support/oracle-fake';

const live: Live = {
  state: { checkpoint: null, batches: 0, rows: 0 },
  committed: () => undefined,
  beat: () => undefined,
  beatOrStop: () => undefined,
  mirror: () => undefined,
  widest: 0,
};
const plan = {
  spec: { mapref: 'SALES', rejectlmt: 5 },
  schema: 'DWH',
  table: 'SALES',
  columns: ['ID', 'NOTE'],
  keyed: { query: '', key: ['ID'] },
  upsertKey: null,
} as unknown as JobPlan;

async function* rows(...ids: number[]): AsyncIterable<RowBatch> {
  yield { columns: ['ID', 'NOTE'], rows: ids.map((id) => [String(id), `n${id}`]) };
}

const oraError = (code: string, message: string) =>
  Object.assign(new Error(`${code}: ${message}`), { code, errorNum: Number(code.slice(4)) });

describe('REJECTLMT on an Oracle target', () => {
  it('isolates the row Oracle refuses (ORA-02290) inside savepoints, and writes it to DMS_REJECT in the same transaction', async () => {
    const { pool, log, many } = fakeOraclePool((sql, binds) => {
      if (sql.includes('ALL_TAB_COLUMNS'))
        return {
          rows: [
            ['ID', 'NUMBER'],
            ['NOTE', 'VARCHAR2'],
          ],
        };
      if (sql.startsWith('INSERT INTO "DWH"."SALES"') && (binds as string[][]).some((r) => r[0] === '3'))
        return { error: oraError('ORA-02290', 'check constraint (DWH.AMOUNT_CK) violated') };
      if (sql.includes('COUNT(*)')) return { rows: [[0]] };
      return {};
    });
    const target = new OracleTarget(pool, 30_000);
    await target.transaction(async (tx) => {
      const q = rejectsFor(plan, tx, live, { prcid: 7, batch: 2 });
      expect(await q.settle(await q.load(rows(1, 2, 3, 4)))).toEqual({ loaded: 3, taken: 4 });
    });
    const statements = log.filter((l) => !l.includes('COLUMN_NAME'));
    // The chunk, refused and rolled back; its halves; the bad half's halves; then the reject.
    expect(statements).toEqual([
      'SAVEPOINT DMS_SP_1',
      '(executeMany 4)',
      'ROLLBACK TO SAVEPOINT DMS_SP_1',
      'SAVEPOINT DMS_SP_2',
      '(executeMany 2)',
      'SAVEPOINT DMS_SP_3',
      '(executeMany 2)',
      'ROLLBACK TO SAVEPOINT DMS_SP_3',
      'SAVEPOINT DMS_SP_4',
      '(executeMany 1)',
      'ROLLBACK TO SAVEPOINT DMS_SP_4',
      'SAVEPOINT DMS_SP_5',
      '(executeMany 1)',
      'SELECT COUNT(*) FROM "DWH"."DMS_REJECT"',
      '(executeMany 1)',
      '(commit)',
    ]);
    const reject = many.find((m) => m.sql === insertRejectSql('DWH'))!;
    expect(reject.binds).toEqual([
      [
        'SALES',
        7,
        2,
        '["3"]',
        '23514',
        'check constraint (DWH.AMOUNT_CK) violated [ORA-02290] [SQLSTATE 23514]',
        null,
        '{"ID":"3","NOTE":"n3"}',
      ],
    ]);
    expect(reject.options).toMatchObject({ autoCommit: false });
  });

  it('takes a lost connection (ORA-03113) for what it is: the batch fails, nothing is rejected', async () => {
    const { pool, many } = fakeOraclePool((sql) =>
      sql.startsWith('INSERT INTO "DWH"."SALES"')
        ? { error: oraError('ORA-03113', 'end-of-file on communication channel') }
        : sql.includes('ALL_TAB_COLUMNS')
          ? {
              rows: [
                ['ID', 'NUMBER'],
                ['NOTE', 'VARCHAR2'],
              ],
            }
          : {},
    );
    const target = new OracleTarget(pool, 30_000);
    await expect(
      target.transaction(async (tx) => {
        const q = rejectsFor(plan, tx, live, { prcid: 7, batch: 2 });
        await q.settle(await q.load(rows(1, 2)));
      }),
    ).rejects.toMatchObject({ code: '08006' });
    expect(many.filter((m) => m.sql.includes('DMS_REJECT'))).toEqual([]);
  });

  it('creates DMS_REJECT only when missing, and cuts a key or message past 4000 bytes rather than fail', async () => {
    const { pool, log } = fakeOraclePool(() => ({ rows: [] }));
    await new OracleTarget(pool, 30_000).ensureRejectTable('DWH');
    expect(log).toEqual(['SELECT 1 FROM ALL_TABLES', 'CREATE TABLE "DWH"."DMS_REJECT" (']);
    expect(rejectTableDdl('DWH')).toContain('"ROWVALS" CLOB NOT NULL CHECK ("ROWVALS" IS JSON)');
    const [bound] = rejectBinds([
      {
        mapref: 'S',
        prcid: 1,
        batch: 1,
        key: 'é'.repeat(2500),
        code: '22001',
        message: 'm',
        column: 'NOTE',
        values: '{}',
      },
    ]);
    expect(Buffer.byteLength(bound[3] as string)).toBe(4000);
  });
});
