// Errors end to end: transient ones are retried with the last error shown in DMS_PRCLOG,
// permanent ones and bad configuration fail the run at once, name the mapping, the field
// and the fix, leak no row value, and move no row.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { conurlFor, PG_PASSWORD_ENV, tableDigest, urlFor, withClient } from '../support/postgres';
import type { WorkerProcess } from '../support/worker-process';
import { Metadata } from '../../metadata/repository';

let h: Harness;
let worker: WorkerProcess;
const ROWS = 20_000;

beforeAll(async () => {
  h = await openHarness('fail', {
    DMS_RETRY_INITIAL_INTERVAL_MS: '500',
    DMS_RETRY_MAX_INTERVAL_MS: '1000',
    DMS_LOCK_TIMEOUT_MS: '500',
  });
  await createFactSource(h.dbs.source, ROWS, 'sales');
  worker = await h.startWorker();
});

afterAll(async () => {
  await h?.close();
});

function start(mapref: string, input: unknown = { mapref }) {
  return h.client.workflow.start('dmsJob', {
    taskQueue: h.taskQueue,
    workflowId: `dms-${mapref}`,
    args: [input as { mapref: string }],
  });
}

async function failureOf(mapref: string, input?: unknown): Promise<string> {
  const handle = await start(mapref, input);
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let e = err as { message: string; cause?: unknown };
  while (e.cause) e = e.cause as typeof e;
  return e.message;
}

async function count(db: string, table: string): Promise<number> {
  return withClient(db, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
}

describe('transient errors', () => {
  it('retries a batch that waits too long for a lock, shows the error meanwhile, and ends exact', async () => {
    await createFactTarget(h.dbs.target, 't_trans');
    await registerMapping(h.dbs, { mapref: 'TRANS', batchSize: 200, trgtbnm: 'T_TRANS' });
    const handle = await start('TRANS');
    await waitUntil('3 batches', async () => ((await checkpointRow(h.dbs.target, 'TRANS'))?.batchcnt ?? 0) >= 3);
    // A user's lock on the target table: each attempt times out on it until it is released.
    const seen = await withClient(h.dbs.target, async (locker) => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE t_trans IN ACCESS EXCLUSIVE MODE');
      const error = await waitUntil(
        'the error in DMS_PRCLOG',
        async () => (await runs(h.dbs.metadata, 'TRANS'))[0].lasterr as string | null,
        20_000,
        50,
      );
      await locker.query('ROLLBACK');
      return error;
    });
    expect(seen).toMatch(/^retrying batch \d+: canceling statement due to lock timeout \[SQLSTATE 55P03\]$/);
    await handle.result();
    const source = await tableDigest(h.dbs.source, 'sales', 'sale_id');
    const target = await tableDigest(h.dbs.target, 't_trans', 'sale_id');
    expect(target).toEqual(source);
    const [run] = await runs(h.dbs.metadata, 'TRANS');
    expect(run).toMatchObject({ status: 'PC', lasterr: null });
  });
});

describe('permanent errors', () => {
  it('fails at once on bad data, without the value in the message, and loads nothing', async () => {
    // The target's note column is too short for the source's notes.
    await withClient(h.dbs.target, (c) =>
      c.query(
        `CREATE TABLE t_baddata (sale_id bigint, store_id int, amount numeric(12,2), sold_at timestamptz, note varchar(5))`,
      ),
    );
    await registerMapping(h.dbs, { mapref: 'BADDATA', batchSize: 500, trgtbnm: 'T_BADDATA' });
    const message = await failureOf('BADDATA');
    expect(message).toMatch(/value too long for type character varying\(5\)/);
    expect(message).toMatch(/column note/);
    expect(message).not.toMatch(/tabs|note \d/);
    expect(await count(h.dbs.target, 't_baddata')).toBe(0);
    const [run] = await runs(h.dbs.metadata, 'BADDATA');
    expect(run.status).toBe('FL');
    expect(run.lasterr).toBe(message);
    expect((await checkpointRow(h.dbs.target, 'BADDATA'))!.batchcnt).toBe(0);
  });
});

