// A run's pre-flight (prepareRun): the job checked against both databases, then the mapping's
// checkpoint row in the target taken over by this run (a new ownership epoch), keeping the
// checkpoint on a resume and clearing it on a fresh start; then the run's first slice.
import { Context } from '@temporalio/activity';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  isPartitionsParam1,
  nextEpoch,
  readParam1,
  splitOf,
  stateOf,
  type CheckpointRow,
} from '../checkpoint';
import { ConfigError, OwnershipLostError } from '../common/errors';
import { parseMapping, sameLoad } from '../common/mapping';
import { estimateTotal } from './estimate';
import { checkNullKeys, describeKey, inOrder, type JobPlan } from '../plan/job-plan';
import { heartbeating } from './live';
import { retireRanges, splitAfter, takeRanges } from './ranges';
import { classified, planFor, type RunContext } from './run-context';
import { runSlice } from './run-batch';
import type { RunRow } from '../metadata/repository';
import type { PrepareInput, RangeState, RunPlan } from './types';
import { RunStatus } from '../common/run-status';

/**
 * Validates the job against both databases, then makes this run the owner of the
 * mapping's checkpoint row in the target (a new ownership epoch), keeping the checkpoint
 * on a resume and clearing it on a fresh start. With input.firstSlice (workflows since
 * 0.3.0) it then commits the run's first slice of batches, as runBatch would.
 */
export async function prepareRun(ctx: RunContext, input: PrepareInput): Promise<RunPlan> {
  const { firstSlice } = input;
  if (!firstSlice)
    return classified(ctx, () => prepare(ctx, input), {
      prcid: input.prcid,
      mapref: input.mapref,
      what: 'the start of the run',
    });
  // The first slice of batches follows in the same activity, with no workflow task between.
  const activity = Context.current();
  const prepared = await classified(
    ctx,
    () =>
      heartbeating(
        () => activity.heartbeat(),
        () => prepare(ctx, input),
      ),
    { prcid: input.prcid, mapref: input.mapref, what: 'the start of the run' },
  );
  const batchInput = {
    mapref: input.mapref,
    prcid: input.prcid,
    epoch: prepared.epoch,
    jobid: input.jobid,
    expected: prepared.state,
    maxBatches: firstSlice.maxBatches,
  };
  if (prepared.partitions) {
    // The key ranges load in child workflows. What happens once per run stays here: the
    // NULL-key phase (CHKPNTNULLS = 'FIRST'), a batch of the run's own row.
    const nullPhase = (await planFor(ctx, input.jobid)).spec.chkpntnulls === 'FIRST' && prepared.state.batches === 0;
    if (!nullPhase) return prepared;
    const phase = await runSlice(ctx, { ...batchInput, maxBatches: 1 }, { rowsAtStart: prepared.state.rows });
    // Row 0 of DMS_PRCPART counts the phase, and DMS_PRCLOG sums it with the ranges.
    await classified(ctx, async () => {
      await ctx.metadata.mirrorRange(input.prcid, 0, phase.state, false);
      await ctx.metadata.sumRanges(input.prcid);
    });
    return { ...prepared, state: phase.state };
  }
  const first = {
    rowsAtStart: prepared.state.rows,
    estimatedRows: prepared.estimatedRows,
    warnings: prepared.warnings,
  };
  return { ...prepared, firstSlice: await runSlice(ctx, batchInput, first) };
}

