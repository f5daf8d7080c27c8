// Wide rows: a batch ends at DMS_BATCH_BYTES as well as at BULKLMT, a row wider than the budget
// loads alone, and the load stays exact through a worker SIGKILL; both ways between the real
// MariaDB server and PostgreSQL (each source read by a slice's key cursor, or ROWCOUNT's
// ordered read, which the budget cuts). Targets have no key: a batch loaded twice would show. Then workers under a heap limit,
// each killed by a row wider than their heap: the run stops, and says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { withClient } from '../support/postgres';
import { sample, scrape } from '../support/metrics';
import { freePort } from '../../scripts/temporal-dev';

const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';
const ROWS = 300;
/** Each row's document: 8,000 bytes (16,000 characters of hex text), and row 151's 200,000 bytes (the first of its batch). */
const DOC_BYTES = 8_000;
const WIDE_ROW = 151;
/** About five ordinary rows a batch. */
const BATCH_BYTES = 5 * 2 * DOC_BYTES;
/** A mapping's BATCHBYTES below the worker's: about three rows a batch. */
const MAPPING_BYTES = 3 * 2 * DOC_BYTES;
const BULKLMT = 100;

let h: Harness;
let m: TestMariaDb;

beforeAll(async () => {
  m = await createMariaDb('wide');
  h = await openHarness('wide', { [PASSWORD_ENV]: m.password, DMS_BATCH_BYTES: String(BATCH_BYTES) });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
  await m.query(
    `CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, doc LONGBLOB NOT NULL) ENGINE=InnoDB;
     INSERT INTO docs SELECT seq, UNHEX(REPEAT(MD5(seq), IF(seq = ${WIDE_ROW}, 200000, ${DOC_BYTES}) / 16)) FROM seq_1_to_${ROWS};
     CREATE TABLE docs_in (id INT, doc LONGBLOB) ENGINE=InnoDB; CREATE TABLE docs_r (id INT, doc LONGBLOB) ENGINE=InnoDB; CREATE TABLE docs_k (id INT, doc LONGBLOB) ENGINE=InnoDB`,
  );
  await withClient(h.dbs.source, (c) =>
    c.query(
      `CREATE TABLE docs (id int PRIMARY KEY, doc bytea NOT NULL); INSERT INTO docs SELECT g, decode(repeat(md5(g::text), CASE WHEN g = ${WIDE_ROW} THEN 200000 ELSE ${DOC_BYTES} END / 16), 'hex') FROM generate_series(1, ${ROWS}) g`,
    ),
  );
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE docs (id int, doc bytea); CREATE TABLE docs_b (id int, doc bytea); CREATE TABLE docs_r (id int, doc bytea); CREATE TABLE docs_r2 (id int, doc bytea)`,
    ),
  );
});

/** Each row as `id:md5 of its document`, sorted, from either engine. */
const onMariaDb = async (table: string) =>
  (await m.query<{ t: string }[]>(`SELECT CONCAT(id, ':', LOWER(MD5(doc))) AS t FROM ${table}`)).map((r) => r.t).sort();
const onPostgres = (db: string, table = 'docs') =>
  withClient(db, async (c) =>
    (await c.query<{ t: string }>(`SELECT id || ':' || md5(doc) AS t FROM ${table}`)).rows.map((r) => r.t).sort(),
  );

const WORKER = { setting: 'DMS_BATCH_BYTES', bytes: BATCH_BYTES };
const PAIRS = [
  {
    pair: 'MariaDB → PostgreSQL',
    mapref: 'WIDE_MP',
    columns: { srcconid: 'MDB' },
    trgtbnm: 'DOCS',
    source: () => onMariaDb('docs'),
    target: () => onPostgres(h.dbs.target),
    budget: WORKER,
  },
  {
    pair: 'PostgreSQL → MariaDB',
    mapref: 'WIDE_PM',
    columns: { trgconid: 'MDB', trgschm: () => m.database },
    trgtbnm: 'DOCS_IN',
    source: () => onPostgres(h.dbs.source),
    target: () => onMariaDb('docs_in'),
    budget: WORKER,
  },
  {
    pair: "MariaDB → PostgreSQL, the mapping's BATCHBYTES below the worker's",
    mapref: 'WIDE_MPB',
    columns: { srcconid: 'MDB', batchbytes: MAPPING_BYTES },
    trgtbnm: 'DOCS_B',
    source: () => onMariaDb('docs'),
    target: () => onPostgres(h.dbs.target, 'docs_b'),
    budget: { setting: 'BATCHBYTES', bytes: MAPPING_BYTES },
  },
  // ROWCOUNT: one ordered read a slice, cut by bytes as well; between PostgreSQL databases by
  // the COPY mover (rows as COPY text), otherwise decoded.
  {
    pair: 'ROWCOUNT, PostgreSQL → PostgreSQL',
    mapref: 'WIDE_RPP',
    columns: { chkpntstrategy: 'ROWCOUNT' },
    trgtbnm: 'DOCS_R',
    source: () => onPostgres(h.dbs.source),
    target: () => onPostgres(h.dbs.target, 'docs_r'),
    budget: WORKER,
  },
  {
    pair: 'ROWCOUNT, PostgreSQL → MariaDB',
    mapref: 'WIDE_RPM',
    columns: { chkpntstrategy: 'ROWCOUNT', trgconid: 'MDB', trgschm: () => m.database },
    trgtbnm: 'DOCS_R',
    source: () => onPostgres(h.dbs.source),
    target: () => onMariaDb('docs_r'),
    budget: WORKER,
  },
  {
    pair: 'ROWCOUNT, MariaDB → PostgreSQL',
    mapref: 'WIDE_RMP',
    columns: { chkpntstrategy: 'ROWCOUNT', srcconid: 'MDB' },
    trgtbnm: 'DOCS_R2',
    source: () => onMariaDb('docs'),
    target: () => onPostgres(h.dbs.target, 'docs_r2'),
    budget: WORKER,
  },
].map((row) => ({
  ...row,
  srcquery: 'SELECT id, doc FROM docs',
  // Cut by bytes, not by BULKLMT: about five rows a batch, or three (three batches by rows alone).
  batches: ROWS / Math.ceil(row.budget.bytes / (2 * DOC_BYTES)),
  says: new RegExp(
    `Mapping ${row.mapref}: a row wider than ${row.budget.setting} \\(${row.budget.bytes} bytes\\) loaded alone in batch \\d+`,
  ),
  alone: 1,
}));
/**
 * KEY over key ranges (the source sorts the key: each batch reads the range up to its n-th key):
 * a range's end is asked for before its rows are read, so a worker's first range holds BULKLMT
 * rows and the next ones about as many as fit the budget (the wide row is in a first range).
 */
const RANGES = {
  pair: 'KEY by key ranges, PostgreSQL → MariaDB',
  mapref: 'WIDE_KPM',
  columns: { trgconid: 'MDB', trgschm: () => m.database },
  trgtbnm: 'DOCS_K',
  source: () => onPostgres(h.dbs.source),
  target: () => onMariaDb('docs_k'),
  budget: WORKER,
  srcquery: 'SELECT id + 0 AS id, doc FROM docs',
  // Two first ranges of BULKLMT rows (one a worker), the other rows at most five a batch.
  batches: 2 + (ROWS - 2 * BULKLMT) / 5,
  says: new RegExp(
    `Mapping WIDE_KPM: batch \\d+'s key range carried \\d+ bytes in ${BULKLMT} rows, over DMS_BATCH_BYTES \\(${BATCH_BYTES} bytes\\): the next ranges hold about 4 rows`,
  ),
  alone: 0,
};

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

