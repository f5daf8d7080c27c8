// node-oracledb's errors in the neutral shape (Dialect.readError): an OracleError whose `code`
// is the SQLSTATE the error is shown with (DMS_REJECT.ERRCODE), read into a kind as every
// dialect reads one (dialects/sqlstate.ts), and a message without row values. The ORA- code
// stays at the end of the message.
//   ORA-nnnnn: errors from the server (err.errorNum, err.code 'ORA-00942')
//   NJS-nnn:   the thin driver's own, among them every lost or refused connection
import { DialectError, type ErrorReading } from '../dialect';
import { isSqlState, sqlStateReading } from '../sqlstate';

/** ORA- error numbers and the SQLSTATE each is read as. Retried: classes 08, 40, 55P03, 57. */
const ORA_STATES = new Map<number, string>([
  // retried
  [60, '40P01'], // deadlock detected while waiting for resource
  [8177, '40001'], // can't serialize access for this transaction
  [1555, '40001'], // snapshot too old: a new attempt reads a new snapshot
  [54, '55P03'], // resource busy and acquire with NOWAIT specified
  [30006, '55P03'], // resource busy; acquire with WAIT timeout expired
  [3113, '08006'], // end-of-file on communication channel
  [3114, '08003'], // not connected to ORACLE
  [3135, '08006'], // connection lost contact
  [12541, '08001'], // no listener
  [12170, '08001'], // connect timeout occurred
  [12537, '08006'], // connection closed
  [1033, '57P03'], // initialization or shutdown in progress
  [1034, '08001'], // ORACLE not available
  [1089, '57P01'], // immediate shutdown or close in progress
  [1013, '57014'], // user requested cancel of current operation
  [4031, '53200'], // unable to allocate shared memory
  [1652, '53100'], // unable to extend temp segment
  [1653, '53100'], // unable to extend table
  [1654, '53100'], // unable to extend index
  // not retried: the login
  [1017, '28P01'], // invalid username/password; logon denied
  [28000, '28000'], // the account is locked
  [12514, '3D000'], // the listener does not know the service
  [12505, '3D000'], // the listener does not know the SID
  // not retried: SQL and privileges
  [900, '42601'], // invalid SQL statement
  [933, '42601'], // SQL command not properly ended
  [936, '42601'], // missing expression
  [907, '42601'], // missing right parenthesis
  [942, '42P01'], // table or view does not exist
  [904, '42703'], // invalid identifier
  [1031, '42501'], // insufficient privileges
  [1456, '25006'], // may not perform insert/delete/update operation inside a READ ONLY transaction
  // not retried: data
  [1, '23505'], // unique constraint violated
  [1400, '23502'], // cannot insert NULL
  [1407, '23502'], // cannot update to NULL
  [2290, '23514'], // check constraint violated
  [2291, '23503'], // integrity constraint violated - parent key not found
  [2292, '23503'], // integrity constraint violated - child record found
  [12899, '22001'], // value too large for column
  [1438, '22003'], // value larger than specified precision allowed for this column
  [1722, '22P02'], // invalid number
  [1465, '22P02'], // invalid hex number (HEXTORAW of a RAW column's text)
  [1830, '22007'], // date format picture ends before converting entire input string
  [1861, '22007'], // literal does not match format string
  [1841, '22008'], // (full) year must be between -4713 and +9999
  [1843, '22008'], // not a valid month
  [1847, '22008'], // day of month must be between 1 and last day of month
  [30926, '21000'], // unable to get a stable set of rows in the source tables (MERGE met one key twice)
]);

/** The thin driver's connection errors (NJS-5nn), retried as connection loss; a wrong service is a login error. */
const NJS_STATES = new Map<string, string>([
  ['NJS-500', '08006'], // connection to Oracle Database was closed or broken
  ['NJS-501', '08006'], // connection terminated unexpectedly
  ['NJS-503', '08001'], // connection could not be established
  ['NJS-510', '08001'], // connection timed out
  ['NJS-511', '08001'], // connection to the listener was refused
  ['NJS-521', '08006'], // end-of-file on communication channel
  ['NJS-518', '3D000'], // service not registered with the listener
  ['NJS-519', '3D000'], // SID not registered with the listener
]);

interface DriverError extends Error {
  code?: string;
  errorNum?: number;
  offset?: number;
}

export class OracleError extends DialectError {
  readonly dbtyp = 'ORACLE';

  constructor(
    message: string,
    readonly code: string | undefined,
    /** The driver's own code: 'ORA-00942', 'NJS-500'. */
    readonly oracleCode: string | undefined,
  ) {
    super(message);
    this.name = 'OracleError';
  }
}

/**
 * The SQLSTATE an ORA- or NJS- error is read as; undefined for one this dialect does not know,
 * which keeps its own code and is retried within the bounded policy, as any unexpected error.
 */
function oracleSqlState(err: { code?: string; errorNum?: number }): string | undefined {
  if (typeof err.errorNum === 'number' && err.code?.startsWith('ORA-')) return ORA_STATES.get(err.errorNum);
  return err.code ? NJS_STATES.get(err.code) : undefined;
}

/**
 * The message without values: its first line only (no 'Help:' link), the ORA- prefix moved to
 * the end. In data and constraint errors (classes 22, 23, 21) every single-quoted part goes,
 * as does a list of column values (Oracle 23 prints `(ID:1)`); names lose their double quotes
 * and ': ' becomes ' ', so that the shared redaction (activities/failures.ts) keeps them.
 */
function oracleMessage(message: string, code: string | undefined, state: string | undefined): string {
  const first = message.split('\n')[0];
  const prefix = /^((?:ORA|NJS)-\d+):\s*/.exec(first);
  let text = prefix ? first.slice(prefix[0].length) : first;
  if (state && /^2[123]/.test(state)) {
    text = text
      .replace(/'(?:[^']|'')*'/g, '(value)')
      .replace(/\bvalues \([^)]*\)/gi, 'values (redacted)')
      .replace(/"([^"]*)"/g, '$1')
      .replace(/: /g, ' ');
  }
  return code ? `${text} [${code}]` : text;
}

/** A driver error as dms-etl reads it; anything else is returned as it is. */
export function oracleError(err: unknown): unknown {
  const e = err as DriverError;
  if (!(e instanceof Error) || e instanceof OracleError || !e.code || !/^(ORA|NJS)-\d+$/.test(e.code)) return err;
  const state = oracleSqlState(e);
  return new OracleError(oracleMessage(e.message, e.code, state), state ?? e.code, e.code);
}

/** An OracleError, or an ORA- or NJS- error of the driver, in the neutral shape (Dialect.readError). */
export function readOracleError(err: unknown): ErrorReading | undefined {
  const own = err instanceof OracleError ? err : oracleError(err);
  if (!(own instanceof OracleError)) return undefined;
  // One this dialect does not know keeps its own code, and is retried within the bounded policy.
  if (!isSqlState(own.code)) return { kind: 'unknown', code: own.code, message: own.message };
  return sqlStateReading({ code: own.code, message: own.message });
}