async function prepare(ctx: RunContext, input: PrepareInput): Promise<RunPlan> {
  const p = await planFor(ctx, input.jobid, true);
  const { mapref } = input;
  // Independent checks on both databases, at once.
  const [nulls, { summary, warnings }, resumedRun] = await inOrder([
    checkNullKeys(p),
    describeKey(p),
    input.resume ? ctx.metadata.run(input.prcid) : Promise.resolve(undefined),
  ]);
  const keyColumns = JSON.stringify(p.keyed.key);
  await ctx.metadata.recordStrategy(input.prcid, p.strategy);
  await p.target.ensureCheckpointTable(p.schema);
  if (p.spec.rejectlmt > 0) await p.target.ensureRejectTable!(p.schema);
  let retried = false;
  let ranges: RangeState[] | undefined;
  let takeover: Takeover | undefined;
  let row: CheckpointRow | undefined;
  // Every read the takeover needs (the metadata, a look-back's key, the split's scans of the
  // source) is made on the row as read without a lock; the row lock is then held only for the
  // writes, once the locked row is found unchanged. A row that changed in between (another
  // attempt took it) is read and decided on again.
  for (let round = 1; !row; round++) {
    const seen = await p.target.readCheckpoint(p.schema, mapref);
    takeover = seen?.prcid === input.prcid ? undefined : await decide(ctx, p, input, seen, resumedRun, keyColumns);
    row = await p.target.transaction(async (tx) => {
      const current = await tx.lockCheckpoint(p.schema, mapref);
      if (!sameRow(current, seen)) {
        if (round >= TAKEOVER_ROUNDS)
          throw new Error(
            `the checkpoint row of mapping ${mapref} changed ${round} times while this run prepared to take it over`,
          );
        return undefined;
      }
      if (current && current.prcid === input.prcid) {
        retried = true; // a retry of this activity: the run owns the row already
        if (p.spec.partitions > 1) ranges = await takeRanges(p, tx, current, { owner: current, keep: true });
        return current;
      }
      const t = takeover!;
      const next: CheckpointRow = {
        mapref,
        prcid: input.prcid,
        epoch: nextEpoch(current),
        jobid: input.jobid,
        keyColumns,
        checkpoint: t.start,
        lastRow: t.keep ? current!.lastRow : null,
        batches: t.keep ? current!.batches : 0,
        rows: t.keep ? current!.rows : 0,
      };
      if (p.spec.partitions > 1) {
        // The key ranges are written (or, on a resume, taken over) in this same transaction.
        ranges = await takeRanges(p, tx, next, { owner: current, keep: t.keep }, t.points);
      }
      // Range rows of an earlier partitioned run that this run does not take over are fenced.
      await retireRanges(p, tx, current, next, (ranges?.length ?? 0) + 1);
      // TRUNCATE empties the target with the same commit that resets the checkpoint, so a
      // retry of this activity (same run) or any resume never truncates again. It comes last
      // but the run's own row: where a dialect pays it after the commit (its TRUNCATE commits on
      // its own), only that row owes it, never a range's.
      if (!t.keep && p.spec.loadmode === 'TRUNCATE') await tx.truncate(p.schema, p.table);
      await tx.writeCheckpoint(p.schema, next);
      // A claim that meant to resume copied the resumed run's PARAM1 and counters; a run that
      // starts over after all counts from zero (the mirror never moves counters backwards).
      if (input.resume && !t.keep) await ctx.metadata.restartRun(input.prcid);
      // Mirrored before the takeover commits (the values are the ones it commits), so that
      // a first slice's first batch follows the commit with nothing in between.
      if (!ranges) await ctx.metadata.mirrorCheckpoint(input.prcid, stateOf(next));
      return next;
    });
  }
  if (takeover?.cleared) {
    Context.current().log.info(
      `Mapping ${mapref}: the checkpoint of run ${resumedRun!.resumedfrom ?? resumedRun!.prcid} was cleared (DMS_PRCLOG.PARAM1 set to NULL); loading from the start, as a fresh start`,
    );
  }
  const incrementalFrom = (!retried && takeover?.incrementalFrom) || null;
  const state = stateOf(row);
  if (ranges) await ctx.metadata.recordRanges(input.prcid, state, ranges);
  else if (retried) await ctx.metadata.mirrorCheckpoint(input.prcid, state);
  // For the Web UI's % and ETA only: a source that cannot estimate never stops a run.
  const estimatedRows = await estimateTotal(p, {
    checkpoint: state.checkpoint,
    rowsLoaded: state.rows,
    partitions: ranges,
  }).catch(() => null);
  return {
    epoch: row.epoch,
    strategy: p.strategy,
    loadMode: p.spec.loadmode,
    state,
    keySummary: summary,
    nullRows: p.spec.chkpntnulls === 'FIRST' && state.batches === 0 ? nulls : 0,
    mirroredInBatch: p.sharesMetadata,
    incrementalFrom,
    warnings,
    estimatedRows,
    ...(retried ? { retried } : {}),
    ...(ranges ? { partitions: ranges } : {}),
  };
}

