// A mysql2 pool configuration from a CONURL (mysql://user@host:3306/database) and a password
// kept apart from it: the URL parsed here, the password set after it (as for PostgreSQL, a
// password beside a URL must never be replaced by the URL's missing one), and every session
// pinned to settings that make values exact: UTC, strict SQL mode, utf8mb4.
import mysql from 'mysql2';
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
    // Every value as the server's text: exact decimals, big integers and microseconds.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    charset: 'utf8mb4_bin',
    timezone: 'Z',
  };
}

/**
 * A pool whose every new session is pinned first (the statement is queued before any other),
 * with `lockTimeoutMs` as how long a statement waits for a row lock or a table's metadata lock
 * before failing (a retryable error), when given.
 */
export function mariadbPool(url: string, password: string | undefined, settings: mysql.PoolOptions = {}, lockTimeoutMs?: number): mysql.Pool {
  const pool = mysql.createPool(mariadbPoolOptions(url, password, settings));
  const seconds = lockTimeoutMs === undefined ? undefined : Math.max(1, Math.ceil(lockTimeoutMs / 1000));
  const session = seconds === undefined ? MARIADB_SESSION : `${MARIADB_SESSION}, innodb_lock_wait_timeout = ${seconds}, lock_wait_timeout = ${seconds}`;
  pool.on('connection', (connection) => {
    connection.query(session);
  });
  return pool;
}

/** A login refused because no password was offered, as the shared PasswordRequiredError. */
export function loginError(err: unknown, offered: boolean): unknown {
  const code = (err as { code?: string }).code;
  if (!offered && code === 'ER_ACCESS_DENIED_ERROR' && /using password: NO/.test((err as Error).message)) return new PasswordRequiredError();
  return err;
}
