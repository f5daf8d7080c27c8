// The PostgreSQL dialect's fast paths against a real server, without Temporal: ROWCOUNT's COPY
// pipe must hand over exactly the rows (and the text values) the decoded cursor reads, and a
// slice's commits made without waiting for the disk must be durable after flushCommits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointRow, OrderedMover, RowValue, SourceDatabase, TargetDatabase } from '../../dialects';
import { postgresDialect } from '../../dialects/postgres/postgres-dialect';
import { createFactSource, createFactTarget } from '../support/fact-load';
import { createDatabases, tableDigest, urlFor, withClient, type TestDatabases } from '../support/postgres';

let dbs: TestDatabases;
let source: SourceDatabase & { close(): Promise<void> };
let target: TargetDatabase & { close(): Promise<void> };
const ROWS = 5_000;
const ODD = 'SELECT id, b, arr, j, t, n, ts, iv FROM odd';
const ODD_ORDER = ['id', 'b', 'arr', 't', 'n', 'ts', 'iv'];

beforeAll(async () => {
  dbs = await createDatabases('movers');
  await createFactSource(dbs.source, ROWS, 'sales');
  await withClient(dbs.source, async (c) => {
    await c.query(
      `CREATE TABLE odd (id int, b bytea, arr text[], j jsonb, t text, n numeric, ts timestamptz, iv interval)`,
    );
    await c.query(`INSERT INTO odd VALUES
      (1, '\\x00ff5c0a'::bytea, ARRAY['a b', 'c,d', NULL, 'e"f'], '{"k": "v\\\\n", "n": 1.50}', E'tab\\there\\nnew\\rcr\\\\back', 1.500, '2026-03-01 01:02:03.456789+02', '1 day 02:03:04'),
      (2, NULL, NULL, NULL, '\\N', NULL, NULL, NULL),
      (3, ''::bytea, '{}', '[]', '', -0.0001, 'infinity', '-3 months'),
      (4, '\\x'::bytea, ARRAY['ünïcödé ✓'], '"ünïcödé"', 'ünïcödé ✓ 𝄞', 1e30, '1999-12-31 23:59:59+00', '0'),
      (5, NULL, ARRAY[E'x\\ty'], 'null', E'\\\\N', 0, NULL, NULL)`);
  });
  const spec = (db: string) => ({ conid: db, dbtyp: 'POSTGRES', url: urlFor(db) });
  source = postgresDialect.openSource(spec(dbs.source), { lockTimeoutMs: 5_000 });
  target = postgresDialect.openTarget!(spec(dbs.target), { lockTimeoutMs: 5_000 });
  await createFactTarget(dbs.target, 'sales_copy');
  await withClient(dbs.target, (c) =>
    c.query(`CREATE TABLE odd (id int, b bytea, arr text[], j jsonb, t text, n numeric, ts timestamptz, iv interval)`),
  );
});

afterAll(async () => {
  await source?.close();
  await target?.close();
  await dbs?.drop();
});

/** The dms.* settings each idle session of the source's pool still holds (COPY's bounds must not outlive their transaction). */
async function leftoverSettings(): Promise<string[]> {
  const pool = (source as unknown as { pool: import('pg').Pool }).pool;
  const clients = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
  try {
    const found = await Promise.all(
      clients.map(
        async (c) =>
          (
            await c.query<{ v: string }>(
              `SELECT concat_ws('|', current_setting('dms.offset', true), current_setting('dms.after_0', true), current_setting('dms.upto_0', true)) AS v`,
            )
          ).rows[0].v,
      ),
    );
    return found.filter((v) => v.replace(/\|/g, '') !== '');
  } finally {
    for (const c of clients) c.release();
  }
}

async function cursorRows(query: string, order: string[], offset: number): Promise<RowValue[][]> {
  const cursor = await source.openOrdered(query, order, offset);
  try {
    return await cursor.read(1_000_000);
  } finally {
    await cursor.close();
  }
}

async function moverOf(query: string, order: string[], table: string, columns: string[]): Promise<OrderedMover> {
  const mover = await target.orderedMover!(source, { query, key: order }, 'public', table, columns);
  expect(mover).not.toBeNull();
  return mover!;
}

describe('KEY ranges through COPY', () => {
  it("moves a range with its bounds in settings that end with the COPY's transaction", async () => {
    await withClient(dbs.target, (c) => c.query('CREATE TABLE sales_range AS SELECT * FROM sales_copy WITH NO DATA'));
    const columns = ['sale_id', 'store_id', 'amount', 'sold_at', 'note'];
    const mover = await target.rangeMover!(
      source,
      { query: 'SELECT * FROM sales', key: ['sale_id'] },
      'public',
      'sales_range',
      columns,
    );
    expect(mover).not.toBeNull();
    const moved = await target.transaction((tx) => mover!.move(tx, ['3000'], ['3600']));
    expect(moved).toBe(
      await withClient(dbs.source, async (c) =>
        Number((await c.query(`SELECT count(*) AS n FROM sales WHERE sale_id > 3000 AND sale_id <= 3600`)).rows[0].n),
      ),
    );
    expect(await leftoverSettings()).toEqual([]);
  });
});

