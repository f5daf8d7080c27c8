// Starts a dms-etl worker: reads and checks its environment, opens the metadata database
// and Temporal, serves task queue dms-etl until SIGINT/SIGTERM, then closes every pool.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type FaultHook } from '../activities';
import { DatabaseRegistry } from '../plan/databases';
import type { RunSettings } from '../activities/types';
import { devDir, withDevStack } from '../common/dev-stack-file';
import { readEnv, WorkerEnv } from '../common/env';
import { EnvError } from '../common/errors';
import { checkBundle, dataConverterFrom } from '../common/payload-codec';
import { connectClient, temporalConnectError, temporalTarget } from '../common/temporal-config';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { openMetadata } from '../metadata/open-metadata';
import { meteredWith } from '../activities/metrics';
import { activityLogFields } from './log-fields';
import { watchRuns } from './metrics';
import { installRuntime } from './runtime';
import { catchStrayErrors } from './stray-errors';

/** The workflows' log fields (workflows/log-fields.ts), a module of the workflow bundle. */
export const WORKFLOW_LOG_FIELDS = require.resolve('../workflows/log-fields');

function settingsFrom(env: WorkerEnv): RunSettings {
  return {
    batchesPerExecution: env.DMS_BATCHES_PER_EXECUTION,
    sliceMs: env.DMS_ACTIVITY_SLICE_MS,
    batchTimeoutMs: env.DMS_BATCH_TIMEOUT_MS,
    heartbeatTimeoutMs: env.DMS_HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialIntervalMs: env.DMS_RETRY_INITIAL_INTERVAL_MS,
      maximumIntervalMs: env.DMS_RETRY_MAX_INTERVAL_MS,
      backoffCoefficient: env.DMS_RETRY_BACKOFF,
      maximumAttempts: env.DMS_RETRY_MAX_ATTEMPTS,
    },
  };
}

export interface WorkerExtras {
  /** Test-only fault points; `dms worker` never sets them. */
  faults?: FaultHook;
  /** Called once the worker polls its task queue. */
  onReady?: () => void;
}

