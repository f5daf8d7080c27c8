// Starts a dms-etl worker: reads and checks its environment, opens the metadata database
// and Temporal, serves task queue dms-etl until SIGINT/SIGTERM, then closes every pool.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type FaultHook } from '../activities';
import { DatabaseRegistry } from '../activities/databases';
import type { RunSettings } from '../activities/types';
import { readEnv, WorkerEnv } from '../common/env';
import { EnvError } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { openMetadata } from '../metadata/open-metadata';

export function settingsFrom(env: WorkerEnv): RunSettings {
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
  const env = readEnv(WorkerEnv);
  const metadata = await openMetadata(env);
  // A batch holds a target session and reads the source on one or two: room for every batch at once.
  const databases = new DatabaseRegistry({ lockTimeoutMs: env.DMS_LOCK_TIMEOUT_MS, poolSize: Math.max(4, 2 * env.DMS_MAX_CONCURRENT_BATCHES) });
  let clientConnection: Connection | undefined;
  let connection: NativeConnection | undefined;
  try {
    clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    const client = new Client({ connection: clientConnection, namespace: env.TEMPORAL_NAMESPACE });
    await checkSearchAttributes(clientConnection, env.TEMPORAL_NAMESPACE);
    const activities = createActivities({
      metadata,
      databases,
      settings: settingsFrom(env),
      faults: extras.faults,
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
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.DMS_TASK_QUEUE,
      activities,
      // A prebuilt bundle (`npm run bundle`) spares each worker webpack's time and memory.
      ...(env.DMS_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: env.DMS_WORKFLOW_BUNDLE } } : { workflowsPath: require.resolve('../workflows') }),
      // A batch activity learns of a cancel from a heartbeat's answer: ask at least this often.
      maxHeartbeatThrottleInterval: '500 ms',
      // Every activity of dms-etl is a batch or a short control step against the databases.
      maxConcurrentActivityTaskExecutions: env.DMS_MAX_CONCURRENT_BATCHES,
    };
    const worker = await Worker.create(options);
    console.log(`dms worker: polling task queue ${env.DMS_TASK_QUEUE} on ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE})`);
    extras.onReady?.();
    // The SDK's runtime shuts the worker down gracefully on SIGINT and SIGTERM: activities
    // in flight are cancelled (their transactions roll back), then run() resolves.
    await worker.run();
    console.log('dms worker: stopped');
  } finally {
    await databases.close();
    await metadata.close();
    await connection?.close();
    await clientConnection?.close();
  }
}

/** A workflow cannot upsert a search attribute the namespace lacks: say so before serving. */
async function checkSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter(({ name }) => !customAttributes || !(name in customAttributes));
  if (missing.length === 0) return;
  const commands = missing.map(({ name, type }) => `  temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`);
  throw new EnvError(
    `Namespace ${namespace} lacks the search attributes ${missing.map((m) => m.name).join(', ')}, which dms-etl sets on every run. Create them once:\n${commands.join('\n')}`,
  );
}
