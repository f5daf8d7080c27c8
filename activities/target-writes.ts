// How a batch writes into the target: its rows as LOADMODE says, read a bounded chunk at a
// time, in a transaction whose commit may wait for the slice's end to become durable.
import { stateOf, type CheckpointRow } from '../checkpoint';
import type { RowBatch, TargetTransaction } from '../dialects';
import { rowBytes } from '../dialects/chunks';
import type { Metadata } from '../metadata/repository';
import type { JobPlan } from '../plan/job-plan';
import type { Live } from './live';

/** Loads streamed rows as LOADMODE says: appended (COPY) or merged on TRGKEYCOLS. */
export function writeRows(
  p: JobPlan,
  tx: TargetTransaction,
  rows: AsyncIterable<RowBatch>,
  live: Live,
): Promise<number> {
  const noted = notingWidest(rows, live);
  return p.upsertKey
    ? tx.upsert(p.schema, p.table, p.columns, p.upsertKey, noted, live.beatOrStop)
    : tx.load(p.schema, p.table, p.columns, noted, live.beatOrStop);
}

/**
 * The rows as they pass, the widest of them noted in live.widest (the next heartbeat carries
 * it), and each counted towards the next collection of wide values' garbage (wide-garbage.ts).
 */
async function* notingWidest(rows: AsyncIterable<RowBatch>, live: Live): AsyncGenerator<RowBatch> {
  for await (const chunk of rows) {
    for (const row of chunk.rows) {
      const bytes = rowBytes(row);
      if (bytes > live.widest) live.widest = bytes;
      live.garbage?.passed(bytes);
    }
    yield chunk;
  }
}

/**
 * The batches of a slice commit without waiting for the disk, and the slice's end makes them
 * all durable at once (flushCommits) before the workflow hears of them. A crash of the target
 * database in between takes back whole batches, rows and checkpoint together; the next
 * attempt finds the checkpoint there and goes on from it, so nothing is lost or doubled.
 */
export const INSIDE_SLICE = { flushLater: true };

/** Rows a streamed read holds in memory at once. */
export function chunkRowsOf(p: JobPlan): number {
  return Math.min(p.spec.bulklmt, 2000);
}

/** Advances the checkpoint, and PARAM1 with it where the target is the metadata database. */
export async function saveCheckpoint(
  metadata: Metadata,
  p: Pick<JobPlan, 'schema' | 'sharesMetadata'>,
  prcid: number,
  tx: TargetTransaction,
  next: CheckpointRow,
): Promise<void> {
  await tx.writeCheckpoint(p.schema, next);
  if (p.sharesMetadata) {
    const mirror = await metadata.mirrorStatement(prcid, stateOf(next));
    await tx.execute(mirror.sql, mirror.values);
  }
}
