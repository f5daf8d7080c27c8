// A mysql2 pool configuration from a CONURL (mysql://user@host:3306/database) and a password
// kept apart from it: the URL parsed here, the password set after it (as for PostgreSQL, a
// password beside a URL must never be replaced by the URL's missing one), and every session
// pinned to settings that make values exact: UTC, strict SQL mode, utf8mb4.
//
// TLS comes from the URL's parameters, named as the mysql client names its options:
// ssl-mode (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY), ssl-ca, ssl-cert and
// ssl-key. Any other parameter is refused, never ignored.
import { readFileSync } from 'node:fs';
import mysql from 'mysql2';
import type { Pool as PromisePool, RowDataPacket } from 'mysql2/promise';
import { didYouMean } from '../../common/close-names';
import { ConnectionUrlError, PasswordRequiredError, type TlsProblem } from '../dialect';
import { noteAccount } from './mariadb-errors';

/** Settings every session starts with, whatever the server's defaults. */
const MARIADB_SESSION = `SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4 COLLATE utf8mb4_bin`;

class MariaDbUrlError extends ConnectionUrlError {
  constructor(problem: string, fix = 'write CONURL as mysql://user@host:3306/database') {
    super(problem, fix);
  }
}

/** ssl-mode values, as the mysql client's --ssl-mode takes them (in any case). */
const MARIADB_SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
const SSL_FILES = { 'ssl-ca': 'ca', 'ssl-cert': 'cert', 'ssl-key': 'key' } as const;
/** The URL parameters read: every other one is refused. */
const MARIADB_PARAMETERS = ['ssl-mode', ...Object.keys(SSL_FILES)];

