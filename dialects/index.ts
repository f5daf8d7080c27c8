import { DialectError, type Dialect, type ErrorReading } from './dialect';
import { mariadbDialect } from './mariadb/mariadb-dialect';
import { oracleDialect } from './oracle/oracle-dialect';
import { postgresDialect } from './postgres/postgres-dialect';

export * from './dialect';
export { IdentifierError, splitIdentifierList } from '../common/identifiers';
export { rowText, type RowValue } from './row-values';

const DIALECTS: Dialect[] = [postgresDialect, mariadbDialect, oracleDialect];

/** The DBTYP values this version can run. */
export const SUPPORTED_DBTYPS = DIALECTS.flatMap((d) => [d.dbtyp, ...(d.aliases ?? [])]);

/** The dialect for a DMS_DBCONDTLS.DBTYP value ('POSTGRES', ...), or undefined. */
/** Whether a stack passes through a known dialect's driver (its package in node_modules). */
export function isDriverStack(stack: string): boolean {
  return DIALECTS.some((d) => d.driverPackages.some((p) => stack.includes(`node_modules/${p}/`)));
}

export function dialectFor(dbtyp: string): Dialect | undefined {
  const wanted = dbtyp.trim().toUpperCase();
  // 'POSTGRESQL' is what people also write; accept it as the same database.
  return DIALECTS.find((d) => d.dbtyp === wanted || d.aliases?.includes(wanted));
}

/** Node's codes for a connection lost or refused, from any driver's socket: retried. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * A database error in the neutral shape (ErrorReading), or undefined for an error no database
 * raised. An error a dialect raised carries its dialect, which reads it; a driver's own error
 * is read by the dialect that knows its forms (each knows only its own driver's); a socket's
 * lost connection is the same for every driver.
 */
export function readDatabaseError(err: unknown): ErrorReading | undefined {
  if (err instanceof DialectError) return dialectFor(err.dbtyp)?.readError(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code))
    return { kind: 'transient', code, message: (err as Error).message ?? String(err) };
  for (const dialect of DIALECTS) {
    const reading = dialect.readError(err);
    if (reading) return reading;
  }
  return undefined;
}

/**
 * A database error's message without row values, as the dialect of the database that raised it
 * reads it (ErrorReading.message); any other error's own message.
 */
export function redactedMessage(err: unknown): string {
  return readDatabaseError(err)?.message ?? (err as Error | undefined)?.message ?? String(err);
}

/** Whether a database error is worth retrying: a connection lost or refused, a deadlock, a lock wait, … (ErrorKind). */
export function isTransient(err: unknown): boolean {
  return readDatabaseError(err)?.kind === 'transient';
}

/**
 * The GRANT that would have let a refused statement run, as the dialect of the database that
 * refused it reads its message: to `grantee` where the message names no account (MariaDB's
 * does); `reading`: the statement only read. Null where the message names no object (Oracle's
 * ORA-01031).
 */
export function grantFor(err: unknown, grantee: string, reading = false): string | null {
  return readDatabaseError(err)?.grant?.(grantee, reading) ?? null;
}

/**
 * A database error's message without row values (redactedMessage) and, for a missing
 * privilege, the fix: the GRANT where the dialect reads one from the message, then `rerun`
 * (what the user runs again: the mapping, `dms verify`, …).
 */
export function messageWithFix(err: unknown, rerun: string): string {
  const message = redactedMessage(err);
  if (readDatabaseError(err)?.kind !== 'privilege') return message;
  const grant = grantFor(err, 'the user of the connection that ran it');
  const fix = grant
    ? `a DBA runs ${grant}`
    : 'a DBA grants the user of the connection that ran it what dms-etl needs on the object the message names';
  return `${message}. Fix: ${fix}, then ${rerun}`;
}
