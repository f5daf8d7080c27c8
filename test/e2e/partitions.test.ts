// Partitioned KEY loads (DMS_MAPR.PARTITIONS > 1), end to end: the run's workflow splits the
// key into ranges and loads each in a child workflow, on two worker processes; one of them is
// killed mid-run. A cancel and a resume read only the unfinished ranges. TRUNCATE and UPSERT
// load in ranges too. Every load ends in an exact compare with a target without a primary key
// (but the merge's), so a range or batch loaded twice shows as extra rows.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createFactSource, createFactTarget, FACT_TARGET_COLUMNS, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { conurlFor, PG_PASSWORD_ENV, tableDigest, withClient } from '../support/postgres';

const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
let h: Harness;

beforeAll(async () => {
  // A few batches per execution: every range continues as new several times.
  h = await openHarness('partitions', { DMS_BATCHES_PER_EXECUTION: '3', DMS_ACTIVITY_SLICE_MS: '200' });
  await createFactSource(h.dbs.source, 30_000);
});

afterAll(async () => {
  if (process.env.DMS_TEST_DEBUG) console.log(h?.workerOutput());
  await h?.close();
});

interface RangeRow {
  partno: number;
  status: string;
  afterkey: string | null;
  uptokey: string | null;
  batchcnt: number;
  trgrows: number;
  wfid: string | null;
}

async function rangesOf(prcid: number): Promise<RangeRow[]> {
  return withClient(h.dbs.metadata, async (c) => {
    const { rows } = await c.query(
      `SELECT partno, status, afterkey, uptokey, batchcnt, trgrows, wfid FROM dms_prcpart WHERE prcid = $1 ORDER BY partno`,
      [prcid],
    );
    return rows.map((r) => ({ ...r, batchcnt: Number(r.batchcnt), trgrows: Number(r.trgrows) }));
  });
}

/** The target's checkpoint rows of a mapping's ranges, by range. */
async function rangeRows(
  mapref: string,
): Promise<{ mapref: string; batchcnt: number; trgrows: number; epoch: number; lastrow: string }[]> {
  return withClient(h.dbs.target, async (c) => {
    const { rows } = await c.query(
      `SELECT mapref, batchcnt, trgrows, epoch, lastrow FROM dms_chkpnt WHERE mapref LIKE $1 ORDER BY mapref`,
      [`${mapref}#p%`],
    );
    return rows.map((r) => ({
      ...r,
      batchcnt: Number(r.batchcnt),
      trgrows: Number(r.trgrows),
      epoch: Number(r.epoch),
    }));
  });
}

/** How many workflow executions match a visibility query. */
async function executions(query: string): Promise<number> {
  let n = 0;
  for await (const _ of h.client.workflow.list({ query })) n++;
  return n;
}

async function expectExact(sourceTable: string, targetTable: string, key: string) {
  const source = await tableDigest(h.dbs.source, sourceTable, key);
  expect(source.count).toBeGreaterThan(0);
  expect(await tableDigest(h.dbs.target, targetTable, key)).toEqual(source);
}

