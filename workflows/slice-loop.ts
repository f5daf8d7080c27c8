// The batch loop, written once for both workflows that load: dmsJob's run (job-run.ts) and a
// key range of a partitioned run (dmsPartition, partition.ts). Each turn waits out a pause,
// lets the workflow do what it does between slices (dmsJob applies the resets signalled
// meanwhile), continues as new once the history has grown enough, and runs one batch
// activity, which commits up to the batches left in this execution. Deterministic code only.
import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { BatchInput, BatchResult, BatchState, RunSettings } from '../activities/types';
import { batchActivities, summarized } from './proxies';

/** What the loop needs from the workflow it runs in. */
export interface SliceLoop {
  settings: RunSettings;
  /** The committed state the next slice starts from. */
  state(): BatchState;
  isPaused(): boolean;
  /** Waits until resumed. */
  whilePaused(): Promise<void>;
  /** Runs before each slice is decided on. */
  beforeSlice?(): Promise<void>;
  /** Continues the load as a new execution (throws ContinueAsNew). */
  continueAsNew(): Promise<never>;
  /** The batch activity's input but for its state and count: the run, and the range where there is one. */
  batchInput(): Omit<BatchInput, 'expected' | 'maxBatches'>;
  /** The summary the slice's activity shows in the Web UI (null before the patch that added them). */
  summary(): string | null;
  /** Takes in what a slice committed; whether the load is done. */
  committedBy(result: BatchResult): boolean;
}

/**
 * Runs slices until the load is done, or continues as new: after settings.batchesPerExecution
 * activities or committed batches in this execution (one activity commits several batches, and
 * the history stays bounded by both counts), or when the server suggests it. `firstSlice` is
 * a slice this execution has already run (dmsJob's pre-flight commits the first one): it counts
 * towards both, its batches as committed in this execution.
 */
export async function loadSlices(loop: SliceLoop, firstSlice?: BatchResult): Promise<void> {
  const batches = batchActivities(loop.settings);
  const limit = loop.settings.batchesPerExecution;
  const batchesAtStart = loop.state().batches;
  let done = firstSlice ? loop.committedBy(firstSlice) : false;
  for (let n = firstSlice ? 1 : 0; !done; n++) {
    if (loop.isPaused()) await loop.whilePaused();
    await loop.beforeSlice?.();
    const committed = loop.state().batches - batchesAtStart;
    if (n >= limit || committed >= limit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await loop.continueAsNew();
    }
    const input: BatchInput = { ...loop.batchInput(), expected: loop.state(), maxBatches: limit - committed };
    done = loop.committedBy(await summarized(batches.runBatch, loop.settings, loop.summary(), input));
  }
}
