// Classifies errors into retryable and non-retryable Temporal failures, and strips row
// values from database messages before they reach Temporal or a log.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ConfigError, NON_RETRYABLE_TYPES, UnreachableError } from '../common/errors';
import { ConnectionUrlError, dialectFor, isSqlState, PasswordRequiredError, readDatabaseError, tlsProblemOf, type ConnectionSpec, type DriverErrorShape as DriverError, type ErrorReading } from '../dialects';

/** SQLSTATEs worth retrying: connection loss, serialization, resources, shutdown, locks. */
export function isTransientSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code === '40001' || // serialization failure
    code === '40P01' || // deadlock
    code.startsWith('53') || // insufficient resources
    code === '57P01' || // admin shutdown
    code === '57P02' || // crash shutdown
    code === '57P03' || // cannot connect now
    code === '55P03' || // lock not available (lock_timeout)
    code === '58030' || // I/O error
    code === '57014' // statement cancelled (statement_timeout)
  );
}

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export { isSqlState };

/** Where in a bulk load's input the database placed an error, as its dialect reads it. */
export function inputPlaceOf(err: unknown): ErrorReading['place'] | null {
  return readDatabaseError(err).place ?? null;
}

/**
 * A database error's message without row values. Data exceptions (class 22) quote the
 * offending value, so every quoted part is removed; other classes quote only names. A message
 * its dialect says may hold anything (a trigger's RAISE) is withheld. The driver's `detail`
 * (which can hold a whole row) is never used.
 */
export function redactedMessage(err: DriverError): string {
  let message = err.message ?? String(err);
  const code = err.code;
  const reading = readDatabaseError(err);
  if (reading.withheld) message = reading.withheld;
  else if (isSqlState(code) && code.startsWith('22')) {
    // Data exceptions print the offending value after ': ' (quotes inside it unescaped).
    // Keep only what comes before.
    const cut = message.indexOf(': ');
    // Some (22003: value "3000000000" is out of range) quote the value with no ': ' at all.
    const kept = (cut >= 0 ? message.slice(0, cut) : message).replace(/"[\s\S]*"/, '(value)');
    message = `${kept}: (value redacted)`;
  }
  const place = reading.place;
  if (place) message += ` (${place.text})`;
  else if (err.column) message += ` (column ${err.column})`;
  return isSqlState(code) ? `${message} [SQLSTATE ${code}]` : message;
}

/** insufficient_privilege: PostgreSQL's 42501, and MariaDB's and Oracle's refusals mapped onto it. */
export const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * The GRANT that would have let a refused statement run, as the dialect of the database that
 * refused it reads its message: to `grantee` where the message names no account (MariaDB's
 * does); `reading`: the statement only read. Null where the message names no object (Oracle's
 * ORA-01031).
 */
export function grantFor(err: DriverError, grantee: string, reading = false): string | null {
  return readDatabaseError(err).grant?.(grantee, reading) ?? null;
}

/**
 * A database error's message without row values (redactedMessage) and, for a missing
 * privilege, the fix: the GRANT where the dialect reads one from the message, then `rerun`
 * (what the user runs again: the mapping, `dms verify`, …).
 */
export function messageWithFix(err: DriverError, rerun: string): string {
  const message = redactedMessage(err);
  if (err.code !== INSUFFICIENT_PRIVILEGE) return message;
  const grant = grantFor(err, 'the user of the connection that ran it');
  const fix = grant ? `a DBA runs ${grant}` : 'a DBA grants the user of the connection that ran it what dms-etl needs on the object the message names';
  return `${message}. Fix: ${fix}, then ${rerun}`;
}

/** The user a connection's URL logs in as, for messages and GRANTs ('' where it names none). */
export function loginUserOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username);
  } catch {
    return '';
  }
}

/** A CONURL setting refused before any connection is made, naming the connection, the parameter and the fix. */
export function urlFailure(mapref: string, field: string, conid: string, err: ConnectionUrlError): ConfigError {
  return new ConfigError(mapref, field, `uses connection '${conid}', whose CONURL ${err.problem}`, `in CONURL of connection '${conid}' in DMS_DBCONDTLS, ${err.fix}`);
}

