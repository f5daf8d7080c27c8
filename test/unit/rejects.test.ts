// Bad rows isolated by bisection inside savepoints (activities/rejects.ts), against a fake
// target transaction that refuses any chunk holding a bad row, as a database refuses a
// statement: what is proven is which rows load, which are rejected, and what it costs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobPlan } from '../../plan/job-plan';
import type { Live } from '../../activities/live';
import { isRowError, loadIsolating, rejectsFor } from '../../activities/rejects';
import type { RowBatch, TargetTransaction } from '../../dialects';
import { WIDE_BYTES } from '../../dialects/row-values';
import { rejectTableDdl as mariadbRejectTableDdl } from '../../dialects/mariadb/mariadb-reject-table';
import { rejectTableDdl as oracleRejectTableDdl } from '../../dialects/oracle/oracle-reject-table';
import { rejectTableDdl } from '../../dialects/postgres/postgres-reject-table';

const live: Live = {
  state: { checkpoint: null, batches: 0, rows: 0 },
  committed: () => undefined,
  beat: () => undefined,
  beatOrStop: () => undefined,
  mirror: () => undefined,
  widest: 0,
};

function plan(rejectlmt: number): JobPlan {
  return {
    spec: { mapref: 'SALES', rejectlmt },
    schema: 'public',
    table: 'sales',
    columns: ['id', 'note'],
    keyed: { query: '', key: ['id'] },
    upsertKey: null,
  } as unknown as JobPlan;
}

/** A transaction whose loads fail with `code` when a chunk holds a bad id; savepoints undo a failed load. */
function fakeTransaction(bad: Set<string>, code = '23514') {
  const loaded: string[] = [];
  const written: unknown[] = [];
  const locked: string[] = [];
  let statements = 0;
  const tx = {
    async load(_s: string, _t: string, _c: string[], chunks: AsyncIterable<RowBatch>) {
      statements += 1;
      let n = 0;
      const rows: string[] = [];
      for await (const chunk of chunks) {
        for (const r of chunk.rows) {
          if (bad.has(r[0] as string))
            throw Object.assign(new Error('new row for relation "sales" violates check constraint "amount_ck"'), {
              code,
            });
          rows.push(r[0] as string);
          n += 1;
        }
      }
      loaded.push(...rows);
      return n;
    },
    async withSavepoint<T>(fn: () => Promise<T>) {
      return fn(); // the fake writes only when a load succeeds whole
    },
    async reject(_s: string, rows: unknown[]) {
      written.push(...rows);
    },
    async countRejects() {
      return written.length;
    },
    async lockCheckpoint(_s: string, mapref: string) {
      locked.push(mapref);
      return undefined;
    },
  } as unknown as TargetTransaction;
  return { tx, loaded, written, locked, statements: () => statements };
}

