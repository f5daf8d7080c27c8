// Least privilege on MariaDB, as test/e2e/least-privilege.test.ts does it on PostgreSQL: the
// worker logs in to the source and the target database of the local MariaDB server as two
// users with passwords that hold exactly the grants docs/security.md lists for MariaDB and
// nothing more. The admin created DMS_CHKPNT in the target beforehand, with the DDL of
// docs/mariadb.md. The metadata stays in the harness's PostgreSQL. Loads MariaDB to MariaDB in
// APPEND, TRUNCATE, UPSERT, REJECTLMT and INCREMENTAL with a look-back, PostgreSQL to MariaDB
// and MariaDB to PostgreSQL end exact, value by value, and `dms verify` agrees; a user missing
// one grant fails the run at once, not retried, with an error naming the grant to run, and no
// row moves.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { Metadata } from '../../metadata/repository';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactSource, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { ADMIN, admin, documentedDdl, mariadbFactRowsSql, postgresFactRows } from '../support/mariadb';
import { urlFor, withClient } from '../support/postgres';

const ROWS = 20_000;
const suffix = randomBytes(3).toString('hex');
const SRC_DB = `dmst_lpsrc_${suffix}`;
const TGT_DB = `dmst_lptgt_${suffix}`;
/** A second target database, where the target user may CREATE and no DBA made DMS_CHKPNT. */
const CREATE_DB = `dmst_lpcre_${suffix}`;
const SRC_USER = `lps_${suffix}`;
const TGT_USER = `lpt_${suffix}`;
const secret = () => `pw-${randomBytes(9).toString('hex')}`;
const PASSWORDS = { src: secret(), tgt: secret() };
const HOST = `${ADMIN.hostname}:${ADMIN.port || 3306}`;

/** DMS_CHKPNT and DMS_REJECT as a DBA creates them ahead, from the DDL the docs give. */
const CHECKPOINT_DDL = documentedDdl('mariadb.md', 'dms_chkpnt', TGT_DB);
const REJECT_DDL = documentedDdl('rejects.md', 'dms_reject', TGT_DB);

const FACT = `sale_id BIGINT NOT NULL, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT`;

let h: Harness;
/**
 * The host of the users' accounts: any ('%'), as ETL accounts usually are. MariaDB's "command
 * denied" names the user at the worker's address, not the account, so the GRANT an error
 * suggests must name the account the session logged in as (CURRENT_USER()) to run as written.
 */
const CLIENT = '%';
/** The worker's address as the server sees it, which MariaDB's refusals name. */
let SEEN: string;

/** Runs SQL as the server's administrator in `database`. */
function asAdmin<T>(database: string, sql: string, values?: unknown[]): Promise<T> {
  return admin(async (c) => {
    await c.query(`SET time_zone = '+00:00'`);
    const [rows] = await c.query(sql, values);
    return rows as T;
  }, database);
}

/** Every row of a MariaDB table as one text (NULL apart from '', every digit and microsecond kept), in key order. */
async function mariadbRows(database: string, table: string): Promise<string[]> {
  const rows = await asAdmin<{ t: string }[]>(database, mariadbFactRowsSql(table));
  return rows.map((r) => r.t);
}

async function mapping(
  mapref: string,
  columns: Record<string, string | number>,
  srcquery = 'SELECT * FROM sales',
): Promise<void> {
  await registerMapping(h.dbs, { mapref, batchSize: 1000, srcquery, trgtbnm: String(columns.trgtbnm), columns });
}

/** Source and target on MariaDB, each with its least-privileged user. */
const mariadbToMariadb = (table: string, columns: Record<string, string> = {}) => ({
  srcconid: 'MSRC',
  trgconid: 'MTGT',
  trgschm: TGT_DB,
  trgtbnm: table,
  ...columns,
});

/** The GRANT statement a failure's fix names. */
function grantIn(message: string | undefined): string {
  const grant = /a DBA runs (GRANT .*?), then run the mapping again$/.exec(message ?? '')?.[1];
  if (!grant) throw new Error(`no GRANT in: ${message}`);
  return grant;
}

