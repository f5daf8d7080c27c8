// ROWCOUNT batches: one ordered read of the source serves a whole slice; each batch takes the
// next BULKLMT rows and commits their count with a digest of the last one, which the next
// attempt checks to see that the source kept its order.
import { createHash } from 'node:crypto';
import { ownedRow, sameState, saveCheckpoint, stateOf, type CheckpointRow } from '../checkpoint';
import { ConfigError } from '../common/errors';
import { rowText, type OrderedRows, type RowBatch, type RowValue, type TargetTransaction } from '../dialects';
import { alreadyCommitted, committed } from './batch-result';
import type { JobPlan } from './job-plan';
import type { Live } from './live';
import type { BatchPlace, RunContext } from './run-context';
import { rejectsFor, type Quarantine } from './rejects';
import { chunkRowsOf, INSIDE_SLICE, writeRows } from './target-writes';
import type { BatchInput, BatchResult, BatchState } from './types';

/** A digest of a row's text values: kept in DMS_CHKPNT only, never in Temporal. */
export function digestRow(row: RowValue[]): string {
  // Over the values' text, bytes in their hex form: one row, one digest, however it was read.
  return createHash('md5').update(JSON.stringify(rowText(row))).digest('hex');
}

/** ROWCOUNT slices are this many times longer: each one skips the committed rows again. */
const ROWCOUNT_SLICES = 20;

/**
 * ROWCOUNT's ordered rows read and loaded decoded, where the dialect has no mover for them (or
 * REJECTLMT is set): `write` loads a batch's rows into the transaction.
 */
async function decodedRows(p: JobPlan, offset: number, write: (tx: TargetTransaction, rows: AsyncIterable<RowBatch>) => Promise<unknown>): Promise<OrderedRows> {
  const cursor = await p.source.openOrdered(p.spec.srcquery, p.keyed.key, offset);
  const chunkRows = chunkRowsOf(p);
  return {
    next: async () => (await cursor.read(1))[0] ?? null,
    async moveInto(tx, limit) {
      let taken = 0;
      let last: RowValue[] | null = null;
      /** The batch's rows, read from the cursor a chunk at a time (memory holds one chunk). */
      async function* batchRows(): AsyncIterable<RowBatch> {
        while (taken < limit) {
          const wanted = Math.min(chunkRows, limit - taken);
          const rows = await cursor.read(wanted);
          taken += rows.length;
          if (rows.length > 0) {
            last = rows[rows.length - 1];
            yield { columns: p.columns, rows };
          }
          if (rows.length < wanted) return;
        }
      }
      await write(tx, batchRows());
      return { rows: taken, last };
    },
    close: () => cursor.close(),
  };
}

/**
 * ROWCOUNT: one ordered cursor serves many batches. The attempt skips the committed rows
 * once, in the database, checks that the last loaded row is still the one before them,
 * then commits batch after batch (each with its count and the digest of its last row)
 * until the source ends or the time slice is used up.
 */
export async function rowcountSlice(
  ctx: RunContext,
  input: BatchInput,
  p: JobPlan,
  first: BatchPlace,
  live: Live,
): Promise<BatchResult> {
  const fence = async (tx: TargetTransaction, expected: BatchState) => {
    const row = ownedRow(await tx.lockCheckpoint(p.schema, input.mapref), input);
    return { row, current: sameState(row, expected) };
  };
  const start = await p.target.transaction((tx) => fence(tx, input.expected));
  if (!start.current) return alreadyCommitted(stateOf(start.row));
  let row = start.row;
  const offset = Math.max(0, row.rows - 1);
  // REJECTLMT: each batch's quarantine (rows the target refuses go to DMS_REJECT, and still
  // count as taken: the checkpoint is the number of source rows behind it).
  let quarantine: Quarantine | undefined;
  const write = async (tx: TargetTransaction, rows: AsyncIterable<RowBatch>) => (quarantine ? quarantine.settle(await quarantine.load(rows)) : writeRows(p, tx, rows, live));
  const source = p.orderedMover ? await p.orderedMover.open(offset) : await decodedRows(p, offset, write);
  try {
    if (row.rows > 0) {
      const previous = await source.next();
      if (!previous || digestRow(previous) !== row.lastRow) {
        throw new ConfigError(input.mapref, 'SRCQUERY', `returned different rows since this run began: row ${row.rows}, the last one loaded, is no longer in its place, so counting rows would skip or repeat some`, `load from the start with \`dms run ${input.mapref} --from-start\` after emptying the target, or use KEY with a key column`);
      }
    }
    // Each slice skips the committed rows once more, so ROWCOUNT's slices are longer.
    const deadline = Date.now() + Math.min(ctx.sliceMs * ROWCOUNT_SLICES, ctx.deps.settings.batchTimeoutMs / 2);
    const limit = input.maxBatches ?? 1;
    let loaded = 0;
    let batchesDone = 0;
    for (;;) {
      const at = { ...first, batch: row.batches + 1 };
      const expected = stateOf(row);
      let moved = 0;
      const next = await p.target.transaction(async (tx) => {
        const f = await fence(tx, expected);
        if (!f.current) return undefined; // another attempt of this run moved on: stop here
        quarantine = p.spec.rejectlmt > 0 ? rejectsFor(p, tx, live, { prcid: input.prcid, batch: f.row.batches + 1 }, async () => ctx.deps.faults?.('isolating', at)) : undefined;
        const batch = await source.moveInto(tx, p.spec.bulklmt, live.beatOrStop);
        moved = batch.rows;
        if (batch.rows === 0) return null; // the source ended with the last batch
        const n = batch.rows;
        const advanced: CheckpointRow = { ...f.row, checkpoint: String(f.row.rows + n), lastRow: digestRow(batch.last!), batches: f.row.batches + 1, rows: f.row.rows + n };
        await saveCheckpoint(ctx.metadata, p, input.prcid, tx, advanced);
        await ctx.deps.faults?.('beforeCommit', at);
        live.beatOrStop();
        return advanced;
      }, INSIDE_SLICE);
      if (next === undefined) return alreadyCommitted(expected, loaded);
      if (next === null) return committed(expected, loaded, true);
      await ctx.deps.faults?.('afterCommit', at);
      if (!p.sharesMetadata) live.mirror(stateOf(next));
      row = next;
      live.committed(stateOf(next));
      if (quarantine?.rejected) ctx.deps.metrics?.rowsRejected(input.mapref, quarantine.rejected);
      loaded += moved;
      batchesDone += 1;
      live.beat();
      const ended = moved < p.spec.bulklmt;
      if (ended || batchesDone >= limit || Date.now() >= deadline) return committed(stateOf(row), loaded, ended);
    }
  } finally {
    await source.close();
  }
}
