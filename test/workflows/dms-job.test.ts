// The dmsJob workflow on a real Temporal dev server and an in-process worker whose activities
// are stand-ins: no database. What the workflow decides (the order of its activities, the state
// it hands from one to the next, continue-as-new, pause, resume, a checkpoint reset, a failure,
// a cancel, and how each run ends) is asserted from the calls the activities received and from
// the workflow's result, query and history. The activities' own work is the e2e tests'.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  BatchInput,
  BatchResult,
  BatchState,
  DmsActivities,
  FinishInput,
  PrepareInput,
  ResetInput,
  RunPlan,
  RunSettings,
} from '../../activities';
import { innermostMessage } from '../../common/errors';
import { freePort, startDevServer, type DevServer } from '../../scripts/temporal-dev';
import { pauseSignal, progressQuery, resetCheckpointSignal, resumeSignal } from '../../workflows/handlers';
import type { dmsJob } from '../../workflows';
import { waitUntil } from '../support/wait';

const TASK_QUEUE = 'dms-workflow-tests';
const ROWS_PER_BATCH = 10;

const settings = (batchesPerExecution: number): RunSettings => ({
  batchesPerExecution,
  sliceMs: 1000,
  batchTimeoutMs: 30_000,
  heartbeatTimeoutMs: 5_000,
  retry: { initialIntervalMs: 100, maximumIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 1 },
});

/** One mapping's stand-in: how many batches its source holds, and what its activities were asked. */
interface Scenario {
  batches: number;
  batchesPerExecution: number;
  /** runBatch of this batch number (1-based) waits until release() (and heartbeats, so a cancel reaches it). */
  holdAt?: number;
  /** runBatch of this batch number fails so. */
  failAt?: { batch: number; error: Error };
  /** What the pre-flight warns of. */
  warnings?: string[];
  calls: { name: string; input: unknown }[];
  held?: Promise<void>;
  release?: () => void;
}

const scenarios = new Map<string, Scenario>();

function scenario(mapref: string, s: Omit<Scenario, 'calls'>): Scenario {
  const full: Scenario = { ...s, calls: [] };
  if (s.holdAt !== undefined) full.held = new Promise((resolve) => (full.release = resolve));
  scenarios.set(mapref, full);
  return full;
}

/** One committed batch after `state`: ten rows, the checkpoint its count (a KEY run's last key). */
function after(state: BatchState): BatchState {
  return { checkpoint: String(state.batches + 1), batches: state.batches + 1, rows: state.rows + ROWS_PER_BATCH };
}

async function heldUntilReleased(s: Scenario): Promise<void> {
  const ctx = Context.current();
  let released = false;
  void s.held!.then(() => (released = true));
  while (!released) {
    ctx.heartbeat();
    await Promise.race([s.held, ctx.cancelled, new Promise((r) => setTimeout(r, 200))]);
  }
}

const activities: DmsActivities = {
  async startRun(input) {
    const s = scenarios.get(input.mapref)!;
    s.calls.push({ name: 'startRun', input });
    return { prcid: 7, jobid: 3, resumesRun: null, abandonedRun: null, settings: settings(s.batchesPerExecution) };
  },
  async prepareRun(input: PrepareInput): Promise<RunPlan> {
    const s = scenarios.get(input.mapref)!;
    s.calls.push({ name: 'prepareRun', input });
    const start: BatchState = { checkpoint: null, batches: 0, rows: 0 };
    const first = after(start);
    const firstSlice: BatchResult = {
      state: first,
      rowsInBatch: ROWS_PER_BATCH,
      done: first.batches >= s.batches,
      alreadyCommitted: false,
      tieRun: 0,
    };
    return {
      epoch: 2,
      strategy: 'KEY',
      state: start,
      keySummary: 'key id (unique)',
      nullRows: 0,
      mirroredInBatch: false,
      incrementalFrom: null,
      warnings: s.warnings ?? [],
      firstSlice,
    };
  },
  async runBatch(input: BatchInput): Promise<BatchResult> {
    const s = scenarios.get(input.mapref)!;
    s.calls.push({ name: 'runBatch', input });
    const batch = input.expected.batches + 1;
    if (s.holdAt === batch) await heldUntilReleased(s);
    if (s.failAt?.batch === batch) throw s.failAt.error;
    const state = after(input.expected);
    return { state, rowsInBatch: ROWS_PER_BATCH, done: state.batches >= s.batches, alreadyCommitted: false, tieRun: 0 };
  },
  async resetCheckpoint(input: ResetInput): Promise<BatchState> {
    scenarios.get(input.mapref)!.calls.push({ name: 'resetCheckpoint', input });
    const batches = input.to === null ? 0 : Number(input.to);
    return { checkpoint: input.to, batches, rows: batches * ROWS_PER_BATCH };
  },
  async finishRun(input: FinishInput): Promise<void> {
    scenarios.get(input.mapref)!.calls.push({ name: 'finishRun', input });
  },
};

