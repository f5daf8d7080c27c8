// The key ranges of a partitioned run (DMS_MAPR.PARTITIONS > 1), taken in the pre-flight's
// target transaction: split afresh after the run's start, or, on a resume (and on a retry of
// the pre-flight), taken over as the run being resumed left them, so that a split is never
// computed twice for one load and a complete range is never read again.
import {
  decodeCheckpoint,
  decodeRangeMeta,
  encodeCheckpoint,
  encodeRangeMeta,
  encodeSplitMeta,
  partitionRowKey,
  splitOf,
  stateOf,
  type CheckpointRow,
} from '../checkpoint';
import { ConfigError } from '../common/errors';
import type { TargetTransaction } from '../dialects';
import type { JobPlan } from '../plan/job-plan';
import { splitPoints } from './split-points';
import type { RangeState } from './types';

/**
 * Writes the run's key ranges into DMS_CHKPNT inside tx, fenced by `run`'s prcid and epoch,
 * and records their number in `run` (its LASTROW), which the caller then writes. With
 * from.keep, the ranges of the row's earlier owner are taken over with their checkpoints;
 * otherwise (or where that owner did not split) the rows after run.checkpoint are split at
 * `points`, found before the row was locked (splitAfter), or else here.
 */
export async function takeRanges(
  p: JobPlan,
  tx: TargetTransaction,
  run: CheckpointRow,
  from: { owner: CheckpointRow | undefined; keep: boolean },
  points?: string[][],
): Promise<RangeState[]> {
  const { mapref } = p.spec;
  const taken = from.keep ? splitOf(from.owner) : undefined;
  const ranges: RangeState[] = [];
  if (taken !== undefined && from.owner) {
    let after = run.checkpoint;
    for (let k = 1; k <= taken; k++) {
      const key = partitionRowKey(mapref, k);
      const row = await tx.lockCheckpoint(p.schema, key);
      const meta = row && row.prcid === from.owner.prcid ? decodeRangeMeta(row.lastRow) : undefined;
      if (!row || !meta) {
        throw new ConfigError(
          mapref,
          'DMS_CHKPNT',
          `has ${row ? `a row ${key} that run ${from.owner.prcid} does not own` : `no row ${key}`}, though run ${from.owner.prcid} loaded the mapping in ${taken} key ranges; resuming could load a range twice or not at all`,
          `restore the row, or empty the target table and load from the start with \`dms run ${mapref} --from-start\``,
        );
      }
      if (row.prcid !== run.prcid || row.epoch !== run.epoch)
        await tx.writeCheckpoint(p.schema, { ...row, prcid: run.prcid, epoch: run.epoch });
      ranges.push({ k, after, upTo: meta.upTo, state: stateOf(row), done: meta.done });
      after = meta.upTo;
    }
    run.lastRow = encodeSplitMeta(taken);
    return ranges;
  }
  const bounds = [...(points ?? (await splitAfter(p, run.checkpoint))).map(encodeCheckpoint), null];
  let after = run.checkpoint;
  for (const [i, upTo] of bounds.entries()) {
    const k = i + 1;
    const row: CheckpointRow = {
      mapref: partitionRowKey(mapref, k),
      prcid: run.prcid,
      epoch: run.epoch,
      jobid: run.jobid,
      keyColumns: run.keyColumns,
      checkpoint: after,
      lastRow: encodeRangeMeta({ upTo, done: false }),
      batches: 0,
      rows: 0,
    };
    await tx.writeCheckpoint(p.schema, row);
    ranges.push({ k, after, upTo, state: stateOf(row), done: false });
    after = upTo;
  }
  run.lastRow = encodeSplitMeta(ranges.length);
  return ranges;
}

/** The keys that split the rows after `start` (a checkpoint, null: the start) into PARTITIONS ranges. */
export async function splitAfter(p: JobPlan, start: string | null): Promise<string[][]> {
  const after = start === null ? null : decodeCheckpoint(start, p.keyed.key.length);
  return (await splitPoints(p.source, p.keyed, p.spec.partitions, after)).points;
}

/**
 * Fences the range rows of the row's earlier owner from range `from` on (all of them when
 * the new run does not split, those past its ranges when it splits into fewer): each moves to
 * the new run and epoch, marked complete, so that an attempt of the earlier run still in
 * flight anywhere finds its range taken and writes nothing.
 */
export async function retireRanges(
  p: Pick<JobPlan, 'schema' | 'spec'>,
  tx: TargetTransaction,
  owner: CheckpointRow | undefined,
  run: CheckpointRow,
  from: number,
): Promise<void> {
  const split = splitOf(owner) ?? 0;
  for (let k = from; k <= split; k++) {
    const row = await tx.lockCheckpoint(p.schema, partitionRowKey(p.spec.mapref, k));
    if (!row || (row.prcid === run.prcid && row.epoch === run.epoch)) continue;
    const meta = decodeRangeMeta(row.lastRow);
    await tx.writeCheckpoint(p.schema, {
      ...row,
      prcid: run.prcid,
      epoch: run.epoch,
      lastRow: encodeRangeMeta({ upTo: meta?.upTo ?? null, done: true }),
    });
  }
}

/** The range rows of a partitioned run that owns `run` (its LASTROW says how many), locked in tx. */
export async function lockRanges(
  p: Pick<JobPlan, 'schema'>,
  tx: TargetTransaction,
  run: CheckpointRow,
): Promise<CheckpointRow[]> {
  const rows: CheckpointRow[] = [];
  const split = splitOf(run) ?? 0;
  for (let k = 1; k <= split; k++) {
    const row = await tx.lockCheckpoint(p.schema, partitionRowKey(run.mapref, k));
    if (row && row.prcid === run.prcid) rows.push(row);
  }
  return rows;
}
