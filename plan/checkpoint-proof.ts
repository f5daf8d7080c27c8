// A KEY checkpoint proves itself before it commits. The next batch (or a resume, a retry, a
// new slice) binds the checkpoint back into the source's key comparison; that binding must
// select the batch's last row (the key exists and compares equal to itself), and the rows the
// batch took must be exactly the rows the source counts between the batch's two bounds. A key
// whose text the source does not compare the way it sorts (a decimal cut to fewer digits, a
// float printed short, bytes bound as text, an ENUM that sorts by position and compares as
// text) fails one of the two, and the batch rolls back before its checkpoint moves, whatever
// the type and whichever path moved its rows. Checked on every batch, in the source, after the
// batch's read. A checkpoint no batch of this version proved (one a user gives to move it, one
// an older version wrote) proves itself where a read opens at it: it selects its own row.
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { readDatabaseError, redactedMessage, type KeyValue } from '../dialects';
import type { JobPlan } from './job-plan';

/** What the source says of a batch's bounds, bound the way the next read binds them. */
export interface RangeProof {
  /** Rows with after < key <= upTo. */
  rows: number;
  /** Of those, the rows with key = upTo: the batch's last row must be among them. */
  atUpTo: number;
}

/** Asks the source for the proof of one batch's range (one indexed count). */
export function rangeProof(
  p: Pick<JobPlan, 'source' | 'keyed'>,
  after: KeyValue | null,
  upTo: KeyValue,
): Promise<RangeProof> {
  return p.source.proveRange(p.keyed, after, upTo);
}

/** The problem a proof shows, or null when the checkpoint is proven. Pure. */
export function proofProblem(proof: RangeProof, taken: number, after: KeyValue | null, upTo: KeyValue): string | null {
  const from = after === null ? 'the start' : `key ${encodeCheckpoint(after)}`;
  if (proof.atUpTo < 1) {
    return `ended at key ${encodeCheckpoint(upTo)}, but that key, bound back into the source's comparison as the next batch binds it, selects no row after ${from} (the source does not compare the key's value equal to itself as the worker reads it, or sorts it one way and compares it another), so the next batch would not start after this one's last row`;
  }
  if (proof.rows !== taken) {
    return `took ${taken} rows, but the source counts ${proof.rows} between its bounds (after ${from} up to key ${encodeCheckpoint(upTo)}): the source sorts the key one way and compares it another, or rows in that range changed while the batch read them`;
  }
  return null;
}

/** What the source says of a checkpoint a read opens at (see openingProof). */
interface Opening {
  verdict: 'proven' | 'gone' | 'inexact';
  /** The greatest source key up to the checkpoint, as the worker reads keys. */
  upTo: KeyValue | null;
  /** Rows whose key the source compares equal to the checkpoint (unasked when proven). */
  equal: number;
  /** Why an inexact checkpoint is one, for a message. */
  why: string;
}

async function examine(p: Pick<JobPlan, 'source' | 'keyed'>, at: KeyValue): Promise<Opening> {
  const text = encodeCheckpoint(at);
  const upTo = await p.source.lastKey(p.keyed, null, at);
  if (upTo !== null && encodeCheckpoint(upTo) === text) return { verdict: 'proven', upTo, equal: 0, why: '' };
  const [equal, next] = await Promise.all([p.source.countKey(p.keyed, at), p.source.nthKey(p.keyed, at, 1)]);
  const twin = [upTo, next].find((k) => k !== null && encodeCheckpoint(k) === text);
  if (equal === 0 && !twin) return { verdict: 'gone', upTo, equal, why: '' };
  const selects =
    equal > 0
      ? `selects ${equal} row(s) whose key the worker reads as ${encodeCheckpoint(upTo!)}`
      : 'selects no row, though a source row has that key';
  const why = `bound back into the source's comparison the way the read binds it, ${selects}: the source does not compare the key's value as the worker reads it, so the read would not start right after the checkpoint's row`;
  return { verdict: 'inexact', upTo, equal, why };
}

/**
 * What a read opening at a checkpoint learns of it. 'proven': the greatest source key up to
 * the checkpoint, bound back the way the read binds it, is the checkpoint itself as the worker
 * reads keys (its row is there, and the source compares the key's value equal to itself).
 * 'gone': no source row has it, nor reads as it on either side of the bound (the row was
 * deleted since; the proof the checkpoint had when it was committed or moved to stands).
 * Otherwise the problem: the bound selects rows the worker reads as another key, or its own
 * row is there and the bound does not select it.
 */
export async function openingProof(
  p: Pick<JobPlan, 'source' | 'keyed'>,
  at: KeyValue,
): Promise<'proven' | 'gone' | string> {
  const opening = await examine(p, at);
  return opening.verdict === 'inexact'
    ? `opened at key ${encodeCheckpoint(at)}, which, ${opening.why}`
    : opening.verdict;
}

/**
 * A key a user gives to move a checkpoint to (signal resetCheckpoint, `dms checkpoint reset
 * --to`): its columns as the key's, the database's parse of each as the key column's type,
 * and the key of a source row, proven as a read opening at it proves it (the load goes on
 * after that row). Returns the key as the worker reads it. Throws ResetKeyError for the
 * caller to name its own field and fix.
 */
export async function checkedResetKey(p: Pick<JobPlan, 'source' | 'keyed'>, to: string): Promise<KeyValue> {
  let key: KeyValue;
  try {
    key = decodeCheckpoint(to, p.keyed.key.length);
    await p.source.nthKey(p.keyed, key, 1); // the database parses the values as the key's types
  } catch (err) {
    if (err instanceof CheckpointFormatError) throw new ResetKeyError(err.message);
    if (readDatabaseError(err)?.kind === 'data')
      throw new ResetKeyError(
        `is not a value of the key (${p.keyed.key.join(', ')}): ${redactedMessage(err as Error)}`,
      );
    throw err;
  }
  const opening = await examine(p, key);
  if (opening.verdict === 'proven') return key;
  if (opening.verdict === 'gone') {
    throw new ResetKeyError(
      `is the key of no source row (${p.keyed.key.join(', ')}): a checkpoint must select its own row, so that the source is seen to compare it as the worker reads it; give the key of the last row to keep (the load goes on after it)`,
    );
  }
  // A form of the key the source reads otherwise ('1.5' for a DECIMAL(9,2) key 1.50): the key
  // of the row it selects, as the worker reads it, if that one proves itself.
  const row = opening.upTo;
  if (row !== null && opening.equal > 0 && (await examine(p, row)).verdict === 'proven') return row;
  throw new ResetKeyError(`as a checkpoint, ${opening.why}`);
}

/** Why a key given to move a checkpoint to is refused (the caller names its field and fix). */
export class ResetKeyError extends Error {}
