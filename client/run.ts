// `dms run`, `dms watch`, `dms cancel`, `dms pause` and `dms resume`: starting a mapping's
// workflow, following a running load with its progress until it ends (and saying so when no
// worker is there to run it), and the signals that steer it.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { CommandError, innermostMessage } from '../common/errors';
import type { Metadata } from '../metadata/repository';
import type { dmsJob, DmsJobInput, DmsJobResult } from '../workflows';
import { pauseSignal, progressQuery, resumeSignal, type Progress, type RangeProgress } from '../workflows/handlers';
import { runSummary } from '../workflows/details';
import { dmsSearchAttributes, WORKFLOW_TYPE, withMetadata, withTemporal, workflowIdFor } from './connections';
import { count, formatOf, type Format } from './output';
import { noWorkerLine } from './pollers';
import { estimateNote, formatSeconds, ProgressDisplay, withHeartbeat, withRanges } from './progress';
import { RunStatus } from '../common/run-status';

/** How often the progress is asked for. */
const POLL_MS = 1000;
/** How long a run may sit with nothing heard from a worker before the pollers are looked at. */
const QUIET_MS = 3000;

/**
 * A running load's progress: the workflow's `progress` query, moved on to what its batch
 * activity's last heartbeat reports as committed (the workflow hears of it only when the
 * activity hands back).
 */
async function liveProgress(client: Client, handle: WorkflowHandle): Promise<Progress> {
  const [progress, description] = await Promise.all([
    handle.query(progressQuery),
    handle.describe().catch(() => undefined),
  ]);
  // The first slice of a run is committed by its pre-flight activity (prepareRun).
  const pending = description?.raw.pendingActivities?.find(
    (a) => a.activityType?.name === 'runBatch' || a.activityType?.name === 'prepareRun',
  );
  const payloads = pending?.heartbeatDetails?.payloads ?? [];
  let beat: Parameters<typeof withHeartbeat>[1];
  try {
    beat = payloads.length ? client.options.loadedDataConverter.payloadConverter.fromPayload(payloads[0]) : undefined;
  } catch {
    beat = undefined; // details of another version: the query alone will do
  }
  const live = withHeartbeat(progress, beat, Date.now());
  return live.partitions
    ? withRanges(live, await Promise.all(live.partitions.map((r) => liveRange(client, r))), Date.now())
    : live;
}

/** A key range still loading, as its own workflow reports it (the run's figures otherwise). */
async function liveRange(client: Client, range: RangeProgress): Promise<RangeProgress> {
  if (range.status !== RunStatus.running) return range;
  const live = await liveProgress(client, client.workflow.getHandle(range.workflowId)).catch(() => undefined);
  return live && live.batches >= range.batches
    ? { ...range, checkpoint: live.checkpoint, rowsLoaded: live.rowsLoaded, batches: live.batches }
    : range;
}

interface WatchContext {
  mapref: string;
  workflowId: string;
  taskQueue: string;
  format: Format;
}

/** The last line of a run that completed: rows, batches, how long this run took and its rate. */
function completedLine(
  mapref: string,
  result: DmsJobResult,
  run: { strtdt: Date; enddt: Date | null; resumedfrom: number | null } | undefined,
  rowsAtStart: number,
): string {
  const seconds = run?.enddt ? Math.max(0.001, (run.enddt.getTime() - run.strtdt.getTime()) / 1000) : null;
  const loaded = result.rows - rowsAtStart;
  const timing =
    seconds === null
      ? ''
      : `, ${formatSeconds(Math.max(1, Math.round(seconds)))}, ${count(Math.round(loaded / seconds))} rows/s`;
  const resumed = run?.resumedfrom
    ? `; ${count(loaded)} of them by this run, which resumed run ${run.resumedfrom}`
    : '';
  return `${mapref}: completed run ${result.prcid}: ${count(result.rows)} rows in ${count(result.batches)} batches${timing}${resumed}`;
}

/**
 * Follows a run until it ends: its progress drawn on the terminal (or JSON lines), what it
 * resumes from, a line while no worker polls its task queue, and its last line. Ctrl-C stops
 * following and says how to come back; the load goes on.
 */
