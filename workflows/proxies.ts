// The activity stubs of dms-etl's workflows: short control steps, and batch activities
// (heartbeats, a cancel that waits for the rollback, the run's retry settings).
import { ActivityCancellationType, proxyActivities, type ActivityFunctionWithOptions } from '@temporalio/workflow';
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import type { DmsActivities } from '../activities';
import type { RunSettings } from '../activities/types';
// Pure data, no I/O: safe in the workflow bundle.
import { NON_RETRYABLE_TYPES } from '../common/errors';

/** Retries of the activities that start, prepare and end a run. */
export const CONTROL_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  maximumInterval: '30 seconds',
  maximumAttempts: 20,
  nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
};

export const control = proxyActivities<DmsActivities>({ startToCloseTimeout: '2 minutes', retry: CONTROL_RETRY });

export function batchActivities(settings: RunSettings) {
  return proxyActivities<DmsActivities>(batchOptions(settings));
}

/** The batch activities' options (with a summary added at a call, for the Web UI). */
function batchOptions(settings: RunSettings): ActivityOptions {
  return {
    startToCloseTimeout: settings.batchTimeoutMs,
    heartbeatTimeout: settings.heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: settings.retry.initialIntervalMs,
      maximumInterval: settings.retry.maximumIntervalMs,
      backoffCoefficient: settings.retry.backoffCoefficient,
      maximumAttempts: settings.retry.maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
    },
  };
}

/**
 * Calls a batch activity, with a summary for the Web UI's event timeline when one is given
 * (runs under the patch ACTIVITY_SUMMARIES_PATCH; null keeps the call as histories before it
 * recorded it).
 */
export function summarized<A extends unknown[], R>(
  activity: ActivityFunctionWithOptions<(...args: A) => Promise<R>>,
  settings: RunSettings,
  summary: string | null,
  ...args: A
): Promise<R> {
  return summary === null
    ? activity(...args)
    : activity.executeWithOptions({ ...batchOptions(settings), summary }, args);
}
