// One Temporal dev server (free loopback ports, its own db file) and one set of databases
// per end-to-end test file, both removed when the file ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { innermostMessage } from '../../common/errors';
import { freePort, startDevServer, type DevServer } from '../../scripts/temporal-dev';
import { createDatabases, PG_PASSWORD_VARIABLES, urlFor, type TestDatabases } from './postgres';
import { startWorker, type WorkerProcess } from './worker-process';
// Outside vitest too (scripts/record-histories.ts): waitUntil lives where vitest is not imported.
export { waitUntil } from './wait';

export interface Harness {
  server: DevServer;
  client: Client;
  dbs: TestDatabases;
  taskQueue: string;
  workerEnv: Record<string, string>;
  startWorker(options?: { faults?: unknown[]; cli?: boolean; env?: Record<string, string> }): Promise<WorkerProcess>;
  /** Everything every worker of this file printed (a workflow task may run on any of them). */
  workerOutput(): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Serve the dev server's Web UI on a free loopback port (server.uiAddress); headless otherwise. */
  webUi?: boolean;
  /** With webUi: the codec server the Web UI calls for payloads (`dms codec-server`). */
  uiCodecEndpoint?: string;
  /** Databases the test made elsewhere (pass DMS_METADATA_URL in workerEnv); else three on the local server. */
  databases?: TestDatabases;
}

/**
 * A dev server on a free port: a port free a moment before the server binds it can be taken
 * meanwhile (by a connection's own local port), and then another is tried, twice at most.
 */
async function startServer(options: Omit<Parameters<typeof startDevServer>[0] & object, 'port'>) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startDevServer({ ...options, port });
    } catch (err) {
      if (attempt >= 3 || !new RegExp(`:${port}: bind: address already in use`).test((err as Error).message)) throw err;
    }
  }
}

export async function openHarness(
  label: string,
  workerEnv: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-temporal-'));
  const ui = options.webUi
    ? { headless: false, uiPort: await freePort(), uiCodecEndpoint: options.uiCodecEndpoint }
    : { headless: true };
  const server = await startServer({ ...ui, quiet: true, dbFilename: path.join(dir, 'dev.db') });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const dbs = options.databases ?? (await createDatabases(label));
  const taskQueue = `dms-etl-${label}`;
  const env = {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    DMS_METADATA_URL: urlFor(dbs.metadata),
    DMS_TASK_QUEUE: taskQueue,
    DMS_HEARTBEAT_TIMEOUT_MS: '10000',
    // Built once per test run; a worker that bundles at its start costs seconds of CPU.
    DMS_WORKFLOW_BUNDLE: inject('workflowBundle'),
    DMS_RETRY_INITIAL_INTERVAL_MS: '200',
    ...PG_PASSWORD_VARIABLES,
    ...workerEnv,
  };
  const workers: WorkerProcess[] = [];
  return {
    server,
    client,
    dbs,
    taskQueue,
    workerEnv: env,
    async startWorker(options = {}) {
      const w = await startWorker({ ...env, ...options.env }, options);
      workers.push(w);
      return w;
    },
    workerOutput: () => workers.map((w) => w.output()).join('\n'),
    async close() {
      await Promise.all(workers.map((w) => w.kill('SIGKILL')));
      await connection.close();
      await server.stop();
      await dbs.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The message of the error that failed a workflow (its innermost cause), or undefined if it completed. */
export async function failureOf(handle: { result(): Promise<unknown> }): Promise<string | undefined> {
  return handle.result().then(
    () => undefined,
    (err: unknown) => innermostMessage(err),
  );
}
