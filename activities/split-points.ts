// Where a partitioned KEY load splits its key range (DMS_MAPR.PARTITIONS): at keys of rows,
// found in the source database itself, so that the ranges hold about equal numbers of rows
// whatever the key's distribution, and equal keys never straddle two ranges. Works on every
// dialect through the SourceDatabase interface (a count and the n-th key after a bound).
import type { KeyedQuery, KeyValue, SourceDatabase } from '../dialects';

export interface Split {
  /**
   * Ascending keys, at most partitions − 1. Range 1 runs from the start (or the `after` given)
   * up to and including points[0]; range k after points[k−2] up to and including points[k−1];
   * the last range after the last point, with no upper bound (rows that arrive during the run
   * above every key belong to it).
   */
  points: KeyValue[];
  /** The rows with a key after `after` when the split was made. */
  rows: number;
}

/**
 * Splits the rows after `after` into at most `partitions` ranges of about equal rows.
 *
 * The cost is one count of those rows, then per point a look-up of the n-th key after the
 * previous point and a count of the range it closes: together two more walks of the key's
 * order, through the key's index where it has one. No sort of the table, and nothing that
 * grows with the square of its rows.
 *
 * A point is the key of the row at the range's share, so a run of equal keys there joins that
 * range whole. Each next share is the rows still left divided by the ranges still to make, so a
 * long run of ties makes its range larger and the others smaller; a run longer than all the
 * rows left makes fewer ranges. No range is empty: a point that is the last key is dropped.
 */
export async function splitPoints(
  source: SourceDatabase,
  q: KeyedQuery,
  partitions: number,
  after: KeyValue | null = null,
): Promise<Split> {
  const rows = (await source.summarize(q, { after, upTo: null }, null)).rows;
  const points: KeyValue[] = [];
  /** Rows up to and including the last point. */
  let taken = 0;
  let from = after;
  for (let k = 1; k < partitions; k++) {
    const share = Math.ceil((rows - taken) / (partitions - k + 1));
    if (share < 1) break;
    const point = await source.nthKey(q, from, share);
    // Fewer rows than counted (deleted meanwhile): what is left is the last range.
    if (point === null) break;
    // Nothing after the point: a range after it would be empty.
    if ((await source.nthKey(q, point, 1)) === null) break;
    // The range's own count (its ties included): one more pass over the rows in all.
    taken += (await source.summarize(q, { after: from, upTo: point }, null)).rows;
    points.push(point);
    from = point;
  }
  return { points, rows };
}
