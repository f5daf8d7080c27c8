// A batch activity's body (runBatch, and prepareRun's first slice): batches in a row from the
// state the workflow expects, for at most a slice of time, heartbeating between them; then one
// flush that makes them all durable, and DMS_PRCLOG's mirror brought up to date.
// The activity type keeps its first name, runBatch: histories of runs in flight name it.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { mirrorQueue, partitionRowKey } from '../checkpoint';
import { ConfigError, DuplicateKeyInBatchError, KeyCollisionError } from '../common/errors';
import { readDatabaseError, redactedMessage } from './failures';
import type { JobPlan } from '../plan/job-plan';
import { keySlice } from './key-slice';
import { heartbeating, type Live } from './live';
import { rowcountSlice } from './rowcount-slice';
import { batchBudget, classified, planFor, type RunContext } from './run-context';
import type { BatchInput, BatchResult, BatchState } from './types';

/** A run's first slice, committed by its pre-flight activity. */
export interface FirstSlice {
  /** The run's rows when it began, for the rates `dms status` shows meanwhile. */
  rowsAtStart: number;
  /**
   * What the pre-flight found for `dms run --wait` to show while the workflow does not know it
   * yet: the source's estimate of the run's rows, and its warnings (a key without an index).
   */
  estimatedRows?: number | null;
  warnings?: string[];
}

/** A merge that met two rows with one key in its batch, as the mapping's error; others as they are. */
function mappingErrorOf(p: JobPlan, err: unknown): unknown {
  if (readDatabaseError(err)?.kind === 'read-only') {
    // read_only_sql_transaction: SRCQUERY always reads in a read-only session.
    return new ConfigError(
      p.spec.mapref,
      'SRCQUERY',
      `tried to change data (${redactedMessage(err as Error)}): SRCQUERY always runs read-only, also when source and target are one database, so a function it calls may not write; or the target connection is a read-only server`,
      'call only functions that read (STABLE or IMMUTABLE) in SRCQUERY and do any writing outside the load; or point TRGCONID at a server that accepts writes',
    );
  }
  if (err instanceof KeyCollisionError) {
    const key = err.key.join(', ');
    return new ConfigError(
      p.spec.mapref,
      'TRGKEYCOLS',
      `(${key}): the source row with key ${JSON.stringify(err.incoming)} would overwrite the target row with key ${JSON.stringify(err.existing)}, which the target's comparison calls equal (a case- or accent-insensitive collation, or trailing spaces ignored) though the source keeps them apart; the batch was rolled back`,
      `give the target's key columns a collation that compares bytes (e.g. ${p.targetHints.exactCollation(p.table, err.key[0], '<its type>')}), or make SRCQUERY return keys the target tells apart`,
    );
  }
  if (!(err instanceof DuplicateKeyInBatchError)) return err;
  const key = err.key.join(', ');
  return new ConfigError(
    p.spec.mapref,
    'SRCQUERY',
    `returns more than one row with the same TRGKEYCOLS (${key}) within one batch, and a merge on TRGKEYCOLS cannot take two source rows into one target row at once; the batch was rolled back`,
    `make SRCQUERY return one row per (${key}), e.g. ${p.hints.oneRowPerKey(key)}; or set TRGKEYCOLS to columns that are unique in the source`,
  );
}

/**
 * Commits batches in a row, from the state the workflow expects: KEY batches (and NONE's
 * single one) through keyBatch, ROWCOUNT through one ordered read; at most input.maxBatches of
 * them, for at most the settings' slice of time, heartbeating between them.
 */
export async function runBatch(ctx: RunContext, input: BatchInput): Promise<BatchResult> {
  return runSlice(ctx, input);
}

/**
 * The body of a batch activity (runBatch, or prepareRun's first slice): batches in a row
 * from input.expected, then one flush that makes them durable, and the mirror into
 * DMS_PRCLOG brought up to date.
 */
export function runSlice(ctx: RunContext, input: BatchInput, first?: FirstSlice): Promise<BatchResult> {
  return classified(ctx, () => sliceBody(ctx, input, first), {
    prcid: input.prcid,
    mapref: input.mapref,
    what: `batch ${input.expected.batches + 1}`,
  });
}

async function sliceBody(ctx: RunContext, input: BatchInput, first?: FirstSlice): Promise<BatchResult> {
  const activity = Context.current();
  const p = await planFor(ctx, input.jobid);
  // Heartbeats carry the last committed state: `dms status` and the Web UI's pending
  // activity show it live, while the workflow hears of it when the slice ends.
  const range = input.partition;
  // A key range's progress goes to its own DMS_PRCPART row, the run's PARAM1 to neither.
  const mirrors = mirrorQueue((state: BatchState) =>
    range
      ? ctx.metadata.mirrorRange(input.prcid, range.k, state, false)
      : ctx.metadata.mirrorCheckpoint(input.prcid, state),
  );
  let since = Date.now();
  const budget = batchBudget(ctx, p.spec);
  const budgetBeat = { batchBytes: budget.bytes, budgetSetting: budget.setting };
  const live: Live = {
    state: input.expected,
    beat: () =>
      activity.heartbeat({
        ...live.state,
        ...(first ? { rowsAtStart: first.rowsAtStart } : {}),
        ...(typeof first?.estimatedRows === 'number' ? { estimatedRows: first.estimatedRows } : {}),
        ...(first?.warnings?.length ? { warnings: first.warnings } : {}),
        widestRow: live.widest,
        ...budgetBeat,
      }),
    beatOrStop: () => {
      live.beat();
      if (activity.cancellationSignal.aborted) throw new CancelledFailure('batch cancelled; rolled back');
    },
    mirror: (state) => mirrors.push(state),
    widest: 0,
    garbage: ctx.wideGarbage,
    committed(state) {
      const now = Date.now();
      if (state.batches > live.state.batches)
        ctx.deps.metrics?.batchCommitted(input.mapref, state.rows - live.state.rows, (now - since) / 1000);
      since = now;
      live.state = state;
    },
  };
  // DMS_PRCLOG counts the run's rejects as DMS_REJECT holds them (REJECTLMT): set, not added, so twice is harmless.
  const recordRejects = async () => {
    if (p.spec.rejectlmt > 0 && p.target.countRejects)
      await ctx.metadata.recordRejects(input.prcid, await p.target.countRejects(p.schema, input.mapref, input.prcid));
  };
  const at = {
    mapref: input.mapref,
    batch: input.expected.batches + 1,
    attempt: activity.info.attempt,
    ...(range ? { partition: range.k } : {}),
  };
  const result = await heartbeating(
    () => live.beat(),
    async () => {
      live.beat();
      if (p.strategy === 'ROWCOUNT') {
        await ctx.deps.faults?.('beforeLock', at);
        return rowcountSlice(ctx, input, p, at, live);
      }
      return keySlice(ctx, input, p, at, live);
    },
  ).catch(async (err: unknown) => {
    // The batches committed before the one that failed (over REJECTLMT, say) keep their rejects.
    await recordRejects().catch(() => undefined);
    throw mappingErrorOf(p, err);
  });
  // The state the workflow hears of must survive a crash of the target database.
  await p.target.flushCommits(p.schema, range ? partitionRowKey(input.mapref, range.k) : input.mapref);
  await mirrors.flush();
  await recordRejects();
  // A range complete: DMS_PRCPART says so, and DMS_PRCLOG counts it.
  if (range && result.done) await ctx.metadata.mirrorRange(input.prcid, range.k, result.state, true);
  else if (range) await ctx.metadata.sumRanges(input.prcid);
  return result;
}
