// Least privilege, on a PostgreSQL server that asks every client for a password: the worker
// logs in to the source, the target and the metadata database as three roles that hold
// exactly the grants docs/security.md lists and nothing more (PUBLIC's default
// CONNECT and TEMPORARY on the databases revoked). An owner role migrated the metadata tables
// beforehand, and the admin created DMS_CHKPNT and DMS_REJECT in the target with their DDL.
// Loads in APPEND, TRUNCATE and UPSERT end exact, value by value; a role missing one grant
// is refused before any row moves, with an error naming the grant and the statement to run.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACT_COLUMNS, FACT_TARGET_COLUMNS } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import {
  addMappingRow,
  factMappingRow,
  migrateMetadata,
  startPasswordServer,
  type PasswordServer,
} from '../support/password-postgres';

const ROWS = 20_000;
const secret = () => `pw-${randomBytes(9).toString('hex')}`;
const PASSWORDS = { owner: secret(), meta: secret(), src: secret(), tgt: secret() };

/** DMS_CHKPNT and DMS_REJECT as a DBA creates them ahead (docs/security.md). */
const TARGET_TABLES_DDL = `
CREATE TABLE public.dms_chkpnt (
  mapref varchar(128) PRIMARY KEY,
  prcid bigint NOT NULL,
  epoch bigint NOT NULL,
  jobid bigint NOT NULL,
  keycols text,
  chkpnt text,
  lastrow text,
  batchcnt bigint NOT NULL DEFAULT 0,
  trgrows bigint NOT NULL DEFAULT 0,
  recupdt timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.dms_reject (
  rejid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mapref varchar(128) NOT NULL,
  prcid bigint NOT NULL,
  batchno bigint NOT NULL,
  keyvals text,
  errcode varchar(16),
  errmsg text NOT NULL,
  errcol varchar(128),
  rowvals jsonb NOT NULL,
  reccrdt timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dms_reject_run_idx ON public.dms_reject (mapref, prcid);`;

let pg: PasswordServer;
let h: Harness;
/** The owner of the metadata tables, which migrates them and edits mappings (not the worker's role). */
let ownerUrl: string;

/** Every row of a table as PostgreSQL's own text of it, in key order: compared value by value. */
async function rowsOf(database: string, table: string): Promise<string[]> {
  return pg.admin(database, async (c) =>
    (await c.query(`SELECT t::text AS r FROM ${table} t ORDER BY sale_id, t::text`)).rows.map((r) => r.r),
  );
}

async function runsOf(mapref: string) {
  return pg.admin(
    'dms_meta',
    async (c) =>
      (
        await c.query(
          `SELECT status, param1, trgrows, rejrows, lasterr FROM dms_prclog WHERE mapref = $1 ORDER BY prcid`,
          [mapref],
        )
      ).rows,
  );
}

async function addMapping(mapref: string, table: string, columns: Record<string, string | number> = {}): Promise<void> {
  await addMappingRow(pg, 'dms_meta', factMappingRow(mapref, table, columns), ownerUrl, PASSWORDS.owner);
}

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

/** The highest attempt any activity of the mapping's workflow reached: 1 when nothing was retried. */
async function mostAttempts(mapref: string): Promise<number> {
  const history = await h.client.workflow.getHandle(`dms-${mapref}`).fetchHistory();
  return Math.max(0, ...(history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0));
}

