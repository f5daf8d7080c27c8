// A batch whose worker stopped answering on every attempt: the activity's retries (at most
// DMS_RETRY_MAX_ATTEMPTS) end in a heartbeat timeout, whose message alone ("activity Heartbeat
// timeout") tells a user nothing. A worker killed for want of memory ends this way (the kernel's
// OOM killer, V8's heap limit), so the run fails with what its last heartbeat said: the batch,
// the widest row the worker had read and its byte budget, and the settings to change.
// Pure: the workflow bundle uses it.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { grouped } from './details';

/** What a batch activity's heartbeat carries besides its committed state (activities/run-batch.ts). */
export interface HeartbeatExtras {
  checkpoint?: string | null;
  batches?: number;
  /** Bytes (as text) of the widest row the attempt had read. */
  widestRow?: number;
  /** The batch's byte budget, and the setting it came from (activities/run-context.ts, batchBudget). */
  batchBytes?: number;
  budgetSetting?: string;
}

/** The message for a run whose batch lost its worker on every attempt, or null for any other error. */
export function workerLossMessage(err: unknown, mapref: string): string | null {
  const timeout = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(timeout instanceof TimeoutFailure) || timeout.timeoutType !== 'HEARTBEAT') return null;
  const beat = (timeout.lastHeartbeatDetails ?? {}) as HeartbeatExtras;
  const after = typeof beat.checkpoint === 'string' ? `after checkpoint ${beat.checkpoint}` : 'from the start';
  // As the last heartbeat said: batches the worker committed after it are in the target, and the run resumes after them.
  const batch =
    typeof beat.batches === 'number'
      ? `batch ${beat.batches + 1} (the rows ${after}, as its last heartbeat said)`
      : 'a batch';
  const widest =
    typeof beat.widestRow === 'number' && beat.widestRow > 0
      ? `the widest row it had loaded was ${grouped(beat.widestRow)} bytes${typeof beat.batchBytes === 'number' ? ` (${beat.budgetSetting ?? 'DMS_BATCH_BYTES'} ${grouped(beat.batchBytes)})` : ''}`
      : 'it had loaded no row yet';
  return (
    `Mapping ${mapref}: the worker running ${batch} stopped answering (heartbeat timeout) on every attempt; a worker killed for want of memory ends this way, and ${widest}. ` +
    `Give the worker more memory, or lower DMS_BATCH_BYTES on the worker, or BATCHBYTES or BULKLMT on mapping ${mapref}; the run resumes at its last committed batch`
  );
}

/** err, or in its place a non-retryable failure that says what a lost worker means (workerLossMessage). */
export function explainedFailure(err: unknown, mapref: string): unknown {
  const message = workerLossMessage(err, mapref);
  return message === null ? err : ApplicationFailure.create({ message, type: 'WorkerLostError', nonRetryable: true });
}
