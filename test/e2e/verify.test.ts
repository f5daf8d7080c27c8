// `dms verify` as a user runs it: after a real load (Temporal dev server, worker, PostgreSQL),
// on the good target, then on one damaged in ways a count sees and in ways only a digest sees.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactSource, createFactTarget, registerMapping } from '../support/fact-load';
import { openHarness, type Harness } from '../support/harness';
import { withClient } from '../support/postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 20_000;

let h: Harness;

/** `dms verify …`: its exit code and output, whether it succeeds or not. */
async function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [DMS, 'verify', ...args], { env: { ...process.env, ...h.workerEnv } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** No row value in the output: every note of the fact table holds "tabs", and amounts are decimals. */
function expectKeysOnly(out: { stdout: string; stderr: string }) {
  expect(out.stdout + out.stderr).not.toMatch(/tabs|newline|\d+\.\d\d\b/);
}

beforeAll(async () => {
  h = await openHarness('verify');
  await createFactSource(h.dbs.source, ROWS);
  await createFactTarget(h.dbs.target, 't_verify');
  await registerMapping(h.dbs, { mapref: 'VERIFY', batchSize: 1000, trgtbnm: 'T_VERIFY' });
  const worker = await h.startWorker();
  await (
    await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-VERIFY',
      args: [{ mapref: 'VERIFY' }],
    })
  ).result();
  await worker.kill();
});

afterAll(async () => {
  await h?.close();
});

describe('dms verify', () => {
  it('finds a completed load equal to its source, by counts and by digest', async () => {
    const counts = await verify('VERIFY', '--ranges', '8');
    expect(counts.code).toBe(0);
    expect(counts.stdout).toContain(
      'Mapping VERIFY: compared row counts by key (sale_id), source SRC with target TGT "public"."t_verify"',
    );
    expect(counts.stdout).toContain(
      `Mapping VERIFY: the target equals the source in all 8 ranges (source ${ROWS.toLocaleString('en')} rows, target ${ROWS.toLocaleString('en')} rows)`,
    );
    // APPEND says what "equal" assumes.
    expect(counts.stdout).toContain("note: Mapping VERIFY: LOADMODE is 'APPEND'");
    const digests = await verify('VERIFY', '--ranges', '8', '--checksum');
    expect(digests.code).toBe(0);
    expect(digests.stdout).toContain('compared row counts and a digest of every mapped column');
    expect(digests.stdout).toContain('the target equals the source in all 8 ranges');
    expectKeysOnly(digests);
  });

  it('names the ranges that differ, and exits 1: a lost row and an extra one by counts, a changed value by digest only', async () => {
    // Keys are 3, 6, …, 60000; 8 ranges of 2,500 rows end at 7500, 15000, 22500, ….
    await withClient(h.dbs.target, async (c) => {
      await c.query('DELETE FROM t_verify WHERE sale_id = 9000'); // range 2
      await c.query('UPDATE t_verify SET amount = amount + 1 WHERE sale_id = 30000'); // range 4
      await c.query('INSERT INTO t_verify SELECT * FROM t_verify WHERE sale_id = 60000'); // range 8, twice
    });
    const counts = await verify('VERIFY', '--ranges', '8');
    expect(counts.code).toBe(1);
    expect(counts.stdout).toContain('  range 2: keys after 7500 up to 15000: source 2,500 rows, target 2,499 rows');
    expect(counts.stdout).toContain(
      '  range 8: keys after 52500 to the last key: source 2,500 rows, target 2,501 rows',
    );
    expect(counts.stdout).not.toContain('range 4');
    expect(counts.stdout).toContain(
      `Mapping VERIFY: the target differs from the source in 2 of 8 ranges (source ${ROWS.toLocaleString('en')} rows, target ${ROWS.toLocaleString('en')} rows)`,
    );

    const digests = await verify('VERIFY', '--ranges', '8', '--checksum', '--show', '2');
    expect(digests.code).toBe(1);
    expect(digests.stdout).toContain('  range 2: keys after 7500 up to 15000: source 2,500 rows, target 2,499 rows');
    expect(digests.stdout).toContain(
      '  range 4: keys after 22500 up to 30000: 2,500 rows on each side, whose values differ',
    );
    expect(digests.stdout).toContain('  … and 1 more');
    expect(digests.stdout).toContain('the target differs from the source in 3 of 8 ranges');
    expectKeysOnly(digests);
  });

  it('refuses a bad option and an unknown mapping with a clear line, and no stack', async () => {
    const bad = await verify('VERIFY', '--ranges', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("dms: --ranges takes a whole number of at least 1, not '0'");
    const unknown = await verify('NOPE');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^dms: .*NOPE/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });
});