describe('a batch budget in bytes', () => {
  it.each([...PAIRS, RANGES])(
    'ends batches at the byte budget, loads a wider row alone, and stays exact through a worker SIGKILL ($pair)',
    async ({ mapref, columns, trgtbnm, source, target, srcquery, batches, says, alone }) => {
      const named = Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, typeof v === 'function' ? v() : v]));
      await registerMapping(h.dbs, {
        mapref,
        batchSize: BULKLMT,
        srcquery,
        trgtbnm,
        chkpntcolumn: 'ID',
        columns: named,
      });
      const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 8, action: 'kill' }] });
      const handle = await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: `dms-${mapref}`,
        args: [{ mapref }],
      });
      await first.waitFor(/fault: kill at beforeCommit of batch 8/);
      await first.kill();
      const address = `127.0.0.1:${await freePort()}`;
      const second = await h.startWorker({ env: { DMS_METRICS_ADDRESS: address } });
      try {
        expect(await failureOf(handle)).toBeUndefined();
        // The wide row (after the kill) was counted as well as logged.
        expect(sample(await scrape(address), 'dms_wide_rows_alone_total', { mapref }) ?? 0).toBe(alone);
      } finally {
        await second.kill();
      }
      expect(await target()).toEqual(await source());
      const [run] = await runs(h.dbs.metadata, mapref);
      expect(run).toMatchObject({ status: 'PC', trgrows: ROWS });
      expect(run.batchcnt).toBeGreaterThanOrEqual(batches);
      expect(h.workerOutput()).toMatch(says);
    },
  );
});

