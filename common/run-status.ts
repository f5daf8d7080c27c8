// A run's status, as DMS_PRCLOG.STATUS stores it (and DMS_PRCPART's ranges, and the DmsStatus
// search attribute): the two letters are the user's contract (users filter on them, in SQL and
// in the Web UI), so the code names them here once and says them by name everywhere else.
export const RunStatus = {
  /** In progress: running, paused, or waiting for a worker. */
  running: 'IP',
  /** Completed: every row loaded. */
  completed: 'PC',
  /** Failed: what it committed stays; the next run resumes from its checkpoint. */
  failed: 'FL',
  /** Cancelled, or a checkpoint reset recorded as a run that loaded nothing. */
  cancelled: 'CN',
} as const;

export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** How a run ends. */
export type EndStatus = Exclude<RunStatus, typeof RunStatus.running>;
