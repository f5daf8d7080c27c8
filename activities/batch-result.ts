// What a batch activity hands back to the workflow (BatchResult), in its two shapes.
import type { BatchResult, BatchState } from './types';

/** This attempt committed `rows` rows up to `state`; `done` when the source has no more. */
export function committed(state: BatchState, rows: number, done: boolean, tieRun = 0): BatchResult {
  return { state, rowsInBatch: rows, done, alreadyCommitted: false, tieRun };
}

/**
 * Another attempt of this run had already moved the checkpoint to `state` (it committed, and
 * died before Temporal heard of it): this attempt stops there, after its own `rows`.
 */
export function alreadyCommitted(state: BatchState, rows = 0): BatchResult {
  return { state, rowsInBatch: rows, done: false, alreadyCommitted: true, tieRun: 0 };
}