async function follow(client: Client, metadata: Metadata, handle: WorkflowHandle, ctx: WatchContext): Promise<void> {
  const { mapref, workflowId, format } = ctx;
  const out = format === 'text' ? process.stdout : process.stderr;
  const display = new ProgressDisplay(out);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let last: Progress | null = null;
  let lastHeard = Date.now();
  let waitingSaid = false;
  let told = false;
  let estimating = false;
  let warned = false;
  let lastLine = '';

  const onInterrupt = () => {
    stopped = true;
    clearTimeout(timer);
    display.clear();
    process.stderr.write(
      `\n${mapref}: stopped watching; the load goes on as workflow ${workflowId}. \`dms watch ${mapref}\` to follow it again, \`dms cancel ${mapref}\` to stop it\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);

  /** Once the run is known: what it goes on from (a resume, with its checkpoint), said once. */
  const tellStart = async (prcid: number | null, rowsAtStart: number | undefined) => {
    if (told || prcid === null) return;
    told = true;
    const run = await metadata.run(prcid).catch(() => undefined);
    if (run?.resumedfrom) {
      const from = await metadata.run(run.resumedfrom).catch(() => undefined);
      const at = from?.param1 && from.param1 !== 'COMPLETED' ? `checkpoint '${from.param1}'` : 'its checkpoint';
      display.note(
        `${mapref}: run ${prcid} resumes run ${run.resumedfrom} from ${at}, with ${count(rowsAtStart ?? from?.trgrows ?? 0)} rows already loaded`,
      );
    } else {
      display.note(`${mapref}: run ${prcid} loads from the start`);
    }
  };

  /** What the worker's pre-flight warned of (a key read without an index), said once. */
  const sayWarnings = (p: Progress | null) => {
    if (warned || !p?.warnings) return;
    warned = true;
    display.clear();
    for (const warning of p.warnings) process.stderr.write(`warning: ${warning}\n`);
  };

  /** The worker's estimate of the run's rows, from the source's statistics (the plan is the worker's), said once. */
  const sayEstimate = (p: Progress | null) => {
    if (estimating || p?.estimatedRows === undefined) return;
    estimating = true;
    display.note(estimateNote(mapref, { rows: p.estimatedRows }));
    display.setEstimate(p.estimatedRows);
  };

  const poll = async () => {
    const p = await client.connection
      .withDeadline(Date.now() + 5000, () => liveProgress(client, handle))
      .catch(() => null);
    if (stopped) return;
    if (p) {
      if (!last || p.rowsLoaded !== last.rowsLoaded || p.batches !== last.batches || p.prcid !== last.prcid)
        lastHeard = Date.now();
      last = p;
      if (waitingSaid) {
        display.note(`${mapref}: a worker has picked the run up`);
        waitingSaid = false;
      }
      void tellStart(p.prcid, p.rowsAtStart);
      sayWarnings(p);
      sayEstimate(p);
      if (format === 'jsonl') {
        const line = JSON.stringify(p);
        if (line !== lastLine) console.log(line);
        lastLine = line;
      }
    }
    // Nothing heard for a while: is any worker there to run it?
    if (!waitingSaid && Date.now() - lastHeard > QUIET_MS) {
      const line = await noWorkerLine(client, ctx.taskQueue, workflowId).catch(() => null);
      if (stopped) return;
      if (line) {
        display.note(`${mapref}: ${line}`);
        waitingSaid = true;
      }
      lastHeard = Date.now();
    }
    if (format !== 'jsonl') display.tick(p);
    timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();

  let result: DmsJobResult;
  try {
    result = (await handle.result()) as DmsJobResult;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      throw new CommandError(
        `${mapref}: the run was cancelled; its checkpoint is kept, and the next \`dms run ${mapref}\` resumes from it`,
      );
    }
    if (err instanceof WorkflowFailedError) throw new CommandError(`${mapref}: run failed: ${innermostMessage(err)}`);
    throw err;
  } finally {
    stopped = true;
    clearTimeout(timer);
    display.clear();
    process.removeListener('SIGINT', onInterrupt);
    // A run that ended before a poll heard what its pre-flight found: its query still answers.
    if (!warned || !estimating) {
      const p = await client.connection
        .withDeadline(Date.now() + 5000, () => handle.query(progressQuery))
        .catch(() => null);
      sayWarnings(p);
      sayEstimate(p);
    }
  }
  const rowsAtStart = (last as Progress | null)?.rowsAtStart ?? 0;
  await tellStart(result.prcid, rowsAtStart); // a run too short to have been seen running
  const run = await metadata.run(result.prcid).catch(() => undefined);
  if (format === 'text') {
    console.log(completedLine(mapref, result, run, rowsAtStart));
    return;
  }
  const seconds = run?.enddt ? (run.enddt.getTime() - run.strtdt.getTime()) / 1000 : null;
  const record = {
    ...result,
    seconds,
    rowsPerSecond: seconds ? Math.round((result.rows - rowsAtStart) / seconds) : null,
    resumedFrom: run?.resumedfrom ?? null,
  };
  console.log(format === 'json' ? JSON.stringify(record, null, 2) : JSON.stringify(record));
}