beforeAll(async () => {
  pg = await startPasswordServer();
  // The metadata database and its owner, which runs `dms migrate` (and edits mappings).
  await pg.createUserDatabase('dms_meta', PASSWORDS.owner);
  await pg.admin('postgres', async (c) => {
    for (const [role, password] of [
      ['lp_meta', PASSWORDS.meta],
      ['lp_src', PASSWORDS.src],
      ['lp_tgt', PASSWORDS.tgt],
    ]) {
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    }
    await c.query('CREATE DATABASE dms_src');
    await c.query('CREATE DATABASE dms_tgt');
    // Nothing from PUBLIC: each role gets CONNECT (and TEMPORARY) only where it is granted.
    for (const db of ['dms_meta', 'dms_src', 'dms_tgt']) await c.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await c.query('GRANT CONNECT ON DATABASE dms_meta TO lp_meta');
    await c.query('GRANT CONNECT ON DATABASE dms_src TO lp_src');
    // TEMPORARY: UPSERT's stage.
    await c.query('GRANT CONNECT, TEMPORARY ON DATABASE dms_tgt TO lp_tgt');
  });
  ownerUrl = pg.urlFor('dms_meta', 'dms_meta');
  await migrateMetadata(ownerUrl, PASSWORDS.owner);
  await pg.admin('dms_meta', async (c) => {
    await c.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    await c.query('GRANT USAGE ON SCHEMA public TO lp_meta');
    // The worker's grants on the metadata tables.
    await c.query('GRANT SELECT ON dms_dbcondtls, dms_job TO lp_meta');
    await c.query('GRANT SELECT, INSERT, UPDATE ON dms_prclog TO lp_meta');
    await c.query('GRANT SELECT, INSERT, UPDATE, DELETE ON dms_prcpart TO lp_meta');
    await c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRC', 'POSTGRES', $1, 'DMS_LP_SRC_PASSWORD'), ('TGT', 'POSTGRES', $2, 'DMS_LP_TGT_PASSWORD')`,
      [pg.urlFor('lp_src', 'dms_src'), pg.urlFor('lp_tgt', 'dms_tgt')],
    );
  });
  await pg.admin('dms_src', async (c) => {
    await c.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    await c.query(`CREATE TABLE sales (${FACT_COLUMNS})`);
    await c.query(
      `INSERT INTO sales SELECT g * 3, g % 97, (g % 100000) / 100.0, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second',
              CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g || E'\\twith a tab é' END
         FROM generate_series(1, $1) g`,
      [ROWS],
    );
    // A table the source role may not read.
    await c.query(`CREATE TABLE sales_hidden (${FACT_COLUMNS})`);
    await c.query('INSERT INTO sales_hidden SELECT * FROM sales LIMIT 10');
    // The source's grants: USAGE on the schema, SELECT on what SRCQUERY reads.
    await c.query('GRANT USAGE ON SCHEMA public TO lp_src');
    await c.query('GRANT SELECT ON sales TO lp_src');
  });
  await pg.admin('dms_tgt', async (c) => {
    await c.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    await c.query(TARGET_TABLES_DDL);
    await c.query(`CREATE TABLE t_append (${FACT_TARGET_COLUMNS})`);
    await c.query(`CREATE TABLE t_truncate (${FACT_TARGET_COLUMNS})`);
    await c.query(`CREATE TABLE t_upsert (${FACT_COLUMNS})`);
    await c.query(`CREATE TABLE t_no_insert (${FACT_TARGET_COLUMNS})`);
    await c.query(`CREATE TABLE t_no_truncate (${FACT_TARGET_COLUMNS})`);
    // Rows a TRUNCATE load must remove, and rows an UPSERT must overwrite.
    for (const t of ['t_truncate', 't_no_truncate'])
      await c.query(`INSERT INTO ${t} SELECT -g, 1, 1.00, now(), 'stale' FROM generate_series(1, 50) g`);
    await c.query(`INSERT INTO t_upsert SELECT g * 3, 0, 0.00, now(), 'to be replaced' FROM generate_series(1, 500) g`);
    // The target's grants, and nothing more.
    await c.query('GRANT USAGE ON SCHEMA public TO lp_tgt');
    await c.query('GRANT SELECT, INSERT, UPDATE ON dms_chkpnt TO lp_tgt');
    await c.query('GRANT SELECT, INSERT ON dms_reject TO lp_tgt');
    await c.query('GRANT INSERT ON t_append TO lp_tgt');
    await c.query('GRANT INSERT, TRUNCATE ON t_truncate TO lp_tgt');
    await c.query('GRANT SELECT, INSERT, UPDATE ON t_upsert TO lp_tgt');
    // One grant short each: t_no_insert has none (APPEND needs INSERT), t_no_truncate lacks TRUNCATE.
    await c.query('GRANT INSERT ON t_no_truncate TO lp_tgt');
  });
  h = await openHarness(
    'least-privilege',
    {
      DMS_METADATA_URL: pg.urlFor('lp_meta', 'dms_meta'),
      DMS_METADATA_PASSWORD: PASSWORDS.meta,
      DMS_LP_SRC_PASSWORD: PASSWORDS.src,
      DMS_LP_TGT_PASSWORD: PASSWORDS.tgt,
    },
    { databases: { metadata: 'dms_meta', source: 'dms_src', target: 'dms_tgt', drop: async () => undefined } },
  );
  await h.startWorker();
}, 180_000);

afterAll(async () => {
  await h?.close();
  await pg?.stop();
});