describe('UPSERT with duplicate keys in the source', () => {
  it('fails at the batch that holds them, naming the mapping, the field and the fix; that batch moves no row', async () => {
    await withClient(h.dbs.target, (c) =>
      c.query(
        `CREATE TABLE t_dupkey (sale_id bigint PRIMARY KEY, store_id int, amount numeric(12,2), sold_at timestamptz, note text)`,
      ),
    );
    // The 1001st to 1005th keys (3003-3015) come twice: they fall in the third batch of 500,
    // which keeps ties whole.
    await registerMapping(h.dbs, {
      mapref: 'DUPKEY',
      batchSize: 500,
      trgtbnm: 'T_DUPKEY',
      srcquery: 'SELECT * FROM sales UNION ALL SELECT * FROM sales WHERE sale_id BETWEEN 3003 AND 3015',
      columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    const message = await failureOf('DUPKEY');
    expect(message).toMatch(
      /^Mapping DUPKEY: SRCQUERY returns more than one row with the same TRGKEYCOLS \(sale_id\) within one batch, and a merge on TRGKEYCOLS cannot take two source rows into one target row at once; the batch was rolled back\. Fix: make SRCQUERY return one row per \(sale_id\), e\.g\. SELECT DISTINCT ON \(sale_id\)/,
    );
    // The two batches before it stay committed, exact; the third moved nothing.
    expect(await count(h.dbs.target, 't_dupkey')).toBe(1000);
    expect(
      await withClient(
        h.dbs.target,
        async (c) => (await c.query('SELECT min(sale_id)::int AS lo, max(sale_id)::int AS hi FROM t_dupkey')).rows[0],
      ),
    ).toEqual({ lo: 3, hi: 3000 });
    expect((await checkpointRow(h.dbs.target, 'DUPKEY'))!.batchcnt).toBe(2);
    const [run] = await runs(h.dbs.metadata, 'DUPKEY');
    expect(run.status).toBe('FL');
    expect(run.lasterr).toBe(message);
  });
});

// The planner's own checks (a key the query does not return, a target that lacks a column, a
// LOADMODE the strategy cannot serve, …) are unit tests against databases in memory
// (test/unit/planner-checks.test.ts); here, the ones a real server or the worker decides, and
// what every refusal must do end to end: fail the run, write no row, leak no password.
describe('bad configuration fails before any row moves', () => {
  const cases: { name: string; mapping: Partial<Parameters<typeof registerMapping>[1]>; expected: RegExp }[] = [
    {
      name: 'an unknown connection',
      mapping: { columns: { srcconid: 'NOWHERE' } },
      expected: /^Mapping CFG\d+: SRCCONID is 'NOWHERE', which is not in DMS_DBCONDTLS\. Fix: add the connection/,
    },
    {
      name: 'a connection to a database that does not exist',
      mapping: { columns: { trgconid: 'TGTNODB' } },
      expected:
        /^Mapping CFG\d+: TRGCONID uses connection 'TGTNODB', which the worker cannot log in to: database "dms_no_such_database" does not exist \[SQLSTATE 3D000\]\. Fix: correct CONURL \(host, port, database, user\) of connection 'TGTNODB' in DMS_DBCONDTLS, or (if the server asks for a password, set PWDENV|the password in DMS_TEST_PG_PASSWORD)/,
    },
    {
      name: 'a password inside CONURL',
      mapping: { columns: { trgconid: 'TGTSECRET' } },
      expected:
        /^Mapping CFG\d+: TRGCONID uses connection 'TGTSECRET', whose CONURL contains a password\. Fix: remove the password from CONURL/,
    },
    {
      name: 'an Oracle target without a password variable',
      mapping: { columns: { trgconid: 'ORA' } },
      expected:
        /^Mapping CFG\d+: TRGCONID uses connection 'ORA', which the worker cannot log in to: the server asks for a password, and the connection's PWDENV is empty\. Fix: set PWDENV of connection 'ORA'/,
    },
    {
      name: 'two statements in SRCQUERY',
      mapping: { srcquery: 'SELECT * FROM sales; DELETE FROM sales' },
      expected: /^Mapping CFG\d+: SRCQUERY fails on the source: .*Fix: make SRCQUERY one read-only SELECT/,
    },
    {
      name: 'a data-modifying SRCQUERY',
      mapping: { srcquery: 'WITH d AS (DELETE FROM sales RETURNING *) SELECT * FROM d' },
      expected:
        /^Mapping CFG\d+: SRCQUERY fails on the source: WITH clause containing a data-modifying statement .*Fix: /,
    },
    {
      name: 'a locking SRCQUERY',
      mapping: { srcquery: 'SELECT * FROM sales FOR UPDATE' },
      expected:
        /^Mapping CFG\d+: SRCQUERY fails on the source: cannot execute SELECT FOR UPDATE in a read-only transaction \[SQLSTATE 25006\]\. Fix: /,
    },
    {
      name: 'a SRCQUERY that is not SQL',
      mapping: { srcquery: 'sales please' },
      expected: /^Mapping CFG\d+: SRCQUERY fails on the source: syntax error at or near .*\[SQLSTATE 42601\]\. Fix: /,
    },
  ];

  beforeAll(async () => {
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES
           ('TGTSECRET', 'POSTGRES', 'postgres://postgres:hunter2@127.0.0.1:5432/x', NULL),
           ('ORA', 'ORACLE', 'oracle://scott@db:1521/ORCL', NULL),
           ('TGTNODB', 'POSTGRES', $1, $2)`,
        [conurlFor('dms_no_such_database'), PG_PASSWORD_ENV],
      ),
    );
  });

  it.each(cases.map((c, i) => ({ ...c, mapref: `CFG${i}` })))(
    'refuses $name',
    async ({ mapref, mapping, expected }) => {
      await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE IF NOT EXISTS t_cfg (LIKE t_trans)`));
      await registerMapping(h.dbs, { mapref, batchSize: 500, trgtbnm: 'T_CFG', ...mapping });
      const message = await failureOf(mapref);
      expect(message).toMatch(expected);
      expect(message).not.toContain('hunter2');
      expect(await count(h.dbs.target, 't_cfg')).toBe(0);
      expect(await count(h.dbs.source, 'sales')).toBe(ROWS);
      expect(await checkpointRow(h.dbs.target, mapref)).toBeUndefined();
      const log = await runs(h.dbs.metadata, mapref);
      expect(log.map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
    },
  );

  it('refuses a key column that is not an identifier, at sync and, for a job written by hand, at run', async () => {
    await expect(
      registerMapping(h.dbs, {
        mapref: 'INJECT',
        batchSize: 500,
        trgtbnm: 'T_CFG',
        chkpntcolumn: 'sale_id; DROP TABLE sales',
      }),
    ).rejects.toThrow(
      /^Mapping INJECT: CHKPNTCOLUMN is refused: "sale_id; DROP TABLE sales" is not a valid identifier.*Fix: /,
    );
    await withClient(h.dbs.metadata, (c) =>
      c.query(`INSERT INTO dms_job (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, chkpntstrategy, chkpntcolumn)
               VALUES ('INJECT', 'SRC', 'SELECT * FROM sales', 'TGT', 'public', 't_cfg', 'KEY', 'sale_id; DROP TABLE sales')`),
    );
    expect(await failureOf('INJECT')).toMatch(/^Mapping INJECT: CHKPNTCOLUMN is refused: .*Fix: /);
    expect(await count(h.dbs.source, 'sales')).toBe(ROWS);
    expect(await count(h.dbs.target, 't_cfg')).toBe(0);
  });

  it('refuses to resume across a changed job definition, and loads from the start when asked', async () => {
    await createFactTarget(h.dbs.target, 't_change');
    await registerMapping(h.dbs, { mapref: 'CHANGE', batchSize: 200, trgtbnm: 'T_CHANGE' });
    const first = await start('CHANGE');
    await waitUntil('3 batches', async () => ((await checkpointRow(h.dbs.target, 'CHANGE'))?.batchcnt ?? 0) >= 3);
    await first.cancel();
    await first.result().catch(() => undefined);

    await withClient(h.dbs.metadata, (c) =>
      c.query(`UPDATE dms_mapr SET srcquery = 'SELECT * FROM sales WHERE store_id > 0' WHERE mapref = 'CHANGE'`),
    );
    const metadata = Metadata.open(urlFor(h.dbs.metadata));
    await metadata.syncJob(await metadata.mapping('CHANGE')).finally(() => metadata.close());
    const message = await failureOf('CHANGE');
    expect(message).toMatch(
      /^Mapping CHANGE: DMS_JOB changed since run \d+ stopped unfinished .*Fix: .*dms run CHANGE --from-start/,
    );
    expect((await runs(h.dbs.metadata, 'CHANGE')).map((r) => r.status)).toEqual(['CN']);

    await withClient(h.dbs.target, (c) => c.query('TRUNCATE t_change'));
    await (await start('CHANGE', { mapref: 'CHANGE', fromStart: true })).result();
    const expected = await withClient(h.dbs.source, async (c) =>
      Number((await c.query('SELECT count(*) AS n FROM sales WHERE store_id > 0')).rows[0].n),
    );
    expect(await count(h.dbs.target, 't_change')).toBe(expected);
    const log = await runs(h.dbs.metadata, 'CHANGE');
    expect(log.map((r) => [r.status, r.resumedfrom])).toEqual([
      ['CN', null],
      ['PC', null],
    ]);
  });

  it('refuses a mapping with no job, writing no run', async () => {
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `INSERT INTO dms_mapr (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, chkpntcolumn) VALUES ('NOJOB', 'SRC', 'SELECT * FROM sales', 'TGT', 'public', 't_cfg', 'sale_id')`,
      ),
    );
    expect(await failureOf('NOJOB')).toBe(
      'Mapping NOJOB: MAPREF has no job in DMS_JOB. Fix: run `dms job sync NOJOB` to validate the mapping and create its job',
    );
    expect(await runs(h.dbs.metadata, 'NOJOB')).toEqual([]);
    expect(await count(h.dbs.target, 't_cfg')).toBe(0);
  });

  it.each([
    ['without a mapref', 'NOINPUT', { map: 'x' }, /^dmsJob input must be \{"mapref": "<MAPREF>"\}/],
    [
      'with a misspelt key',
      'MISSPELT',
      { mapref: 'MISSPELT', fromstart: true },
      /^dmsJob input has unknown key 'fromstart' \(did you mean 'fromStart'\?\); it takes \{"mapref": "<MAPREF>", "fromStart": true\}/,
    ],
    [
      'with a key far from any',
      'FARKEY',
      { mapref: 'FARKEY', colour: 'blue' },
      /^dmsJob input has unknown key 'colour' \(known keys: mapref, fromStart\)/,
    ],
  ])('refuses an input %s, writing no run', async (_, mapref, input, message) => {
    expect(await failureOf(mapref, input)).toMatch(message);
    expect(await runs(h.dbs.metadata, mapref)).toEqual([]);
  });

  it('keeps the worker serving after all that', async () => {
    expect(worker.child.exitCode).toBeNull();
  });
});