/** The pool options for `url` with its password (none: the server is offered none). */
export function mariadbPoolOptions(
  url: string,
  password: string | undefined,
  settings: mysql.PoolOptions = {},
): mysql.PoolOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MariaDbUrlError('is not a URL such as mysql://user@host:3306/database');
  }
  if (!['mysql:', 'mariadb:'].includes(parsed.protocol))
    throw new MariaDbUrlError(`starts with ${parsed.protocol}//, not mysql:// or mariadb://`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const ssl = mariadbSsl(parsed.searchParams);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    ...(database ? { database } : {}),
    ...(ssl ? { ssl } : {}),
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
 * mysql2's TLS options for the URL's parameters (undefined: no TLS), with the mysql client's
 * meaning: PREFERRED and REQUIRED encrypt without checking the certificate, VERIFY_CA checks
 * it against ssl-ca, VERIFY_IDENTITY also checks that it names the host. Unlike the mysql
 * client, PREFERRED does not fall back to a session without TLS (mysql2 cannot).
 */
function mariadbSsl(params: URLSearchParams): mysql.SslOptions | undefined {
  for (const name of new Set(params.keys())) {
    if (!MARIADB_PARAMETERS.includes(name)) {
      throw new MariaDbUrlError(
        `has the parameter ${name}, which is not read`,
        `remove it; ${didYouMean(name, MARIADB_PARAMETERS)}the parameters read are ${MARIADB_PARAMETERS.join(', ')}`,
      );
    }
    if (params.getAll(name).length > 1) throw new MariaDbUrlError(`sets ${name} more than once`, `keep one ${name}`);
  }
  const given = params.get('ssl-mode');
  const files = Object.keys(SSL_FILES).filter((name) => params.has(name));
  if (given === null) {
    if (files.length)
      throw new MariaDbUrlError(
        `sets ${files[0]} without ssl-mode`,
        "add ssl-mode=VERIFY_IDENTITY (or VERIFY_CA) to say how the server's certificate is checked",
      );
    return undefined;
  }
  const mode = given.toUpperCase();
  if (!(MARIADB_SSL_MODES as readonly string[]).includes(mode)) {
    throw new MariaDbUrlError(
      `sets ssl-mode=${given}, which is not one of ${MARIADB_SSL_MODES.join(', ')}`,
      `set ssl-mode to one of ${MARIADB_SSL_MODES.join(', ')}`,
    );
  }
  if (mode === 'DISABLED') {
    if (files.length)
      throw new MariaDbUrlError(
        `sets ${files[0]} with ssl-mode=DISABLED`,
        `remove ${files.join(', ')}, or choose an ssl-mode that uses TLS`,
      );
    return undefined;
  }
  const verify = mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY';
  if (!verify && params.has('ssl-ca')) {
    throw new MariaDbUrlError(
      `sets ssl-ca with ssl-mode=${mode}, which does not check the server's certificate`,
      'use ssl-mode=VERIFY_IDENTITY (or VERIFY_CA) to check it against ssl-ca, or remove ssl-ca',
    );
  }
  if (mode === 'VERIFY_CA' && !params.has('ssl-ca')) {
    throw new MariaDbUrlError(
      'sets ssl-mode=VERIFY_CA without ssl-ca',
      "add ssl-ca=<the file of the CA that signed the server's certificate>, or use ssl-mode=VERIFY_IDENTITY to check against the system's trusted CAs",
    );
  }
  if (params.has('ssl-cert') !== params.has('ssl-key')) {
    const [has, lacks] = params.has('ssl-cert') ? ['ssl-cert', 'ssl-key'] : ['ssl-key', 'ssl-cert'];
    throw new MariaDbUrlError(`sets ${has} without ${lacks}`, `add ${lacks}, the client certificate's other file`);
  }
  const ssl: mysql.SslOptions = { rejectUnauthorized: verify, verifyIdentity: mode === 'VERIFY_IDENTITY' };
  for (const [name, option] of Object.entries(SSL_FILES)) {
    const file = params.get(name);
    if (file === null) continue;
    try {
      ssl[option] = readFileSync(file, 'utf8');
    } catch (err) {
      throw new MariaDbUrlError(
        `names ${name}=${file}, which the worker cannot read (${(err as NodeJS.ErrnoException).code})`,
        `set ${name} to the path of a PEM file the worker can read`,
      );
    }
  }
  return ssl;
}

/** What to change in a MariaDB CONURL when its TLS handshake fails. */
export function mariadbTlsFix(problem: TlsProblem): string {
  switch (problem) {
    case 'untrusted':
      return "set ssl-ca to the file of the CA that signed the server's certificate";
    case 'hostname':
      return "write the host as the server's certificate names it, or use ssl-mode=VERIFY_CA, which checks the CA but not the host name";
    case 'expired':
      return "the server's certificate is out of its dates: renew it on the server";
    case 'no-tls':
      return 'turn TLS on in the server (ssl_cert and ssl_key), or set ssl-mode=DISABLED to connect without TLS (PREFERRED does not fall back to a session without TLS here)';
  }
}

/**
 * A pool whose every new session is pinned first (the statements are queued before any other):
 * a source's sessions read only (every statement, also one outside a transaction, such as the
 * search for a batch's upper key: a stored function SRCQUERY calls can never write), a
 * target's wait `lockTimeoutMs` for a row lock or a table's metadata lock before failing (a
 * retryable error).
 */
export function mariadbPool(
  url: string,
  password: string | undefined,
  settings: mysql.PoolOptions,
  session: { readOnly: true } | { lockTimeoutMs: number },
): mysql.Pool {
  const pool = mysql.createPool(mariadbPoolOptions(url, password, settings));
  const wait = 'readOnly' in session ? 0 : Math.max(1, Math.ceil(session.lockTimeoutMs / 1000));
  const statements =
    'readOnly' in session
      ? [MARIADB_SESSION, 'SET SESSION TRANSACTION READ ONLY']
      : [`${MARIADB_SESSION}, innodb_lock_wait_timeout = ${wait}, lock_wait_timeout = ${wait}`];
  pool.on('connection', (connection) => {
    for (const statement of statements) connection.query(statement);
    // The account this session is, for the GRANT a refusal suggests (mariadb-errors.ts).
    connection.query<RowDataPacket[]>('SELECT USER() AS seen, CURRENT_USER() AS account', (err, rows) => {
      if (!err && rows[0]) noteAccount(String(rows[0].seen), String(rows[0].account));
    });
  });
  return pool;
}

/**
 * Node's codes of the certificate checks that fail a TLS handshake, by Node's message for each:
 * mysql2 replaces the code of such an error with its own HANDSHAKE_SSL_ERROR, and keeps the
 * message.
 */
const HANDSHAKE_MESSAGES: [RegExp, string][] = [
  [/^self[- ]signed certificate in certificate chain$/, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/^self[- ]signed certificate$/, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/^unable to verify the first certificate$/, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/^unable to get local issuer certificate$/, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/^unable to get issuer certificate$/, 'UNABLE_TO_GET_ISSUER_CERT'],
  [/^certificate has expired$/, 'CERT_HAS_EXPIRED'],
  [/^certificate is not yet valid$/, 'CERT_NOT_YET_VALID'],
  [/^Hostname\/IP does not match certificate's altnames/, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];

/**
 * A login refused because no password was offered, as the shared PasswordRequiredError; a TLS
 * handshake that failed a certificate check, with Node's code again (tlsProblemOf reads it).
 */
export function loginError(err: unknown, offered: boolean): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'HANDSHAKE_SSL_ERROR' && err instanceof Error) {
    const node = HANDSHAKE_MESSAGES.find(([message]) => message.test(err.message));
    if (node) return Object.assign(err, { code: node[1] });
  }
  if (!offered && code === 'ER_ACCESS_DENIED_ERROR' && /using password: NO/.test((err as Error).message))
    return new PasswordRequiredError();
  return err;
}

/** The server a pool reaches (its @@server_uid and port) and its sessions' default database. */
export async function whereAmI(pool: Pick<PromisePool, 'query'>): Promise<{ server: string; database: string | null }> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT @@server_uid AS uid, @@port AS port, DATABASE() AS db');
  return { server: `${rows[0].uid}@${rows[0].port}`, database: rows[0].db };
}
