// The dev stack's sample, for the README's five-minute tour: a source database with a sales
// table and an empty target in the stack's own embedded PostgreSQL, and the two connections
// (TOUR_SRC, TOUR_TGT) that examples/tour.yaml's mapping names. The tables are made once and
// kept with the stack's data; the connections are written at every start, since the server's
// port changes. Their password is the stack's, handed to the worker and to `dms` commands in
// TOUR_PASSWORD_ENV. ensureDatabases makes the stack's metadata database too.
import pg from 'pg';
import { TOUR_PASSWORD_ENV } from '../common/dev-stack-file';

const TOUR_ROWS = 200_000;

async function withDatabase<T>(
  port: number,
  password: string,
  database: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the databases of the stack's PostgreSQL that do not exist yet (its metadata's, the tour's). */
export async function ensureDatabases(port: number, password: string, names: string[]): Promise<void> {
  await withDatabase(port, password, 'postgres', async (c) => {
    for (const name of names) {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await c.query(`CREATE DATABASE ${name}`);
    }
  });
}

/** Makes the sample where it is missing and points its connections at this start's port. */
export async function prepareTour(
  port: number,
  password: string,
  metadataDatabase: string,
  say: (line: string) => void,
): Promise<void> {
  await ensureDatabases(port, password, ['tour_src', 'tour_tgt']);
  const columns =
    'store_id int NOT NULL, sale_no bigint NOT NULL, sold_at timestamp NOT NULL, amount numeric(12,2), note text';
  await withDatabase(port, password, 'tour_src', async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS sales (${columns}, PRIMARY KEY (store_id, sale_no))`);
    // The tour's key order, SOLD_AT and the table's key that breaks its ties, read from an
    // index: no batch sorts the table (the slow-key warning of `dms mapping apply` and `run`).
    await c.query('CREATE INDEX IF NOT EXISTS sales_sold_at_key ON sales (sold_at, store_id, sale_no)');
    const { rows } = await c.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM sales) AS any');
    if (rows[0].any) return;
    // About 40 sales a second share each SOLD_AT, the tour's key: ties the table's key breaks.
    await c.query(
      `INSERT INTO sales SELECT g % 25, g, timestamp '2026-11-01' + (g / 40) * interval '1 second', round((g % 100000) / 100.0, 2), 'sale ' || g
         FROM generate_series(1, $1) g`,
      [TOUR_ROWS],
    );
    await c.query('ANALYZE sales');
  });
  // No key on the target: a batch loaded twice would show as extra rows.
  await withDatabase(port, password, 'tour_tgt', (c) => c.query(`CREATE TABLE IF NOT EXISTS sales_copy (${columns})`));
  await withDatabase(port, password, metadataDatabase, async (c) => {
    for (const [conid, database] of [
      ['TOUR_SRC', 'tour_src'],
      ['TOUR_TGT', 'tour_tgt'],
    ]) {
      await c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ($1, 'POSTGRES', $2, $3)
         ON CONFLICT (conid) DO UPDATE SET dbtyp = EXCLUDED.dbtyp, conurl = EXCLUDED.conurl, pwdenv = EXCLUDED.pwdenv, recupdt = now()`,
        [conid, `postgres://postgres@127.0.0.1:${port}/${database}`, TOUR_PASSWORD_ENV],
      );
    }
  });
  say(
    `the tour's sample: tour_src.sales (${TOUR_ROWS.toLocaleString('en-US')} rows) and tour_tgt.sales_copy, connections TOUR_SRC and TOUR_TGT (mapping: examples/tour.yaml)`,
  );
}
