// Throw-away MariaDB databases on the local server, each with a user of its own that logs in
// with a password (as a production server asks), one set per test file.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Metadata } from '../../metadata/repository';
import { urlFor, withClient } from './postgres';

/** The server the tests administer (root, as installed here; DMS_TEST_MARIADB_URL to change). */
export const ADMIN = new URL(process.env.DMS_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306');

export interface TestMariaDb {
  database: string;
  user: string;
  password: string;
  /** CONURL for DMS_DBCONDTLS: the URL without the password. */
  conurl: string;
  /** Runs statements as the database's own user, in that database. */
  query<T = unknown>(sql: string, values?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

/** Runs `fn` on a session of the server's administrator (multiple statements allowed), in `database` if given. */
export async function admin<T>(fn: (c: mysql.Connection) => Promise<T>, database?: string): Promise<T> {
  const c = await mysql.createConnection({
    host: ADMIN.hostname,
    port: Number(ADMIN.port || 3306),
    user: decodeURIComponent(ADMIN.username || 'root'),
    password: decodeURIComponent(ADMIN.password),
    multipleStatements: true,
    ...(database ? { database } : {}),
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createMariaDb(label: string): Promise<TestMariaDb> {
  const suffix = randomBytes(3).toString('hex');
  const database = `dmst_${label}_${suffix}`;
  const user = `dmst_${suffix}`;
  const password = `pw-${randomBytes(9).toString('hex')}`;
  await admin((c) =>
    c.query(
      `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
       CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';
       CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}';
       GRANT ALL ON \`${database}\`.* TO '${user}'@'127.0.0.1';
       GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost';`,
    ),
  );
  const conurl = `mysql://${user}@${ADMIN.hostname}:${ADMIN.port || 3306}/${database}`;
  return {
    database,
    user,
    password,
    conurl,
    async query<T>(sql: string, values?: unknown[]) {
      const c = await mysql.createConnection({
        host: ADMIN.hostname,
        port: Number(ADMIN.port || 3306),
        user,
        password,
        database,
        multipleStatements: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      });
      try {
        await c.query(`SET time_zone = '+00:00'`);
        const [rows] = await c.query(sql, values);
        return rows as T;
      } finally {
        await c.end();
      }
    },
    drop: () =>
      admin((c) =>
        c.query(
          `DROP DATABASE IF EXISTS \`${database}\`; DROP USER IF EXISTS '${user}'@'127.0.0.1'; DROP USER IF EXISTS '${user}'@'localhost';`,
        ),
      ).then(() => undefined),
  };
}

/**
 * Migrates the metadata database and registers `m` in it as connection MDB (DBTYP MARIADB),
 * its password in the worker's variable `passwordEnv`.
 */
export async function registerMariaDbConnection(
  metadataDatabase: string,
  m: TestMariaDb,
  passwordEnv: string,
): Promise<void> {
  const metadata = Metadata.open(urlFor(metadataDatabase));
  await metadata.migrate().finally(() => metadata.close());
  await withClient(metadataDatabase, (c) =>
    c.query(`INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MDB', 'MARIADB', $1, $2)`, [
      m.conurl,
      passwordEnv,
    ]),
  );
}

/**
 * The SELECT statements `user` has run on the server, as its user statistics count them: each
 * test file's user is its own, so other files running at the same time do not count (as they do
 * in the server's global Com_select). Turns the statistics on (userstat: bookkeeping only, which
 * no other test notices).
 */
export async function selectsOf(user: string): Promise<number> {
  return admin(async (c) => {
    await c.query('SET GLOBAL userstat = 1');
    const [rows] = await c.query('SELECT SELECT_COMMANDS AS n FROM information_schema.USER_STATISTICS WHERE USER = ?', [
      user,
    ]);
    return Number((rows as { n: string | number }[])[0]?.n ?? 0);
  });
}

/**
 * A fact table's rows (sale_id, store_id, amount, sold_at, note) as one text each, NULL apart
 * from '', every digit and microsecond kept, in key order: on MariaDB this query, on
 * PostgreSQL postgresFactRows, so that a load either way compares value by value.
 */
export const mariadbFactRowsSql = (table: string) =>
  `SELECT CONCAT_WS('|', sale_id, store_id, IFNULL(amount, '<null>'), IFNULL(DATE_FORMAT(sold_at, '%Y-%m-%d %H:%i:%s.%f'), '<null>'), IFNULL(note, '<null>')) AS t
     FROM \`${table}\` ORDER BY sale_id, t`;

/** The same text of a PostgreSQL table's rows (sold_at in UTC). */
export async function postgresFactRows(database: string, table: string): Promise<string[]> {
  return withClient(database, async (c) => {
    await c.query(`SET TimeZone = 'UTC'`);
    const { rows } = await c.query<{ t: string }>(
      `SELECT concat_ws('|', sale_id, store_id, coalesce(amount::text, '<null>'), coalesce(to_char(sold_at, 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'), coalesce(note, '<null>')) AS t
         FROM ${table} ORDER BY sale_id, t`,
    );
    return rows.map((r) => r.t);
  });
}

/**
 * The `CREATE TABLE IF NOT EXISTS `dwh`.<table>` block a doc hands a DBA (docs/<file>), for
 * the database `database`: a test that creates the table from it proves the text as written.
 */
export function documentedDdl(file: string, table: string, database: string): string {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', file), 'utf8');
  const block = new RegExp(`\`\`\`sql\\n(CREATE TABLE IF NOT EXISTS \`dwh\`\\.${table} \\([\\s\\S]*?)\\n\`\`\``).exec(
    doc,
  )?.[1];
  if (!block) throw new Error(`docs/${file} holds no CREATE TABLE for ${table}`);
  return block.replace('`dwh`', `\`${database}\``);
}
