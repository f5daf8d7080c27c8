import mysql from 'mysql2/promise';
import { defineConfig } from 'vitest/config';

/** The files that use the tests' MariaDB server (test/support/mariadb.ts). */
const ON_MARIADB = [
  'engine-mariadb',
  'estimates',
  'key-type-matrix',
  'mariadb-least-privilege',
  'mariadb-source',
  'mariadb-target',
  'rejects',
  'rowcount-collations',
  'split-points',
  'wide-rows',
].map((name) => `test/e2e/${name}.test.ts`);

/**
 * The files that need MariaDB installed: those above, and mariadb-tls.test.ts and
 * mariadb-restarts.test.ts, which start MariaDB servers of their own (with TLS; to restart
 * one) from the same installation (test/support/mariadb-server.ts).
 */
const NEEDS_MARIADB = [...ON_MARIADB, 'test/e2e/mariadb-tls.test.ts', 'test/e2e/mariadb-restarts.test.ts'];

/**
 * The end-to-end files of lanes A and B; lane C runs every other file (the unit and workflow
 * tests among them). The three take about as long each, by the files' times in a full run
 * (`npm test` prints them): a new slow file goes where it evens them out. No file depends on
 * another's running apart: each has its own databases, Temporal server and workers; a test that
 * changes a server's global setting (MariaDB's local_infile) does it on a server of its own, and
 * one that counts a server's statements counts its own user's (test/support/mariadb.ts selectsOf).
 */
const LANE_A = [
  'key-type-matrix',
  'mariadb-source',
  'key-load',
  'rejects',
  'passwords',
  'mariadb-restarts',
  'dev',
  'payload-encryption',
  'failures',
  'metrics',
  'estimates',
  'rowcount-collations',
].map((name) => `test/e2e/${name}.test.ts`);
const LANE_B = [
  'cli',
  'wide-rows',
  'keys',
  'checkpoint',
  'schedule',
  'engine-mariadb',
  'restarts',
  'demo',
  'web-ui',
  'database-tls',
  'mariadb-tls',
  'fencing',
  'operate',
].map((name) => `test/e2e/${name}.test.ts`);

const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

/** Null when the tests' MariaDB answers, else why not. */
async function mariadbMissing(): Promise<string | null> {
  const url = new URL(process.env.DMS_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306');
  try {
    const c = await mysql.createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
      connectTimeout: 3000,
    });
    await c.end();
    return null;
  } catch (err) {
    return `no MariaDB answers at ${url.host} (${(err as Error).message})`;
  }
}

export default defineConfig(async () => {
  const missing = await mariadbMissing();
  if (missing && IN_CI) throw new Error(`${missing}: CI starts it (.ci/run); set DMS_TEST_MARIADB_URL to use another`);
  if (missing) {
    console.warn(
      `tests: ${missing}; skipped ${NEEDS_MARIADB.length} files that need it (install mariadb-server, or set DMS_TEST_MARIADB_URL)`,
    );
  }
  const excluded = ['**/node_modules/**', ...(missing ? NEEDS_MARIADB : [])];
  const lane = { testTimeout: 180_000, hookTimeout: 120_000, fileParallelism: false };
  return {
    test: {
      // One workflow bundle for every test worker, and the tests' PostgreSQL (test/support/global-setup.ts).
      globalSetup: ['test/support/global-setup.ts'],
      testTimeout: 180_000,
      hookTimeout: 120_000,
      // End-to-end files each start a Temporal dev server and worker processes, one file after
      // another in each lane. `npm test` (scripts/test-lanes.ts) runs the three lanes in three
      // vitest processes at once; vitest alone (`npx vitest run`) runs them one after the other.
      projects: [
        { test: { ...lane, name: 'lane-a', include: LANE_A, exclude: excluded } },
        { test: { ...lane, name: 'lane-b', include: LANE_B, exclude: excluded } },
        {
          test: {
            ...lane,
            name: 'lane-c',
            include: ['test/**/*.test.ts'],
            exclude: [...excluded, ...LANE_A, ...LANE_B],
          },
        },
      ],
    },
  };
});
