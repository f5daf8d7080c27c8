// The patch ids of dms-etl's workflows that more than one workflow checks (each is part of
// every history recorded since its version).

/** Batch activities carry a summary of where their slice starts, for the Web UI (0.6.0). */
export const ACTIVITY_SUMMARIES_PATCH = 'activity-summaries';
