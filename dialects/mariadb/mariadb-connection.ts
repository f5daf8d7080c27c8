// A mysql2 pool configuration from a CONURL (mysql://user@host:3306/database) and a password
// kept apart from it: the URL parsed here, the password set after it (as for PostgreSQL, a
// password beside a URL must never be replaced by the URL's missing one), and every session
// pinned to settings that make values exact: UTC, strict SQL mode, utf8mb4.
import mysql from 'mysql2';
import type { Pool as PromisePool, RowDataPacket } from 'mysql2/promise';
import { PasswordRequiredError } from '../dialect';

/** Settings every session starts with, whatever the server's defaults. */
export const MARIADB_SESSION = `SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4 COLLATE utf8mb4_bin`;

export class MariaDbUrlError extends Error {}

/** The pool options for `url` with its password (none: the server is offered none). */
export function mariadbPoolOptions(url: string, password: string | undefined, settings: mysql.PoolOptions = {}): mysql.PoolOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MariaDbUrlError('is not a URL such as mysql://user@host:3306/database');
  }
  if (!['mysql:', 'mariadb:'].includes(parsed.protocol)) throw new MariaDbUrlError(`starts with ${parsed.protocol}//, not mysql:// or mariadb://`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    ...(database ? { database } : {}),
    ...settings,
    password: password ?? '',
    // Every value as the server's text: exact decimals, big integers, microseconds and JSON.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    charset: 'utf8mb4_bin',
    timezone: 'Z',
  };
}

/**
 * A pool whose every new session is pinned first (the statements are queued before any other):
 * a source's sessions read only (every statement, also one outside a transaction, such as the
 * search for a batch's upper key: a stored function SRCQUERY calls can never write), a
 * target's wait `lockTimeoutMs` for a row lock or a table's metadata lock before failing (a
 * retryable error).
 */
export function mariadbPool(url: string, password: string | undefined, settings: mysql.PoolOptions, session: { readOnly: true } | { lockTimeoutMs: number }): mysql.Pool {
  const pool = mysql.createPool(mariadbPoolOptions(url, password, settings));
  const wait = 'readOnly' in session ? 0 : Math.max(1, Math.ceil(session.lockTimeoutMs / 1000));
  const statements = 'readOnly' in session ? [MARIADB_SESSION, 'SET SESSION TRANSACTION READ ONLY'] : [`${MARIADB_SESSION}, innodb_lock_wait_timeout = ${wait}, lock_wait_timeout = ${wait}`];
  pool.on('connection', (connection) => {
    for (const statement of statements) connection.query(statement);
  });
  return pool;
}

/** A login refused because no password was offered, as the shared PasswordRequiredError. */
export function loginError(err: unknown, offered: boolean): unknown {
  const code = (err as { code?: string }).code;
  if (!offered && code === 'ER_ACCESS_DENIED_ERROR' && /using password: NO/.test((err as Error).message)) return new PasswordRequiredError();
  return err;
}

/** The server a pool reaches (its @@server_uid and port) and its sessions' default database. */
export async function whereAmI(pool: Pick<PromisePool, 'query'>): Promise<{ server: string; database: string | null }> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT @@server_uid AS uid, @@port AS port, DATABASE() AS db');
  return { server: `${rows[0].uid}@${rows[0].port}`, database: rows[0].db };
}
