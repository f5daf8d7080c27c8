// Every patch id the workflows use, in the order they were added. Each is in the histories of
// the runs made since its version: an id is never renamed or removed while such a run may be
// replayed (test/unit/replay.test.ts replays the recorded ones).

/** prepareRun commits the first slice of batches too (0.3.0). */
export const FIRST_SLICE_IN_PREFLIGHT = 'first-slice-in-preflight';

/** A run takes signals pause and resume (0.4.0). */
export const PAUSE_RESUME = 'pause-resume';

/** Batch activities carry a summary for the Web UI (0.6.0); dmsJob and dmsPartition both. */
export const ACTIVITY_SUMMARIES_PATCH = 'activity-summaries';
