// How many rows a running load will have loaded when it ends, estimated from the source
// database's statistics (never by counting): what it has loaded, plus the source's estimate of
// the rows beyond its checkpoint. `dms run --wait` draws its bar against this; where no
// estimate can be had (the source unreachable from this terminal, a dialect that cannot tell)
// the display keeps its counts-and-rates line.
import { DatabaseRegistry } from '../activities/databases';
import { redactedMessage } from '../activities/failures';
import { planMapping, type JobPlan } from '../activities/job-plan';
import { decodeCheckpoint } from '../checkpoint/codec';
import type { Progress } from '../workflows';
import { withMetadata } from './connections';

/**
 * The run's estimated total, from its first progress reading `p` (the checkpoint and the rows
 * behind it at one moment) and the plan's source:
 *  - KEY: rows loaded plus the rows after the checkpoint;
 *  - ROWCOUNT: rows loaded plus every row of the query but the checkpoint's count;
 *  - NONE and partitioned runs: every row of the query.
 */
export async function estimateTotal(plan: Pick<JobPlan, 'strategy' | 'keyed' | 'source'>, p: Progress): Promise<number | null> {
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

/**
 * The mapping planned as a run plans it, then estimated; the reason as text when it cannot be
 * (with any value the database quoted taken out).
 */
export async function estimateRun(mapref: string, p: Progress): Promise<{ rows: number } | { reason: string }> {
  try {
    return await withMetadata(async (metadata) => {
      const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
      try {
        const plan = await planMapping(metadata, databases, await metadata.mapping(mapref));
        const rows = await estimateTotal(plan, p);
        return rows === null ? { reason: "the source's database gives no estimate for this query" } : { rows };
      } finally {
        await databases.close();
      }
    });
  } catch (err) {
    return { reason: redactedMessage(err as Error).split('\n')[0] };
  }
}
