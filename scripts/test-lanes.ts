// `npm test`: the suite in two lanes at once (vitest projects lane-a and lane-b, see
// vitest.config.mts), each lane one file after another, each line prefixed with its lane.
// Vitest itself runs projects whose files are sequential one file at a time in all, and most
// of an end-to-end file's time is waiting (heartbeat timeouts, stalls), so two lanes on two
// cores take about half as long. With arguments (`npm test -- test/unit`), one vitest runs
// them as given.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const VITEST = path.join(__dirname, '..', 'node_modules', 'vitest', 'vitest.mjs');

function vitest(args: string[], prefix: string | null): Promise<number> {
  const child = spawn(process.execPath, [VITEST, 'run', ...args], { stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  if (prefix) {
    for (const stream of [child.stdout!, child.stderr!]) {
      const out = stream === child.stdout ? process.stdout : process.stderr;
      readline.createInterface({ input: stream }).on('line', (line) => out.write(`${prefix}${line}\n`));
    }
  }
  // A signal to this script (Ctrl-C) reaches the lanes too; each stops its own servers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    process.exitCode = await vitest(args, null);
    return;
  }
  const started = Date.now();
  const codes = await Promise.all([vitest(['--project', 'lane-a'], '[a] '), vitest(['--project', 'lane-b'], '[b] ')]);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`tests: lane a ${codes[0] === 0 ? 'passed' : 'FAILED'}, lane b ${codes[1] === 0 ? 'passed' : 'FAILED'}, ${seconds} s in all`);
  process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
}

void main();
