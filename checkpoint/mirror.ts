// DMS_PRCLOG.PARAM1 mirrors the checkpoint that DMS_CHKPNT holds in the target: inside each
// batch's transaction where the target is the metadata database (saveCheckpoint,
// activities/target-writes.ts), else right after each commit, one update at a time. The
// target's row is the truth; PARAM1 is what users query.
import type { CheckpointRow } from './row';

/**
 * Mirrors committed states into DMS_PRCLOG right after each commit, without holding up the
 * next batch: one update at a time, the newest state waiting (an older one it replaces is
 * never written), so PARAM1 never moves backwards. flush() waits for the last one and
 * reports the first failure (the activity then fails and its retry mirrors again).
 */
export function mirrorQueue<State>(write: (state: State) => Promise<void>) {
  let waiting: State | null = null;
  let running: Promise<void> | null = null;
  let failure: unknown;
  const drain = async () => {
    while (waiting) {
      const state = waiting;
      waiting = null;
      try {
        await write(state);
      } catch (err) {
        failure ??= err;
      }
    }
    running = null;
  };
  return {
    push(state: State) {
      waiting = state;
      running ??= drain();
    },
    async flush() {
      await running;
      if (failure) throw failure;
    },
  };
}

/**
 * What an unfinished run's PARAM1 says about the checkpoint row. PARAM1 is written with the
 * batch count it belongs to, so a PARAM1 behind the row has a smaller BATCHCNT (the worker
 * died between a commit and its mirror): that is the mirror lagging, and the row is the truth.
 * NULL where the row has a key is the earlier implementation's "clear checkpoint" runbook (or
 * `dms checkpoint reset` to the start): load from the start. Any other value was set by hand.
 */
export function readParam1(
  run: { param1: string | null; batchcnt: number },
  row: Pick<CheckpointRow, 'checkpoint' | 'batches'>,
): 'mirror' | 'cleared' | 'edited' {
  if (run.param1 === row.checkpoint) return 'mirror';
  if (run.param1 === null) return run.batchcnt > 0 && row.checkpoint !== null ? 'cleared' : 'mirror';
  return run.batchcnt < row.batches ? 'mirror' : 'edited';
}
