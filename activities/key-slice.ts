// KEY (and NONE, and CHKPNTNULLS FIRST's NULL-key phase) batches: each one fenced in its own
// target transaction, from the locked checkpoint to the key of its BULKLMT-th row, checked
// for its count and, at the run's end, for rows that arrived meanwhile.
import { Context } from '@temporalio/activity';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint, ownedRow, sameState, saveCheckpoint, stateOf, type CheckpointRow } from '../checkpoint';
import { BatchCountError, ConfigError } from '../common/errors';
import { alreadyCommitted, committed } from './batch-result';
import type { JobPlan } from './job-plan';
import type { Live } from './live';
import type { BatchPlace, RunContext } from './run-context';
import { chunkRowsOf, INSIDE_SLICE, writeRows } from './target-writes';
import type { BatchInput, BatchResult, BatchState } from './types';
import type { KeyValue, RowBatch } from '../dialects';
import { prime, type Primed } from './read-ahead';

/**
 * KEY (and NONE) batch after batch, each in its own fenced transaction, until the source
 * ends, the slice's time is up or the workflow's budget of batches is spent.
 */
export async function keySlice(ctx: RunContext, input: BatchInput, p: JobPlan, at: BatchPlace, live: Live): Promise<BatchResult> {
  const deadline = Date.now() + ctx.sliceMs;
  const limit = input.maxBatches ?? 1;
  const lookahead = newLookahead();
  try {
    let result = await keyBatch(ctx, input, p, input.expected, at, live, lookahead);
    let loaded = result.rowsInBatch;
    let tie = { rows: result.tieRun, batch: result.state.batches };
    for (let n = 1; !result.done && !result.alreadyCommitted && n < limit && Date.now() < deadline; n++) {
      live.beatOrStop();
      const next = await keyBatch(ctx, input, p, result.state, { ...at, batch: result.state.batches + 1 }, live, lookahead);
      // Another attempt of this run moved the checkpoint on: report where it is now.
      if (next.alreadyCommitted) return { ...next, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
      result = next;
      loaded += next.rowsInBatch;
      if (next.tieRun > tie.rows) tie = { rows: next.tieRun, batch: next.state.batches };
    }
    return { ...result, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
  } finally {
    await closeLookahead(lookahead);
  }
}

/**
 * The next batch, asked of the source while the batch before it loads: its upper key (on a
 * session of its own), then the read of its rows, started (primed: activities/read-ahead.ts)
 * so that the source runs the query and sends the first rows while the batch before is still
 * being written and committed. The round trips and the source's work overlap the load
 * instead of following it.
 *
 * Only a batch that starts exactly where the asking batch ended (the checkpoint it committed)
 * uses them; any other batch asks afresh. The key and the rows are what asking at that moment
 * would give: as before, the upper key and the rows were never read in one snapshot (the
 * batch's count check covers that). Every read primed in a slice is closed when the slice
 * ends, read or not, so that none holds a source session.
 */
export interface Lookahead {
  next: { after: string; key: Promise<KeyValue | null>; rows: Promise<Primed<RowBatch> | null> } | null;
  /** Every read primed (or about to be) in this slice, to close at its end. */
  primed: Promise<Primed<RowBatch> | null>[];
  closed: boolean;
}

export function newLookahead(): Lookahead {
  return { next: null, primed: [], closed: false };
}

const NOTHING_PRIMED: Promise<Primed<RowBatch> | null> = Promise.resolve(null);

/** The batch's upper key, and the read of its rows when one was primed for exactly it. */
export function upperKey(p: JobPlan, after: KeyValue | null, checkpoint: string | null, lookahead: Lookahead | undefined): { key: Promise<KeyValue | null>; rows: Promise<Primed<RowBatch> | null> } {
  const ahead = lookahead?.next;
  if (lookahead) lookahead.next = null;
  if (ahead && ahead.after === checkpoint) return { key: ahead.key, rows: ahead.rows };
  return { key: p.source.nthKey(p.keyed, after, p.spec.bulklmt), rows: NOTHING_PRIMED };
}

/** Asks for the batch after `upTo`: its upper key, then (given chunkRows) the read of its rows. */
export function askAhead(p: JobPlan, upTo: KeyValue, lookahead: Lookahead | undefined, chunkRows?: number): void {
  if (!lookahead || lookahead.closed) return;
  const key = p.source.nthKey(p.keyed, upTo, p.spec.bulklmt);
  // An answer no batch waits for (the slice ended, the batch failed) must not crash the worker.
  key.catch(() => undefined);
  const rows =
    chunkRows === undefined
      ? NOTHING_PRIMED
      : key.then(
          (next) => (next === null || lookahead.closed ? null : prime(p.source.readRange(p.keyed, upTo, next, chunkRows))),
          () => null,
        );
  lookahead.primed.push(rows);
  lookahead.next = { after: encodeCheckpoint(upTo), key, rows };
}

/** Ends every primed read nobody took (each releases its session). */
export async function closeLookahead(lookahead: Lookahead): Promise<void> {
  lookahead.closed = true;
  lookahead.next = null;
  await Promise.all(lookahead.primed.map(async (rows) => (await rows)?.close()));
}

/**
 * One KEY (or NONE, or NULL-key phase) batch, fenced: in one target transaction, lock the
 * checkpoint row, check that this run still owns it and that it holds the expected state,
 * read the next rows after the checkpoint, load them, advance the checkpoint; then mirror
 * it into DMS_PRCLOG.
 */
export async function keyBatch(
  ctx: RunContext,
  input: BatchInput,
  p: JobPlan,
  expected: BatchState,
  at: BatchPlace,
  live: Live,
  lookahead?: Lookahead,
): Promise<BatchResult> {
  await ctx.deps.faults?.('beforeLock', at);
  const result = await p.target.transaction(async (tx): Promise<BatchResult> => {
    const row = ownedRow(await tx.lockCheckpoint(p.schema, input.mapref), input);
    if (!sameState(row, expected)) {
      // An earlier attempt committed this batch before its completion reached Temporal.
      return alreadyCommitted(stateOf(row));
    }
    if (row.keyColumns !== JSON.stringify(p.keyed.key)) {
      // The checkpoint was taken over another key (the source's unique keys changed since).
      ctx.plans.delete(input.jobid);
      throw new ConfigError(input.mapref, 'CHKPNTCOLUMN', `now orders the source by ${JSON.stringify(p.keyed.key)}, but the run's checkpoint is over ${row.keyColumns}`, `restore the source's unique key, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``);
    }
    const chunkRows = chunkRowsOf(p);
    if (p.strategy === 'NONE') {
      // The whole load in this one transaction: a retry after a crash starts clean.
      if (row.batches > 0) return committed(stateOf(row), 0, true);
      const n = await writeRows(p, tx, p.source.readAll(p.spec.srcquery, chunkRows), live);
      const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
      await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
      await ctx.deps.faults?.('beforeCommit', at);
      live.beatOrStop();
      return committed(stateOf(next), n, true);
    }
    if (p.spec.chkpntnulls === 'FIRST' && row.batches === 0) {
      // Phase one: the rows no keyset can select, all in this one transaction.
      const n = await writeRows(p, tx, p.source.readNullKeys({ query: p.spec.srcquery, key: p.userKey }, chunkRows), live);
      const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
      await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
      live.beatOrStop();
      return committed(stateOf(next), n, false);
    }
    let after: string[] | null = null;
    try {
      after = row.checkpoint === null ? null : decodeCheckpoint(row.checkpoint, p.keyed.key.length);
    } catch (err) {
      if (!(err instanceof CheckpointFormatError)) throw err;
      throw new ConfigError(input.mapref, 'DMS_CHKPNT', err.message, `correct the checkpoint, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``);
    }
    // The batch ends at the key of its BULKLMT-th row, inclusive: rows sharing that key
    // travel together, so a non-unique key never splits (and never loses) a run of ties.
    let upTo: string[] | null;
    let last: boolean;
    let n: number;
    if (p.mover?.moveNext) {
      // The mover finds the upper key itself, on the target's own connection.
      const moved = await p.mover.moveNext(tx, after, p.spec.bulklmt);
      if (moved === null) return committed(stateOf(row), 0, true);
      ({ upTo, rows: n } = moved);
      last = !moved.more;
    } else {
      const upper = upperKey(p, after, row.checkpoint, lookahead);
      upTo = await upper.key;
      last = upTo === null;
      upTo ??= await p.source.lastKey(p.keyed, after);
      if (upTo === null) return committed(stateOf(row), 0, true);
      if (!last) askAhead(p, upTo, lookahead, p.mover ? undefined : chunkRows);
      live.beatOrStop();
      if (p.mover) n = await p.mover.move(tx, after, upTo, live.beatOrStop);
      else n = await writeRows(p, tx, (await upper.rows) ?? p.source.readRange(p.keyed, after, upTo, chunkRows), live);
    }
    // A range up to the BULKLMT-th key holds at least BULKLMT rows; the last range holds at
    // least its upper key's row. A batch that moved fewer rolls back.
    const least = last ? 1 : p.spec.bulklmt;
    if (n < least) throw new BatchCountError(input.mapref, row.batches + 1, n, least, row.checkpoint, encodeCheckpoint(upTo));
    // The run's end: one indexed look for rows after the final key (they arrived during the
    // run); found, the run goes on and loads them before it completes.
    if (last) await ctx.deps.faults?.('beforeEndCheck', at);
    if (last && (await p.source.nthKey(p.keyed, upTo, 1)) !== null) {
      last = false;
      Context.current().log.info(`Mapping ${input.mapref}: rows arrived after key ${encodeCheckpoint(upTo)} during the run; loading them before the run completes`);
    }
    const tieRun = n > p.spec.bulklmt ? await p.source.countKey(p.keyed, upTo) : 0;
    const next: CheckpointRow = { ...row, checkpoint: encodeCheckpoint(upTo), batches: row.batches + 1, rows: row.rows + n };
    await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
    await ctx.deps.faults?.('beforeCommit', at);
    live.beatOrStop();
    return committed(stateOf(next), n, last, tieRun);
  }, INSIDE_SLICE);
  live.state = result.state;
  await ctx.deps.faults?.('afterCommit', at);
  // Also after an already committed batch: its attempt may have died before mirroring it.
  if (!p.sharesMetadata) live.mirror(result.state);
  return result;
}
