// The SDK runtime a worker installs before anything else: its logger (DMS_LOG_FORMAT) and,
// with DMS_METRICS_ADDRESS, the Prometheus exporter of its metrics (worker/metrics.ts).
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { WorkerEnv } from '../common/env';
import { prometheusExporter } from './metrics';

/** One log entry as one line of JSON: time, level, message, then its fields. */
export function jsonLine(entry: LogEntry): string {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entry.meta ?? {})) {
    fields[name] = value instanceof Error ? value.message : typeof value === 'bigint' ? value.toString() : value;
  }
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level.toLowerCase(), message: entry.message, ...fields });
}

export function installRuntime(env: Pick<WorkerEnv, 'DMS_LOG_FORMAT' | 'DMS_METRICS_ADDRESS'>): Runtime {
  return Runtime.install({
    ...(env.DMS_LOG_FORMAT === 'json'
      ? { logger: new DefaultLogger('INFO', (entry) => process.stdout.write(`${jsonLine(entry)}\n`)) }
      : {}),
    ...(env.DMS_METRICS_ADDRESS ? { telemetryOptions: { metrics: prometheusExporter(env.DMS_METRICS_ADDRESS) } } : {}),
  });
}