describe('a partitioned load on a non-unique key', () => {
  it('loads 4 ranges on two workers, one killed mid-run, exactly once', async () => {
    // grp has runs of 40 equal keys and one run of 4,000: no unique key breaks the ties.
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ticks (id bigint, grp int, payload text)`);
      await c.query(
        `INSERT INTO ticks SELECT g, CASE WHEN g BETWEEN 8001 AND 12000 THEN 200 ELSE g / 40 END, 'tick ' || g FROM generate_series(1, 24000) g`,
      );
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE ticks (id bigint, grp int, payload text)`));
    await registerMapping(h.dbs, {
      mapref: 'TICKS',
      batchSize: 500,
      srcquery: 'SELECT * FROM ticks',
      trgtbnm: 'TICKS',
      chkpntcolumn: 'GRP',
      columns: { partitions: 4 },
    });

    // Whichever worker runs range 2's third batch first dies before it commits; the retry runs on the other.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-fault-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const fault = { point: 'beforeCommit', batch: 3, partition: 2, action: 'kill', once: path.join(dir, 'fired') };
    const workers = [await h.startWorker({ faults: [fault] }), await h.startWorker({ faults: [fault] })];
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-TICKS',
      args: [{ mapref: 'TICKS' }],
    });
    const result = await handle.result();
    expect(h.workerOutput()).toContain('fault: kill at beforeCommit of batch 3 of range 2');
    expect(workers.filter((w) => w.child.signalCode === 'SIGKILL')).toHaveLength(1);

    await expectExact('ticks', 'ticks', 'id');
    expect(result).toMatchObject({ status: 'PC', rows: 24000 });
    const [run] = await runs(h.dbs.metadata, 'TICKS');
    expect(run).toMatchObject({ status: 'PC', param1: 'COMPLETED', trgrows: 24000 });
    const ranges = await rangesOf(run.prcid);
    // Row 0 is the run's own (the NULL-key phase); 4 ranges follow, each complete.
    expect(ranges.map((r) => [r.partno, r.status, r.wfid])).toEqual([
      [0, 'PC', 'dms-TICKS'],
      [1, 'PC', 'dms-TICKS-p1'],
      [2, 'PC', 'dms-TICKS-p2'],
      [3, 'PC', 'dms-TICKS-p3'],
      [4, 'PC', 'dms-TICKS-p4'],
    ]);
    expect(ranges.reduce((n, r) => n + r.trgrows, 0)).toBe(24000);
    // Ranges meet at split points; the run of 4,000 equal keys lies whole in one range.
    expect(ranges.slice(1).map((r) => r.afterkey)).toEqual([
      null,
      ranges[1].uptokey,
      ranges[2].uptokey,
      ranges[3].uptokey,
    ]);
    expect(ranges[4].uptokey).toBeNull();
    expect(ranges.slice(1).map((r) => r.uptokey)).not.toContain('200');
    expect(h.workerOutput()).toMatch(/Largest run of equal keys kept in one batch: 4001 rows \(range 2, batch \d+\)/);
    // Each range continued as new (3 batches an execution), and the Web UI lists all five workflows under one filter.
    expect(await executions(`WorkflowId = 'dms-TICKS-p1'`)).toBeGreaterThan(1);
    let listed = 0;
    for await (const w of h.client.workflow.list({ query: `DmsMapref = 'TICKS' AND DmsStatus = 'PC'` }))
      if (w.workflowId.startsWith('dms-TICKS')) listed++;
    expect(listed).toBeGreaterThanOrEqual(5);
    // The run's end moved every range row to a new epoch: a late attempt would be fenced out.
    const rows = await rangeRows('TICKS');
    expect(new Set(rows.map((r) => r.epoch)).size).toBe(1);
    await Promise.all(workers.map((w) => w.kill()));
  });
});