/** Rounds of read, decide and lock before a takeover gives up on a row others keep changing. */
const TAKEOVER_ROUNDS = 5;

/** What a run's takeover of the checkpoint row does, decided from the row as read. */
interface Takeover {
  /** The row's checkpoint and counters go on (a resume). */
  keep: boolean;
  /** PARAM1 was cleared by hand: a fresh start (logged once the takeover commits). */
  cleared: boolean;
  /** The checkpoint the run starts from. */
  start: string | null;
  incrementalFrom: RunPlan['incrementalFrom'];
  /** Where a partitioned run that splits anew splits its keys (after `start`); absent where it takes the ranges over. */
  points?: string[][];
}

/** The row as the takeover decided on it: unchanged while no other attempt wrote it. */
function sameRow(a: CheckpointRow | undefined, b: CheckpointRow | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.prcid === b.prcid &&
    a.epoch === b.epoch &&
    a.jobid === b.jobid &&
    a.keyColumns === b.keyColumns &&
    a.checkpoint === b.checkpoint &&
    a.lastRow === b.lastRow &&
    a.batches === b.batches &&
    a.rows === b.rows
  );
}

/**
 * Decides the takeover of `current` (the mapping's row as read, not this run's): refuses what
 * may not be taken over, and makes every read the writes need. Nothing here writes.
 */
async function decide(
  ctx: RunContext,
  p: JobPlan,
  input: PrepareInput,
  current: CheckpointRow | undefined,
  resumedRun: RunRow | undefined,
  keyColumns: string,
): Promise<Takeover> {
  const { mapref } = input;
  const resumedCheckpoint = resumedRun?.param1 ?? null;
  if (current && current.prcid > input.prcid) {
    // A late attempt of an older run must never reset a newer run's checkpoint.
    throw new OwnershipLostError(mapref, input.prcid, `run ${current.prcid} took the mapping over since`);
  }
  if (input.resume && !current && resumedCheckpoint !== null) {
    throw new ConfigError(
      mapref,
      'DMS_CHKPNT',
      `has no row for this mapping in "${p.schema}", though the run being resumed stopped at checkpoint ${resumedCheckpoint}; resuming would load everything again`,
      `restore the row, or empty the target table and load from the start with \`dms run ${mapref} --from-start\``,
    );
  }
  // Resume only a checkpoint its unfinished owner left: a row whose owner completed
  // (a later run failed before taking it over) belongs to a finished load.
  const ownerCompleted = current ? (await ctx.metadata.run(current.prcid))?.status === RunStatus.completed : false;
  const resumable = input.resume && current !== undefined && !ownerCompleted;
  const byHand = resumable ? handEdit(mapref, p.schema, resumedRun, current, p.spec.partitions > 1) : 'none';
  const keep = resumable && byHand !== 'cleared';
  const fromStart = input.fromStart || byHand === 'cleared';
  const then = keep && current.jobid !== input.jobid ? await ctx.metadata.job(current.jobid) : undefined;
  if (keep && current.jobid !== input.jobid && !(then && sameLoad(parseMapping(then), p.spec))) {
    throw new ConfigError(
      mapref,
      'DMS_CHKPNT',
      `in the target belongs to job ${current.jobid}, not to job ${input.jobid} that this run resumes`,
      `load from the start with \`dms run ${mapref} --from-start\``,
    );
  }
  if (keep && current.checkpoint !== null && current.keyColumns !== keyColumns) {
    throw new ConfigError(
      mapref,
      'CHKPNTCOLUMN',
      `now orders the source by ${keyColumns}, but the checkpoint to resume from is over ${current.keyColumns ?? 'another key'} (a unique index of the source may have changed)`,
      `restore the source's key, or load from the start with \`dms run ${mapref} --from-start\``,
    );
  }
  // INCREMENTAL: a fresh start begins after the last completed run's high-water mark,
  // which DMS_CHKPNT keeps (PARAM1 says 'COMPLETED'), less the look-back window.
  let start: string | null = keep ? current.checkpoint : null;
  let incrementalFrom: RunPlan['incrementalFrom'] = null;
  if (!keep && !fromStart && p.spec.loadmode === 'INCREMENTAL' && current?.checkpoint) {
    if (current.keyColumns !== keyColumns) {
      throw new ConfigError(
        mapref,
        'CHKPNTCOLUMN',
        `now orders the source by ${keyColumns}, but the high-water mark of the last completed run is over ${current.keyColumns}; reading from the start would load everything again`,
        `restore the key, or empty the target and load from the start with \`dms run ${mapref} --from-start\``,
      );
    }
    let after: string[] | null = decodeCheckpoint(current.checkpoint, p.keyed.key.length);
    if (p.lookback) after = await p.source.keyBefore(p.keyed, after[0], p.lookback.window, p.lookback.type);
    start = after === null ? null : encodeCheckpoint(after);
    incrementalFrom = { mark: current.checkpoint, startsAfter: start };
  }
  // A partitioned run splits anew unless it takes over the ranges its resumed owner split.
  const splitsAnew = p.spec.partitions > 1 && !(keep && splitOf(current) !== undefined);
  const points = splitsAnew ? await splitAfter(p, start) : undefined;
  return { keep, cleared: byHand === 'cleared', start, incrementalFrom, ...(points ? { points } : {}) };
}

