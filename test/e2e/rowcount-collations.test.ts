// ROWCOUNT over tables without a key whose collation calls different rows equal ('abc',
// 'ABC', 'àbc', 'abc '): ordered by every column, such rows would come in a different order
// from one query to the next, and a resume after a crash would meet its position check
// failing ("row N ... is no longer in its place") though nothing changed. Ordered by their
// bytes after the columns, the order is total: each load here survives two worker SIGKILLs
// and ends with the target's rows equal to the source's as a multiset of bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { withClient } from '../support/postgres';

const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';
const ROWS = 60_000;
const BULKLMT = 777;
/** Texts equal under a case- and accent-insensitive collation that ignores trailing spaces, each apart as bytes. */
const VARIANTS = ['abc', 'ABC', 'Abc ', 'àbc', 'abc  ', 'ÀBC', 'abç', 'aBc'];

let h: Harness;
let m: TestMariaDb;

beforeAll(async () => {
  m = await createMariaDb('rccoll');
  h = await openHarness('rccoll', { [PASSWORD_ENV]: m.password });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

const variants = (column: string) =>
  `ELT(1 + ${column} % ${VARIANTS.length}, ${VARIANTS.map((v) => `'${v}'`).join(', ')})`;

/** Each row as the hex of its text's bytes and its number, sorted: the rows as a multiset of bytes. */
async function postgresRows(database: string, table: string): Promise<string[]> {
  return withClient(database, async (c) =>
    (await c.query<{ r: string }>(`SELECT encode(convert_to(t, 'UTF8'), 'hex') || '|' || g AS r FROM ${table}`)).rows
      .map((x) => x.r)
      .sort(),
  );
}

/** Loads `mapref` through two worker SIGKILLs (batches 20 and 50), then on a clean worker. */
async function loadThroughTwoKills(mapref: string): Promise<void> {
  const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 20, action: 'kill' }] });
  const handle = await h.client.workflow.start('dmsJob', {
    taskQueue: h.taskQueue,
    workflowId: `dms-${mapref}`,
    args: [{ mapref }],
  });
  // A load that fails before a kill fails here, with its message.
  const failed = failureOf(handle).then((failure) => expect(failure).toBeUndefined());
  await Promise.race([first.waitFor(/fault: kill at beforeCommit of batch 20/), failed]);
  await first.kill();
  const second = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 50, action: 'kill' }] });
  await Promise.race([second.waitFor(/fault: kill at beforeCommit of batch 50/, 120_000), failed]);
  await second.kill();
  const third = await h.startWorker();
  try {
    expect(await failureOf(handle)).toBeUndefined();
    expect(await runs(h.dbs.metadata, mapref)).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
  } finally {
    await third.kill();
  }
}

describe('ROWCOUNT resumes over rows a collation calls equal', () => {
  it('MariaDB utf8mb4_general_ci, no key, into PostgreSQL, through two worker SIGKILLs', async () => {
    await m.query(`CREATE TABLE ci_rows (t VARCHAR(20) NOT NULL, g TINYINT NOT NULL) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci ENGINE=InnoDB;
      INSERT INTO ci_rows SELECT ${variants('seq')}, seq % 3 FROM seq_1_to_${ROWS}`);
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE ci_rows (t text, g int)`));
    await registerMapping(h.dbs, {
      mapref: 'RCCI',
      batchSize: BULKLMT,
      srcquery: 'SELECT t, g FROM ci_rows',
      trgtbnm: 'CI_ROWS',
      columns: { srcconid: 'MDB', chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    await loadThroughTwoKills('RCCI');
    const source = (await m.query<{ r: string }[]>(`SELECT CONCAT(LOWER(HEX(t)), '|', g) AS r FROM ci_rows`))
      .map((x) => x.r)
      .sort();
    expect(source).toHaveLength(ROWS);
    expect(await postgresRows(h.dbs.target, 'ci_rows')).toEqual(source);
  });

  it('PostgreSQL with a nondeterministic collation, no key, into PostgreSQL, through two worker SIGKILLs', async () => {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE COLLATION ci_ai (provider = icu, locale = 'und-u-ks-level1', deterministic = false)`);
      await c.query(`CREATE TABLE ci_rows (t text COLLATE ci_ai NOT NULL, g int NOT NULL)`);
      await c.query(
        `INSERT INTO ci_rows SELECT (ARRAY[${VARIANTS.map((v) => `'${v}'`).join(', ')}])[g % ${VARIANTS.length} + 1], g % 3 FROM generate_series(1, ${ROWS}) g`,
      );
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE pg_ci_rows (t text, g int)`));
    await registerMapping(h.dbs, {
      mapref: 'RCPG',
      batchSize: BULKLMT,
      srcquery: 'SELECT t, g FROM ci_rows',
      trgtbnm: 'PG_CI_ROWS',
      columns: { chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    await loadThroughTwoKills('RCPG');
    const source = await postgresRows(h.dbs.source, 'ci_rows');
    expect(source).toHaveLength(ROWS);
    expect(await postgresRows(h.dbs.target, 'pg_ci_rows')).toEqual(source);
  });
});