const named = (s: Scenario, name: string) => s.calls.filter((c) => c.name === name).map((c) => c.input);

let dir: string;
let server: DevServer;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  // The worker's own log: errors only (a failing workflow is a case here, not news).
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  dir = mkdtempSync(path.join(os.tmpdir(), 'dms-workflow-tests-'));
  server = await startDevServer({
    port: await freePort(),
    headless: true,
    quiet: true,
    dbFilename: path.join(dir, 'dev.db'),
  });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    namespace: server.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle: { codePath: inject('workflowBundle') },
    activities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(mapref: string) {
  return client.workflow.start<typeof dmsJob>('dmsJob', {
    taskQueue: TASK_QUEUE,
    workflowId: `dms-${mapref}-${Date.now()}`,
    args: [{ mapref }],
  });
}

/** The activity types the current execution of a workflow scheduled, in order, from its history. */
async function scheduled(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] : [],
  );
}

describe('dmsJob with stand-in activities', () => {
  it('claims, prepares with the first batch, loops over batches handing each the state the last committed, and ends the run completed', async () => {
    const s = scenario('PLAIN', { batches: 4, batchesPerExecution: 100 });
    const handle = await start('PLAIN');
    expect(await handle.result()).toEqual({ mapref: 'PLAIN', prcid: 7, status: 'PC', rows: 40, batches: 4 });
    expect(s.calls.map((c) => c.name)).toEqual([
      'startRun',
      'prepareRun',
      'runBatch',
      'runBatch',
      'runBatch',
      'finishRun',
    ]);
    expect((named(s, 'prepareRun')[0] as PrepareInput).firstSlice).toEqual({ maxBatches: 100 });
    expect(named(s, 'runBatch').map((i) => (i as BatchInput).expected.batches)).toEqual([1, 2, 3]);
    expect(named(s, 'runBatch').every((i) => (i as BatchInput).epoch === 2 && (i as BatchInput).prcid === 7)).toBe(
      true,
    );
    expect(named(s, 'finishRun')).toEqual([
      {
        mapref: 'PLAIN',
        prcid: 7,
        epoch: 2,
        status: 'PC',
        error: null,
        state: { checkpoint: '4', batches: 4, rows: 40 },
      },
    ]);
  });

  it('continues as new after BATCHESPEREXECUTION batches, carrying the run: no second claim, the state handed on, each history bounded', async () => {
    const s = scenario('LONG', { batches: 7, batchesPerExecution: 2 });
    const handle = await start('LONG');
    expect(await handle.result()).toMatchObject({ status: 'PC', rows: 70, batches: 7 });
    expect(named(s, 'startRun')).toHaveLength(1);
    expect(named(s, 'prepareRun')).toHaveLength(1);
    expect(named(s, 'runBatch').map((i) => (i as BatchInput).expected.batches)).toEqual([1, 2, 3, 4, 5, 6]);
    // Each execution asks for at most what is left of its budget.
    expect(named(s, 'runBatch').map((i) => (i as BatchInput).maxBatches)).toEqual([1, 2, 1, 2, 1, 2]);
    const last = await handle.describe();
    expect(last.runId).not.toBe(handle.firstExecutionRunId);
    expect((await scheduled(handle.workflowId)).length).toBeLessThanOrEqual(3);
  });

  it('pauses between two batches, schedules nothing while paused, and goes on from the checkpoint on resume', async () => {
    const warning = 'Mapping PAUSED: the source database cannot read SRCQUERY in key order (id) from an index';
    const s = scenario('PAUSED', { batches: 3, batchesPerExecution: 100, holdAt: 2, warnings: [warning] });
    const handle = await start('PAUSED');
    await waitUntil('batch 2 to be asked for', async () => named(s, 'runBatch').length === 1);
    await handle.signal(pauseSignal);
    s.release!();
    const paused = await waitUntil('the run to pause after batch 2', async () => {
      const p = await handle.query(progressQuery);
      return p.paused && p.batches === 2 ? p : undefined;
    });
    expect(paused.checkpoint).toBe('2');
    // The pre-flight's warnings travel in the progress, for `dms run --wait` to say with no database of its own.
    expect(paused.warnings).toEqual([warning]);
    // Paused: the history holds no batch activity after the one that was running.
    expect(await scheduled(handle.workflowId)).toEqual(['startRun', 'prepareRun', 'runBatch']);
    await handle.signal(resumeSignal);
    expect(await handle.result()).toMatchObject({ status: 'PC', rows: 30, batches: 3 });
    expect(named(s, 'runBatch').map((i) => (i as BatchInput).expected.batches)).toEqual([1, 2]);
  });

  it('applies a resetCheckpoint signal between two batches, and goes on from the state the reset returned', async () => {
    const s = scenario('RESET', { batches: 3, batchesPerExecution: 100, holdAt: 2 });
    const handle = await start('RESET');
    await waitUntil('batch 2 to be asked for', async () => named(s, 'runBatch').length === 1);
    await handle.signal(resetCheckpointSignal, { to: '1' });
    s.release!();
    expect(await handle.result()).toMatchObject({ status: 'PC', rows: 30, batches: 3 });
    expect(s.calls.map((c) => c.name)).toEqual([
      'startRun',
      'prepareRun',
      'runBatch',
      'resetCheckpoint',
      'runBatch',
      'runBatch',
      'finishRun',
    ]);
    expect(named(s, 'resetCheckpoint')[0]).toEqual({ mapref: 'RESET', prcid: 7, epoch: 2, jobid: 3, to: '1' });
    // Batch 2 committed, then the reset moved the run back to batch 1: it loads 2 and 3 again.
    expect(named(s, 'runBatch').map((i) => (i as BatchInput).expected.batches)).toEqual([1, 1, 2]);
  });

  it('ignores a resetCheckpoint signal with a misspelt key, moving nothing', async () => {
    const s = scenario('MISSPELT', { batches: 3, batchesPerExecution: 100, holdAt: 2 });
    const handle = await start('MISSPELT');
    await waitUntil('batch 2 to be asked for', async () => named(s, 'runBatch').length === 1);
    await handle.signal(resetCheckpointSignal, { too: '1' } as never);
    s.release!();
    expect(await handle.result()).toMatchObject({ status: 'PC', rows: 30, batches: 3 });
    expect(named(s, 'resetCheckpoint')).toEqual([]);
  });

  it('ends the run failed with the error a batch failed with, and fails the workflow with it', async () => {
    const s = scenario('FAILS', {
      batches: 5,
      batchesPerExecution: 100,
      failAt: {
        batch: 3,
        error: ApplicationFailure.nonRetryable('value too long for column note [SQLSTATE 22001]', 'DataError'),
      },
    });
    const handle = await start('FAILS');
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(innermostMessage(failure)).toMatch(/value too long for column note/);
    const [finish] = named(s, 'finishRun') as FinishInput[];
    expect(finish).toMatchObject({ status: 'FL', state: { checkpoint: '2', batches: 2, rows: 20 } });
    expect(finish.error).toMatch(/value too long for column note/);
  });

  it('ends the run cancelled when the workflow is cancelled during a batch, after the batch stopped', async () => {
    const s = scenario('CANCELLED', { batches: 5, batchesPerExecution: 100, holdAt: 2 });
    const handle = await start('CANCELLED');
    await waitUntil('batch 2 to be asked for', async () => named(s, 'runBatch').length === 1);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect(named(s, 'finishRun')).toEqual([
      {
        mapref: 'CANCELLED',
        prcid: 7,
        epoch: 2,
        status: 'CN',
        error: 'cancelled',
        state: { checkpoint: '1', batches: 1, rows: 10 },
      },
    ]);
    expect(named(s, 'runBatch')).toHaveLength(1);
  });

  it('refuses an input with a misspelt key before claiming anything, naming the key and the one it resembles', async () => {
    scenario('TYPO', { batches: 1, batchesPerExecution: 100 });
    const handle = await client.workflow.start('dmsJob', {
      taskQueue: TASK_QUEUE,
      workflowId: `dms-TYPO-${Date.now()}`,
      args: [{ mapref: 'TYPO', fromstart: true }],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => innermostMessage(err),
    );
    expect(failure).toMatch(/fromstart/);
    expect(failure).toMatch(/fromStart/);
    expect(scenarios.get('TYPO')!.calls).toEqual([]);
  });
});