describe('cancel and resume', () => {
  it('resumes only the unfinished ranges, from their own checkpoints', async () => {
    await createFactTarget(h.dbs.target, 'sales_resume');
    await registerMapping(h.dbs, {
      mapref: 'RESUME',
      batchSize: 900,
      trgtbnm: 'SALES_RESUME',
      columns: { partitions: 3 },
    });
    // Range 3 stalls in its second batch until the cancel comes; ranges 1 and 2 complete meanwhile.
    const first = await h.startWorker({
      faults: [{ point: 'beforeCommit', batch: 2, partition: 3, action: 'stall', ms: 8_000 }],
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-RESUME',
      args: [{ mapref: 'RESUME' }],
    });
    const started = await waitUntil('the run', async () =>
      (await runs(h.dbs.metadata, 'RESUME')).find((r) => r.status === 'IP'),
    );
    await waitUntil(
      'ranges 1 and 2 complete',
      async () => (await rangesOf(started.prcid)).filter((r) => r.partno > 0 && r.status === 'PC').length === 2,
    );
    await first.waitFor(/fault: stall start at beforeCommit of batch 2/);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    await first.kill('SIGKILL');
    const resumedAt = new Date().toISOString();
    const [cancelled] = await runs(h.dbs.metadata, 'RESUME');
    expect(cancelled).toMatchObject({ status: 'CN', param1: 'PARTITIONS 2/3' });
    const before = await rangeRows('RESUME');
    expect(before.map((r) => JSON.parse(r.lastrow).done)).toEqual([true, true, false]);
    // Range 3's second batch rolled back with the cancel.
    expect(before[2].batchcnt).toBe(1);

    const second = await h.startWorker();
    const { stdout } = await promisify(execFile)(process.execPath, [DMS, 'run', 'RESUME', '--wait'], {
      env: { ...process.env, ...h.workerEnv },
    });
    expect(stdout).toContain('completed');
    await expectExact('sales', 'sales_resume', 'sale_id');
    const after = await rangeRows('RESUME');
    // Complete ranges were not read again: their checkpoints did not move, and no workflow ran them.
    expect(after.slice(0, 2).map((r) => [r.batchcnt, r.trgrows])).toEqual(
      before.slice(0, 2).map((r) => [r.batchcnt, r.trgrows]),
    );
    expect(after[2].batchcnt).toBeGreaterThan(before[2].batchcnt);
    expect(await executions(`WorkflowId = 'dms-RESUME-p1' AND StartTime > '${resumedAt}'`)).toBe(0);
    expect(await executions(`WorkflowId = 'dms-RESUME-p3' AND StartTime > '${resumedAt}'`)).toBeGreaterThan(0);
    const [, resumed] = await runs(h.dbs.metadata, 'RESUME');
    expect(resumed).toMatchObject({
      status: 'PC',
      param1: 'COMPLETED',
      trgrows: 30000,
      resumedfrom: String(cancelled.prcid),
    });
    expect(h.workerOutput()).toMatch(
      /3 key ranges, 1 to load at once \(resuming run \d+: 2 complete, not read again\)/,
    );
    // `dms status` shows the run's ranges.
    const status = (
      await promisify(execFile)(process.execPath, [DMS, 'status', 'RESUME'], {
        env: { ...process.env, ...h.workerEnv },
      })
    ).stdout;
    expect(status).toContain(`run ${resumed.prcid} loads in 3 key ranges (DMS_PRCPART):`);
    expect(status).toMatch(/dms-RESUME-p3/);
    await second.kill();
  });
});

describe('a range that fails', () => {
  it('fails the run once the other ranges have stopped, each at a committed batch', async () => {
    // The target refuses one row near the end of the key: only the last range meets it.
    await withClient(h.dbs.target, (c) =>
      c.query(`CREATE TABLE sales_refuse (${FACT_TARGET_COLUMNS}, CHECK (sale_id <> 87000))`),
    );
    await registerMapping(h.dbs, {
      mapref: 'REFUSE',
      batchSize: 300,
      trgtbnm: 'SALES_REFUSE',
      columns: { partitions: 3 },
    });
    const worker = await h.startWorker();
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-REFUSE',
      args: [{ mapref: 'REFUSE' }],
    });
    expect(await failureOf(handle)).toMatch(/violates check constraint "sales_refuse_sale_id_check"/);
    const [run] = await runs(h.dbs.metadata, 'REFUSE');
    expect(run).toMatchObject({ status: 'FL' });
    expect(run.param1).toMatch(/^PARTITIONS [0-2]\/3$/);
    expect(run.lasterr).toMatch(/violates check constraint/);
    // Every range stopped at a committed batch: the target holds exactly what their checkpoints say.
    const rows = await rangeRows('REFUSE');
    const [{ n }] = await withClient(
      h.dbs.target,
      async (c) => (await c.query(`SELECT count(*)::int AS n FROM sales_refuse`)).rows,
    );
    expect(n).toBe(rows.reduce((sum, r) => sum + r.trgrows, 0));
    expect(JSON.parse(rows[2].lastrow).done).toBe(false);
    // No range workflow is left running.
    expect(await executions(`DmsMapref = 'REFUSE' AND ExecutionStatus = 'Running'`)).toBe(0);
    await worker.kill();
  });
});

