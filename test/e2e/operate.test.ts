// Operating a load with the Temporal CLI as a user does: terminate it mid-run and start it
// again, or reset it (what the Web UI's Reset button does) mid-load. Real dev server, real
// worker process, real PostgreSQL; every scenario ends in an exact compare of the target
// with the source (count plus md5 over every column of every row).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalCli } from '../../scripts/temporal-dev';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';

const exec = promisify(execFile);
const ROWS = 200_000;
const BATCH = 1000;

let h: Harness;
let cli: string;

beforeAll(async () => {
  h = await openHarness('operate');
  cli = temporalCli();
  await createFactSource(h.dbs.source, ROWS);
});

afterAll(async () => {
  await h?.close();
});

/** `temporal workflow <args>` against this file's dev server. */
function temporal(...args: string[]) {
  return exec(cli, ['workflow', ...args, '--address', h.server.address, '--namespace', h.server.namespace], {
    timeout: 30_000,
  });
}

/** A fresh target table and KEY mapping (200,000 rows, 1,000 a batch) named after the scenario. */
async function scenario(mapref: string) {
  const table = `t_${mapref.toLowerCase()}`;
  const workflowId = `dms-${mapref}`;
  await createFactTarget(h.dbs.target, table);
  await registerMapping(h.dbs, { mapref, batchSize: BATCH, trgtbnm: table.toUpperCase() });
  return {
    workflowId,
    start: () => h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId, args: [{ mapref }] }),
    async expectExact() {
      const source = await tableDigest(h.dbs.source, 'sales', 'sale_id');
      const target = await tableDigest(h.dbs.target, table, 'sale_id');
      expect(target.count).toBe(source.count);
      expect(target.md5).toBe(source.md5);
      const dupes = await withClient(
        h.dbs.target,
        async (c) => (await c.query(`SELECT count(*) - count(DISTINCT sale_id) AS n FROM ${table}`)).rows[0].n,
      );
      expect(Number(dupes)).toBe(0);
    },
  };
}