async function* chunksOf(ids: number[], size: number): AsyncIterable<RowBatch> {
  for (let i = 0; i < ids.length; i += size)
    yield { columns: ['id', 'note'], rows: ids.slice(i, i + size).map((id) => [String(id), `n${id}`]) };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('loadIsolating', () => {
  it('loads every good row once and rejects exactly the bad ones, first and last of a chunk among them', async () => {
    const bad = new Set(['1', '1000', '1001', '2000', '777']);
    const { tx, loaded } = fakeTransaction(bad);
    const { loaded: n, rejected } = await loadIsolating(plan(10), tx, chunksOf(ids(2000), 1000), live, {
      prcid: 7,
      batch: 3,
    });
    expect(n).toBe(1995);
    expect(loaded.sort()).toEqual(
      ids(2000)
        .map(String)
        .filter((id) => !bad.has(id))
        .sort(),
    );
    expect(rejected.map((r) => r.key)).toEqual(['["1"]', '["777"]', '["1000"]', '["1001"]', '["2000"]']);
    expect(rejected[0]).toEqual({
      mapref: 'SALES',
      prcid: 7,
      batch: 3,
      key: '["1"]',
      code: '23514',
      message: 'new row for relation "sales" violates check constraint "amount_ck" [SQLSTATE 23514]',
      column: null,
      values: '{"id":"1","note":"n1"}',
    });
  });

  it("keeps a rejected row's wide bytes in DMS_REJECT as their \\x hex text, as every other value is kept", async () => {
    const bytes = Buffer.alloc(WIDE_BYTES, 0xab);
    const { tx } = fakeTransaction(new Set(['2']));
    async function* wide(): AsyncIterable<RowBatch> {
      yield {
        columns: ['id', 'note'],
        rows: [
          ['1', 'n1'],
          ['2', bytes],
        ],
      };
    }
    const { rejected } = await loadIsolating(plan(10), tx, wide(), live, { prcid: 1, batch: 1 });
    expect(rejected.map((r) => r.values)).toEqual([JSON.stringify({ id: '2', note: `\\x${'ab'.repeat(WIDE_BYTES)}` })]);
  });

  it('costs about log2(chunk) statements per bad row, not a statement per row', async () => {
    const { tx, statements } = fakeTransaction(new Set(['500']));
    await loadIsolating(plan(10), tx, chunksOf(ids(1024), 1024), live, { prcid: 1, batch: 1 });
    // One failed chunk, then two halves per level down to the row: 1 + 2 × 10.
    expect(statements()).toBe(21);
  });

  it('never takes an error that is not about a row (a missing table, a lost connection) for a reject', async () => {
    for (const code of ['42P01', '08006', '40001', 'XX000']) {
      const { tx } = fakeTransaction(new Set(['3']), code);
      await expect(loadIsolating(plan(10), tx, chunksOf(ids(10), 10), live, { prcid: 1, batch: 1 })).rejects.toThrow(
        /violates check constraint/,
      );
    }
    expect(['22001', '22P02', '23505', '23502', '23514'].every((code) => isRowError({ code }))).toBe(true);
    expect(['42P01', '08006', '40001', '53100', 'XX000'].some((code) => isRowError({ code }))).toBe(false);
  });
});

describe('DMS_REJECT', () => {
  it('is created by exactly the DDL docs/rejects.md gives DBAs, on PostgreSQL, MariaDB and Oracle', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'rejects.md'), 'utf8');
    const ddl = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)]
      .map((m) => m[1].trim())
      .filter((b) => b.startsWith('CREATE TABLE'));
    expect(ddl).toEqual([rejectTableDdl('dwh'), mariadbRejectTableDdl('dwh'), oracleRejectTableDdl('DWH')]);
  });
});

describe('the run limit', () => {
  it('writes the batch rejects while the run stays within REJECTLMT, and fails the batch past it, naming the limit and `dms rejects`', async () => {
    const { tx, written } = fakeTransaction(new Set(['2', '4', '6']));
    const q = rejectsFor(plan(4), tx, live, { prcid: 9, batch: 1 });
    const first = await q.settle(await q.load(chunksOf([1, 2, 3, 4], 4)));
    expect(first).toEqual({ loaded: 2, taken: 4 });
    expect(written).toHaveLength(2);
    const again = rejectsFor(plan(4), tx, live, { prcid: 9, batch: 2 });
    await expect(again.settle(await again.load(chunksOf([2, 4, 6, 7], 4)))).rejects.toThrow(
      /^Mapping SALES: REJECTLMT is 4, and run 9 would reject 5 rows: .* Fix: see the rejected rows with `dms rejects SALES --run 9`/,
    );
    expect(written).toHaveLength(2);
  });

  it("has a key range's batch lock the run's own checkpoint row before it counts, so that ranges count one after the other", async () => {
    const { tx, locked } = fakeTransaction(new Set(['2']));
    const plain = rejectsFor(plan(4), tx, live, { prcid: 9, batch: 1 });
    await plain.settle(await plain.load(chunksOf([1, 2], 2)));
    expect(locked).toEqual([]);
    const ranged = rejectsFor(plan(4), tx, live, { prcid: 9, batch: 1, range: true });
    await ranged.settle(await ranged.load(chunksOf([1, 2], 2)));
    expect(locked).toEqual(['SALES']);
  });
});
