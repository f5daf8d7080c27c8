// A mapping's checkpoint row, DMS_CHKPNT in the target schema: which run owns the mapping
// (prcid, epoch) and where its load stands. It commits in the same target transaction as the
// rows of each batch; each dialect keeps the table (PostgreSQL: dialects/postgres/).
import type { CheckpointRow } from '../dialects';

export type { CheckpointRow };

/** What the workflow knows of a checkpoint row: it travels in every batch's input and result. */
export interface BatchState {
  /** The last committed key (text), or null before the first batch. */
  checkpoint: string | null;
  batches: number;
  rows: number;
}

/** The row's BatchState. */
export function stateOf(row: CheckpointRow): BatchState {
  return { checkpoint: row.checkpoint, batches: row.batches, rows: row.rows };
}

/** Whether the row stands where the workflow expects it. */
export function sameState(row: CheckpointRow, expected: BatchState): boolean {
  return row.batches === expected.batches && row.checkpoint === expected.checkpoint && row.rows === expected.rows;
}
