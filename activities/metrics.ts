// dms-etl's own metrics, recorded through the Temporal SDK's metric meter: with
// DMS_METRICS_ADDRESS set, the runtime's Prometheus exporter serves them at /metrics beside the
// SDK's worker metrics (worker/metrics.ts). Labels are mapping names and error classes only,
// never a value.
import type { MetricMeter } from '@temporalio/common';

export interface DmsMetrics {
  /** A batch committed `rows` rows, `seconds` after the one before it (or its slice's start). */
  batchCommitted(mapref: string, rows: number, seconds: number): void;
  /** An attempt failed with an error Temporal will retry, of this class (TransientError, UnexpectedError, …). */
  attemptFailed(mapref: string, errorClass: string): void;
  /** A committed batch put `rows` rows into DMS_REJECT (REJECTLMT). */
  rowsRejected(mapref: string, rows: number): void;
  /** A row wider than DMS_BATCH_BYTES loaded alone in its batch. */
  wideRowAlone(mapref: string): void;
}

export const NO_METRICS: DmsMetrics = {
  batchCommitted: () => undefined,
  attemptFailed: () => undefined,
  rowsRejected: () => undefined,
  wideRowAlone: () => undefined,
};

export function meteredWith(meter: MetricMeter): DmsMetrics {
  const rows = meter.createCounter('dms_rows_loaded', 'rows', 'Rows committed into targets');
  const batches = meter.createCounter(
    'dms_batches_committed',
    'batches',
    'Batches committed, each with its checkpoint',
  );
  const seconds = meter.createHistogram(
    'dms_batch_duration',
    'float',
    's',
    'Seconds from one committed batch (or the start of its slice) to the commit of the next',
  );
  const retries = meter.createCounter(
    'dms_attempt_retries',
    'attempts',
    'Batch attempts failed with an error that is retried, by error class',
  );
  const rejected = meter.createCounter(
    'dms_rows_rejected',
    'rows',
    'Rows committed into DMS_REJECT instead of the target (REJECTLMT)',
  );
  const wide = meter.createCounter(
    'dms_wide_rows_alone',
    'rows',
    'Rows wider than DMS_BATCH_BYTES, each loaded alone in its batch',
  );
  return {
    batchCommitted(mapref, n, s) {
      rows.add(n, { mapref });
      batches.add(1, { mapref });
      seconds.record(s, { mapref });
    },
    attemptFailed(mapref, errorClass) {
      retries.add(1, { mapref, error_class: errorClass });
    },
    rowsRejected(mapref, n) {
      rejected.add(n, { mapref });
    },
    wideRowAlone(mapref) {
      wide.add(1, { mapref });
    },
  };
}
