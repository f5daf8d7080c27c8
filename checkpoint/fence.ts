// The fence of every batch: in the batch's own target transaction, the locked checkpoint row
// must still belong to the run and epoch that the attempt was started for. A run's end, or a
// new run's takeover, moves the epoch on, so an attempt that wakes late writes nothing.
import { OwnershipLostError } from '../common/errors';
import type { CheckpointRow } from './row';

/** The fence of every batch: the locked checkpoint row must still belong to this run and epoch. */
export function ownedRow(
  row: CheckpointRow | undefined,
  input: { mapref: string; prcid: number; epoch: number },
): CheckpointRow {
  if (!row || row.prcid !== input.prcid || row.epoch !== input.epoch) {
    const holder = row
      ? `the checkpoint row now belongs to run ${row.prcid}, epoch ${row.epoch}`
      : 'the checkpoint row is gone';
    throw new OwnershipLostError(input.mapref, input.prcid, holder);
  }
  return row;
}

/**
 * The epoch a row moves to whenever its owner changes (a run's takeover, a reset outside a run)
 * or a run ends: every attempt started for the epoch before then fails ownedRow and writes
 * nothing. 1 for a row not yet made.
 */
export function nextEpoch(row: Pick<CheckpointRow, 'epoch'> | undefined): number {
  return (row?.epoch ?? 0) + 1;
}
