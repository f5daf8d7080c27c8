// `npm test`: the suite in three lanes at once (vitest projects lane-a, lane-b and lane-c, see
// vitest.config.mts), each lane one file after another, each line prefixed with its lane.
// Vitest itself runs projects whose files are sequential one file at a time in all, and most
// of an end-to-end file's time is waiting (heartbeat timeouts, stalls, a worker's start), so
// three lanes on two cores take about a third as long. With arguments (`npm test -- test/unit`),
// one vitest runs them as given.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const VITEST = path.join(__dirname, '..', 'node_modules', 'vitest', 'vitest.mjs');

// Where a lane reports its failures (vitest's "Failed Tests" section and the FAIL lines), kept
// to be printed again after both lanes end: with two lanes interleaved, a failure printed in
// the middle of the other lane's output is easy to miss in a CI log's tail.
const FAILURE_START = /Failed Tests|Failed Suites|Unhandled Errors?/;
const FAILURE_LINE = /^\s*(FAIL|×|❯ .*\(\d+ tests? \| \d+ failed)/;
const KEPT_LINES = 300;

/** The lanes, as vitest.config.mts names its projects (lane-a …). */
const LANES = ['a', 'b', 'c'];

function vitest(args: string[], prefix: string | null, failures: string[] = []): Promise<number> {
  const child = spawn(process.execPath, [VITEST, 'run', ...args], {
    stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (prefix) {
    let inFailures = false;
    for (const stream of [child.stdout!, child.stderr!]) {
      const out = stream === child.stdout ? process.stdout : process.stderr;
      readline.createInterface({ input: stream }).on('line', (line) => {
        out.write(`${prefix}${line}\n`);
        // eslint-disable-next-line no-control-regex
        const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
        if (FAILURE_START.test(plain)) inFailures = true;
        if ((inFailures || FAILURE_LINE.test(plain)) && failures.length < KEPT_LINES) failures.push(`${prefix}${line}`);
      });
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
  const failures: string[][] = LANES.map(() => []);
  const codes = await Promise.all(
    LANES.map((lane, i) => vitest(['--project', `lane-${lane}`], `[${lane}] `, failures[i])),
  );
  for (const [i, lane] of LANES.entries()) {
    if (codes[i] === 0 || failures[i].length === 0) continue;
    console.log(`\n== lane ${lane} failed; what it reported (also above, among the other lanes' lines):`);
    for (const line of failures[i]) console.log(line);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const outcomes = LANES.map((lane, i) => `lane ${lane} ${codes[i] === 0 ? 'passed' : 'FAILED'}`);
  console.log(`tests: ${outcomes.join(', ')}, ${seconds} s in all`);
  process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
}

void main();
