// KEY (and NONE, and CHKPNTNULLS FIRST's NULL-key phase) batches: each one fenced in its own
// target transaction, from the locked checkpoint to the key of its BULKLMT-th row, checked
// for its count and, at the run's end, for rows that arrived meanwhile.
import { Context } from '@temporalio/activity';
import {
  CheckpointFormatError,
  decodeCheckpoint,
  decodeRangeMeta,
  encodeCheckpoint,
  encodeRangeMeta,
  ownedRow,
  partitionRowKey,
  sameState,
  stateOf,
  type CheckpointRow,
} from '../checkpoint';
import { BatchCountError, CheckpointProofError, ConfigError } from '../common/errors';
import { alreadyCommitted, committed } from './batch-result';
import { openingProof, proofProblem, rangeProof } from '../plan/checkpoint-proof';
import type { JobPlan } from '../plan/job-plan';
import type { Live } from './live';
import { batchBudget, wideRowAlone, type BatchPlace, type RunContext } from './run-context';
import { rejectsFor, REFUSED, type Quarantine } from './rejects';
import { chunkRowsOf, INSIDE_SLICE, saveCheckpoint } from './target-writes';
import type { BatchInput, BatchResult, BatchState } from './types';
import type { KeyCursor, KeyValue, RowBatch, TargetTransaction } from '../dialects';
import { rowBytes } from '../dialects/chunks';

/**
 * KEY (and NONE) batch after batch, each in its own fenced transaction, until the source
 * ends, the slice's time is up or the workflow's budget of batches is spent.
 */