/** Refuses a PARAM1 set by hand to another checkpoint; tells a cleared one. */
export function handEdit(
  mapref: string,
  schema: string,
  resumed: RunRow | undefined,
  current: CheckpointRow,
  partitioned: boolean,
): 'none' | 'cleared' {
  if (partitioned && resumed) {
    // A partitioned run's PARAM1 counts its complete ranges; NULL is still "load from the start".
    // NULL with only the run's own batches (the NULL-key phase) is a mirror that had not
    // caught up yet, not a hand edit: resumed, never loaded twice.
    if (resumed.param1 === null) return resumed.batchcnt > current.batches ? 'cleared' : 'none';
    if (isPartitionsParam1(resumed.param1) || resumed.param1 === current.checkpoint) return 'none';
    throw new ConfigError(
      mapref,
      'DMS_PRCLOG.PARAM1',
      `of run ${resumed.resumedfrom ?? resumed.prcid} was set by hand to '${resumed.param1}', but the mapping loads in key ranges (PARTITIONS > 1), each with its own checkpoint in "${schema}".dms_chkpnt, so one checkpoint cannot say where to go on`,
      `to resume where each range stopped, set PARAM1 back to what the run wrote ('PARTITIONS <complete>/<ranges>'); to load from the start, set PARAM1 to NULL or run \`dms run ${mapref} --from-start\``,
    );
  }
  const read = resumed ? readParam1(resumed, current) : 'mirror';
  if (read === 'mirror') return 'none';
  if (read === 'cleared') return 'cleared';
  throw new ConfigError(
    mapref,
    'DMS_PRCLOG.PARAM1',
    `of run ${resumed!.resumedfrom ?? resumed!.prcid} was set by hand to '${resumed!.param1}', but a resume goes on from the checkpoint in "${schema}".dms_chkpnt, '${current.checkpoint}', which PARAM1 only mirrors`,
    `to resume after '${resumed!.param1}', run \`dms checkpoint reset ${mapref} --to '${resumed!.param1}'\`; to load from the start, set PARAM1 to NULL or run \`dms checkpoint reset ${mapref}\`; to resume where the load stopped, set PARAM1 back to '${current.checkpoint}'`,
  );
}
