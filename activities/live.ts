// A batch activity's live state: what it has committed so far, heartbeated to Temporal (which
// shows it in `dms status` and the Web UI) and mirrored into DMS_PRCLOG as it goes.
import type { BatchState } from './types';
import type { WideGarbage } from './wide-garbage';

/** Runs fn with a heartbeat every second: long source queries (a sort, a count) must not look like a dead worker. */
export async function heartbeating<T>(beat: () => void, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(beat, 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** What a batch activity has committed so far, sent with each heartbeat. */
export interface Live {
  state: BatchState;
  /** A batch (or several, found committed) moved the state here: counted in the metrics, then kept. */
  committed(state: BatchState): void;
  beat(): void;
  /** Heartbeats, then stops the batch in flight (its transaction rolls back) if the run was cancelled. */
  beatOrStop(): void;
  /** Mirrors a committed state into DMS_PRCLOG (see mirrorQueue). */
  mirror(state: BatchState): void;
  /**
   * Bytes (as text) of the widest row this attempt has passed to the target, heartbeated: a
   * worker lost on every attempt (for want of memory, say) is named by it (workflows/worker-loss.ts).
   */
  widest: number;
  /** Where the rows' bytes are counted to collect wide values' garbage (absent: not counted). */
  garbage?: WideGarbage;
}
