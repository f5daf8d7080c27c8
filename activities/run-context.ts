// What every activity of one worker shares: its dependencies, the job plans it has checked,
// the length of a slice, and the wrapper that turns any error into a classified failure.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { parseMapping, type MappingSpec } from '../common/mapping';
import type { Metadata } from '../metadata/repository';
import type { DatabaseRegistry } from '../plan/databases';
import { toFailure } from './failures';
import { planMapping, targetSchema, type JobPlan } from '../plan/job-plan';
import type { DmsMetrics } from './metrics';
import type { RunSettings } from './types';
import { WideGarbage } from './wide-garbage';

/** Places where a test may stall or kill an attempt. Only test workers pass an implementation. */
export type FaultPoint =
  'beforeLock' | 'beforeEndCheck' | 'isolating' | 'beforeCommit' | 'afterCommit' | 'beforeRelease';
export type FaultHook = (point: FaultPoint, at: BatchPlace) => Promise<void>;

/** Which batch an attempt is at, for fault points and logs. */
export interface BatchPlace {
  mapref: string;
  batch: number;
  attempt: number;
  /** The key range of a partitioned run. */
  partition?: number;
}

export interface ActivityDeps {
  metadata: Metadata;
  databases: DatabaseRegistry;
  settings: RunSettings;
  /** DMS_BATCH_BYTES: the most row text a batch read in key order carries (64 MiB when absent). */
  batchBytes?: number;
  /** Whether a workflow (of the chain that began with firstRunId) is still running. */
  isWorkflowRunning(workflowId: string, firstRunId: string | null): Promise<boolean>;
  faults?: FaultHook;
  /** Where batches and retries are counted (NO_METRICS when absent). */
  metrics?: DmsMetrics;
}

export interface RunContext {
  deps: ActivityDeps;
  metadata: Metadata;
  /** Job plans, checked against both databases once per worker (and at every run start). */
  plans: Map<number, JobPlan>;
  /** How long one batch activity keeps committing batches. */
  sliceMs: number;
  /** The most row text a batch read in key order carries. */
  batchBytes: number;
  /** The garbage wide values leave, collected as the heap grows (wide-garbage.ts). */
  wideGarbage: WideGarbage;
  /** By MAPREF: the rows a KEY batch that reads a key range asks for, where fewer than BULKLMT fit its byte budget (key-slice.ts). */
  rangeRows: Map<string, number>;
}

/** How long one batch activity keeps committing batches when the settings do not say. */
const DEFAULT_SLICE_MS = 5_000;
const DEFAULT_BATCH_BYTES = 64 * 2 ** 20;

/** A batch's byte budget: the worker's DMS_BATCH_BYTES, or the mapping's BATCHBYTES where smaller, and which of the two it is. */
export function batchBudget(
  ctx: RunContext,
  spec: MappingSpec,
): { bytes: number; setting: 'DMS_BATCH_BYTES' | 'BATCHBYTES' } {
  return spec.batchbytes !== null && spec.batchbytes < ctx.batchBytes
    ? { bytes: spec.batchbytes, setting: 'BATCHBYTES' }
    : { bytes: ctx.batchBytes, setting: 'DMS_BATCH_BYTES' };
}

/** Says, in the log and the metrics, that a row wider than the batch's budget loaded alone in batch `batch`. */
export function wideRowAlone(
  ctx: RunContext,
  mapref: string,
  budget: ReturnType<typeof batchBudget>,
  batch: number,
): void {
  Context.current().log.info(
    `Mapping ${mapref}: a row wider than ${budget.setting} (${budget.bytes} bytes) loaded alone in batch ${batch}`,
  );
  ctx.deps.metrics?.wideRowAlone(mapref);
}

export function createRunContext(deps: ActivityDeps): RunContext {
  // A slice ends well inside the activity's start-to-close timeout, which covers all of it.
  const sliceMs = Math.min(deps.settings.sliceMs ?? DEFAULT_SLICE_MS, deps.settings.batchTimeoutMs / 2);
  const batchBytes = deps.batchBytes ?? DEFAULT_BATCH_BYTES;
  return {
    deps,
    metadata: deps.metadata,
    plans: new Map(),
    sliceMs,
    batchBytes,
    wideGarbage: new WideGarbage(batchBytes),
    rangeRows: new Map(),
  };
}

function isRetryable(failure: Error): boolean {
  return !(failure as { nonRetryable?: boolean }).nonRetryable && !(failure instanceof CancelledFailure);
}

/**
 * Runs an activity body, turning every error into a classified, redacted failure; a
 * retryable one of a run is shown in DMS_PRCLOG.LASTERR while Temporal retries it.
 */
export async function classified<T>(
  ctx: RunContext,
  fn: () => Promise<T>,
  retrying?: { prcid: number; mapref: string; what: string },
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const failure = toFailure(err);
    if (retrying && isRetryable(failure)) {
      ctx.deps.metrics?.attemptFailed(retrying.mapref, (failure as { type?: string }).type ?? failure.name);
      // Best effort: the metadata database may be what is failing.
      await ctx.metadata
        .recordError(retrying.prcid, `retrying ${retrying.what}: ${failure.message}`)
        .catch(() => undefined);
    }
    throw failure;
  }
}

/** The mapping a job (DMS_JOB) holds. */
async function jobMapping(ctx: RunContext, jobid: number): Promise<MappingSpec> {
  const job = await ctx.metadata.job(jobid);
  if (!job) throw new Error(`job ${jobid} does not exist`);
  return parseMapping(job);
}

/** A job's plan, checked against both databases once per worker (and at every run start). */
export async function planFor(ctx: RunContext, jobid: number, fresh = false): Promise<JobPlan> {
  const cached = fresh ? undefined : ctx.plans.get(jobid);
  if (cached) return cached;
  const p = await planMapping(ctx.metadata, ctx.deps.databases, await jobMapping(ctx, jobid));
  ctx.plans.set(jobid, p);
  return p;
}

/**
 * A job's target and its schema, without planning the job (a run's end writes only the
 * checkpoint row, and checks nothing): the plan's, where this worker has one.
 */
export async function targetFor(ctx: RunContext, jobid: number): Promise<Pick<JobPlan, 'target' | 'schema'>> {
  const cached = ctx.plans.get(jobid);
  if (cached) return cached;
  const mapping = await jobMapping(ctx, jobid);
  const spec = await ctx.metadata.connection(mapping.mapref, 'TRGCONID', mapping.trgconid);
  const schema = targetSchema(ctx.deps.databases.dialect(mapping.mapref, 'TRGCONID', spec), mapping);
  return { target: ctx.deps.databases.target(mapping.mapref, spec), schema };
}