/** `dms verify` as the worker's users: its exit code and output, whether it succeeds or not. */
async function verify(mapref: string): Promise<{ code: number; out: string }> {
  const dms = path.join(__dirname, '..', '..', 'bin', 'dms.js');
  return promisify(execFile)(process.execPath, [dms, 'verify', mapref], {
    env: { ...process.env, ...h.workerEnv },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

/** The highest attempt any activity of the mapping's workflow reached: 1 when nothing was retried. */
async function mostAttempts(mapref: string): Promise<number> {
  const history = await h.client.workflow.getHandle(`dms-${mapref}`).fetchHistory();
  return Math.max(0, ...(history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0));
}

async function dropAll(): Promise<void> {
  await admin((c) =>
    c.query(
      `DROP DATABASE IF EXISTS \`${SRC_DB}\`; DROP DATABASE IF EXISTS \`${TGT_DB}\`; DROP DATABASE IF EXISTS \`${CREATE_DB}\`;
       DROP USER IF EXISTS '${SRC_USER}'@'${CLIENT}'; DROP USER IF EXISTS '${TGT_USER}'@'${CLIENT}';`,
    ),
  );
}

beforeAll(async () => {
  SEEN = await admin(
    async (c) =>
      (await c.query<RowDataPacket[]>(`SELECT SUBSTRING_INDEX(USER(), '@', -1) AS host`))[0][0].host as string,
  );
  h = await openHarness('mdblp', { DMS_LP_SRC_PASSWORD: PASSWORDS.src, DMS_LP_TGT_PASSWORD: PASSWORDS.tgt });
  await admin((c) =>
    c.query(
      `CREATE DATABASE \`${SRC_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
       CREATE DATABASE \`${TGT_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
       CREATE DATABASE \`${CREATE_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
       CREATE USER '${SRC_USER}'@'${CLIENT}' IDENTIFIED BY '${PASSWORDS.src}';
       CREATE USER '${TGT_USER}'@'${CLIENT}' IDENTIFIED BY '${PASSWORDS.tgt}';`,
    ),
  );
  // The source: a table the source's user reads, and one it may not.
  await asAdmin(
    SRC_DB,
    `CREATE TABLE sales (sale_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT) ENGINE=InnoDB;
     INSERT INTO sales
     SELECT seq * 3, seq % 97, (seq % 100000) / 100, TIMESTAMP'2026-01-01 00:00:00.123456' + INTERVAL seq SECOND,
            CASE WHEN seq % 10 = 0 THEN NULL WHEN seq % 10 = 1 THEN '' ELSE CONCAT('note ', seq, '\\twith a tab é 𝄞\\\\') END
       FROM seq_1_to_${ROWS};
     CREATE VIEW sales_kept AS SELECT * FROM sales WHERE store_id <> 13;
     CREATE TABLE sales_hidden LIKE sales;
     INSERT INTO sales_hidden SELECT * FROM sales LIMIT 10;
     GRANT SELECT ON \`${SRC_DB}\`.sales TO '${SRC_USER}'@'${CLIENT}';`,
  );
  await asAdmin(
    TGT_DB,
    `${CHECKPOINT_DDL};
     ${REJECT_DDL};
     CREATE TABLE t_rejects (${FACT}, CONSTRAINT no_store_13 CHECK (store_id <> 13)) ENGINE=InnoDB;
     CREATE TABLE t_append (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_truncate (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_upsert (${FACT}, PRIMARY KEY (sale_id)) ENGINE=InnoDB;
     CREATE TABLE t_lookback (${FACT}, PRIMARY KEY (sale_id)) ENGINE=InnoDB;
     CREATE TABLE t_from_pg (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_no_insert (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_no_drop (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_hidden (${FACT}) ENGINE=InnoDB;
     CREATE TABLE t_no_grant (${FACT}) ENGINE=InnoDB;
     INSERT INTO t_truncate SELECT -seq, 1, 1.00, NOW(6), 'stale' FROM seq_1_to_50;
     INSERT INTO t_no_drop SELECT -seq, 1, 1.00, NOW(6), 'stale' FROM seq_1_to_50;
     INSERT INTO t_upsert SELECT seq * 3, 0, 0.00, NOW(6), 'to be replaced' FROM seq_1_to_500;
     -- The target's grants (docs/security.md), and nothing more.
     GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.dms_chkpnt TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${TGT_DB}\`.t_append TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${TGT_DB}\`.t_rejects TO '${TGT_USER}'@'${CLIENT}';
     GRANT SELECT, INSERT ON \`${TGT_DB}\`.dms_reject TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${TGT_DB}\`.t_from_pg TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${TGT_DB}\`.t_hidden TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT, DROP ON \`${TGT_DB}\`.t_truncate TO '${TGT_USER}'@'${CLIENT}';
     GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.t_upsert TO '${TGT_USER}'@'${CLIENT}';
     GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.t_lookback TO '${TGT_USER}'@'${CLIENT}';
     GRANT CREATE TEMPORARY TABLES ON \`${TGT_DB}\`.* TO '${TGT_USER}'@'${CLIENT}';
     -- One grant short each: t_no_insert has SELECT only (as for dms verify), t_no_drop lacks DROP.
     GRANT SELECT ON \`${TGT_DB}\`.t_no_insert TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${TGT_DB}\`.t_no_drop TO '${TGT_USER}'@'${CLIENT}';`,
  );
  await asAdmin(
    CREATE_DB,
    `CREATE TABLE t_created (${FACT}) ENGINE=InnoDB;
     GRANT CREATE ON \`${CREATE_DB}\`.* TO '${TGT_USER}'@'${CLIENT}';
     GRANT INSERT ON \`${CREATE_DB}\`.t_created TO '${TGT_USER}'@'${CLIENT}';`,
  );
  await createFactSource(h.dbs.source, ROWS);
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE t_to_pg (sale_id bigint NOT NULL, store_id int NOT NULL, amount numeric(12,2), sold_at timestamp(6), note text)`,
    ),
  );
  // Metadata (PostgreSQL): the two MariaDB connections beside the harness's (registerMapping adds those).
  const metadata = Metadata.open(urlFor(h.dbs.metadata));
  await metadata.migrate().finally(() => metadata.close());
  await withClient(h.dbs.metadata, (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MSRC', 'MARIADB', $1, 'DMS_LP_SRC_PASSWORD'), ('MTGT', 'MARIADB', $2, 'DMS_LP_TGT_PASSWORD')`,
      [`mysql://${SRC_USER}@${HOST}/${SRC_DB}`, `mysql://${TGT_USER}@${HOST}/${TGT_DB}`],
    ),
  );
  await h.startWorker();
}, 180_000);

afterAll(async () => {
  try {
    await h?.close();
  } finally {
    await dropAll();
  }
});

describe('least privilege on MariaDB', () => {
  it('sees the grants it was given, and nothing more', async () => {
    const grants = async (user: string) =>
      (await asAdmin<Record<string, string>[]>(SRC_DB, `SHOW GRANTS FOR '${user}'@'${CLIENT}'`)).map((r) =>
        Object.values(r)[0].replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''),
      );
    expect(await grants(SRC_USER)).toEqual([
      `GRANT USAGE ON *.* TO \`${SRC_USER}\`@\`${CLIENT}\``,
      `GRANT SELECT ON \`${SRC_DB}\`.\`sales\` TO \`${SRC_USER}\`@\`${CLIENT}\``,
    ]);
    expect((await grants(TGT_USER)).sort()).toEqual(
      [
        `GRANT USAGE ON *.* TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT CREATE TEMPORARY TABLES ON \`${TGT_DB}\`.* TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.\`dms_chkpnt\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${TGT_DB}\`.\`t_append\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${TGT_DB}\`.\`t_rejects\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT SELECT, INSERT ON \`${TGT_DB}\`.\`dms_reject\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${TGT_DB}\`.\`t_from_pg\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${TGT_DB}\`.\`t_hidden\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT, DROP ON \`${TGT_DB}\`.\`t_truncate\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.\`t_upsert\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT SELECT ON \`${TGT_DB}\`.\`t_no_insert\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${TGT_DB}\`.\`t_no_drop\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT SELECT, INSERT, UPDATE ON \`${TGT_DB}\`.\`t_lookback\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT CREATE ON \`${CREATE_DB}\`.* TO \`${TGT_USER}\`@\`${CLIENT}\``,
        `GRANT INSERT ON \`${CREATE_DB}\`.\`t_created\` TO \`${TGT_USER}\`@\`${CLIENT}\``,
      ].sort(),
    );
  });

  it.each<{ mode: string; mapref: string; table: string; columns: Record<string, string> }>([
    { mode: 'APPEND', mapref: 'LPM_APPEND', table: 't_append', columns: {} },
    { mode: 'TRUNCATE', mapref: 'LPM_TRUNCATE', table: 't_truncate', columns: { loadmode: 'TRUNCATE' } },
    { mode: 'UPSERT', mapref: 'LPM_UPSERT', table: 't_upsert', columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' } },
  ])(
    'loads MariaDB to MariaDB exactly in $mode with only the documented grants',
    async ({ mapref, table, columns }) => {
      await mapping(mapref, mariadbToMariadb(table, columns));
      expect((await (await start(mapref)).result()).rows).toBe(ROWS);
      const source = await mariadbRows(SRC_DB, 'sales');
      expect(source).toHaveLength(ROWS);
      expect(await mariadbRows(TGT_DB, table)).toEqual(source);
      expect(
        (await runs(h.dbs.metadata, mapref)).map((r) => [r.status, r.param1, r.trgrows, r.rejrows, r.lasterr]),
      ).toEqual([['PC', 'COMPLETED', ROWS, 0, null]]);
    },
  );

  it('keeps rejected rows in a DMS_REJECT a DBA created, with SELECT and INSERT on it', async () => {
    await mapping('LPM_REJECTS', mariadbToMariadb('t_rejects', { rejectlmt: '1000' }));
    await (await start('LPM_REJECTS')).result();
    const kept = await mariadbRows(SRC_DB, 'sales_kept');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(ROWS);
    expect(await mariadbRows(TGT_DB, 't_rejects')).toEqual(kept);
    const [{ n }] = await asAdmin<{ n: number }[]>(
      TGT_DB,
      `SELECT count(*) AS n FROM dms_reject WHERE mapref = 'LPM_REJECTS'`,
    );
    expect(Number(n)).toBe(ROWS - kept.length);
    expect((await runs(h.dbs.metadata, 'LPM_REJECTS')).map((r) => [r.status, r.trgrows, r.rejrows])).toEqual([
      ['PC', kept.length, ROWS - kept.length],
    ]);
  });

  it('loads PostgreSQL to MariaDB exactly with INSERT on the table only', async () => {
    await mapping('LPM_FROM_PG', { srcconid: 'SRC', trgconid: 'MTGT', trgschm: TGT_DB, trgtbnm: 't_from_pg' });
    expect((await (await start('LPM_FROM_PG')).result()).rows).toBe(ROWS);
    const source = await postgresFactRows(h.dbs.source, 'sales');
    expect(source).toHaveLength(ROWS);
    expect(await mariadbRows(TGT_DB, 't_from_pg')).toEqual(source);
    // dms verify reads the target too: without SELECT it names the grant, which then lets it run.
    const refused = await verify('LPM_FROM_PG');
    expect(refused.code).not.toBe(0);
    const grant = /a DBA runs (GRANT SELECT ON .*?), then run/.exec(refused.out)?.[1];
    expect(grant, refused.out).toBe(`GRANT SELECT ON \`${TGT_DB}\`.\`t_from_pg\` TO '${TGT_USER}'@'${CLIENT}'`);
    await asAdmin(TGT_DB, grant!);
    const verified = await verify('LPM_FROM_PG');
    expect(verified.out).toContain(`the target equals the source in all`);
    expect(verified.code).toBe(0);
  });

  it('loads MariaDB to PostgreSQL exactly with SELECT on the source table only', async () => {
    await mapping('LPM_TO_PG', { srcconid: 'MSRC', trgconid: 'TGT', trgtbnm: 'T_TO_PG' });
    expect((await (await start('LPM_TO_PG')).result()).rows).toBe(ROWS);
    expect(await postgresFactRows(h.dbs.target, 't_to_pg')).toEqual(await mariadbRows(SRC_DB, 'sales'));
    // dms verify counts the source's ranges with the same SELECT.
    const verified = await verify('LPM_TO_PG');
    expect(verified.out).toContain(
      `(source ${ROWS.toLocaleString('en')} rows, target ${ROWS.toLocaleString('en')} rows)`,
    );
    expect(verified.code).toBe(0);
  });

  it('fails at once, naming the grant, when the target user lacks INSERT on the table, and loads no row', async () => {
    await mapping('LPM_NO_INSERT', mariadbToMariadb('t_no_insert'));
    const message = await failureOf(await start('LPM_NO_INSERT'));
    expect(message).toBe(
      `INSERT command denied to user '${TGT_USER}'@'${SEEN}' for table \`${TGT_DB}\`.\`t_no_insert\` [SQLSTATE 42501]. ` +
        `Fix: a DBA runs GRANT INSERT ON \`${TGT_DB}\`.\`t_no_insert\` TO '${TGT_USER}'@'${CLIENT}', then run the mapping again`,
    );
    expect(await mariadbRows(TGT_DB, 't_no_insert')).toEqual([]);
    expect((await runs(h.dbs.metadata, 'LPM_NO_INSERT')).map((r) => [r.status, r.trgrows, r.lasterr])).toEqual([
      ['FL', 0, expect.stringContaining(message!)],
    ]);
    expect(await mostAttempts('LPM_NO_INSERT')).toBe(1);
    // The fix as the message words it, run as written, is the one grant that was missing.
    await asAdmin(TGT_DB, grantIn(message));
    expect((await (await start('LPM_NO_INSERT')).result()).rows).toBe(ROWS);
    expect(await mariadbRows(TGT_DB, 't_no_insert')).toEqual(await mariadbRows(SRC_DB, 'sales'));
  });

  it('fails a TRUNCATE load at once, naming the grant, when the target user lacks DROP, and no row moves or goes', async () => {
    const before = await mariadbRows(TGT_DB, 't_no_drop');
    expect(before).toHaveLength(50);
    await mapping('LPM_NO_DROP', mariadbToMariadb('t_no_drop', { loadmode: 'TRUNCATE' }));
    const message = await failureOf(await start('LPM_NO_DROP'));
    expect(message).toBe(
      `DROP command denied to user '${TGT_USER}'@'${SEEN}' for table \`${TGT_DB}\`.\`t_no_drop\` [SQLSTATE 42501]. ` +
        `Fix: a DBA runs GRANT DROP ON \`${TGT_DB}\`.\`t_no_drop\` TO '${TGT_USER}'@'${CLIENT}', then run the mapping again`,
    );
    expect(await mariadbRows(TGT_DB, 't_no_drop')).toEqual(before);
    expect((await runs(h.dbs.metadata, 'LPM_NO_DROP')).map((r) => [r.status, r.trgrows])).toEqual([['FL', 0]]);
    expect(await mostAttempts('LPM_NO_DROP')).toBe(1);
    // With the grant the message names, the next run pays the truncate it owes, then loads.
    await asAdmin(TGT_DB, grantIn(message));
    await (await start('LPM_NO_DROP')).result();
    expect(await mariadbRows(TGT_DB, 't_no_drop')).toEqual(await mariadbRows(SRC_DB, 'sales'));
  });

  it('says, for a target table the user holds no privilege on, that MariaDB hides it', async () => {
    await mapping('LPM_NO_GRANT', mariadbToMariadb('t_no_grant'));
    const message = await failureOf(await start('LPM_NO_GRANT'));
    expect(message).toBe(
      `Mapping LPM_NO_GRANT: TRGTBNM names the table \`${TGT_DB}\`.\`t_no_grant\`, which does not exist on connection 'MTGT'. ` +
        `Fix: create the target table, or correct TRGSCHM / TRGTBNM; if it exists, the user ${TGT_USER} holds no privilege on it, and MariaDB hides such a table: grant what the load mode needs (docs/security.md)`,
    );
    expect(await mostAttempts('LPM_NO_GRANT')).toBe(1);
  });

  it('refuses a source user without SELECT on what SRCQUERY reads, naming the grant, before any row moves', async () => {
    await mapping('LPM_NO_SELECT', mariadbToMariadb('t_hidden'), 'SELECT * FROM sales_hidden');
    const message = await failureOf(await start('LPM_NO_SELECT'));
    expect(message).toBe(
      `Mapping LPM_NO_SELECT: SRCQUERY cannot be read by the user ${SRC_USER} of connection 'MSRC': SELECT command denied to user '${SRC_USER}'@'${SEEN}' for table \`${SRC_DB}\`.\`sales_hidden\` [SQLSTATE 42501]. ` +
        `Fix: a DBA runs GRANT SELECT ON \`${SRC_DB}\`.\`sales_hidden\` TO '${SRC_USER}'@'${CLIENT}'; the source's user needs SELECT on every table and view SRCQUERY reads (nothing more)`,
    );
    expect(await mariadbRows(TGT_DB, 't_hidden')).toEqual([]);
    expect(await mostAttempts('LPM_NO_SELECT')).toBe(1);
  });

  it('creates DMS_CHKPNT with CREATE on the database, then names at once all it needs on it', async () => {
    await mapping('LPM_CREATE', { srcconid: 'MSRC', trgconid: 'MTGT', trgschm: CREATE_DB, trgtbnm: 't_created' });
    const message = await failureOf(await start('LPM_CREATE'));
    // MariaDB gives a table's creator no privilege on it: one GRANT for all three, not three runs.
    const grant = grantIn(message);
    expect(grant).toBe(`GRANT SELECT, INSERT, UPDATE ON \`${CREATE_DB}\`.\`dms_chkpnt\` TO '${TGT_USER}'@'${CLIENT}'`);
    expect(await mariadbRows(CREATE_DB, 't_created')).toEqual([]);
    await asAdmin(CREATE_DB, grant);
    const again = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-LPM_CREATE-2',
      args: [{ mapref: 'LPM_CREATE' }],
    });
    expect((await again.result()).rows).toBe(ROWS);
    expect(await mariadbRows(CREATE_DB, 't_created')).toEqual(await mariadbRows(SRC_DB, 'sales'));
  });

  it('re-reads a look-back window and merges it with SELECT, INSERT, UPDATE and CREATE TEMPORARY TABLES', async () => {
    await mapping(
      'LPM_LOOKBACK',
      mariadbToMariadb('t_lookback', {
        chkpntcolumn: 'SOLD_AT',
        loadmode: 'INCREMENTAL',
        chkpntlookback: '30 minutes',
        trgkeycols: 'SALE_ID',
      }),
    );
    expect((await (await start('LPM_LOOKBACK')).result()).rows).toBe(ROWS);
    // One row stamped 10 minutes before the high-water mark commits only now, with one after it.
    await asAdmin(
      SRC_DB,
      `INSERT INTO sales SELECT 1000001, 1, 1.00, MAX(sold_at) - INTERVAL 10 MINUTE, 'late' FROM sales`,
    );
    await asAdmin(
      SRC_DB,
      `INSERT INTO sales SELECT 1000002, 2, 2.00, MAX(sold_at) + INTERVAL 1 MINUTE, 'new' FROM sales`,
    );
    try {
      const second = await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-LPM_LOOKBACK-2',
        args: [{ mapref: 'LPM_LOOKBACK' }],
      });
      // The window's 30 minutes of rows again (1,800 of them, and the late one), and the new one.
      expect((await second.result()).rows).toBe(1802);
      expect(await mariadbRows(TGT_DB, 't_lookback')).toEqual(await mariadbRows(SRC_DB, 'sales'));
    } finally {
      await asAdmin(SRC_DB, 'DELETE FROM sales WHERE sale_id > 1000000');
    }
  });
});
