// DMS_METRICS_ADDRESS: the SDK runtime's Prometheus exporter serves /metrics there, with the
// SDK's own worker metrics and dms-etl's (activities/metrics.ts), all recorded through the
// runtime's metric meter. Gauges about runs come from DMS_PRCLOG, read every few seconds, so
// that every worker reports the same values whichever of them ran the load, and a restart
// loses nothing.
import type { MetricMeter } from '@temporalio/common';
import type { Metadata } from '../metadata/repository';

/** The exporter's settings: Prometheus's conventions (counters end in _total, durations in seconds). */
export function prometheusExporter(bindAddress: string) {
  return {
    prometheus: {
      bindAddress,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { dms_batch_duration: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] },
    },
  };
}

/**
 * Sets the run gauges from DMS_PRCLOG now and every `everyMs`; returns the function that stops.
 * A failed read (the metadata database away) leaves the gauges as they were.
 */
export function watchRuns(
  meter: MetricMeter,
  metadata: Pick<Metadata, 'runGauges'>,
  everyMs = 5_000,
  now = () => Date.now(),
): () => void {
  const active = meter.createGauge(
    'dms_active_runs',
    'int',
    'runs',
    'Runs of the mapping in progress (DMS_PRCLOG status IP)',
  );
  const last = meter.createGauge(
    'dms_last_completed_run_timestamp',
    'float',
    's',
    'When the mapping last completed a run (Unix seconds)',
  );
  const since = meter.createGauge(
    'dms_seconds_since_last_completed_run',
    'float',
    's',
    'Seconds since the mapping last completed a run, as of the last read of DMS_PRCLOG',
  );
  const read = async () => {
    for (const g of await metadata.runGauges()) {
      active.set(g.active, { mapref: g.mapref });
      if (g.lastCompleted) {
        last.set(g.lastCompleted.getTime() / 1000, { mapref: g.mapref });
        since.set(Math.max(0, (now() - g.lastCompleted.getTime()) / 1000), { mapref: g.mapref });
      }
    }
  };
  const tick = () => void read().catch(() => undefined);
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
