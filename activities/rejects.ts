// DMS_MAPR.REJECTLMT: a batch whose rows the target refuses (a CHECK constraint, a value too
// long for its column, a NOT NULL, a duplicate key) loads the rows it can and quarantines the
// rest in the target's DMS_REJECT, in the batch's own transaction, so that the good rows, the
// rejected ones and the checkpoint commit together or not at all: a retry, a resume or a
// zombie attempt can never reject (or load) a row twice.
//
// Bad rows are found by bisection inside savepoints: a chunk that fails is rolled back to its
// savepoint and split in two, each half tried again, down to single rows. A bad row costs
// about log2(chunk) failed statements, not a reload of the batch per row.
import { ConfigError } from '../common/errors';
import { rowText, type RejectedRow, type RowBatch, type RowValue, type TargetTransaction } from '../dialects';
import { readDatabaseError, redactedMessage } from './failures';
import type { JobPlan } from '../plan/job-plan';
import type { Live } from './live';
import { writeRows } from './target-writes';

/**
 * Whether the target refused the data rather than the statement, as the dialect of the target
 * reads its error: a value (too long, out of range, malformed) or a constraint (CHECK, NOT NULL,
 * unique, foreign key). A missing table, lost privileges or a full disk are other kinds, and
 * never a reject.
 */
export function isRowError(err: unknown): boolean {
  const kind = readDatabaseError(err)?.kind;
  return kind === 'data' || kind === 'constraint';
}

/** The run went over its REJECTLMT: it fails, and what it committed stays. */
function rejectLimitError(p: JobPlan, prcid: number, rejected: number): ConfigError {
  const { mapref, rejectlmt } = p.spec;
  return new ConfigError(
    mapref,
    'REJECTLMT',
    `is ${rejectlmt}, and run ${prcid} would reject ${rejected} rows: the batch that went over rolled back, and the batches committed before it stay`,
    `see the rejected rows with \`dms rejects ${mapref} --run ${prcid}\`, correct the source or the target table, or raise REJECTLMT and run \`dms job sync ${mapref}\` and \`dms run ${mapref}\`, which resumes`,
  );
}

async function* one(batch: RowBatch): AsyncIterable<RowBatch> {
  yield batch;
}

/** The row quarantined: its key, the error and its values, for DMS_REJECT only. */
function rejectOf(
  p: JobPlan,
  where: { prcid: number; batch: number },
  columns: string[],
  values: RowValue[],
  err: unknown,
): RejectedRow {
  const row = rowText(values);
  const reading = readDatabaseError(err);
  const keyAt = p.keyed.key.map((k) => columns.indexOf(k));
  return {
    mapref: p.spec.mapref,
    prcid: where.prcid,
    batch: where.batch,
    key: keyAt.length > 0 && keyAt.every((i) => i >= 0) ? JSON.stringify(keyAt.map((i) => row[i])) : null,
    code: reading?.code ?? null,
    message: redactedMessage(err),
    column: reading?.column ?? null,
    values: JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, row[i]]))),
  };
}

/**
 * Loads streamed rows as writeRows does, each chunk inside a savepoint; a chunk the target
 * refuses for its data is bisected down to the rows it refuses, which are returned (not
 * written: the caller checks the limit first). Any other error fails the batch as before.
 */
export async function loadIsolating(
  p: JobPlan,
  tx: TargetTransaction,
  chunks: AsyncIterable<RowBatch>,
  live: Live,
  where: { prcid: number; batch: number },
  onReject?: () => Promise<void>,
): Promise<{ loaded: number; rejected: RejectedRow[] }> {
  const withSavepoint = tx.withSavepoint!.bind(tx);
  const rejected: RejectedRow[] = [];
  let loaded = 0;
  const attempt = async (batch: RowBatch): Promise<void> => {
    try {
      loaded += await withSavepoint(() => writeRows(p, tx, one(batch), live));
    } catch (err) {
      if (!isRowError(err)) throw err;
      if (batch.rows.length === 1) {
        rejected.push(rejectOf(p, where, batch.columns, batch.rows[0], err));
        await onReject?.();
        return;
      }
      const half = Math.ceil(batch.rows.length / 2);
      await attempt({ ...batch, rows: batch.rows.slice(0, half) });
      await attempt({ ...batch, rows: batch.rows.slice(half) });
    }
  };
  for await (const chunk of chunks) {
    if (chunk.rows.length > 0) await attempt(chunk);
    live.beatOrStop();
  }
  return { loaded, rejected };
}

/** What a mover returns when the target refused a row of its range (which then goes through the worker). */
export const REFUSED = Symbol('refused');

/** One batch's way of loading with REJECTLMT in mind (when it is 0, everything is as before). */
export interface Quarantine {
  /** Rows this batch put in DMS_REJECT (counted once its transaction has committed). */
  rejected: number;
  /** Runs a mover; with REJECTLMT, inside a savepoint, REFUSED when the target refused a row. */
  mover<T>(fn: () => Promise<T>): Promise<T | typeof REFUSED>;
  /** Loads streamed rows, isolating the bad ones with REJECTLMT. */
  load(chunks: AsyncIterable<RowBatch>): Promise<{ loaded: number; rejected: RejectedRow[] }>;
  /** Checks the run's limit and writes the rejected rows; returns the rows loaded and taken (loaded and rejected). */
  settle(result: { loaded: number; rejected: RejectedRow[] }): Promise<{ loaded: number; taken: number }>;
}

/** `onReject` runs after each row found bad, before the batch commits (a test's fault point). */
export function rejectsFor(
  p: JobPlan,
  tx: TargetTransaction,
  live: Live,
  where: { prcid: number; batch: number; range?: boolean },
  onReject?: () => Promise<void>,
): Quarantine {
  const on = p.spec.rejectlmt > 0;
  const q: Quarantine = {
    rejected: 0,
    async mover(fn) {
      if (!on) return fn();
      try {
        return await tx.withSavepoint!(fn);
      } catch (err) {
        if (isRowError(err)) return REFUSED;
        throw err;
      }
    },
    async load(chunks) {
      if (!on) return { loaded: await writeRows(p, tx, chunks, live), rejected: [] };
      return loadIsolating(p, tx, chunks, live, where, onReject);
    },
    async settle(result) {
      if (result.rejected.length > 0) {
        // A key range's batch takes the run's own checkpoint row too, until it commits: ranges
        // that reject at once then count one after the other, and never pass the limit together.
        if (where.range) await tx.lockCheckpoint(p.schema, p.spec.mapref);
        const total = (await tx.countRejects!(p.schema, p.spec.mapref, where.prcid)) + result.rejected.length;
        if (total > p.spec.rejectlmt) throw rejectLimitError(p, where.prcid, total);
        await tx.reject!(p.schema, result.rejected);
        q.rejected += result.rejected.length;
      }
      return { loaded: result.loaded, taken: result.loaded + result.rejected.length };
    },
  };
  return q;
}