describe('ROWCOUNT through COPY', () => {
  it('reads every value as the decoded cursor does: escapes, NULL, the text \\N, bytea, arrays, json, unicode', async () => {
    const expected = await cursorRows(ODD, ODD_ORDER, 0);
    expect(expected).toHaveLength(5);
    const rows = await (await moverOf(ODD, ODD_ORDER, 'odd', ['id', 'b', 'arr', 'j', 't', 'n', 'ts', 'iv'])).open(0);
    try {
      const got: RowValue[][] = [];
      for (let row = await rows.next(); row; row = await rows.next()) got.push(row);
      expect(got).toEqual(expected);
    } finally {
      await rows.close();
    }
  });

  it('moves batches of whole rows across chunk boundaries, each reporting its last row, then ends', async () => {
    const query = 'SELECT * FROM sales';
    const order = ['sale_id', 'store_id', 'amount', 'sold_at', 'note'];
    const columns = ['sale_id', 'store_id', 'amount', 'sold_at', 'note'];
    const all = await cursorRows(query, order, 0);
    const mover = await moverOf(query, order, 'sales_copy', columns);
    // Resume as the activity does: from the row before the committed ones, checked first.
    const committed = 1_234;
    const rows = await mover.open(committed - 1);
    try {
      expect(await rows.next()).toEqual(all[committed - 1]);
      let at = committed;
      for (;;) {
        const batch = await target.transaction((tx) => rows.moveInto(tx, 997));
        if (batch.rows === 0) break;
        at += batch.rows;
        expect(batch.last).toEqual(all[at - 1]);
        if (batch.rows < 997) break;
      }
      expect(at).toBe(ROWS);
    } finally {
      await rows.close();
    }
    expect(await leftoverSettings()).toEqual([]);
    const loaded = await tableDigest(dbs.target, 'sales_copy', 'sale_id');
    expect(loaded.count).toBe(ROWS - committed);
    await withClient(dbs.target, async (c) => {
      // The first loaded row is the source's row number `committed` (0-based), in order.
      const { rows: first } = await c.query(`SELECT min(sale_id)::text AS sale_id FROM sales_copy`);
      expect(first[0].sale_id).toBe(all[committed][0]);
    });
  });

  it('rolls a failed batch back whole and leaves no half-read COPY on a reused connection', async () => {
    const query = 'SELECT * FROM sales';
    const columns = ['sale_id', 'store_id', 'amount', 'sold_at', 'note'];
    // The target refuses the 2,000th row (sale_id 6,000) halfway through the batch.
    await withClient(dbs.target, (c) => c.query('CREATE TABLE sales_check (LIKE sales_copy, CHECK (sale_id < 6000))'));
    const mover = await moverOf(query, ['sale_id'], 'sales_check', columns);
    const rows = await mover.open(0);
    let failure: Error | undefined;
    try {
      await target.transaction((tx) => rows.moveInto(tx, 3_000));
    } catch (err) {
      failure = err as Error;
    } finally {
      await rows.close();
    }
    expect(failure?.message).toMatch(/violates check constraint/);
    expect((await tableDigest(dbs.target, 'sales_check', 'sale_id')).count).toBe(0);
    // The pool still serves a full read after the broken connection was dropped.
    const again = await mover.open(0);
    try {
      expect(await target.transaction((tx) => again.moveInto(tx, 1_000))).toMatchObject({ rows: 1_000 });
      expect((await again.next())?.[0]).toBe('3003');
    } finally {
      await again.close();
    }
    expect((await tableDigest(dbs.target, 'sales_check', 'sale_id')).count).toBe(1_000);
  });
});

describe('commits inside a slice', () => {
  it('do not wait for the disk, and flushCommits makes them durable', async () => {
    await target.ensureCheckpointTable('public');
    const row: CheckpointRow = {
      mapref: 'FLUSH',
      prcid: 1,
      epoch: 1,
      jobid: 1,
      keyColumns: null,
      checkpoint: null,
      lastRow: null,
      batches: 0,
      rows: 0,
    };
    await target.transaction((tx) => tx.writeCheckpoint('public', row));
    await withClient(dbs.target, (c) => c.query('CREATE TABLE probe (setting text)'));
    const write = (flushLater: boolean) =>
      target.transaction((tx) => tx.execute(`INSERT INTO probe SELECT current_setting('synchronous_commit')`, []), {
        flushLater,
      });
    await write(true);
    await write(false);
    expect(
      await withClient(dbs.target, async (c) =>
        (await c.query('SELECT setting FROM probe')).rows.map((r) => r.setting),
      ),
    ).toEqual(['off', 'on']);
    await write(true);
    // The log's end right after that commit: the WAL writer would flush it within 200 ms.
    const lsn = await withClient(
      dbs.target,
      async (c) => (await c.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string,
    );
    await target.flushCommits('public', 'FLUSH');
    const flushed = await withClient(
      dbs.target,
      async (c) => (await c.query(`SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok`, [lsn])).rows[0].ok,
    );
    expect(flushed).toBe(true);
  });
});