describe('a worker out of memory', () => {
  it('stops after DMS_RETRY_MAX_ATTEMPTS workers died on a row wider than their heap, naming the mapping, the checkpoint and the settings', async () => {
    // Rows of 10 KB, then one of 100 MB: 200 MB of hex text, more than the workers' 160 MB heap.
    await withClient(h.dbs.source, (c) =>
      c.query(
        `CREATE TABLE huge (id int PRIMARY KEY, doc bytea NOT NULL); INSERT INTO huge SELECT g, decode(repeat(md5(g::text), CASE WHEN g = 21 THEN 100000000 ELSE 10000 END / 16), 'hex') FROM generate_series(1, 21) g`,
      ),
    );
    // Into MariaDB: between PostgreSQLs the bytes would pass through COPY, never held as text.
    await m.query(`CREATE TABLE huge (id INT, doc LONGBLOB) ENGINE=InnoDB`);
    await registerMapping(h.dbs, {
      mapref: 'HUGE',
      batchSize: BULKLMT,
      srcquery: 'SELECT id, doc FROM huge',
      trgtbnm: 'HUGE',
      chkpntcolumn: 'ID',
      columns: { trgconid: 'MDB', trgschm: m.database },
    });
    // A budget that the 20 narrow rows do not fill: every attempt's first batch reaches the wide
    // row, so that each dies in one activity. (With batches of a few rows, an attempt could
    // commit them and end its slice before its read reached the row, and the next activity
    // would have attempts of its own: still bounded, but not by a number this test can name.)
    const env = {
      NODE_OPTIONS: '--max-old-space-size=160',
      DMS_BATCH_BYTES: String(2 ** 20),
      DMS_RETRY_MAX_ATTEMPTS: '2',
      DMS_RETRY_INITIAL_INTERVAL_MS: '200',
      DMS_HEARTBEAT_TIMEOUT_MS: '3000',
    };
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-HUGE',
      args: [{ mapref: 'HUGE' }],
    });
    const outcome = failureOf(handle);
    let settled = false;
    void outcome.finally(() => (settled = true));
    // As a supervisor would (systemd, Kubernetes): a worker that dies is started again.
    const deaths: string[] = [];
    while (!settled) {
      const worker = await h.startWorker({ env });
      await Promise.race([new Promise((resolve) => worker.child.once('exit', resolve)), outcome]);
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) deaths.push(worker.output());
      else await worker.kill();
      expect(deaths.length).toBeLessThanOrEqual(2);
    }
    // Each attempt's worker ran out of heap on the wide row; the run stopped at the second.
    expect(deaths).toHaveLength(2);
    for (const output of deaths) expect(output).toMatch(/heap out of memory|Reached heap limit/);
    // The run stopped at its last committed batch, none: the first batch held the wide row.
    const [run] = await runs(h.dbs.metadata, 'HUGE');
    const [loaded] = await m.query<{ n: number }[]>(`SELECT COUNT(*) AS n FROM huge`);
    expect(run).toMatchObject({ status: 'FL', trgrows: 0, param1: null });
    expect(Number(loaded.n)).toBe(0);
    const message = await outcome;
    const said =
      /^Mapping HUGE: the worker running batch \d+ \(the rows (from the start|after checkpoint (\d+)), as its last heartbeat said\) stopped answering \(heartbeat timeout\) on every attempt; a worker killed for want of memory ends this way/.exec(
        message ?? '',
      );
    expect(said, message).not.toBeNull();
    expect(said![1]).toBe('from the start');
    expect(message).toMatch(
      /Give the worker more memory, or lower DMS_BATCH_BYTES on the worker, or BATCHBYTES or BULKLMT on mapping HUGE/,
    );
    expect(run.lasterr).toBe(message);
  });
});
