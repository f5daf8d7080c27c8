// `dms checkpoint show|reset` and the earlier implementation's clear-checkpoint runbook, end to
// end: real dev server, real worker, real PostgreSQL; targets without a key where a load
// could double rows.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';
import type { WorkerProcess } from '../support/worker-process';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 20_000;

let h: Harness;
let worker: WorkerProcess;

async function dms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

/** Starts a run, and cancels it while batch 6 is in flight: it ends 'CN' at batch 5 (key 15000). */
async function cancelledAtBatch5(mapref: string): Promise<void> {
  const handle = await start(mapref);
  await worker.waitFor(new RegExp(`fault: stall start at beforeCommit of batch 6 attempt \\d+`), 30_000);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  expect(await runs(h.dbs.metadata, mapref)).toMatchObject([{ status: 'CN', param1: '15000', batchcnt: 5 }]);
}

async function expectExact(table: string) {
  expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(
    await tableDigest(h.dbs.source, 'sales', 'sale_id'),
  );
}

beforeAll(async () => {
  h = await openHarness('ckpt');
  await createFactSource(h.dbs.source, ROWS);
});

beforeEach(async () => {
  // Every run's batch 6 waits 1.5 s before its commit, so that a cancel can land in it. A
  // worker a test: each test waits for its own worker's fault line.
  worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'stall', ms: 1500 }] });
});

afterEach(async () => {
  await worker.kill();
});

afterAll(async () => {
  await h?.close();
});