export async function keySlice(
  ctx: RunContext,
  input: BatchInput,
  p: JobPlan,
  at: BatchPlace,
  live: Live,
): Promise<BatchResult> {
  const deadline = Date.now() + ctx.sliceMs;
  const limit = input.maxBatches ?? 1;
  const lookahead: Lookahead = { next: null, rows: ctx.rangeRows.get(input.mapref) };
  const reading: Reading = { cursor: null };
  try {
    let result = await keyBatch(ctx, input, p, input.expected, at, live, lookahead, reading, true);
    let loaded = result.rowsInBatch;
    let tie = { rows: result.tieRun, batch: result.state.batches };
    for (let n = 1; !result.done && !result.alreadyCommitted && n < limit && Date.now() < deadline; n++) {
      live.beatOrStop();
      const next = await keyBatch(
        ctx,
        input,
        p,
        result.state,
        { ...at, batch: result.state.batches + 1 },
        live,
        lookahead,
        reading,
      );
      // Another attempt of this run moved the checkpoint on: report where it is now.
      if (next.alreadyCommitted) return { ...next, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
      result = next;
      loaded += next.rowsInBatch;
      if (next.tieRun > tie.rows) tie = { rows: next.tieRun, batch: next.state.batches };
    }
    return { ...result, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
  } finally {
    await dropCursor(reading);
  }
}

/** The key's columns and their types, for messages. */
function keyDescription(p: JobPlan): string {
  return p.keyed.key.map((k, i) => `${k} (${p.keyTypes[i] ?? 'type unknown'})`).join(', ');
}

/**
 * A slice's key cursor (SourceDatabase.openKeyCursor): one read of the source, in key order
 * and in one snapshot, that the slice's batches take their rows from in turn, each ending at
 * the key of its last row. It serves a batch only where the last one it served ended, which
 * is the checkpoint that batch committed; any other batch (the first, one after a failure or
 * after another attempt) opens it afresh at its own checkpoint. A cursor that has no row left
 * is dropped unread: whether rows arrived since its snapshot is asked afresh.
 */
export interface Reading {
  cursor: { at: string | null; open: KeyCursor } | null;
  /** The source would sort the rows for a cursor (or has none): each batch reads its range. */
  unavailable?: boolean;
}

async function dropCursor(reading: Reading): Promise<void> {
  const open = reading.cursor?.open;
  reading.cursor = null;
  await open?.close();
}

/** The slice's cursor at `checkpoint`, opened there if need be; null: read the range instead. */
async function cursorAt(
  p: JobPlan,
  reading: Reading,
  checkpoint: string | null,
  after: KeyValue | null,
  bound: KeyValue | null,
  chunkRows: number,
): Promise<KeyCursor | null> {
  if (reading.cursor && reading.cursor.at !== checkpoint) await dropCursor(reading);
  if (!reading.cursor) {
    // Only where keys are thought unique (take() still keeps any repeated key whole).
    if (reading.unavailable || !p.unique || p.mover || !p.source.openKeyCursor) return null;
    const open = await p.source.openKeyCursor(p.keyed, after, bound, chunkRows);
    if (!open) {
      reading.unavailable = true;
      return null;
    }
    reading.cursor = { at: checkpoint, open };
  }
  if (await reading.cursor.open.ready()) return reading.cursor.open;
  await dropCursor(reading);
  return null;
}

/**
 * The next batch's upper key, asked of the source (on a session of its own) while the batch
 * before it loads, so that the round trip and the source's walk over BULKLMT keys overlap
 * the load instead of following it. It is used only by a batch that starts exactly where the
 * asking batch ended (the checkpoint it committed); any other batch asks afresh. The answer
 * is what asking at that moment would give: the two queries were never in one snapshot.
 */
export interface Lookahead {
  next: { after: string; rows: number; key: Promise<KeyValue | null> } | null;
  /** The rows a batch that reads a key range asks for: BULKLMT, or fewer where that many would not fit its byte budget (rangeRowsWithin). */
  rows?: number;
}

/** The rows the next key range holds (up to its last key's ties). */
const rangeRows = (p: JobPlan, lookahead: Lookahead | undefined) => lookahead?.rows ?? p.spec.bulklmt;

export function upperKey(
  p: JobPlan,
  after: KeyValue | null,
  checkpoint: string | null,
  lookahead: Lookahead | undefined,
  bound: KeyValue | null = null,
): Promise<KeyValue | null> {
  const rows = rangeRows(p, lookahead);
  const ahead = lookahead?.next;
  if (lookahead) lookahead.next = null;
  if (ahead && ahead.after === checkpoint && ahead.rows === rows) return ahead.key;
  return p.source.nthKey(p.keyed, after, rows, bound);
}

/** Asks for the key that ends the batch after `upTo` (within a key range's `bound`, if any). */
export function askAhead(
  p: JobPlan,
  upTo: KeyValue,
  lookahead: Lookahead | undefined,
  bound: KeyValue | null = null,
): void {
  if (!lookahead) return;
  const rows = rangeRows(p, lookahead);
  const key = p.source.nthKey(p.keyed, upTo, rows, bound);
  // An answer no batch waits for (the slice ended, the batch failed) must not crash the worker.
  key.catch(() => undefined);
  lookahead.next = { after: encodeCheckpoint(upTo), rows, key };
}

/**
 * The rows the next key range may hold so that its text stays within `budget` bytes, from the
 * last range's: `taken` rows of `bytes`. A range's end is a key asked for before its rows are
 * read, so its size is foreseen from the rows before it, not cut as it streams: about the budget,
 * never fewer than one row, never more than BULKLMT.
 */
export function rangeRowsWithin(budget: number, taken: number, bytes: number, bulklmt: number): number {
  if (taken === 0 || bytes === 0) return bulklmt;
  return Math.max(1, Math.min(bulklmt, Math.floor((budget * taken) / bytes)));
}

/** The rows of `chunks` as they pass, their text's bytes added up by `count`. */
async function* counted(chunks: AsyncIterable<RowBatch>, count: (bytes: number) => void): AsyncIterable<RowBatch> {
  for await (const chunk of chunks) {
    let bytes = 0;
    for (const row of chunk.rows) bytes += rowBytes(row);
    count(bytes);
    yield chunk;
  }
}

/** What one batch works with inside its transaction: its plan, its locked checkpoint row, its quarantine. */
interface InBatch {
  ctx: RunContext;
  input: BatchInput;
  p: JobPlan;
  tx: TargetTransaction;
  row: CheckpointRow;
  at: BatchPlace;
  live: Live;
  quarantine: Quarantine;
  chunkRows: number;
  budget: ReturnType<typeof batchBudget>;
  /** A key range's end, and whether the range is complete (partitioned runs). */
  meta: ReturnType<typeof decodeRangeMeta> | undefined;
}

/**
 * What a batch read and loaded: the key it ends at (inclusive), whether the source has no row
 * after it, the rows loaded and taken (loaded and rejected), whether it stopped at its byte
 * budget, and the rows its range holds at least.
 */
interface Read {
  upTo: KeyValue | null;
  last: boolean;
  n: number;
  taken: number;
  full: boolean;
  asked: number;
}

/**
 * One KEY (or NONE, or NULL-key phase) batch, fenced: in one target transaction, lock the
 * checkpoint row, check that this run still owns it and that it holds the expected state,
 * read the next rows after the checkpoint, load them, advance the checkpoint; then mirror
 * it into DMS_PRCLOG. A batch of a partitioned run does the same on its key range's row
 * (`<MAPREF>#p<k>`), and never reads past the range's end.
 */
export async function keyBatch(
  ctx: RunContext,
  input: BatchInput,
  p: JobPlan,
  expected: BatchState,
  at: BatchPlace,
  live: Live,
  lookahead?: Lookahead,
  reading?: Reading,
  opening = false,
): Promise<BatchResult> {
  await ctx.deps.faults?.('beforeLock', at);
  const range = input.partition;
  let quarantined: Quarantine | undefined;
  const result = await p.target.transaction(async (tx): Promise<BatchResult> => {
    const row = ownedRow(
      await tx.lockCheckpoint(p.schema, range ? partitionRowKey(input.mapref, range.k) : input.mapref),
      input,
    );
    if (!sameState(row, expected)) {
      // An earlier attempt committed this batch before its completion reached Temporal.
      return alreadyCommitted(stateOf(row));
    }
    refuseChangedKey(ctx, input, p, row);
    // REJECTLMT: rows the target refuses are quarantined in DMS_REJECT, in this transaction.
    const quarantine = (quarantined = rejectsFor(
      p,
      tx,
      live,
      { prcid: input.prcid, batch: row.batches + 1, range: range !== undefined },
      async () => ctx.deps.faults?.('isolating', at),
    ));
    const chunkRows = chunkRowsOf(p);
    const b: InBatch = {
      ctx,
      input,
      p,
      tx,
      row,
      at,
      live,
      quarantine,
      chunkRows,
      budget: batchBudget(ctx, p.spec),
      meta: rangeMetaOf(input, row),
    };
    // A complete range: nothing to read (a resume never reads it again).
    if (b.meta?.done) return committed(stateOf(row), 0, true);
    if (p.strategy === 'NONE' && !range) return loadWhole(b);
    if (p.spec.chkpntnulls === 'FIRST' && row.batches === 0 && !range) return loadNullKeys(b);
    const after = await openingAt(b, opening);
    /** The key range's last key: no batch of the range reads past it. */
    const bound = b.meta?.upTo ? decodeCheckpoint(b.meta.upTo, p.keyed.key.length) : null;
    // Three ways to read, the first that can: a mover that finds the upper key itself, on the
    // target's own connection; the slice's key cursor; the range up to the BULKLMT-th key.
    let read = await readByMover(b, after, bound);
    if (read === undefined) read = await readByCursor(b, after, bound, reading);
    if (read === undefined) read = await readRange(b, after, bound, lookahead);
    if (read?.full && read.taken === 1) wideRowAlone(ctx, input.mapref, b.budget, row.batches + 1);
    if (!read || read.upTo === null) return nothingLeft(b);
    return commitRead(b, after, { ...read, upTo: read.upTo }, bound);
  }, INSIDE_SLICE);
  live.committed(result.state);
  if (quarantined?.rejected) ctx.deps.metrics?.rowsRejected(input.mapref, quarantined.rejected);
  await ctx.deps.faults?.('afterCommit', at);
  // Also after an already committed batch: its attempt may have died before mirroring it.
  if (!p.sharesMetadata || range) live.mirror(result.state);
  return result;
}

/** The checkpoint was taken over another key (the source's unique keys changed since): the run stops. */
function refuseChangedKey(ctx: RunContext, input: BatchInput, p: JobPlan, row: CheckpointRow): void {
  if (row.keyColumns === JSON.stringify(p.keyed.key)) return;
  ctx.plans.delete(input.jobid);
  throw new ConfigError(
    input.mapref,
    'CHKPNTCOLUMN',
    `now orders the source by ${JSON.stringify(p.keyed.key)}, but the run's checkpoint is over ${row.keyColumns}`,
    `restore the source's unique key, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``,
  );
}

/** A key range's row says where the range ends; undefined for a run's own row. */
function rangeMetaOf(input: BatchInput, row: CheckpointRow): InBatch['meta'] {
  const range = input.partition;
  if (!range) return undefined;
  const meta = decodeRangeMeta(row.lastRow);
  if (meta) return meta;
  throw new ConfigError(
    input.mapref,
    'DMS_CHKPNT',
    `row ${partitionRowKey(input.mapref, range.k)} does not say where its key range ends (column lastrow was changed)`,
    `load from the start with \`dms run ${input.mapref} --from-start\``,
  );
}

/** NONE: the whole load in this one transaction; a retry after a crash starts clean. */
async function loadWhole(b: InBatch): Promise<BatchResult> {
  const { ctx, input, p, tx, row, quarantine } = b;
  if (row.batches > 0) return committed(stateOf(row), 0, true);
  const { loaded: n } = await quarantine.settle(await quarantine.load(p.source.readAll(p.spec.srcquery, b.chunkRows)));
  const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
  await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
  await ctx.deps.faults?.('beforeCommit', b.at);
  b.live.beatOrStop();
  return committed(stateOf(next), n, true);
}

/** CHKPNTNULLS FIRST's phase one: the rows no keyset can select, all in this one transaction. */
async function loadNullKeys(b: InBatch): Promise<BatchResult> {
  const { ctx, input, p, tx, row, quarantine } = b;
  const { loaded: n } = await quarantine.settle(
    await quarantine.load(p.source.readNullKeys({ query: p.spec.srcquery, key: p.userKey }, b.chunkRows)),
  );
  const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
  await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
  b.live.beatOrStop();
  return committed(stateOf(next), n, false);
}

/**
 * The key the batch reads after. A read opening at a checkpoint this slice did not commit (a
 * resume, a retry, a new slice, a range's start) proves it first: it selects its own row. One
 * no source row has is gone since, said and read after as the source compares it; one whose
 * row is there and does not compare equal to itself (an earlier version wrote it, unproven)
 * stops the run.
 */
async function openingAt(b: InBatch, opening: boolean): Promise<KeyValue | null> {
  const { input, p, row } = b;
  let after: KeyValue | null = null;
  try {
    after = row.checkpoint === null ? null : decodeCheckpoint(row.checkpoint, p.keyed.key.length);
  } catch (err) {
    if (!(err instanceof CheckpointFormatError)) throw err;
    throw new ConfigError(
      input.mapref,
      'DMS_CHKPNT',
      err.message,
      `correct the checkpoint, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``,
    );
  }
  const opened = opening && after !== null ? await openingProof(p, after) : 'proven';
  if (opened === 'gone') {
    Context.current().log.warn(
      `Mapping ${input.mapref}: no source row has the checkpoint key ${encodeCheckpoint(after!)} (${keyDescription(p)}) any more; the read goes on after it as the source compares it`,
    );
  } else if (opened !== 'proven')
    throw new CheckpointProofError(input.mapref, row.batches + 1, keyDescription(p), opened);
  return after;
}

/** Nothing left after the checkpoint: a range says so in its row, so that no later batch (or resume) reads it again. */
async function nothingLeft(b: InBatch): Promise<BatchResult> {
  const { meta, row } = b;
  if (meta)
    await b.tx.writeCheckpoint(b.p.schema, { ...row, lastRow: encodeRangeMeta({ upTo: meta.upTo, done: true }) });
  return committed(stateOf(row), 0, true);
}

/**
 * A mover that finds the batch's upper key itself, on the target's own connection (a range's
 * batches excepted). Null: nothing left; undefined: it cannot read this batch (none, or the
 * target refused a row of it under REJECTLMT).
 */
async function readByMover(
  b: InBatch,
  after: KeyValue | null,
  bound: KeyValue | null,
): Promise<Read | null | undefined> {
  const { p, quarantine } = b;
  if (!p.mover?.moveNext || bound !== null) return undefined;
  const next = await quarantine.mover(() => p.mover!.moveNext!(b.tx, after, p.spec.bulklmt));
  if (next === null) return null;
  if (next === REFUSED) return undefined;
  return { upTo: next.upTo, last: !next.more, n: next.rows, taken: next.rows, full: false, asked: p.spec.bulklmt };
}

/**
 * The slice's key cursor (Reading): BULKLMT rows, or fewer at the byte budget, each key's ties
 * kept whole. Undefined where the slice has no cursor at this checkpoint.
 */
async function readByCursor(
  b: InBatch,
  after: KeyValue | null,
  bound: KeyValue | null,
  reading: Reading | undefined,
): Promise<Read | undefined> {
  const { p, quarantine } = b;
  const cursor = reading ? await cursorAt(p, reading, b.row.checkpoint, after, bound, b.chunkRows) : null;
  if (!cursor) return undefined;
  const { loaded: n, taken } = await quarantine.settle(
    await quarantine.load(cursor.take(p.spec.bulklmt, b.budget.bytes)),
  );
  if (taken !== cursor.taken) throw new Error(`the batch took ${taken} of the ${cursor.taken} rows read for it`);
  const upTo = cursor.at;
  // Its snapshot has no row left: the run's end (rows that arrived since are looked for
  // below). A failure reading ahead belongs to the next batch's rows, not to this batch:
  // the cursor is dropped and the next batch reads its own range (and meets it there).
  const more = await cursor.ready().catch(() => null);
  if (more !== true) await dropCursor(reading!);
  else reading!.cursor!.at = encodeCheckpoint(upTo!);
  // Full at the byte budget with fewer than BULKLMT rows: its proof still counts its range.
  return { upTo, last: more === false, n, taken, full: cursor.full, asked: p.spec.bulklmt };
}

/**
 * The range after the checkpoint up to the key of its BULKLMT-th row (or fewer rows, as the
 * byte budget foresees), inclusive: rows sharing that key travel together, so a non-unique
 * key never splits (and never loses) a run of ties. The next range's key is asked for while
 * this one loads. Null: nothing left.
 */
async function readRange(
  b: InBatch,
  after: KeyValue | null,
  bound: KeyValue | null,
  lookahead: Lookahead | undefined,
): Promise<Read | null> {
  const { ctx, input, p, row, quarantine, budget, live } = b;
  const asked = rangeRows(p, lookahead);
  let upTo = await upperKey(p, after, row.checkpoint, lookahead, bound);
  const last = upTo === null;
  upTo ??= await p.source.lastKey(p.keyed, after, bound);
  if (upTo === null) return null;
  if (!last) askAhead(p, upTo, lookahead, bound);
  live.beatOrStop();
  const stop = upTo;
  const byMover = p.mover ? await quarantine.mover(() => p.mover!.move(b.tx, after, stop, live.beatOrStop)) : REFUSED;
  if (byMover !== REFUSED) return { upTo, last, n: byMover, taken: byMover, full: false, asked };
  let bytes = 0;
  const { loaded: n, taken } = await quarantine.settle(
    await quarantine.load(counted(p.source.readRange(p.keyed, after, stop, b.chunkRows), (c) => (bytes += c))),
  );
  // The next ranges hold about as many rows as fit the budget (the worker remembers it for the mapping).
  const rows = rangeRowsWithin(budget.bytes, taken, bytes, p.spec.bulklmt);
  if (bytes > budget.bytes) {
    if (taken === 1) wideRowAlone(ctx, input.mapref, budget, row.batches + 1);
    else
      Context.current().log.info(
        `Mapping ${input.mapref}: batch ${row.batches + 1}'s key range carried ${bytes} bytes in ${taken} rows, over ${budget.setting} (${budget.bytes} bytes): the next ranges hold about ${rows} rows`,
      );
  }
  if (lookahead) lookahead.rows = rows;
  ctx.rangeRows.set(input.mapref, rows);
  return { upTo, last, n, taken, full: false, asked };
}

/**
 * Advances the checkpoint to the read's last key, once it proves itself: bound back as the
 * next read binds it, it selects this batch's last row, after the batch's lower bound, and the
 * source counts exactly the rows taken up to it. Asked after the rows were read (a row that a
 * write put inside the range since is one the next batch would never read, and fails the
 * proof too), answered while the checkpoint row is written, and checked before the batch's
 * count: a key the source cannot compare as it sorts fails, never retried, rather than as a
 * short batch retried again and again.
 */
async function commitRead(
  b: InBatch,
  after: KeyValue | null,
  read: Read & { upTo: KeyValue },
  bound: KeyValue | null,
): Promise<BatchResult> {
  const { ctx, input, p, row, meta } = b;
  const { upTo, n, taken } = read;
  const proof = rangeProof(p, after, upTo);
  proof.catch(() => undefined);
  // A range up to the BULKLMT-th key (or the n-th, n the rows asked for) holds at least that
  // many rows; the last range holds at least its upper key's row. A batch that moved fewer rolls back.
  const least = read.last || read.full ? 1 : read.asked;
  // The run's end: one indexed look for rows after the final key (they arrived during the
  // run); found, the run goes on and loads them before it completes.
  let last = read.last;
  if (last) await ctx.deps.faults?.('beforeEndCheck', b.at);
  if (last && (await p.source.nthKey(p.keyed, upTo, 1, bound)) !== null) {
    last = false;
    Context.current().log.info(
      `Mapping ${input.mapref}: rows arrived after key ${encodeCheckpoint(upTo)} during the run; loading them before the run completes`,
    );
  }
  const tieRun = taken > p.spec.bulklmt ? await p.source.countKey(p.keyed, upTo) : 0;
  const next: CheckpointRow = {
    ...row,
    checkpoint: encodeCheckpoint(upTo),
    batches: row.batches + 1,
    rows: row.rows + n,
  };
  if (meta) next.lastRow = encodeRangeMeta({ upTo: meta.upTo, done: last });
  // A range's progress goes to DMS_PRCPART after the commit, never to the run's one
  // DMS_PRCLOG row inside it: ranges loading at once must not queue behind its lock.
  const range = input.partition;
  await saveCheckpoint(
    ctx.metadata,
    { schema: p.schema, sharesMetadata: p.sharesMetadata && !range },
    input.prcid,
    b.tx,
    next,
  );
  const problem = proofProblem(await proof, taken, after, upTo);
  if (problem !== null) throw new CheckpointProofError(input.mapref, row.batches + 1, keyDescription(p), problem);
  if (taken < least)
    throw new BatchCountError(input.mapref, row.batches + 1, taken, least, row.checkpoint, next.checkpoint!);
  await ctx.deps.faults?.('beforeCommit', b.at);
  b.live.beatOrStop();
  return committed(stateOf(next), n, last, tieRun);
}