type RunOptions = { wait?: boolean; fromStart?: boolean; workflowId?: string; output?: string; json?: boolean };

export function run(mapref: string, opts: RunOptions): Promise<void> {
  const format = formatOf(opts);
  return withMetadata((metadata) =>
    withTemporal(async (client, env) => {
      const spec = await metadata.mapping(mapref); // an unknown mapping stops here, with the close names
      const workflowId = opts.workflowId ?? workflowIdFor(mapref);
      const input: DmsJobInput = { mapref, ...(opts.fromStart ? { fromStart: true } : {}) };
      const handle = await client.workflow
        // The Web UI's list and the run's page show what the run loads.
        .start<typeof dmsJob>(WORKFLOW_TYPE, {
          taskQueue: env.DMS_TASK_QUEUE,
          workflowId,
          args: [input],
          typedSearchAttributes: dmsSearchAttributes(mapref),
          staticSummary: runSummary(spec),
        })
        .catch((err) => {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            throw new CommandError(
              `Workflow ${workflowId} is already running; follow it with \`dms watch ${mapref}\`, or stop it with \`dms cancel ${mapref}\``,
            );
          }
          throw err;
        });
      const started = `started workflow ${workflowId} (run ${handle.firstExecutionRunId}) on task queue ${env.DMS_TASK_QUEUE}`;
      if (format === 'text' || opts.wait) (format === 'text' ? console.log : console.error)(started);
      else
        console.log(JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, taskQueue: env.DMS_TASK_QUEUE }));
      if (!opts.wait) return;
      await follow(client, metadata, handle, { mapref, workflowId, taskQueue: env.DMS_TASK_QUEUE, format });
    }),
  );
}

/** The running workflow of a mapping: its active run's, else one started that no worker has picked up. */
async function runningWorkflow(client: Client, metadata: Metadata, mapref: string): Promise<string | null> {
  const [active] = (await metadata.latestRuns(mapref, 1)).filter((r) => r.status === RunStatus.running);
  if (active?.wfid) return active.wfid;
  for await (const w of client.workflow.list({
    query: `DmsMapref = '${mapref.replace(/'/g, "''")}' AND ExecutionStatus = 'Running'`,
  }))
    return w.workflowId;
  return null;
}

export function watch(mapref: string, opts: { output?: string; json?: boolean }): Promise<void> {
  const format = formatOf(opts);
  return withMetadata((metadata) =>
    withTemporal(async (client, env) => {
      await metadata.mapping(mapref);
      const workflowId = await runningWorkflow(client, metadata, mapref);
      if (!workflowId) {
        const [latest] = await metadata.latestRuns(mapref, 1);
        const last = latest
          ? `; its latest run ${latest.prcid} ended ${latest.status}${latest.enddt ? ` at ${latest.enddt.toISOString()}` : ''}`
          : '';
        throw new CommandError(
          `${mapref} has no running load to watch${last}. Start one with \`dms run ${mapref} --wait\``,
        );
      }
      if (format === 'text') console.log(`watching workflow ${workflowId}`);
      await follow(client, metadata, client.workflow.getHandle(workflowId), {
        mapref,
        workflowId,
        taskQueue: env.DMS_TASK_QUEUE,
        format,
      });
    }),
  );
}

export function cancel(mapref: string): Promise<void> {
  return withMetadata((metadata) =>
    withTemporal(async (client) => {
      const [active] = (await metadata.latestRuns(mapref, 1)).filter((r) => r.status === RunStatus.running);
      if (!active?.wfid) throw new CommandError(`${mapref} has no active run to cancel (see \`dms status ${mapref}\`)`);
      await client.workflow.getHandle(active.wfid).cancel();
      console.log(
        `cancel requested for workflow ${active.wfid} (run ${active.prcid}); it stops after rolling back the batch in flight`,
      );
    }),
  );
}

const SIGNALLED = {
  pause: 'it stops after the batch activity in flight commits',
  resume: 'it goes on from its checkpoint',
} as const;

export function signalRun(verb: 'pause' | 'resume', mapref: string): Promise<void> {
  return withMetadata((metadata) =>
    withTemporal(async (client) => {
      const [active] = (await metadata.latestRuns(mapref, 1)).filter((r) => r.status === RunStatus.running);
      if (!active?.wfid)
        throw new CommandError(`${mapref} has no active run to ${verb} (see \`dms status ${mapref}\`)`);
      await client.workflow.getHandle(active.wfid).signal(verb === 'pause' ? pauseSignal : resumeSignal);
      console.log(`${verb} sent to workflow ${active.wfid} (run ${active.prcid}); ${SIGNALLED[verb]}`);
    }),
  );
}
