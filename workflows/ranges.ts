// How the run's own workflow (dmsJob) loads a partitioned run's key ranges: one child
// workflow (dmsPartition) per unfinished range, all at once. A range that fails cancels the
// others, and the run fails once they have stopped (each rolls back its batch in flight);
// a cancel of the run reaches every range the same way. Deterministic code only.
import {
  CancellationScope,
  condition,
  isCancellation,
  startChild,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { partitionWorkflowId } from '../common/partition-ids';
import { rangeTotals } from '../common/range-totals';
import type { BatchState, RangeState, RunSettings } from '../activities/types';
import { pauseSignal, resumeSignal, type RangeProgress } from './handlers';
import { dmsPartition, type DmsPartitionResult } from './partition';
import { DMS_MAPREF, DMS_STATUS } from './search-attributes';
import { RunStatus } from '../common/run-status';

export interface RangedRun {
  mapref: string;
  prcid: number;
  jobid: number;
  epoch: number;
  settings: RunSettings;
  workflowId: string;
}

/** What the run's progress shows of its ranges before any has reported. */
export function rangeProgress(workflowId: string, ranges: RangeState[]): RangeProgress[] {
  return ranges.map((r) => ({
    k: r.k,
    workflowId: partitionWorkflowId(workflowId, r.k),
    upTo: r.upTo,
    checkpoint: r.state.checkpoint,
    rowsLoaded: r.state.rows,
    batches: r.state.batches,
    status: r.done ? RunStatus.completed : RunStatus.running,
  }));
}

/** The run's state: what it loaded itself (the NULL-key phase) and every range's rows and batches. */
export function sumOf(own: BatchState, progress: RangeProgress[]): BatchState {
  return rangeTotals(
    own,
    progress.map((r) => ({ checkpoint: r.checkpoint, batches: r.batches, rows: r.rowsLoaded })),
  );
}

/**
 * Loads the unfinished ranges in child workflows and waits for all of them, updating
 * `progress` as each ends. Throws the first failure (or the cancel) once every range has
 * stopped; pause and resume (as isPaused says) are passed on to the ranges. onChange is
 * called as a range ends (the run's details in the Web UI).
 */
export async function loadRanges(
  run: RangedRun,
  ranges: RangeState[],
  progress: RangeProgress[],
  isPaused: () => boolean,
  onChange: () => void = () => undefined,
): Promise<{ largestTieRun: { rows: number; batch: number; k: number } }> {
  const handles = new Map<number, ChildWorkflowHandle<typeof dmsPartition>>();
  let relayed = false;
  let over = false;
  // Pause and resume reach every range that is still loading.
  const relay = (async () => {
    for (;;) {
      await condition(() => over || isPaused() !== relayed);
      if (over) return;
      relayed = isPaused();
      upsertSearchAttributes([{ key: DMS_STATUS, value: relayed ? 'PAUSED' : RunStatus.running }]);
      for (const handle of handles.values())
        await handle.signal(relayed ? pauseSignal : resumeSignal).catch(() => undefined);
    }
  })().catch(() => undefined);

  let failure: unknown;
  let largestTieRun = { rows: 0, batch: 0, k: 0 };
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    await Promise.all(
      ranges
        .filter((r) => !r.done)
        .map(async (r) => {
          const entry = progress.find((p) => p.k === r.k)!;
          try {
            // A range starts paused if the run is; a change while it starts is sent once it has.
            const startedPaused = isPaused();
            const handle = await startChild(dmsPartition, {
              workflowId: entry.workflowId,
              args: [
                {
                  mapref: run.mapref,
                  prcid: run.prcid,
                  jobid: run.jobid,
                  epoch: run.epoch,
                  settings: run.settings,
                  range: { k: r.k, upTo: r.upTo },
                  state: r.state,
                  paused: startedPaused || undefined,
                },
              ],
              typedSearchAttributes: [
                { key: DMS_MAPREF, value: run.mapref },
                { key: DMS_STATUS, value: RunStatus.running },
              ],
            });
            handles.set(r.k, handle);
            if (isPaused() !== startedPaused)
              await handle.signal(isPaused() ? pauseSignal : resumeSignal).catch(() => undefined);
            const result: DmsPartitionResult = await handle.result();
            Object.assign(entry, {
              checkpoint: result.state.checkpoint,
              rowsLoaded: result.state.rows,
              batches: result.state.batches,
              status: RunStatus.completed,
            });
            if (result.largestTieRun.rows > largestTieRun.rows) largestTieRun = { ...result.largestTieRun, k: r.k };
            onChange();
          } catch (err) {
            entry.status = isCancellation(err) ? RunStatus.cancelled : RunStatus.failed;
            onChange();
            if (failure === undefined) {
              failure = err;
              // The other ranges stop too: each rolls back its batch in flight.
              scope.cancel();
            }
          } finally {
            handles.delete(r.k);
          }
        }),
    );
  });
  over = true;
  await relay;
  if (failure !== undefined) throw failure;
  return { largestTieRun };
}
