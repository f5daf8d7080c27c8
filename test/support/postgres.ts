// Throw-away PostgreSQL databases on the local server, one set per test file.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { splitPassword } from '../../common/url-password';

export const PG_BASE_URL = (process.env.DMS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
const BASE = splitPassword(PG_BASE_URL);

/** A database of the test server, as the tests themselves connect (with any password of DMS_TEST_PG_URL). */
export function urlFor(database: string): string {
  return `${PG_BASE_URL}/${database}`;
}

/**
 * The variable that hands DMS_TEST_PG_URL's password to workers (null when it has none):
 * CONURL carries no password, so every test connection names this one in PWDENV.
 */
export const PG_PASSWORD_ENV = BASE.password ? 'DMS_TEST_PG_PASSWORD' : null;
export const PG_PASSWORD_VARIABLES: Record<string, string> = BASE.password
  ? { DMS_TEST_PG_PASSWORD: BASE.password }
  : {};

/** CONURL of a database of the test server: the URL without its password. */
export function conurlFor(database: string): string {
  return `${BASE.url.replace(/\/$/, '')}/${database}`;
}

export async function withClient<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabases {
  metadata: string;
  source: string;
  target: string;
  drop(): Promise<void>;
}

/** Creates three empty databases (metadata, source, target) with a common random prefix. */
export async function createDatabases(label: string): Promise<TestDatabases> {
  const prefix = `dmst_${label}_${randomBytes(3).toString('hex')}`;
  const names = { metadata: `${prefix}_meta`, source: `${prefix}_src`, target: `${prefix}_tgt` };
  await withClient('postgres', async (c) => {
    for (const name of Object.values(names)) await c.query(`CREATE DATABASE ${name}`);
  });
  return {
    ...names,
    drop: () =>
      withClient('postgres', async (c) => {
        for (const name of Object.values(names)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/** Row count and an md5 over every column of every row, in key order. */
export async function tableDigest(
  database: string,
  table: string,
  key: string,
): Promise<{ count: number; md5: string }> {
  return withClient(database, async (c) => {
    const { rows } = await c.query<{ count: string; md5: string }>(
      `SELECT count(*) AS count, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.${key})), '') AS md5 FROM ${table} t`,
    );
    return { count: Number(rows[0].count), md5: rows[0].md5 };
  });
}
