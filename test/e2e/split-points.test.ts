// Split points of a partitioned KEY load, computed in the real source databases (PostgreSQL
// and MariaDB, without Temporal): ranges of about equal rows by row count, not by key value;
// a heavy run of ties kept whole in one range; no empty range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyedQuery, KeyValue, SourceDatabase } from '../../dialects';
import { mariadbDialect } from '../../dialects/mariadb/mariadb-dialect';
import { postgresDialect } from '../../dialects/postgres/postgres-dialect';
import { splitPoints } from '../../activities/split-points';
import { createMariaDb, type TestMariaDb } from '../support/mariadb';
import { createDatabases, urlFor, withClient, type TestDatabases } from '../support/postgres';

let dbs: TestDatabases;
let m: TestMariaDb;
let pgSource: SourceDatabase & { close(): Promise<void> };
let mdbSource: SourceDatabase & { close(): Promise<void> };

/** The rows of each range a split makes, in order (counted by the source, as the split does). */
async function rangeRows(
  source: SourceDatabase,
  q: KeyedQuery,
  points: KeyValue[],
  after: KeyValue | null = null,
): Promise<number[]> {
  const bounds: (KeyValue | null)[] = [after, ...points, null];
  const counts: number[] = [];
  for (let i = 0; i + 1 < bounds.length; i++)
    counts.push((await source.summarize(q, { after: bounds[i], upTo: bounds[i + 1] }, null)).rows);
  return counts;
}

beforeAll(async () => {
  dbs = await createDatabases('split');
  await withClient(dbs.source, (c) =>
    c.query(`
      CREATE TABLE even (k bigint, v int);      INSERT INTO even SELECT i, i FROM generate_series(1, 10000) i;
      CREATE TABLE ties (k bigint, v int);      INSERT INTO ties SELECT i, i FROM generate_series(1, 6000) i;
                                                INSERT INTO ties SELECT 3000, i FROM generate_series(1, 4000) i;
      CREATE INDEX ON ties (k);
      CREATE TABLE skewed (k bigint PRIMARY KEY, v int); INSERT INTO skewed SELECT i::bigint * i, i FROM generate_series(1, 10000) i;
      CREATE TABLE few (k int, v int);          INSERT INTO few SELECT 1 + i % 3, i FROM generate_series(1, 300) i;
      CREATE TABLE pair (a text, b int, v int); INSERT INTO pair SELECT chr(97 + i % 4), i, i FROM generate_series(1, 8000) i;`),
  );
  pgSource = postgresDialect.openSource(
    { conid: 'SRC', dbtyp: 'POSTGRES', url: urlFor(dbs.source) },
    { lockTimeoutMs: 5_000 },
  );
  m = await createMariaDb('split');
  await m.query(`
    CREATE TABLE ties (k BIGINT, v INT, KEY (k));
    INSERT INTO ties SELECT seq, seq FROM seq_1_to_6000;
    INSERT INTO ties SELECT 3000, seq FROM seq_1_to_4000;
    CREATE TABLE skewed (k BIGINT PRIMARY KEY, v INT); INSERT INTO skewed SELECT seq * seq, seq FROM seq_1_to_10000;`);
  mdbSource = mariadbDialect.openSource(
    { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
    { lockTimeoutMs: 5_000 },
  );
});

afterAll(async () => {
  await pgSource?.close();
  await mdbSource?.close();
  await dbs?.drop();
  await m?.drop();
});

describe('split points', () => {
  it('cuts evenly spread keys into equal ranges', async () => {
    const q = { query: 'SELECT * FROM even', key: ['k'] };
    const split = await splitPoints(pgSource, q, 4);
    expect(split).toEqual({ points: [['2500'], ['5000'], ['7500']], rows: 10_000 });
    expect(await rangeRows(pgSource, q, split.points)).toEqual([2500, 2500, 2500, 2500]);
  });

  it.each([
    ['PostgreSQL', () => pgSource],
    ['MariaDB', () => mdbSource],
  ])(
    'keeps a run of 4,001 equal keys whole in one range, and shares the rest among the others (%s)',
    async (_, source) => {
      const q = { query: 'SELECT * FROM ties', key: ['k'] };
      const split = await splitPoints(source(), q, 4);
      // The second share ends inside the ties: its range takes them all (499 + 4,001 rows); the
      // 3,000 rows after it are shared by the two ranges left.
      expect(split.points).toEqual([['2500'], ['3000'], ['4500']]);
      expect(await rangeRows(source(), q, split.points)).toEqual([2500, 4500, 1500, 1500]);
    },
  );

  it.each([
    ['PostgreSQL', () => pgSource],
    ['MariaDB', () => mdbSource],
  ])('splits a skewed key by rows, not by value (%s)', async (_, source) => {
    // Keys 1, 4, 9, … 10^8: half the rows lie below 1/4 of the largest key.
    const q = { query: 'SELECT * FROM skewed', key: ['k'] };
    const split = await splitPoints(source(), q, 4);
    expect(split.points).toEqual([['6250000'], ['25000000'], ['56250000']]);
    expect(await rangeRows(source(), q, split.points)).toEqual([2500, 2500, 2500, 2500]);
  });

  it('makes no empty range when there are fewer keys than partitions', async () => {
    const q = { query: 'SELECT * FROM few', key: ['k'] };
    const split = await splitPoints(pgSource, q, 8);
    expect(split.points).toEqual([['1'], ['2']]);
    expect(await rangeRows(pgSource, q, split.points)).toEqual([100, 100, 100]);
    expect(await splitPoints(pgSource, { query: 'SELECT * FROM few WHERE false', key: ['k'] }, 4)).toEqual({
      points: [],
      rows: 0,
    });
  });

  it.each([
    ['PostgreSQL', () => pgSource],
    ['MariaDB', () => mdbSource],
  ])(
    "finds a batch's upper key inside a partition: the n-th key up to the partition's end, else its last key (%s)",
    async (_, source) => {
      const q = { query: 'SELECT * FROM ties', key: ['k'] };
      // The partition (2500, 3000] holds keys 2501..2999 once and 3000 4,001 times.
      expect(await source().nthKey(q, ['2500'], 400, ['3000'])).toEqual(['2900']);
      expect(await source().nthKey(q, ['2500'], 600, ['3000'])).toEqual(['3000']);
      expect(await source().nthKey(q, ['2500'], 4501, ['3000'])).toBeNull();
      expect(await source().lastKey(q, ['2500'], ['2999'])).toEqual(['2999']);
      expect(await source().lastKey(q, null, ['0'])).toBeNull();
      // Unbounded, as before.
      expect(await source().nthKey(q, ['2500'], 4501)).toEqual(['3001']);
    },
  );

  it('splits after a bound (a resumed or incremental run), on a composite key', async () => {
    const q = { query: 'SELECT * FROM pair', key: ['a', 'b'] };
    const after = ['b', '0'];
    const split = await splitPoints(pgSource, q, 2, after);
    // After ('b', 0): 2,000 rows each of 'b', 'c' and 'd'; the 3,000th is the 1,000th 'c' (b = 3998).
    expect(split).toEqual({ points: [['c', '3998']], rows: 6000 });
    expect(await rangeRows(pgSource, q, split.points, after)).toEqual([3000, 3000]);
  });
});
