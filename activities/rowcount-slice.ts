// ROWCOUNT batches: one ordered read of the source serves a whole slice; each batch takes the
// next BULKLMT rows and commits their count with a digest of the last one, which the next
// attempt checks to see that the source kept its order.
import { createHash } from 'node:crypto';
import { ownedRow, sameState, stateOf, type CheckpointRow } from '../checkpoint';
import { ConfigError } from '../common/errors';
import { ChunkSizer, CHUNK_BYTES, rowBytes } from '../dialects/chunks';
import { rowText, type OrderedRows, type RowBatch, type RowValue, type TargetTransaction } from '../dialects';
import { alreadyCommitted, committed } from './batch-result';
import type { JobPlan } from '../plan/job-plan';
import type { Live } from './live';
import { batchBudget, wideRowAlone, type BatchPlace, type RunContext } from './run-context';
import { rejectsFor, type Quarantine } from './rejects';
import { chunkRowsOf, INSIDE_SLICE, writeRows, saveCheckpoint } from './target-writes';
import type { BatchInput, BatchResult, BatchState } from './types';

/** A digest of a row's text values: kept in DMS_CHKPNT only, never in Temporal. */
export function digestRow(row: RowValue[]): string {
  // Over the values' text, bytes in their hex form: one row, one digest, however it was read.
  return createHash('md5')
    .update(JSON.stringify(rowText(row)))
    .digest('hex');
}

/** ROWCOUNT slices are this many times longer: each one skips the committed rows again. */
const ROWCOUNT_SLICES = 20;

/**
 * ROWCOUNT's ordered rows read and loaded decoded, where the dialect has no mover for them (or
 * REJECTLMT is set): `write` loads a batch's rows into the transaction.
 */
async function decodedRows(
  p: JobPlan,
  offset: number,
  write: (tx: TargetTransaction, rows: AsyncIterable<RowBatch>) => Promise<unknown>,
): Promise<OrderedRows> {
  const cursor = await p.source.openOrdered(p.spec.srcquery, p.keyed.key, offset);
  // A chunk holds about CHUNK_BYTES of text, however wide the rows (the first read is one row).
  const sizer = new ChunkSizer(chunkRowsOf(p), CHUNK_BYTES);
  /** Rows read past the end of the last batch (its byte budget ended it): the next batch's first. */
  let unread: RowValue[][] = [];
  /** The cursor gave fewer rows than asked for: it has no more. */
  let ended = false;
  const read = async (wanted: number): Promise<RowValue[][]> => {
    if (unread.length > 0) return unread.splice(0, wanted);
    const rows = await cursor.read(wanted);
    ended = rows.length < wanted;
    sizer.saw(rows);
    return rows;
  };
  return {
    next: async () => (await read(1))[0] ?? null,
    async moveInto(tx, limit, _onChunk, maxBytes = Infinity) {
      let taken = 0;
      let bytes = 0;
      let full = false;
      let last: RowValue[] | null = null;
      /** The batch's rows, read from the cursor a chunk at a time (memory holds one chunk). */
      async function* batchRows(): AsyncIterable<RowBatch> {
        while (taken < limit && !full) {
          const wanted = Math.min(sizer.next(), limit - taken);
          let rows = await read(wanted);
          // The byte budget ends the batch at the row that reaches it; the rest wait for the next.
          for (let i = 0; i < rows.length; i++) {
            bytes += rowBytes(rows[i]);
            if (bytes >= maxBytes) {
              full = true;
              unread = rows.slice(i + 1).concat(unread);
              rows = rows.slice(0, i + 1);
              break;
            }
          }
          taken += rows.length;
          if (rows.length > 0) {
            last = rows[rows.length - 1];
            yield { columns: p.columns, rows };
          }
          if (rows.length === 0 || (ended && unread.length === 0)) return;
        }
      }
      await write(tx, batchRows());
      return { rows: taken, last, full };
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
  const write = async (tx: TargetTransaction, rows: AsyncIterable<RowBatch>) =>
    quarantine ? quarantine.settle(await quarantine.load(rows)) : writeRows(p, tx, rows, live);
  const source = p.orderedMover ? await p.orderedMover.open(offset) : await decodedRows(p, offset, write);
  try {
    if (row.rows > 0) {
      const previous = await source.next();
      if (!previous || digestRow(previous) !== row.lastRow) {
        throw new ConfigError(
          input.mapref,
          'SRCQUERY',
          `returned different rows since this run began: row ${row.rows}, the last one loaded, is no longer in its place, so counting rows would skip or repeat some`,
          `load from the start with \`dms run ${input.mapref} --from-start\` after emptying the target, or use KEY with a key column`,
        );
      }
    }
    // Each slice skips the committed rows once more, so ROWCOUNT's slices are longer.
    const deadline = Date.now() + Math.min(ctx.sliceMs * ROWCOUNT_SLICES, ctx.deps.settings.batchTimeoutMs / 2);
    const limit = input.maxBatches ?? 1;
    const budget = batchBudget(ctx, p.spec);
    let loaded = 0;
    let batchesDone = 0;
    for (;;) {
      const at = { ...first, batch: row.batches + 1 };
      const expected = stateOf(row);
      let moved = 0;
      /** The batch ended at its byte budget, with fewer than BULKLMT rows. */
      let full = false;
      const next = await p.target.transaction(async (tx) => {
        const f = await fence(tx, expected);
        if (!f.current) return undefined; // another attempt of this run moved on: stop here
        quarantine =
          p.spec.rejectlmt > 0
            ? rejectsFor(p, tx, live, { prcid: input.prcid, batch: f.row.batches + 1 }, async () =>
                ctx.deps.faults?.('isolating', at),
              )
            : undefined;
        const batch = await source.moveInto(tx, p.spec.bulklmt, live.beatOrStop, budget.bytes);
        moved = batch.rows;
        full = batch.full === true;
        if (batch.rows === 0) return null; // the source ended with the last batch
        const n = batch.rows;
        const advanced: CheckpointRow = {
          ...f.row,
          checkpoint: String(f.row.rows + n),
          lastRow: digestRow(batch.last!),
          batches: f.row.batches + 1,
          rows: f.row.rows + n,
        };
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
      if (full && moved === 1) wideRowAlone(ctx, input.mapref, budget, next.batches);
      live.beat();
      const ended = moved < p.spec.bulklmt && !full;
      if (ended || batchesDone >= limit || Date.now() >= deadline) return committed(stateOf(row), loaded, ended);
    }
  } finally {
    await source.close();
  }
}
