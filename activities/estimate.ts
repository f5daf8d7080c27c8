// How many rows a load will have loaded when it ends, estimated from the source database's
// statistics (never by counting): what it has loaded, plus the source's estimate of the rows
// beyond its checkpoint. The pre-flight gives it to the workflow (the Web UI's % and ETA), and
// `dms run --wait` draws its bar against it; where none can be had (a dialect that cannot
// tell), both show counts and rates only.
import { decodeCheckpoint } from '../checkpoint/codec';
import type { JobPlan } from '../plan/job-plan';

/** Where a load stands: its checkpoint and the rows behind it, at one moment. */
export interface LoadPosition {
  checkpoint: string | null;
  rowsLoaded: number;
  /** Set for a partitioned run, whose checkpoints are its ranges'. */
  partitions?: unknown;
}

/**
 * The load's estimated total, from the plan's source:
 *  - KEY: rows loaded plus the rows after the checkpoint;
 *  - ROWCOUNT: rows loaded plus every row of the query but the checkpoint's count;
 *  - NONE and partitioned runs: every row of the query.
 */
export async function estimateTotal(
  plan: Pick<JobPlan, 'strategy' | 'keyed' | 'source'>,
  p: LoadPosition,
): Promise<number | null> {
  const whole = { query: plan.keyed.query, key: [] };
  if (p.partitions || plan.strategy === 'NONE') {
    const all = await plan.source.estimateRows(whole, null);
    return all === null ? null : Math.max(all, p.rowsLoaded);
  }
  if (plan.strategy === 'ROWCOUNT') {
    const all = await plan.source.estimateRows(whole, null);
    const behind = p.checkpoint === null ? 0 : Number(p.checkpoint);
    return all === null || !Number.isFinite(behind) ? null : p.rowsLoaded + Math.max(0, all - behind);
  }
  const after = p.checkpoint === null ? null : decodeCheckpoint(p.checkpoint, plan.keyed.key.length);
  const remaining = await plan.source.estimateRows(plan.keyed, after);
  return remaining === null ? null : p.rowsLoaded + remaining;
}
