// `npm run demo` as a newcomer runs it, with a small --rows: on its own embedded PostgreSQL
// and Temporal dev server, the worker SIGKILLed part way, the run resumed, the target verified.
// It runs from a copy of the checkout in a folder only its owner may enter (as a clone in
// root's home or in `mktemp -d` is): as root, PostgreSQL runs as the system user postgres,
// who cannot enter it (client/embedded-postgres.ts).
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
let privateDir: string;
let clone: string;

beforeAll(() => {
  // In the git-ignored test-artifacts/, on the checkout's file system, so that node_modules can
  // be hard-linked (a symbolic link would not do: Node runs a module from its real path).
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  privateDir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'private-'));
  chmodSync(privateDir, 0o700);
  clone = path.join(privateDir, 'dms-etl');
  // The files a commit of the working tree would hold, as they are now.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).split('\0');
  for (const file of files.filter((f) => f && existsSync(path.join(ROOT, f))))
    cpSync(path.join(ROOT, file), path.join(clone, file), { verbatimSymlinks: true });
  try {
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), clone]);
  } catch {
    execFileSync('cp', ['-a', path.join(ROOT, 'node_modules'), clone]);
  }
});

afterAll(() => {
  if (privateDir) rmSync(privateDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('loads through a crash and a resume, and ends verified, exit 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DMS_DEMO_PG_URL;
    delete env.TEMPORAL_ADDRESS;
    env.TEMPORAL_ADDRESS = '127.0.0.1:1'; // nothing answers there: the demo starts its own dev server
    const { stdout } = await run(
      process.execPath,
      ['--require', 'tsx/cjs', path.join('scripts', 'demo.ts'), '--rows', '60000'],
      { cwd: clone, env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('== PostgreSQL: an embedded server of the demo’s own');
    // The source's statistics give the run's size, so the progress shows a share and an ETA
    // (the lines themselves: test/unit/progress.test.ts; 60,000 rows load too fast to show many).
    const estimate = /DEMO_SALES: about ([\d,]+) rows in all, estimated from the source's statistics/.exec(stdout);
    expect(estimate, stdout).not.toBeNull();
    const rows = Number(estimate![1].replace(/,/g, ''));
    expect(rows).toBeGreaterThan(30_000);
    expect(rows).toBeLessThan(120_000);
    expect(stdout).toMatch(
      /== the worker was killed \(SIGKILL\) with \d+ batches committed, checkpoint \["2026-11-01 /,
    );
    expect(stdout).toMatch(/== run \d+: status PC, 60,000 rows in 60 batches, through one crash/);
    expect(stdout).toContain('the target equals the source in all 16 ranges (source 60,000 rows, target 60,000 rows)');
    expect(stdout).toMatch(
      /== the target equals the source: 60,000 rows, md5 over every row ([0-9a-f]{32}) \(source \1\)/,
    );
  });
});
