// SQLSTATE, the SQL standard's five-character error code, as the dialects read it. PostgreSQL's
// errors carry one; MariaDB's and Oracle's dialects give their errors one (DMS_REJECT.ERRCODE and
// messages show it), and each dialect reads its errors into the neutral ErrorReading through
// here. Nothing above dialects/ looks at a SQLSTATE: it decides from the reading's kind.
import type { ErrorKind, ErrorReading } from './dialect';

/** Whether `code` is a SQLSTATE (five digits or capitals). */
export function isSqlState(code: string | undefined): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** SQLSTATEs worth retrying: connection loss, serialization, resources, shutdown, locks. */
function isTransientSqlState(code: string): boolean {
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

/** What kind of failure a SQLSTATE names. */
function kindOfSqlState(code: string): ErrorKind {
  if (isTransientSqlState(code)) return 'transient';
  if (code.startsWith('22')) return 'data'; // a value too long, out of range, malformed
  if (code.startsWith('23')) return 'constraint'; // CHECK, NOT NULL, unique, foreign key
  if (code === '42501') return 'privilege'; // insufficient_privilege
  if (code === '25006') return 'read-only'; // read_only_sql_transaction
  return 'statement';
}

/** What a dialect read in an error with a SQLSTATE beyond the code and the message. */
export interface SqlStateExtras {
  /** Where in a bulk load's input the database placed the error (`COPY line 3, column note`), and the column where it names one. */
  place?: { text: string; column?: string };
  /** The message may say anything (a trigger's or function's own text): shown as this instead. */
  withheld?: string;
  grant?: ErrorReading['grant'];
}

/**
 * The reading of an error whose `code` is a SQLSTATE, its message without row values: data
 * exceptions (class 22) quote the offending value, so every quoted part is removed; other
 * classes quote only names. A message the dialect withholds is replaced. The driver's `detail`
 * (which can hold a whole row) is never used.
 */
export function sqlStateReading(
  err: { code: string; message?: string; column?: string },
  extras: SqlStateExtras = {},
): ErrorReading {
  const { code } = err;
  const kind = kindOfSqlState(code);
  let message = extras.withheld ?? err.message ?? String(err);
  if (!extras.withheld && kind === 'data') {
    // Data exceptions print the offending value after ': ' (quotes inside it unescaped).
    // Keep only what comes before.
    const cut = message.indexOf(': ');
    // Some (22003: value "3000000000" is out of range) quote the value with no ': ' at all.
    const kept = (cut >= 0 ? message.slice(0, cut) : message).replace(/"[\s\S]*"/, '(value)');
    message = `${kept}: (value redacted)`;
  }
  if (extras.place) message += ` (${extras.place.text})`;
  else if (err.column) message += ` (column ${err.column})`;
  // Some databases name the column in the message only (column `note`).
  const named = /\bcolumn [`"]([^`"]+)[`"]/.exec(message)?.[1];
  const reading: ErrorReading = { kind, code, message: `${message} [SQLSTATE ${code}]` };
  const column = err.column ?? extras.place?.column ?? named;
  if (column) reading.column = column;
  if (extras.grant) reading.grant = extras.grant;
  return reading;
}