describe('operating a load with the Temporal CLI', () => {
  it('resumes exactly after `temporal workflow terminate` mid-batch', async () => {
    const s = await scenario('OPTERM');
    // Batch 5 holds its target transaction open for 3 s before committing: the terminate
    // lands while a batch is in flight.
    const worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 5, action: 'stall', ms: 3000 }] });
    const first = await s.start();
    await worker.waitFor(/fault: stall start at beforeCommit of batch 5/);
    await temporal('terminate', '--workflow-id', s.workflowId, '--reason', 'test: terminate mid-batch');
    const terminated = await first.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(terminated).toBeInstanceOf(WorkflowFailedError);
    expect(String((terminated as WorkflowFailedError).cause?.message)).toMatch(/terminate mid-batch/);

    // Nothing ran the workflow's end: DMS_PRCLOG still says the run is running.
    const [left] = await runs(h.dbs.metadata, 'OPTERM');
    expect(left).toMatchObject({ status: 'IP', wfid: s.workflowId });
    expect(left.trgrows).toBeLessThan(ROWS);

    // A new run of the mapping (same workflow id) takes the mapping over and resumes.
    const again = await s.start();
    const result = await again.result();
    expect(result).toMatchObject({ rows: ROWS, batches: ROWS / BATCH });
    await s.expectExact();
    const log = await runs(h.dbs.metadata, 'OPTERM');
    expect(log.map((r) => r.status)).toEqual(['FL', 'PC']);
    expect(log[0].lasterr).toBe(
      `abandoned: workflow ${s.workflowId} no longer runs; taken over by workflow ${s.workflowId}`,
    );
    expect(log[1]).toMatchObject({
      resumedfrom: String(log[0].prcid),
      param1: 'COMPLETED',
      trgrows: ROWS,
      batchcnt: ROWS / BATCH,
    });
    expect(worker.output()).toMatch(
      new RegExp(`Took over mapping OPTERM from run ${log[0].prcid}, whose workflow no longer runs`),
    );
    expect(worker.output()).toMatch(
      new RegExp(`Resuming from checkpoint \\d+ \\(run ${log[0].prcid}, \\d+ rows loaded\\)`),
    );
    expect((await checkpointRow(h.dbs.target, 'OPTERM'))!.trgrows).toBe(ROWS);
    await worker.kill();
  });

  for (const type of ['FirstWorkflowTask', 'LastWorkflowTask'] as const) {
    it(`finishes exactly, as one run, after \`temporal workflow reset --type ${type}\` mid-load`, async () => {
      const mapref = `OPRESET_${type === 'FirstWorkflowTask' ? 'FIRST' : 'LAST'}`;
      const s = await scenario(mapref);
      // Batch 5's first attempt waits 3 s before it locks anything: the reset lands while
      // it is in flight, and the reset run schedules batch 5 again beside it.
      const worker = await h.startWorker({
        faults: [{ point: 'beforeLock', batch: 5, attempt: 1, action: 'stall', ms: 3000 }],
      });
      const original = await s.start();
      await worker.waitFor(/fault: stall start at beforeLock of batch 5 attempt 1/);
      const { stdout } = await temporal(
        'reset',
        '--workflow-id',
        s.workflowId,
        '--type',
        type,
        '--reason',
        `test: reset to ${type} mid-load`,
      );
      expect(stdout).toContain(`Resetting workflow ${s.workflowId}`);
      // The reset made a new run of the workflow id, which is now its current run.
      const { runId: resetRunId } = await h.client.workflow.getHandle(s.workflowId).describe();
      expect(resetRunId).not.toBe(original.firstExecutionRunId);

      const result = await h.client.workflow.getHandle(s.workflowId, resetRunId).result();
      expect(result).toMatchObject({ rows: ROWS, batches: ROWS / BATCH });
      await s.expectExact();
      // The reset run carries on the run it replaced: one DMS_PRCLOG row, completed.
      const log = await runs(h.dbs.metadata, mapref);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({
        status: 'PC',
        param1: 'COMPLETED',
        trgrows: ROWS,
        batchcnt: ROWS / BATCH,
        wfid: s.workflowId,
      });
      expect(
        (await h.client.workflow.getHandle(s.workflowId, original.firstExecutionRunId).describe()).status.name,
      ).toBe('TERMINATED');
      await worker.kill();
    });
  }

  it('keeps each execution small: batches of 10 over 20,000 rows cross several continue-as-new boundaries and end exact', async () => {
    await createFactSource(h.dbs.source, 20_000, 'sales_20k');
    const table = 't_opcan';
    await createFactTarget(h.dbs.target, table);
    await registerMapping(h.dbs, {
      mapref: 'OPCAN',
      batchSize: 10,
      srcquery: 'SELECT * FROM sales_20k',
      trgtbnm: table.toUpperCase(),
    });
    // 500 batches an execution, each activity committing batches for at most half a second.
    const worker = await h.startWorker({ env: { DMS_BATCHES_PER_EXECUTION: '500', DMS_ACTIVITY_SLICE_MS: '500' } });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-OPCAN',
      args: [{ mapref: 'OPCAN' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ rows: 20_000, batches: 2_000 });

    const source = await tableDigest(h.dbs.source, 'sales_20k', 'sale_id');
    const target = await tableDigest(h.dbs.target, table, 'sale_id');
    expect(target).toEqual(source);
    const log = await runs(h.dbs.metadata, 'OPCAN');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'PC', param1: 'COMPLETED', trgrows: 20_000, batchcnt: 2_000 });

    // 2,000 batches at 500 an execution: at least 4 executions, each with a short history.
    const executions = [];
    for await (const e of h.client.workflow.list({ query: 'WorkflowId="dms-OPCAN"' })) executions.push(e);
    expect(executions.length).toBeGreaterThanOrEqual(4);
    expect(executions.filter((e) => e.status.name === 'CONTINUED_AS_NEW')).toHaveLength(executions.length - 1);
    for (const e of executions) {
      const history = await h.client.workflow.getHandle('dms-OPCAN', e.runId).fetchHistory();
      expect(history.events!.length).toBeLessThan(400);
    }
    await worker.kill();
  });

  it('moves a running load back with `temporal workflow signal --name resetCheckpoint`, refusing a value that is not a key', async () => {
    const table = 't_opsignal';
    await createFactTarget(h.dbs.target, table, { primaryKey: true });
    // UPSERT: reloading rows merges them, so the target stays exact after going back.
    await registerMapping(h.dbs, {
      mapref: 'OPSIGNAL',
      batchSize: BATCH,
      trgtbnm: table.toUpperCase(),
      columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    const worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 20, action: 'stall', ms: 3000 }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-OPSIGNAL',
      args: [{ mapref: 'OPSIGNAL' }],
    });
    await worker.waitFor(/fault: stall start at beforeCommit of batch 20/);
    await temporal('signal', '--workflow-id', 'dms-OPSIGNAL', '--name', 'resetCheckpoint', '--input', '{"to":"abc"}');
    // A misspelt key is no reset to the start.
    await temporal(
      'signal',
      '--workflow-id',
      'dms-OPSIGNAL',
      '--name',
      'resetCheckpoint',
      '--input',
      '{"too":"30000"}',
    );
    // sale_id 30000 ends batch 10 (keys are 3, 6, 9, ...): batches 11 onwards load again.
    await temporal('signal', '--workflow-id', 'dms-OPSIGNAL', '--name', 'resetCheckpoint', '--input', '{"to":"30000"}');
    const result = await handle.result();
    expect(result.batches).toBeGreaterThanOrEqual(ROWS / BATCH + 10);
    expect(result.rows).toBeGreaterThanOrEqual(ROWS + 10 * BATCH);

    const source = await tableDigest(h.dbs.source, 'sales', 'sale_id');
    expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(source);
    const [run] = await runs(h.dbs.metadata, 'OPSIGNAL');
    expect(run).toMatchObject({ status: 'PC', param1: 'COMPLETED' });
    const out = h.workerOutput();
    expect(out).toMatch(
      /Signal resetCheckpoint refused: Mapping OPSIGNAL: resetCheckpoint got "to": "abc", which is not a value of the key \(sale_id\)/,
    );
    expect(out).toContain('Checkpoint reset to 30000 by signal resetCheckpoint');
    expect(out).toContain(
      `Signal resetCheckpoint ignored: its input has unknown key 'too' (did you mean 'to'?); it takes {"to": "<key>"}, or {} for the start`,
    );
    expect(out).not.toContain('Checkpoint reset to (the start)');
    await worker.kill();
  });
});
