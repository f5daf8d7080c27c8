// dmsPartition: one key range of a partitioned run (DMS_MAPR.PARTITIONS > 1), started by the
// run's own workflow (dmsJob) as a child, with the id `<run's workflow id>-p<k>`. It runs the
// batch loop of an ordinary run (slice-loop.ts) over its range, and continues as new on its own
// so that its history stays bounded. The run's workflow claims, prepares and ends the run; a
// range only loads. Deterministic code only.
import {
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { explainedFailure } from './worker-loss';
import type { BatchState, RangeRef, RunSettings } from '../activities/types';
import { pauseSignal, progressQuery, resetCheckpointSignal, resumeSignal, type Progress } from './handlers';
import { loadSlices } from './slice-loop';
import { currentDetails, HANDLER_DESCRIPTIONS, progressText, sliceSummary } from './details';
import { ACTIVITY_SUMMARIES_PATCH } from './patches';
import { DMS_ROWS_LOADED, DMS_STATUS } from './search-attributes';
import { RunStatus } from '../common/run-status';

export interface DmsPartitionInput {
  mapref: string;
  prcid: number;
  jobid: number;
  /** The run's ownership epoch, which every range row carries. */
  epoch: number;
  settings: RunSettings;
  range: RangeRef;
  /** The range's committed state to go on from. */
  state: BatchState;
  /** Set when the range continues as new. */
  startedAtMs?: number;
  rowsAtStart?: number;
  paused?: boolean;
  largestTieRun?: { rows: number; batch: number };
}

export interface DmsPartitionResult {
  k: number;
  state: BatchState;
  largestTieRun: { rows: number; batch: number };
}

export async function dmsPartition(input: DmsPartitionInput): Promise<DmsPartitionResult> {
  const { mapref, prcid, jobid, epoch, settings, range } = input;
  const startedAtMs = input.startedAtMs ?? Date.now();
  let state = input.state;
  const rowsAtStart = input.rowsAtStart ?? state.rows;
  let paused = input.paused ?? false;
  let tie = input.largestTieRun ?? { rows: 0, batch: 0 };

  const progressNow = (): Progress => {
    const elapsed = (Date.now() - startedAtMs) / 1000;
    return {
      mapref,
      prcid,
      strategy: 'KEY',
      checkpoint: state.checkpoint,
      rowsLoaded: state.rows,
      batches: state.batches,
      rowsPerSecond: elapsed > 0 ? Math.round((state.rows - rowsAtStart) / elapsed) : 0,
      startedAt: new Date(startedAtMs).toISOString(),
      rowsAtStart,
      partition: range.k,
      ...(paused ? { paused } : {}),
    };
  };
  setHandler(progressQuery, progressNow, { description: HANDLER_DESCRIPTIONS.progress });
  /** The range's page in the Web UI (current details: no command, no history). */
  const showDetails = (outcome?: string) => {
    const p = progressNow();
    setCurrentDetails(currentDetails({ ...p, paused, loadMode: null, ...(outcome ? { outcome } : {}) }));
  };
  // The run's workflow passes its pause and resume on to every range.
  setHandler(pauseSignal, () => void ((paused = true), showDetails()), { description: HANDLER_DESCRIPTIONS.pause });
  setHandler(resumeSignal, () => void ((paused = false), showDetails()), { description: HANDLER_DESCRIPTIONS.resume });
  setHandler(
    resetCheckpointSignal,
    () => {
      log.warn(
        `Signal resetCheckpoint refused: range ${range.k} of mapping ${mapref} belongs to a partitioned run, whose ranges keep their own checkpoints; cancel the run and load from the start instead`,
      );
    },
    {
      description:
        'Refused here: a key range of a partitioned run keeps its own checkpoint; cancel the run and load from the start instead.',
    },
  );
  showDetails();
  // Since 0.6.0: batch activities carry a summary of where their slice starts.
  const summaries = patched(ACTIVITY_SUMMARIES_PATCH);

  try {
    await loadSlices({
      settings,
      state: () => state,
      isPaused: () => paused,
      whilePaused: async () => {
        upsertSearchAttributes([{ key: DMS_STATUS, value: 'PAUSED' }]);
        showDetails();
        await condition(() => !paused);
        upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.running }]);
      },
      continueAsNew: () =>
        continueAsNew<typeof dmsPartition>({
          ...input,
          state,
          startedAtMs,
          rowsAtStart,
          paused: paused || undefined,
          largestTieRun: tie,
        }),
      batchInput: () => ({ mapref, prcid, epoch, jobid, partition: range }),
      summary: () =>
        summaries
          ? `range ${range.k}: ${sliceSummary(state.batches, state.checkpoint, progressText(progressNow()))}`
          : null,
      committedBy: (result) => {
        state = result.state;
        showDetails();
        if (result.rowsInBatch > 0) upsertSearchAttributes([{ key: DMS_ROWS_LOADED, value: state.rows }]);
        if (result.tieRun > tie.rows) tie = { rows: result.tieRun, batch: result.tieBatch ?? result.state.batches };
        if (result.alreadyCommitted)
          log.info(
            `Range ${range.k}: batch ${state.batches} was already committed by an earlier attempt; continuing after it`,
          );
        return result.done;
      },
    });
    upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.completed }]);
    log.info(`Mapping ${mapref}, range ${range.k} complete: ${state.rows} rows in ${state.batches} batches`);
    showDetails('complete');
    return { k: range.k, state, largestTieRun: tie };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    showDetails(isCancellation(err) ? 'cancelled' : 'failed');
    upsertSearchAttributes([{ key: DMS_STATUS, value: isCancellation(err) ? RunStatus.cancelled : RunStatus.failed }]);
    throw explainedFailure(err, mapref);
  }
}
