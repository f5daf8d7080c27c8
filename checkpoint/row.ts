// A mapping's checkpoint row, DMS_CHKPNT in the target schema: which run owns the mapping
// (prcid, epoch) and where its load stands. It commits in the same target transaction as the
// rows of each batch; each dialect keeps the table (PostgreSQL: dialects/postgres/).
import type { BatchState } from '../activities/types';

/** The last committed key; null before the first batch. */
export interface CheckpointRow {
  mapref: string;
  prcid: number;
  epoch: number;
  jobid: number;
  /** The key columns the checkpoint is over (JSON array), null before the first batch. */
  keyColumns: string | null;
  /** The last committed key (see codec.ts), null before the first batch. */
  checkpoint: string | null;
  /** ROWCOUNT: a digest of the last loaded row, to see on resume that the source kept its order. */
  lastRow: string | null;
  batches: number;
  rows: number;
}

/** What the workflow knows of a checkpoint row. */
export function stateOf(row: CheckpointRow): BatchState {
  return { checkpoint: row.checkpoint, batches: row.batches, rows: row.rows };
}

/** Whether the row stands where the workflow expects it. */
export function sameState(row: CheckpointRow, expected: BatchState): boolean {
  return row.batches === expected.batches && row.checkpoint === expected.checkpoint && row.rows === expected.rows;
}