describe('target and metadata in one database', () => {
  it("commits range batches while the run's DMS_PRCLOG row is locked", async () => {
    await withClient(h.dbs.metadata, (c) => c.query(`CREATE TABLE sales_meta (${FACT_TARGET_COLUMNS})`));
    await registerMapping(h.dbs, {
      mapref: 'SHARED',
      batchSize: 50,
      trgtbnm: 'SALES_META',
      columns: { partitions: 3, trgconid: 'META' },
    });
    await withClient(h.dbs.metadata, (c) =>
      c.query(`INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('META', 'POSTGRES', $1, $2)`, [
        conurlFor(h.dbs.metadata),
        PG_PASSWORD_ENV,
      ]),
    );
    // Long slices: a range commits batch after batch inside one activity.
    const worker = await h.startWorker({ env: { DMS_ACTIVITY_SLICE_MS: '20000', DMS_BATCHES_PER_EXECUTION: '1000' } });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-SHARED',
      args: [{ mapref: 'SHARED' }],
    });
    const committed = async () =>
      withClient(h.dbs.metadata, async (c) => {
        if (!(await c.query(`SELECT to_regclass('public.dms_chkpnt') AS t`)).rows[0].t) return 0;
        return Number(
          (await c.query(`SELECT coalesce(sum(batchcnt), 0) AS n FROM dms_chkpnt WHERE mapref LIKE 'SHARED#p%'`))
            .rows[0].n,
        );
      });
    await waitUntil('the ranges loading', async () => (await committed()) >= 3, 60_000, 20);
    await withClient(h.dbs.metadata, async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT 1 FROM dms_prclog WHERE mapref = 'SHARED' AND status = 'IP' FOR UPDATE`);
      const before = await committed();
      await new Promise((r) => setTimeout(r, 1500));
      // Batches went on committing while the run's row was locked: none waits for it.
      expect(await committed()).toBeGreaterThan(before + 3);
      await c.query('COMMIT');
    });
    await handle.result();
    expect(await tableDigest(h.dbs.metadata, 'sales_meta', 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    await worker.kill();
  });
});

describe('signals', () => {
  it('passes pause and resume on to the ranges, and refuses resetCheckpoint', async () => {
    await createFactTarget(h.dbs.target, 'sales_pause');
    await registerMapping(h.dbs, {
      mapref: 'PAUSE',
      batchSize: 500,
      trgtbnm: 'SALES_PAUSE',
      columns: { partitions: 2 },
    });
    const worker = await h.startWorker();
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-PAUSE',
      args: [{ mapref: 'PAUSE' }],
    });
    await handle.signal('pause');
    // The run and both its ranges say so in the Web UI.
    await waitUntil(
      'the run and both ranges paused',
      async () => (await executions(`DmsMapref = 'PAUSE' AND DmsStatus = 'PAUSED'`)) === 3,
    );
    const paused = await rangeRows('PAUSE');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rangeRows('PAUSE')).toEqual(paused);
    expect(paused.every((r) => JSON.parse(r.lastrow).done === false)).toBe(true);
    const progress = await handle.query<{ paused?: boolean; partitions?: { k: number; workflowId: string }[] }>(
      'progress',
    );
    expect(progress.paused).toBe(true);
    expect(progress.partitions?.map((r) => r.workflowId)).toEqual(['dms-PAUSE-p1', 'dms-PAUSE-p2']);

    await handle.signal('resetCheckpoint', { to: '300' });
    const reset = await promisify(execFile)(process.execPath, [DMS, 'checkpoint', 'reset', 'PAUSE', '--to', '300'], {
      env: { ...process.env, ...h.workerEnv },
    }).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(reset).toMatch(
      /^dms: Mapping PAUSE: PARTITIONS is 2: the mapping loads in key ranges, each with its own checkpoint, so there is no one checkpoint to move\. Fix: load from the start/,
    );

    await handle.signal('resume');
    await handle.result();
    await expectExact('sales', 'sales_pause', 'sale_id');
    expect(h.workerOutput()).toContain(
      'Signal resetCheckpoint refused: mapping PAUSE loads in key ranges (PARTITIONS > 1)',
    );
    await worker.kill();
  });
});

describe('load modes in ranges', () => {
  it('TRUNCATE empties the target once, before the ranges load', async () => {
    await createFactTarget(h.dbs.target, 'sales_trunc');
    await withClient(h.dbs.target, (c) =>
      c.query(`INSERT INTO sales_trunc (sale_id, store_id) SELECT g, 1 FROM generate_series(1, 500) g`),
    );
    await registerMapping(h.dbs, {
      mapref: 'TRUNC',
      batchSize: 2000,
      trgtbnm: 'SALES_TRUNC',
      columns: { partitions: 2, loadmode: 'TRUNCATE' },
    });
    const worker = await h.startWorker();
    for (const n of [1, 2]) {
      const handle = await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: `dms-TRUNC-${n}`,
        args: [{ mapref: 'TRUNC' }],
      });
      await handle.result();
      await expectExact('sales', 'sales_trunc', 'sale_id');
    }
    await worker.kill();
  });

  it("INCREMENTAL goes on after the last range's last key, and splits only the new rows", async () => {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE inc_src (id bigint PRIMARY KEY, v text)`);
      await c.query(`INSERT INTO inc_src SELECT g, 'v' || g FROM generate_series(1, 9000) g`);
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE inc_src (id bigint, v text)`));
    await registerMapping(h.dbs, {
      mapref: 'INC',
      batchSize: 700,
      srcquery: 'SELECT * FROM inc_src',
      trgtbnm: 'INC_SRC',
      chkpntcolumn: 'ID',
      columns: { partitions: 3, loadmode: 'INCREMENTAL' },
    });
    // The first run's end loses the target once: its high-water mark must still be written.
    const worker = await h.startWorker({ faults: [{ point: 'beforeRelease', batch: 0, attempt: 1, action: 'fail' }] });
    await (
      await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-INC-1',
        args: [{ mapref: 'INC' }],
      })
    ).result();
    expect(worker.output()).toContain('fault: fail at beforeRelease');
    await expectExact('inc_src', 'inc_src', 'id');
    await withClient(h.dbs.source, (c) =>
      c.query(`INSERT INTO inc_src SELECT g, 'v' || g FROM generate_series(9001, 12000) g`),
    );
    await worker.kill();
    const clean = await h.startWorker();
    await (
      await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-INC-2',
        args: [{ mapref: 'INC' }],
      })
    ).result();
    // No row twice (the target has no key), none missing.
    await expectExact('inc_src', 'inc_src', 'id');
    const [, second] = await runs(h.dbs.metadata, 'INC');
    expect(second).toMatchObject({ status: 'PC', param1: 'COMPLETED', trgrows: 3000 });
    const ranges = (await rangesOf(second.prcid)).slice(1);
    expect(ranges[0].afterkey).toBe('9000');
    expect(ranges.reduce((n, r) => n + r.trgrows, 0)).toBe(3000);
    await clean.kill();
  });

  it("loads NULL-key rows once, in the run's own first batch, before the ranges (CHKPNTNULLS = 'FIRST')", async () => {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE nul_src (id bigint, v text NOT NULL)`);
      await c.query(
        `INSERT INTO nul_src SELECT CASE WHEN g % 25 = 0 THEN NULL ELSE g END, 'v' || g FROM generate_series(1, 5000) g`,
      );
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE nul_src (id bigint, v text NOT NULL)`));
    await registerMapping(h.dbs, {
      mapref: 'NULS',
      batchSize: 400,
      srcquery: 'SELECT * FROM nul_src',
      trgtbnm: 'NUL_SRC',
      chkpntcolumn: 'ID',
      columns: { partitions: 2, chkpntnulls: 'FIRST' },
    });
    const worker = await h.startWorker();
    await (
      await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-NULS',
        args: [{ mapref: 'NULS' }],
      })
    ).result();
    await expectExact('nul_src', 'nul_src', 'v');
    const [run] = await runs(h.dbs.metadata, 'NULS');
    expect((await rangesOf(run.prcid))[0]).toMatchObject({ partno: 0, trgrows: 200, batchcnt: 1 });
    await worker.kill();
  });

  it('fences the ranges of an earlier run that a new run does not take over', async () => {
    await createFactTarget(h.dbs.target, 'sales_fewer');
    await registerMapping(h.dbs, {
      mapref: 'FEWER',
      batchSize: 3000,
      trgtbnm: 'SALES_FEWER',
      columns: { partitions: 4, loadmode: 'TRUNCATE' },
    });
    const worker = await h.startWorker();
    const env = { env: { ...process.env, ...h.workerEnv } };
    for (const [n, partitions] of [
      [1, 4],
      [2, 2],
      [3, 1],
    ]) {
      if (n > 1) {
        await withClient(h.dbs.metadata, (c) =>
          c.query(`UPDATE dms_mapr SET partitions = $1 WHERE mapref = 'FEWER'`, [partitions]),
        );
        await promisify(execFile)(process.execPath, [DMS, 'job', 'sync', 'FEWER'], env);
      }
      await (
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: `dms-FEWER-${n}`,
          args: [{ mapref: 'FEWER' }],
        })
      ).result();
      await expectExact('sales', 'sales_fewer', 'sale_id');
      // No range row is left to the first run: an attempt of it still in flight writes nothing.
      // A row the latest run does not load was moved on and marked complete.
      const all = await runs(h.dbs.metadata, 'FEWER');
      const rows = await withClient(
        h.dbs.target,
        async (c) =>
          (await c.query(`SELECT mapref, prcid, lastrow FROM dms_chkpnt WHERE mapref LIKE 'FEWER#p%' ORDER BY mapref`))
            .rows,
      );
      expect(rows).toHaveLength(4);
      if (n > 1) expect(rows.filter((r) => Number(r.prcid) === all[0].prcid)).toEqual([]);
      expect(rows.filter((r) => Number(r.prcid) !== all[all.length - 1].prcid && !JSON.parse(r.lastrow).done)).toEqual(
        [],
      );
    }
    await worker.kill();
  });

  it('UPSERT merges every range into the rows the target already has', async () => {
    await createFactTarget(h.dbs.target, 'sales_merge', { primaryKey: true });
    // Stale versions of a third of the rows, and none of the rest.
    await withClient(h.dbs.target, (c) =>
      c.query(
        `INSERT INTO sales_merge (sale_id, store_id, note) SELECT g * 3, -1, 'stale' FROM generate_series(1, 30000, 3) g`,
      ),
    );
    await registerMapping(h.dbs, {
      mapref: 'MERGE',
      batchSize: 2000,
      trgtbnm: 'SALES_MERGE',
      columns: { partitions: 4, loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    // A worker that runs 2 batches at a time: 4 ranges take turns on it.
    const narrow = await h.startWorker({ env: { DMS_MAX_CONCURRENT_BATCHES: '2' } });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MERGE',
      args: [{ mapref: 'MERGE' }],
    });
    await handle.result();
    await expectExact('sales', 'sales_merge', 'sale_id');
    await narrow.kill();
  });
});