describe('dms checkpoint', () => {
  it('shows where a stopped load stands and what comes next, and moves it back while stopped (APPEND)', async () => {
    await createFactTarget(h.dbs.target, 't_ckapp');
    await registerMapping(h.dbs, { mapref: 'CKAPP', batchSize: 1000, trgtbnm: 'T_CKAPP' });
    await cancelledAtBatch5('CKAPP');
    const [cancelled] = await runs(h.dbs.metadata, 'CKAPP');
    const shown = (await dms('checkpoint', 'show', 'CKAPP')).stdout;
    expect(shown).toContain(
      `Mapping CKAPP: checkpoint '15000' over sale_id, after 5 batches and 5,000 rows; owned by run ${cancelled.prcid} (CN), epoch 2`,
    );
    expect(shown).toContain(`the next run resumes run ${cancelled.prcid} after '15000'`);

    const bad = await dms('checkpoint', 'reset', 'CKAPP', '--to', 'abc');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^dms: Mapping CKAPP: --to got 'abc', which is not a value of the key \(sale_id\): .*Fix: give the key as DMS_PRCLOG.PARAM1 shows it/,
    );

    // A checkpoint selects its own row: a key no source row has is refused before it is written.
    const absent = await dms('checkpoint', 'reset', 'CKAPP', '--to', '-5');
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(
      /^dms: Mapping CKAPP: --to got '-5', which is the key of no source row \(sale_id\): a checkpoint must select its own row.*Fix: give the key as DMS_PRCLOG.PARAM1 shows it/,
    );
    expect((await dms('checkpoint', 'show', 'CKAPP')).stdout).toContain(
      `the next run resumes run ${cancelled.prcid} after '15000'`,
    );

    const reset = await dms('checkpoint', 'reset', 'CKAPP', '--to', '9000');
    expect(reset.stdout).toMatch(
      /^Mapping CKAPP: checkpoint reset to '9000', recorded as run \d+ \('CN'\) in DMS_PRCLOG$/m,
    );
    expect(reset.stdout).toContain(
      "the load goes on after '9000': rows the target already holds there will be in it twice unless you delete them first",
    );
    // As the message says: the rows after the key go first.
    await withClient(h.dbs.target, (c) => c.query('DELETE FROM t_ckapp WHERE sale_id > 9000'));
    expect((await dms('checkpoint', 'show', 'CKAPP')).stdout).toMatch(/the next run resumes run \d+ after '9000'/);
    // The counts go on counting what the load moved, reloads included: 5,000 then 17,000.
    expect(await (await start('CKAPP')).result()).toMatchObject({ rows: 5000 + (ROWS - 3000) });
    await expectExact('t_ckapp');
    const log = await runs(h.dbs.metadata, 'CKAPP');
    expect(log.map((r) => r.status)).toEqual(['CN', 'CN', 'PC']);
    expect(log[1]).toMatchObject({
      param1: '9000',
      lasterr: "checkpoint reset to '9000' with dms checkpoint reset: the next run resumes after it",
    });
    expect(log[2].resumedfrom).toBe(String(log[1].prcid));
    expect((await dms('checkpoint', 'show', 'CKAPP')).stdout).toContain('the next run starts from the beginning');
  });

  it('resets a completed TRUNCATE load to the start: the next run truncates again', async () => {
    await createFactTarget(h.dbs.target, 't_cktrunc');
    await registerMapping(h.dbs, {
      mapref: 'CKTRUNC',
      batchSize: 5000,
      trgtbnm: 'T_CKTRUNC',
      columns: { loadmode: 'TRUNCATE' },
    });
    await (await start('CKTRUNC')).result();
    // A row the source does not have: only a truncate removes it.
    await withClient(h.dbs.target, (c) => c.query(`INSERT INTO t_cktrunc (sale_id, store_id) VALUES (-1, 0)`));
    const reset = await dms('checkpoint', 'reset', 'CKTRUNC');
    expect(reset.stdout).toContain('the next run starts fresh: it truncates the target and loads every row');
    expect((await dms('checkpoint', 'show', 'CKTRUNC')).stdout).toMatch(
      /the next run loads from the start, as a fresh start \(PARAM1 of run \d+ was cleared\): it truncates the target first/,
    );
    await (await start('CKTRUNC')).result();
    await expectExact('t_cktrunc');
    expect(h.workerOutput()).toMatch(
      /Mapping CKTRUNC: the checkpoint of run \d+ was cleared \(DMS_PRCLOG.PARAM1 set to NULL\); loading from the start, as a fresh start/,
    );
  });

  it('moves a running load by signal (UPSERT: idempotent)', async () => {
    await createFactTarget(h.dbs.target, 't_cksig', { primaryKey: true });
    await registerMapping(h.dbs, {
      mapref: 'CKSIG',
      batchSize: 1000,
      trgtbnm: 'T_CKSIG',
      columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    // The reset must land while the run loads: `dms checkpoint reset` takes a few seconds on a
    // busy machine (a node process, the mapping planned), longer than the other tests' 1.5 s
    // stall, after which the rest of the load ends at once. This run's batch 6 waits 6 s (the
    // heartbeat timeout is 10 s).
    await worker.kill();
    worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'stall', ms: 6000 }] });
    const handle = await start('CKSIG');
    await worker.waitFor(/fault: stall start at beforeCommit of batch 6 attempt \d+/, 30_000);
    const [active] = await runs(h.dbs.metadata, 'CKSIG');
    const reset = await dms('checkpoint', 'reset', 'CKSIG', '--to', '3000');
    expect(reset.stderr).toBe('');
    expect(reset.stdout).toContain(
      `sent resetCheckpoint to workflow dms-CKSIG (run ${active.prcid}): it moves the checkpoint to '3000' between two batch activities`,
    );
    expect(reset.stdout).toContain(
      "the load merges the rows after '3000' again: idempotent, reloaded rows replace themselves",
    );
    const result = await handle.result();
    expect(result.batches).toBeGreaterThan(ROWS / 1000);
    await expectExact('t_cksig');
    expect(h.workerOutput()).toContain('Checkpoint reset to 3000 by signal resetCheckpoint');
  });
});

