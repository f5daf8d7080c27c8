// REJECTLMT end to end, PostgreSQL to PostgreSQL on a real Temporal dev server and worker: a
// target with a CHECK constraint and a column too narrow for some rows, 20,000 rows of which
// ten are bad, spread across batches (the first and the last row of a batch among them). The
// target has no primary key, so a row loaded twice shows as an extra row.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata } from '../../metadata/repository';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { urlFor, withClient } from '../support/postgres';

const ROWS = 20_000;
/** Notes too long for the target's varchar(10). */
const TOO_LONG = [1, 1001, 7777, 15000, 20000];
/** Amounts below the target's CHECK (amount >= 0); 15000 is bad both ways. */
const NEGATIVE = [1000, 2000, 5555, 12345, 15000, 19999];
const BAD = [...new Set([...TOO_LONG, ...NEGATIVE])].sort((a, b) => a - b);

let h: Harness;
let m: TestMariaDb;
const MARIADB_PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';
const exec = promisify(execFile);

function dms(...args: string[]) {
  return exec(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'dms.js'), ...args], {
    env: { ...process.env, ...h.workerEnv },
  });
}

async function start(mapref: string, run: number) {
  return h.client.workflow.start('dmsJob', {
    taskQueue: h.taskQueue,
    workflowId: `dms-${mapref}-${run}`,
    args: [{ mapref }],
  });
}

/** The target's rows, each as text, sorted. */
async function targetRows(table: string): Promise<string[]> {
  return withClient(h.dbs.target, async (c) =>
    (await c.query<{ t: string }>(`SELECT concat_ws('|', id, note, amount) AS t FROM ${table} ORDER BY id`)).rows.map(
      (r) => r.t,
    ),
  );
}

/** The source's good rows, as targetRows writes them. */
async function goodRows(): Promise<string[]> {
  return withClient(h.dbs.source, async (c) =>
    (
      await c.query<{ t: string }>(
        `SELECT concat_ws('|', id, note, amount) AS t FROM items WHERE id <> ALL($1::bigint[]) ORDER BY id`,
        [BAD],
      )
    ).rows.map((r) => r.t),
  );
}

async function rejects(mapref: string): Promise<
  {
    prcid: number;
    batchno: number;
    key: number;
    errcode: string;
    errcol: string | null;
    errmsg: string;
    note: string;
  }[]
> {
  return withClient(
    h.dbs.target,
    async (c) =>
      (
        await c.query(
          `SELECT prcid::int, batchno::int, (keyvals::jsonb ->> 0)::int AS key, errcode, errcol, errmsg, rowvals ->> 'note' AS note FROM dms_reject WHERE mapref = $1 ORDER BY (keyvals::jsonb ->> 0)::int`,
          [mapref],
        )
      ).rows,
  );
}

async function target(table: string): Promise<void> {
  await withClient(h.dbs.target, (c) =>
    c.query(`CREATE TABLE ${table} (id bigint NOT NULL, note varchar(10), amount int CHECK (amount >= 0))`),
  );
}

