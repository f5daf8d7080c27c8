// `dms dev` on a machine where nothing tells dms where its metadata lives: the stack starts an
// embedded PostgreSQL (a scram-sha-256 password kept beside its data), the Temporal dev server
// and a worker; another process's `dms` commands find them through dev.json alone; Ctrl-C
// (SIGINT) stops everything it started.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactSource, createFactTarget } from '../support/fact-load';
import {
  conurlFor,
  createDatabases,
  PG_PASSWORD_ENV,
  PG_PASSWORD_VARIABLES,
  tableDigest,
  type TestDatabases,
} from '../support/postgres';
import { waitUntil } from '../support/wait';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-dev-'));
let dbs: TestDatabases;

/** The environment of a user's shell: no DMS_METADATA_URL, no TEMPORAL_ADDRESS, the dev folder. */
function shell(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...PG_PASSWORD_VARIABLES, DMS_DEV_DIR: dir };
  delete env.DMS_METADATA_URL;
  delete env.TEMPORAL_ADDRESS;
  return env;
}

const dms = (...args: string[]) => run(process.execPath, [DMS, ...args], { env: shell() });

beforeAll(async () => {
  dbs = await createDatabases('dev');
  await createFactSource(dbs.source, 5000);
  await createFactTarget(dbs.target, 'dev_copy');
});

afterAll(async () => {
  await dbs?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('dms dev', () => {
  it('says what to start when neither DMS_METADATA_URL nor a dev stack is there', async () => {
    const err = await dms('status', 'ANY').then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr.trim()).toBe(
      'dms: DMS_METADATA_URL is not set, and no dev stack runs here. Fix: start one with `npm run dev` (or `npx dms dev`) in another terminal, or set DMS_METADATA_URL to your metadata database (postgres://user@host:5432/db)',
    );
  });

  it('starts the stack, serves the commands of another terminal, and stops everything on Ctrl-C', async () => {
    const stack = spawn(process.execPath, [DMS, 'dev'], { env: shell(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    stack.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    stack.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => stack.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dms dev was not ready in 120 s:\n${out}`)), 120_000);
        const check = setInterval(() => {
          if (/polling task queue/.test(out) && /dev: ready/.test(out)) {
            clearInterval(check);
            clearTimeout(timer);
            resolve();
          }
        }, 200);
      });
      const devFile = JSON.parse(readFileSync(path.join(dir, 'dev.json'), 'utf8')) as {
        metadataUrl: string;
        webUi: string;
      };
      expect(devFile.metadataUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/dms$/);
      expect(out).toContain(`Web UI ${devFile.webUi}`);

      const file = path.join(dir, 'mappings.yaml');
      writeFileSync(
        file,
        `connections:
  - { conid: SRC, dbtyp: POSTGRES, conurl: "${conurlFor(dbs.source)}", pwdenv: ${PG_PASSWORD_ENV ?? 'null'} }
  - { conid: TGT, dbtyp: POSTGRES, conurl: "${conurlFor(dbs.target)}", pwdenv: ${PG_PASSWORD_ENV ?? 'null'} }
mappings:
  - { mapref: DEV_LOAD, srcconid: SRC, srcquery: SELECT * FROM sales, trgconid: TGT, trgschm: public, trgtbnm: dev_copy, bulklmt: 1000, chkpntstrategy: KEY, chkpntcolumn: SALE_ID }
`,
      );
      expect((await dms('mapping', 'apply', file)).stdout).toMatch(/job \d+ \(version 1\) created for DEV_LOAD/);
      expect((await dms('run', 'DEV_LOAD', '--wait')).stdout).toMatch(
        /DEV_LOAD: completed run \d+: 5,000 rows in 5 batches/,
      );
      expect(await tableDigest(dbs.target, 'dev_copy', 'sale_id')).toEqual(
        await tableDigest(dbs.source, 'sales', 'sale_id'),
      );
      expect((await dms('status', 'DEV_LOAD')).stdout).toMatch(/^\d+ +completed /m);

      // The README's tour: the stack's own sample, its mapping applied from examples/tour.yaml.
      expect(out).toMatch(/the tour's sample: tour_src\.sales \(200,000 rows\)/);
      const applied = await dms('mapping', 'apply', path.join(__dirname, '..', '..', 'examples', 'tour.yaml'));
      expect(applied.stdout).toMatch(/job \d+ \(version 1\) created for TOUR_SALES/);
      // The tour's key is read in order from an index: no slow-key warning, at apply or at run.
      expect(applied.stdout).toMatch(/^Mapping TOUR_SALES: CHKPNTSTRATEGY is 'KEY'/m);
      expect(`${applied.stdout}${applied.stderr}`).not.toContain('warning');
      expect((await dms('connection', 'test', 'TOUR_SRC')).stdout).toMatch(/TOUR_SRC/);

      // The stack's worker, killed, is started again, and says so.
      const [, pid] = /dev: worker: started \(pid (\d+)\)/.exec(out) ?? [];
      process.kill(Number(pid), 'SIGKILL');
      await waitUntil(
        'a new worker',
        async () =>
          /dev: worker: was killed \(SIGKILL\); starting another/.test(out) &&
          (out.match(/dev: worker: started/g) ?? []).length === 2,
        30_000,
        100,
      );
      // `dms worker` in another terminal finds the stack as every other command does.
      const second = spawn(process.execPath, [DMS, 'worker'], { env: shell(), stdio: ['ignore', 'pipe', 'pipe'] });
      let secondOut = '';
      second.stdout!.on('data', (d: Buffer) => (secondOut += d.toString()));
      second.stderr!.on('data', (d: Buffer) => (secondOut += d.toString()));
      await waitUntil('the second worker', async () => /polling task queue dms-etl/.test(secondOut), 60_000, 100);
      expect(secondOut).toContain(`dms worker: on the dev stack that ${dir}/dev.json names`);
      const secondExit = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
      second.kill('SIGTERM');
      expect(await secondExit).toBe(0);

      const ran = await dms('run', 'TOUR_SALES', '--wait');
      expect(ran.stderr).not.toContain('warning');
      const tour = ran.stdout;
      expect(tour).toMatch(/TOUR_SALES: completed run \d+: 200,000 rows in 40 batches/);
      const estimate = /TOUR_SALES: about ([\d,]+) rows in all, estimated from the source's statistics/.exec(tour);
      expect(estimate, tour).not.toBeNull();
      expect(Math.abs(Number(estimate![1].replace(/,/g, '')) - 200_000)).toBeLessThan(20_000);
      expect((await dms('verify', 'TOUR_SALES')).stdout).toContain(
        'the target equals the source in all 16 ranges (source 200,000 rows, target 200,000 rows)',
      );
    } finally {
      stack.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('dev: stopped');
    expect(existsSync(path.join(dir, 'dev.json'))).toBe(false);
    // Its PostgreSQL stopped with it: the data stays for the next start, its lock file does not.
    expect(existsSync(path.join(dir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dir, 'pg', 'postmaster.pid'))).toBe(false);
  });
});