export function isTransient(err: unknown): boolean {
  const e = err as DriverError & { errno?: unknown };
  if (isSqlState(e?.code)) return isTransientSqlState(e.code);
  if (e?.code && TRANSIENT_NODE_CODES.has(e.code)) return true;
  // A driver that reports a lost connection by message only: its dialect knows the words.
  return readDatabaseError(err).transient === true;
}

/**
 * What to throw when a connection's first query fails, naming the mapping's field and the
 * connection: a database that is down or out of reach stays retryable (UnreachableError
 * keeps the driver's code); anything else that stops the login (authentication, a database
 * or host that does not exist, a missing password, TLS) is a ConfigError, whose fix names
 * the variable PWDENV names (never its value).
 */
export function connectionFailure(mapref: string, field: string, connection: Pick<ConnectionSpec, 'conid' | 'passwordEnv'> & { dbtyp?: string }, err: unknown): Error {
  const { conid, passwordEnv } = connection;
  const e = err as DriverError;
  if (err instanceof ConfigError) return err;
  if (err instanceof ConnectionUrlError) return urlFailure(mapref, field, conid, err);
  const tls = tlsProblemOf(err);
  if (tls) {
    const fix = (connection.dbtyp && dialectFor(connection.dbtyp)?.tlsFix?.(tls)) || 'correct its TLS parameters';
    return new ConfigError(mapref, field, `uses connection '${conid}', whose TLS handshake failed: ${e?.message ?? String(err)}`, `in CONURL of connection '${conid}' in DMS_DBCONDTLS, ${fix}`);
  }
  if (isTransient(err)) {
    const fix = `check that the database is up and reachable from the worker, and CONURL of connection '${conid}' in DMS_DBCONDTLS`;
    return new UnreachableError(mapref, field, conid, e?.message ?? String(err), fix, e?.code);
  }
  const url = `correct CONURL (host, port, database, user) of connection '${conid}' in DMS_DBCONDTLS`;
  if (err instanceof PasswordRequiredError) {
    return new ConfigError(
      mapref,
      field,
      `uses connection '${conid}', which the worker cannot log in to: the server asks for a password, and the connection's PWDENV is empty`,
      `set PWDENV of connection '${conid}' in DMS_DBCONDTLS to the name of an environment variable that holds the password on the worker, or ${url}`,
    );
  }
  const password = passwordEnv
    ? `the password in ${passwordEnv} (the variable its PWDENV names) on the worker`
    : `if the server asks for a password, set PWDENV of the connection to the name of a variable that holds it`;
  return new ConfigError(mapref, field, `uses connection '${conid}', which the worker cannot log in to: ${redactedMessage(e)}`, `${url}, or ${password}`);
}

/** Turns any error into the failure Temporal should see. */
export function toFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  const e = err as Error & DriverError;
  if (e instanceof Error && NON_RETRYABLE_TYPES.includes(e.name)) {
    return ApplicationFailure.create({ type: e.name, message: e.message, nonRetryable: true });
  }
  if (isTransient(err)) {
    return ApplicationFailure.create({ type: 'TransientError', message: redactedMessage(e), nonRetryable: false });
  }
  if (e?.code === INSUFFICIENT_PRIVILEGE) {
    // Not retried (a grant is missing, which no retry brings), and said with the fix.
    return ApplicationFailure.create({ type: 'DataError', message: messageWithFix(e, 'run the mapping again'), nonRetryable: true });
  }
  if (isSqlState(e?.code)) {
    // Bad data, constraint violations, SQL errors, a target that no longer matches.
    return ApplicationFailure.create({ type: 'DataError', message: redactedMessage(e), nonRetryable: true });
  }
  // Anything unknown is retried within the bounded policy, its message kept short.
  return ApplicationFailure.create({ type: 'UnexpectedError', message: e?.message ?? String(err), nonRetryable: false });
}