describe('least privilege on PostgreSQL', () => {
  it.each<{ mode: string; mapref: string; table: string; columns: Record<string, string> }>([
    { mode: 'APPEND', mapref: 'LP_APPEND', table: 't_append', columns: {} },
    { mode: 'TRUNCATE', mapref: 'LP_TRUNCATE', table: 't_truncate', columns: { loadmode: 'TRUNCATE' } },
    { mode: 'UPSERT', mapref: 'LP_UPSERT', table: 't_upsert', columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' } },
  ])('loads exactly in $mode with only the documented grants', async ({ mapref, table, columns }) => {
    await addMapping(mapref, table, columns);
    const handle = await start(mapref);
    expect((await handle.result()).rows).toBe(ROWS);
    const source = await rowsOf('dms_src', 'sales');
    expect(source).toHaveLength(ROWS);
    expect(await rowsOf('dms_tgt', table)).toEqual(source);
    expect(await runsOf(mapref)).toEqual([
      { status: 'PC', param1: 'COMPLETED', trgrows: String(ROWS), rejrows: '0', lasterr: null },
    ]);
  });

  it('keeps rejected rows in a DMS_REJECT a DBA created, with SELECT and INSERT on it', async () => {
    await pg.admin('dms_tgt', async (c) => {
      await c.query(`CREATE TABLE t_rejects (${FACT_TARGET_COLUMNS}, CHECK (store_id <> 13))`);
      await c.query('GRANT INSERT ON t_rejects TO lp_tgt');
    });
    await addMapping('LP_REJECTS', 't_rejects', { rejectlmt: 1000 });
    const handle = await start('LP_REJECTS');
    await handle.result();
    const expected = await pg.admin('dms_src', async (c) =>
      (await c.query(`SELECT t::text AS r FROM sales t WHERE store_id <> 13 ORDER BY sale_id`)).rows.map((r) => r.r),
    );
    expect(await rowsOf('dms_tgt', 't_rejects')).toEqual(expected);
    const rejected = await pg.admin('dms_tgt', async (c) =>
      Number((await c.query(`SELECT count(*) AS n FROM dms_reject WHERE mapref = 'LP_REJECTS'`)).rows[0].n),
    );
    expect(rejected).toBe(ROWS - expected.length);
    expect((await runsOf('LP_REJECTS')).map((r) => [r.status, r.rejrows])).toEqual([['PC', String(rejected)]]);
  });

  it('refuses a target role without INSERT on the table before any row moves, naming the grant', async () => {
    await addMapping('LP_NO_INSERT', 't_no_insert');
    const message = await failureOf(await start('LP_NO_INSERT'));
    expect(message).toBe(
      `Mapping LP_NO_INSERT: TRGCONID uses connection 'TGT', whose user lp_tgt lacks INSERT on table "public"."t_no_insert" (to load rows). ` +
        `Fix: a DBA runs GRANT INSERT ON "public"."t_no_insert" TO "lp_tgt"`,
    );
    expect(await rowsOf('dms_tgt', 't_no_insert')).toEqual([]);
    expect((await runsOf('LP_NO_INSERT')).map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
    expect(await mostAttempts('LP_NO_INSERT')).toBe(1);
  });

  it('refuses a TRUNCATE load whose target role lacks TRUNCATE before any row moves or goes', async () => {
    const before = await rowsOf('dms_tgt', 't_no_truncate');
    await addMapping('LP_NO_TRUNCATE', 't_no_truncate', { loadmode: 'TRUNCATE' });
    const message = await failureOf(await start('LP_NO_TRUNCATE'));
    expect(message).toBe(
      `Mapping LP_NO_TRUNCATE: TRGCONID uses connection 'TGT', whose user lp_tgt lacks TRUNCATE on table "public"."t_no_truncate" (to empty it at a fresh start (LOADMODE 'TRUNCATE')). ` +
        `Fix: a DBA runs GRANT TRUNCATE ON "public"."t_no_truncate" TO "lp_tgt"`,
    );
    expect(before).toHaveLength(50);
    expect(await rowsOf('dms_tgt', 't_no_truncate')).toEqual(before);
    expect(await mostAttempts('LP_NO_TRUNCATE')).toBe(1);
  });

  it('refuses a source role without SELECT on what SRCQUERY reads, naming the grant', async () => {
    await pg.admin('dms_tgt', async (c) => {
      await c.query(`CREATE TABLE t_hidden (${FACT_TARGET_COLUMNS})`);
      await c.query('GRANT INSERT ON t_hidden TO lp_tgt');
    });
    await addMapping('LP_NO_SELECT', 't_hidden', { srcquery: 'SELECT * FROM sales_hidden' });
    const message = await failureOf(await start('LP_NO_SELECT'));
    expect(message).toBe(
      `Mapping LP_NO_SELECT: SRCQUERY cannot be read by the user lp_src of connection 'SRC': permission denied for table sales_hidden [SQLSTATE 42501]. ` +
        `Fix: a DBA runs GRANT SELECT ON sales_hidden TO lp_src; the source's user needs SELECT on every table and view SRCQUERY reads, and USAGE on their schemas (nothing more)`,
    );
    expect(await rowsOf('dms_tgt', 't_hidden')).toEqual([]);
    expect((await runsOf('LP_NO_SELECT')).map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
    expect(await mostAttempts('LP_NO_SELECT')).toBe(1);
  });
});
