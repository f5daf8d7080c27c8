// A KEY checkpoint proves itself before it commits. The next batch (or a resume, a retry, a
// new slice) binds the checkpoint back into the source's key comparison; that binding must
// select the batch's last row (the key exists and compares equal to itself), and the rows the
// batch took must be exactly the rows the source counts between the batch's two bounds. A key
// whose text the source does not compare the way it sorts (a decimal cut to fewer digits, a
// float printed short, bytes bound as text, an ENUM that sorts by position and compares as
// text) fails one of the two, and the batch rolls back before its checkpoint moves, whatever
// the type and whichever path moved its rows. Checked on every batch, in the source, after the
// batch's read.
import { encodeCheckpoint } from '../checkpoint';
import type { KeyValue } from '../dialects';
import type { JobPlan } from './job-plan';

/** What the source says of a batch's bounds, bound the way the next read binds them. */
export interface RangeProof {
  /** Rows with after < key <= upTo. */
  rows: number;
  /** Of those, the rows with key = upTo: the batch's last row must be among them. */
  atUpTo: number;
}

/** Asks the source for the proof of one batch's range (one indexed count). */
export function rangeProof(p: Pick<JobPlan, 'source' | 'keyed'>, after: KeyValue | null, upTo: KeyValue): Promise<RangeProof> {
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