export async function runWorker(extras: WorkerExtras = {}): Promise<void> {
  // Without DMS_METADATA_URL, a running dev stack's (`npm run dev`), as every dms command.
  const fromDevStack = process.env.DMS_METADATA_URL === undefined;
  const env = readEnv(WorkerEnv, withDevStack(process.env));
  const temporal = temporalTarget();
  // DMS_PAYLOAD_KEYS: every payload sealed (common/payload-codec.ts); a prebuilt bundle must agree.
  const dataConverter = dataConverterFrom();
  const bundleCode = env.DMS_WORKFLOW_BUNDLE ? readBundle(env.DMS_WORKFLOW_BUNDLE) : undefined;
  if (bundleCode !== undefined) checkBundle(bundleCode, dataConverter !== undefined, env.DMS_WORKFLOW_BUNDLE!);
  // Before any connection: the runtime's logger and metrics exporter are fixed at install.
  const runtime = installRuntime(env);
  // The worker's own lines: on stdout as they always were, or as JSON lines like every other.
  const say =
    env.DMS_LOG_FORMAT === 'json' ? (line: string) => runtime.logger.info(line) : (line: string) => console.log(line);
  // A driver's stray error (an unheard 'error' event, an unhandled rejection) is logged and
  // counted, and the worker goes on: every other load on it with it.
  const stray = catchStrayErrors(say, env.DMS_METRICS_ADDRESS ? runtime.metricMeter : undefined);
  const metadata = await openMetadata(env);
  const stopWatching = env.DMS_METRICS_ADDRESS ? watchRuns(runtime.metricMeter, metadata) : () => undefined;
  // A batch holds a target session and reads the source on one or two: room for every batch at once.
  const databases = new DatabaseRegistry({
    lockTimeoutMs: env.DMS_LOCK_TIMEOUT_MS,
    poolSize: Math.max(4, 2 * env.DMS_MAX_CONCURRENT_BATCHES),
  });
  let clientConnection: Connection | undefined;
  let connection: NativeConnection | undefined;
  try {
    clientConnection = await connectClient(temporal);
    connection = await NativeConnection.connect(temporal.options).catch(async (err: unknown) => {
      throw await temporalConnectError(temporal, err);
    });
    const client = new Client({ connection: clientConnection, namespace: temporal.namespace, dataConverter });
    await checkSearchAttributes(clientConnection, temporal.namespace);
    const activities = createActivities({
      metadata,
      databases,
      settings: settingsFrom(env),
      batchBytes: env.DMS_BATCH_BYTES,
      faults: extras.faults,
      ...(env.DMS_METRICS_ADDRESS ? { metrics: meteredWith(runtime.metricMeter) } : {}),
      async isWorkflowRunning(workflowId, firstRunId) {
        try {
          const description = await client.workflow.getHandle(workflowId).describe();
          if (description.status.name !== 'RUNNING') return false;
          const chainStart = description.raw.workflowExecutionInfo?.firstRunId;
          return !firstRunId || !chainStart || chainStart === firstRunId;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        }
      },
    });
    const options: WorkerOptions = {
      connection,
      namespace: temporal.namespace,
      taskQueue: env.DMS_TASK_QUEUE,
      activities,
      // A prebuilt bundle (`npm run bundle`) spares each worker webpack's time and memory.
      ...(bundleCode !== undefined
        ? { workflowBundle: { code: bundleCode } }
        : { workflowsPath: require.resolve('../workflows') }),
      ...(dataConverter ? { dataConverter } : {}),
      // A batch activity learns of a cancel from a heartbeat's answer: ask at least this often.
      maxHeartbeatThrottleInterval: '500 ms',
      // Every activity of dms-etl is a batch or a short control step against the databases.
      maxConcurrentActivityTaskExecutions: env.DMS_MAX_CONCURRENT_BATCHES,
      // Each log line names its mapping, run, range and batch (a prebuilt bundle has the workflows' part built in).
      interceptors: { activity: [activityLogFields], workflowModules: [WORKFLOW_LOG_FIELDS] },
    };
    const worker = await Worker.create(options);
    say(
      `dms worker: polling task queue ${env.DMS_TASK_QUEUE} on ${temporal.describe} (namespace ${temporal.namespace})`,
    );
    if (fromDevStack)
      say(`dms worker: on the dev stack that ${devDir()}/dev.json names (metadata ${env.DMS_METADATA_URL})`);
    if (env.DMS_METRICS_ADDRESS) say(`dms worker: Prometheus metrics at http://${env.DMS_METRICS_ADDRESS}/metrics`);
    extras.onReady?.();
    // The SDK's runtime shuts the worker down gracefully on SIGINT and SIGTERM: activities
    // in flight are cancelled (their transactions roll back), then run() resolves.
    await worker.run();
    say('dms worker: stopped');
  } finally {
    stopWatching();
    stray.remove();
    await databases.close();
    await metadata.close();
    await connection?.close();
    await clientConnection?.close();
  }
}

function readBundle(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvError(
      `Cannot read DMS_WORKFLOW_BUNDLE (${file}): ${(err as Error).message}. Fix: build it with \`npm run bundle\`, or unset DMS_WORKFLOW_BUNDLE`,
    );
  }
}

/** A workflow cannot upsert a search attribute the namespace lacks: say so before serving. */
async function checkSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter(({ name }) => !customAttributes || !(name in customAttributes));
  if (missing.length === 0) return;
  const commands = missing.map(
    ({ name, type }) =>
      `  temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`,
  );
  throw new EnvError(
    `Namespace ${namespace} lacks the search attributes ${missing.map((m) => m.name).join(', ')}, which dms-etl sets on every run. Create them once:\n${commands.join('\n')}`,
  );
}
