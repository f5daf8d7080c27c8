// Runs a worker in a child process (a single node process, so SIGKILL really kills it).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorker(
  env: Record<string, string>,
  options: { faults?: unknown[]; cli?: boolean } = {},
): Promise<WorkerProcess> {
  const args = options.cli
    ? [path.join(ROOT, 'bin', 'dms.js'), 'worker']
    : ['--require', 'tsx/cjs', path.join(ROOT, 'test', 'support', 'test-worker.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, DMS_TEST_FAULTS: JSON.stringify(options.faults ?? []) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(out)) {
          cleanup();
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`worker exited before printing ${pattern}:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker did not print ${pattern} within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', check);
      };
      listeners.add(check);
      child.on('exit', check);
      check();
    });

  const worker: WorkerProcess = {
    child,
    output: () => out,
    waitFor,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  await waitFor(/polling task queue/);
  return worker;
}