describe("the earlier implementation's clear-checkpoint runbook", () => {
  it('reloads from the start after PARAM1 is set to NULL on the unfinished run', async () => {
    await createFactTarget(h.dbs.target, 't_cksql');
    await registerMapping(h.dbs, {
      mapref: 'CKSQL',
      batchSize: 1000,
      trgtbnm: 'T_CKSQL',
      columns: { loadmode: 'TRUNCATE' },
    });
    await cancelledAtBatch5('CKSQL');
    // A row the cancelled run loaded changes at the source: only a reload from the start sees it.
    await withClient(h.dbs.source, (c) => c.query(`UPDATE sales SET note = 'changed' WHERE sale_id = 3`));
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `UPDATE dms_prclog SET param1 = NULL WHERE mapref = 'CKSQL' AND sessionid = 'dms-CKSQL' AND status = 'CN'`,
      ),
    );
    expect(await (await start('CKSQL')).result()).toMatchObject({ rows: ROWS, batches: ROWS / 1000 });
    await expectExact('t_cksql');
    expect(h.workerOutput()).toMatch(
      /Mapping CKSQL: the checkpoint of run \d+ was cleared \(DMS_PRCLOG.PARAM1 set to NULL\); loading from the start/,
    );
    await withClient(h.dbs.source, (c) =>
      c.query(`UPDATE sales SET note = 'note 1' || E'\\twith\\ttabs\\\\ and \\n newline é' WHERE sale_id = 3`),
    );
  });

  it('stops a resume at a checkpoint that does not select its own row, before a row moves', async () => {
    // A checkpoint no batch of this version proved, as an earlier version might have written
    // it: '15000.0' for a numeric key the worker reads as '15000'. Bound back, it selects the
    // row the worker reads otherwise: the read opening at it refuses it, never retried.
    await createFactTarget(h.dbs.target, 't_ckold');
    const srcquery = 'SELECT sale_id::numeric AS sale_id, store_id, amount, sold_at, note FROM sales';
    await registerMapping(h.dbs, { mapref: 'CKOLD', batchSize: 1000, trgtbnm: 'T_CKOLD', srcquery });
    await cancelledAtBatch5('CKOLD');
    await withClient(h.dbs.target, (c) => c.query(`UPDATE dms_chkpnt SET chkpnt = '15000.0' WHERE mapref = 'CKOLD'`));
    await withClient(h.dbs.metadata, (c) =>
      c.query(`UPDATE dms_prclog SET param1 = '15000.0' WHERE mapref = 'CKOLD' AND status = 'CN'`),
    );
    expect(await failureOf(await start('CKOLD'))).toMatch(
      /^Mapping CKOLD: CHKPNTCOLUMN sale_id \(numeric\): batch 6 opened at key 15000.0, which, bound back into the source's comparison the way the read binds it, selects 1 row\(s\) whose key the worker reads as 15000: .* The batch was rolled back: none of its rows was loaded and the checkpoint did not move/,
    );
    expect((await tableDigest(h.dbs.target, 't_ckold', 'sale_id')).count).toBe(5000);
    // Moved to the key as the worker reads it, the load resumes and ends exact.
    expect((await dms('checkpoint', 'reset', 'CKOLD', '--to', '15000.0')).stdout).toMatch(
      /^Mapping CKOLD: checkpoint reset to '15000', recorded as run/m,
    );
    await (await start('CKOLD')).result();
    await expectExact('t_ckold');
  });

  it('refuses PARAM1 set by hand to another key, naming dms checkpoint reset, and moves no row', async () => {
    await createFactTarget(h.dbs.target, 't_cksql2');
    await registerMapping(h.dbs, { mapref: 'CKSQL2', batchSize: 1000, trgtbnm: 'T_CKSQL2' });
    await cancelledAtBatch5('CKSQL2');
    const [cancelled] = await runs(h.dbs.metadata, 'CKSQL2');
    await withClient(h.dbs.metadata, (c) =>
      c.query(`UPDATE dms_prclog SET param1 = '999' WHERE mapref = 'CKSQL2' AND status = 'CN'`),
    );
    expect(await failureOf(await start('CKSQL2'))).toBe(
      `Mapping CKSQL2: DMS_PRCLOG.PARAM1 of run ${cancelled.prcid} was set by hand to '999', but a resume goes on from the checkpoint in "public".dms_chkpnt, '15000', which PARAM1 only mirrors. ` +
        `Fix: to resume after '999', run \`dms checkpoint reset CKSQL2 --to '999'\`; to load from the start, set PARAM1 to NULL or run \`dms checkpoint reset CKSQL2\`; to resume where the load stopped, set PARAM1 back to '15000'`,
    );
    expect((await tableDigest(h.dbs.target, 't_cksql2', 'sale_id')).count).toBe(5000);
    // Resuming where it stopped, as the fix says.
    expect((await dms('checkpoint', 'reset', 'CKSQL2', '--to', '15000')).code).toBe(0);
    await (await start('CKSQL2')).result();
    await expectExact('t_cksql2');
  });
});