beforeAll(async () => {
  m = await createMariaDb('rej');
  h = await openHarness('rejects', { [MARIADB_PASSWORD_ENV]: m.password });
  await registerMariaDbConnection(h.dbs.metadata, m, MARIADB_PASSWORD_ENV);
  await withClient(h.dbs.source, async (c) => {
    await c.query(`CREATE TABLE items (id bigint PRIMARY KEY, note text, amount int)`);
    await c.query(
      `INSERT INTO items SELECT g, CASE WHEN g = ANY($1::int[]) THEN 'much too long ' || g ELSE 'n' || g END, CASE WHEN g = ANY($2::int[]) THEN -g ELSE g % 100 END
         FROM generate_series(1, ${ROWS}) g`,
      [TOO_LONG, NEGATIVE],
    );
  });
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

describe('REJECTLMT', () => {
  it('quarantines the bad rows in DMS_REJECT, loads every good row once, through a SIGKILL while a batch with bad rows commits', async () => {
    await target('items_a');
    await registerMapping(h.dbs, {
      mapref: 'REJ_A',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_A',
      chkpntcolumn: 'ID',
      columns: { rejectlmt: 20 },
    });
    // Batch 2 (ids 1001–2000, bad at both ends) isolates its bad rows, then dies before its commit.
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 2, action: 'kill' }] });
    const handle = await start('REJ_A', 1);
    await first.waitFor(/fault: kill at beforeCommit of batch 2/);
    await first.kill();
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS - BAD.length });
    expect(await targetRows('items_a')).toEqual(await goodRows());
    const rejected = await rejects('REJ_A');
    expect(rejected.map((r) => r.key)).toEqual(BAD);
    // Each where the database said why: the narrow column named, the CHECK's code; and each batch's own.
    for (const r of rejected) {
      expect(r.batchno).toBe(Math.ceil(r.key / 1000));
      if (TOO_LONG.includes(r.key))
        expect(r).toMatchObject({ errcode: '22001', errcol: 'note', note: `much too long ${r.key}` });
      else expect(r).toMatchObject({ errcode: '23514', errmsg: expect.stringMatching(/violates check constraint/) });
      expect(r.errmsg).not.toContain(`much too long`);
    }
    const [run] = await runs(h.dbs.metadata, 'REJ_A');
    expect(run).toMatchObject({ status: 'PC', rejrows: BAD.length });
    // `dms rejects` lists them from the target: keys, codes, messages; values only when asked.
    const listed = (await dms('rejects', 'REJ_A')).stdout.trim().split('\n');
    expect(listed).toHaveLength(BAD.length + 1);
    expect(listed[0]).toBe(
      `run ${run.prcid} batch 1 key ["1"]: [22001] column note: value too long for type character varying(10): (value redacted) (COPY line 1, column note) [SQLSTATE 22001]`,
    );
    expect(listed.at(-1)).toBe(`Mapping REJ_A: ${BAD.length} rejected rows of its runs`);
    expect(listed.join('\n')).not.toContain('much too long');
    const withValues = (await dms('rejects', 'REJ_A', '--run', String(run.prcid), '--values', '--limit', '1')).stdout;
    expect(withValues).toContain('values: {"id": "1", "note": "much too long 1", "amount": "1"}');
    expect(withValues).toContain(
      `Mapping REJ_A: 1 rejected rows of run ${run.prcid} (the first 1; --limit shows more)`,
    );
    // No row value reached Temporal: not in the history, not in an error.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain('much too long');
    await second.kill();
  });

  it('fails the run over the limit, naming it and `dms rejects`; a rerun with a higher limit resumes and completes', async () => {
    await target('items_b');
    await registerMapping(h.dbs, {
      mapref: 'REJ_B',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_B',
      chkpntcolumn: 'ID',
      columns: { rejectlmt: 4 },
    });
    const worker = await h.startWorker();
    // Batches 1 and 2 reject two rows each; batch 6 (5555) would make five.
    expect(await failureOf(await start('REJ_B', 1))).toMatch(
      /^Mapping REJ_B: REJECTLMT is 4, and run \d+ would reject 5 rows: the batch that went over rolled back, and the batches committed before it stay\. Fix: see the rejected rows with `dms rejects REJ_B --run \d+`/,
    );
    expect((await rejects('REJ_B')).map((r) => r.key)).toEqual([1, 1000, 1001, 2000]);
    expect((await targetRows('items_b')).length).toBe(5000 - 4);
    // The limit raised, the job synced, the run resumes after batch 5.
    await withClient(h.dbs.metadata, (c) => c.query(`UPDATE dms_mapr SET rejectlmt = 20 WHERE mapref = 'REJ_B'`));
    const metadata = Metadata.open(urlFor(h.dbs.metadata));
    await metadata.syncJob(await metadata.mapping('REJ_B')).finally(() => metadata.close());
    await (await start('REJ_B', 2)).result();
    expect(await targetRows('items_b')).toEqual(await goodRows());
    const rejected = await rejects('REJ_B');
    expect(rejected.map((r) => r.key)).toEqual(BAD);
    const log = await runs(h.dbs.metadata, 'REJ_B');
    expect(log.map((r) => [r.status, r.rejrows])).toEqual([
      ['FL', 4],
      ['PC', BAD.length - 4],
    ]);
    expect(log[1].resumedfrom).toBe(String(log[0].prcid));
    await worker.kill();
  });

  it('quarantines with ROWCOUNT too, exactly, through a SIGKILL in the middle of isolating a batch', async () => {
    await target('items_r');
    await registerMapping(h.dbs, {
      mapref: 'REJ_R',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_R',
      columns: { rejectlmt: 20, chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    // Batch 2 finds its first bad row (1001), and the worker dies before it looks for the next.
    const first = await h.startWorker({ faults: [{ point: 'isolating', batch: 2, action: 'kill' }] });
    const handle = await start('REJ_R', 1);
    await first.waitFor(/fault: kill at isolating of batch 2/);
    await first.kill();
    const second = await h.startWorker();
    // ROWCOUNT counts the source rows it took, rejected ones included: its checkpoint is that count.
    expect(await handle.result()).toMatchObject({ rows: ROWS });
    expect(await targetRows('items_r')).toEqual(await goodRows());
    expect((await rejects('REJ_R')).map((r) => r.key)).toEqual(BAD);
    expect((await runs(h.dbs.metadata, 'REJ_R'))[0]).toMatchObject({ status: 'PC', rejrows: BAD.length });
    await second.kill();
  });

  it('quarantines in a partitioned run (PARTITIONS 2), whose ranges count against one limit', async () => {
    await target('items_p');
    await registerMapping(h.dbs, {
      mapref: 'REJ_P',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_P',
      chkpntcolumn: 'ID',
      columns: { rejectlmt: BAD.length, partitions: 2 },
    });
    const worker = await h.startWorker();
    expect(await (await start('REJ_P', 1)).result()).toMatchObject({ rows: ROWS - BAD.length });
    expect(await targetRows('items_p')).toEqual(await goodRows());
    expect((await rejects('REJ_P')).map((r) => r.key)).toEqual(BAD);
    expect((await runs(h.dbs.metadata, 'REJ_P'))[0]).toMatchObject({ status: 'PC', rejrows: BAD.length });
    await worker.kill();
  });

  it('quarantines with LOADMODE UPSERT too, and a second run merges the same good rows again without a new reject beyond its own', async () => {
    await withClient(h.dbs.target, (c) =>
      c.query(`CREATE TABLE items_u (id bigint PRIMARY KEY, note varchar(10), amount int CHECK (amount >= 0))`),
    );
    await registerMapping(h.dbs, {
      mapref: 'REJ_U',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_U',
      chkpntcolumn: 'ID',
      columns: { rejectlmt: 20, loadmode: 'UPSERT', trgkeycols: 'ID' },
    });
    const worker = await h.startWorker();
    for (const n of [1, 2]) {
      expect(await (await start('REJ_U', n)).result()).toMatchObject({ rows: ROWS - BAD.length });
      expect(await targetRows('items_u')).toEqual(await goodRows());
    }
    const rejected = await rejects('REJ_U');
    // Each run rejects the bad rows once: two runs, each its own.
    expect(rejected.map((r) => r.key)).toEqual(BAD.flatMap((k) => [k, k]));
    expect(new Set(rejected.map((r) => r.prcid)).size).toBe(2);
    await worker.kill();
  });

  it('quarantines into a MariaDB target the same way (LOAD DATA inside savepoints)', async () => {
    await m.query(
      `CREATE TABLE items_m (id BIGINT NOT NULL, note VARCHAR(10), amount INT, CONSTRAINT amount_ck CHECK (amount >= 0))`,
    );
    await registerMapping(h.dbs, {
      mapref: 'REJ_M',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'items_m',
      chkpntcolumn: 'ID',
      columns: { rejectlmt: 20, trgconid: 'MDB', trgschm: m.database },
    });
    const worker = await h.startWorker();
    expect(await (await start('REJ_M', 1)).result()).toMatchObject({ rows: ROWS - BAD.length });
    const loaded = await m.query<{ t: string }[]>(
      `SELECT CONCAT_WS('|', id, note, amount) AS t FROM items_m ORDER BY id`,
    );
    expect(loaded.map((r) => r.t)).toEqual(await goodRows());
    const rejected = await m.query<{ k: string; errcode: string; errcol: string | null; note: string }[]>(
      `SELECT keyvals AS k, errcode, errcol, JSON_VALUE(rowvals, '$.note') AS note FROM dms_reject WHERE mapref = 'REJ_M' ORDER BY rejid`,
    );
    expect(rejected.map((r) => Number(JSON.parse(r.k)[0])).sort((a, b) => a - b)).toEqual(BAD);
    for (const r of rejected) if (r.errcol === 'note') expect(r.note).toMatch(/^much too long /);
    expect(rejected.filter((r) => r.errcol === 'note').length).toBeGreaterThanOrEqual(TOO_LONG.length - 1);
    const listed = (await dms('rejects', 'REJ_M')).stdout;
    expect(listed).toContain(`Mapping REJ_M: ${BAD.length} rejected rows of its runs`);
    await worker.kill();
  });

  it('with REJECTLMT 0, fails on the first bad row as before, and rejects nothing', async () => {
    await target('items_c');
    await registerMapping(h.dbs, {
      mapref: 'REJ_C',
      batchSize: 1000,
      srcquery: 'SELECT * FROM items',
      trgtbnm: 'ITEMS_C',
      chkpntcolumn: 'ID',
    });
    const worker = await h.startWorker();
    expect(await failureOf(await start('REJ_C', 1))).toMatch(/value too long for type character varying\(10\)/);
    expect(await targetRows('items_c')).toEqual([]);
    await worker.kill();
  });
});
