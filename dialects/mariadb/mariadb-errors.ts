// mysql2's errors in the neutral shape (Dialect.readError): a MariaDbError whose `code` is the
// SQLSTATE the error is shown with (connection errors keep Node's code), read into a kind as
// every dialect reads one (dialects/sqlstate.ts), and a message without row values. MariaDB quotes the
// offending value in data and constraint errors ("Duplicate entry '…' for key", "Incorrect
// integer value: '…' for column"): every single-quoted part of those is removed here.
// Identifiers stay, since MariaDB quotes them with backticks.
import { DialectError, type ErrorKind, type ErrorReading } from '../dialect';
import { isSqlState, sqlStateReading } from '../sqlstate';

/** mysql2 error numbers worth retrying: lock wait timeout, deadlock, lost or refused connections. */
const TRANSIENT_ERRNOS = new Map<number, string>([
  [1205, '40001'], // lock wait timeout: retried, as a serialization failure is
  [1213, '40001'], // deadlock
  [2002, '08001'],
  [2003, '08001'],
  [2006, '08006'],
  [2013, '08006'],
]);

interface MysqlError extends Error {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
}

export class MariaDbError extends DialectError {
  readonly dbtyp = 'MARIADB';

  constructor(
    message: string,
    readonly code: string | undefined,
    readonly errno: number | undefined,
    /** For a refused privilege on a table: the GRANT to the account MariaDB named. */
    readonly grant?: string,
    /** The kind where no SQLSTATE says it (a named lock another session holds). */
    readonly kind?: ErrorKind,
  ) {
    super(message);
    this.name = 'MariaDbError';
  }
}

/**
 * The accounts sessions logged in as, by the user and client host MariaDB's messages name
 * (USER(): 'etl@10.0.0.5' → CURRENT_USER(): 'etl@%'), noted as each session starts
 * (mariadb-connection.ts): a GRANT must name the account, which a refusal does not.
 */
const ACCOUNTS = new Map<string, string>();

export function noteAccount(seen: string, account: string): void {
  ACCOUNTS.set(seen, account);
}

/** 'etl@%' as a GRANT names it: 'etl'@'%'. */
function quotedAccount(account: string): string {
  const at = account.lastIndexOf('@');
  const quote = (part: string) => `'${part.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `${quote(account.slice(0, at))}@${quote(account.slice(at + 1))}`;
}

/**
 * The GRANT a 1142 names: `INSERT command denied to user 'etl'@'10.0.0.5' for table `dwh`.`sales``
 * gives GRANT INSERT ON `dwh`.`sales` TO 'etl'@'%' when the session logged in as the account
 * 'etl'@'%' (the message names the client's host, not the account's).
 */
/** What dms-etl does with its own tables in the target database. */
const OWN_TABLES = new Map([
  ['dms_chkpnt', 'SELECT, INSERT, UPDATE'],
  ['dms_reject', 'SELECT, INSERT'],
]);

function grantNamedBy(message: string): string | undefined {
  const denied =
    /^(\w+(?:,\s*\w+)*) command denied to user '([^']*)'@'([^']*)' for table (`[^`]*`(?:\.`[^`]*`)?|'[^']*')/.exec(
      message,
    );
  if (!denied) return undefined;
  const [, privilege, user, host, table] = denied;
  const account = ACCOUNTS.get(`${user}@${host}`) ?? `${user}@${host}`;
  // dms-etl's own tables: all it needs on them at once. MariaDB gives a table's creator no
  // privilege on it, so a user that created DMS_CHKPNT is refused each of them in turn.
  const own = OWN_TABLES.get(/`?(\w+)`?$/.exec(table)?.[1]?.toLowerCase() ?? '');
  return `GRANT ${own ?? privilege.toUpperCase()} ON ${table.replace(/'/g, '`')} TO ${quotedAccount(account)}`;
}

/**
 * A MariaDbError, or an error of mysql2 itself, in the neutral shape (Dialect.readError),
 * with the GRANT a refusal needs. A session the server closed is a lost connection, which mysql2
 * reports by its own code alone (PROTOCOL_CONNECTION_LOST: no errno, no SQLSTATE), or, for a
 * command given to a session already lost, by a fatal error with no code at all ("Can't add new
 * command when connection is in closed state"): both retried.
 */
export function readMariadbError(err: unknown): ErrorReading | undefined {
  const e = err as (MysqlError & { fatal?: boolean }) | null;
  if (e?.code === 'PROTOCOL_CONNECTION_LOST') return { kind: 'transient', code: e.code, message: e.message };
  if (e?.fatal === true && e.errno === undefined && /in closed state/.test(e.message ?? ''))
    return { kind: 'transient', message: e.message };
  const own = err instanceof MariaDbError ? err : mariadbError(err);
  if (!(own instanceof MariaDbError)) return undefined;
  if (own.kind) return { kind: own.kind, message: own.message };
  if (!isSqlState(own.code)) return { kind: 'unknown', code: own.code, message: own.message };
  const grant = own.grant;
  return sqlStateReading(
    { code: own.code, message: own.message, column: (own as { column?: string }).column },
    grant ? { grant: () => grant } : {},
  );
}

/**
 * A privilege the user lacks: 1142 (ER_TABLEACCESS_DENIED_ERROR: `INSERT command denied to
 * user … for table …`), 1143 (a column's), 1227 (ER_SPECIFIC_ACCESS_DENIED_ERROR), 1370 (a
 * routine's). MariaDB's SQLSTATE for them is 42000, which says nothing a fix can use; as
 * 42501, insufficient_privilege, they are named as such and never retried (failures.ts).
 */
const PRIVILEGE_ERRNOS = new Set([1142, 1143, 1227, 1370]);

/**
 * The server's refusals of LOAD DATA LOCAL INFILE, by which rows load into MariaDB: 1148
 * (ER_NOT_ALLOWED_COMMAND) and 4166 (ER_LOAD_INFILE_CAPABILITY_DISABLED), both when the
 * server's local_infile is OFF.
 */
const LOCAL_INFILE_REFUSED = new Set([1148, 4166]);

export function mariadbError(err: unknown): unknown {
  const e = err as MysqlError;
  if (!(e instanceof Error) || e instanceof MariaDbError || (e.errno === undefined && e.sqlState === undefined))
    return err;
  if (e.errno !== undefined && LOCAL_INFILE_REFUSED.has(e.errno)) {
    // Not retried (a setting of the server), and said in words a DBA can act on.
    return new MariaDbError(
      `the target server refuses LOAD DATA LOCAL INFILE, by which dms-etl loads rows into MariaDB (its local_infile is OFF); a DBA can turn it on with SET GLOBAL local_infile = ON, and local_infile = ON in the server's configuration [MariaDB ${e.errno}]`,
      '42000',
      e.errno,
    );
  }
  // A refused connection or login keeps its own code: failures.ts knows Node's and the login errors.
  if (e.code && /^E[A-Z]+$/.test(e.code) && !e.code.startsWith('ER_')) return err;
  const mapped =
    e.errno !== undefined
      ? (TRANSIENT_ERRNOS.get(e.errno) ?? (PRIVILEGE_ERRNOS.has(e.errno) ? '42501' : undefined))
      : undefined;
  const state = mapped ?? (e.sqlState && e.sqlState !== 'HY000' ? e.sqlState : undefined);
  let message = e.sqlMessage ?? e.message;
  if (state && (state.startsWith('22') || state.startsWith('23')))
    message = message.replace(/'(?:[^'\\]|\\.|'')*'/g, '(value)');
  return new MariaDbError(message, state ?? e.code, e.errno, state === '42501' ? grantNamedBy(message) : undefined);
}

/** MariaDB's warnings about a row, by the SQLSTATE class the same error would have. */
const CONSTRAINT_WARNINGS = new Set([1048, 1062, 1216, 1452, 4025]);

/**
 * The first warning of a LOAD DATA that warned (see mariadb-target.ts), as a data error
 * (22000) or a constraint error (23000): the column named, the values removed.
 */
export function loadWarningError(
  warning: { Level: string; Code: number; Message: string } | undefined,
  count: number,
): MariaDbError {
  if (!warning)
    return new MariaDbError(`the load raised ${count} warning(s), which MariaDB no longer lists`, '22000', undefined);
  // Names of columns and keys keep their text (as backticks); every other quoted part goes.
  const named = warning.Message.replace(
    /(column|key) '([^']*)'/g,
    (_, what: string, name: string) => `${what} \`${name}\``,
  );
  // No ': ' left, after which a data error's message would be cut (activities/failures.ts).
  const message = named.replace(/'(?:[^'\\]|\\.|'')*'/g, '(value)').replace(/: /g, ' ');
  const others = count > 1 ? ` (and ${count - 1} more warning${count > 2 ? 's' : ''})` : '';
  const state = CONSTRAINT_WARNINGS.has(Number(warning.Code)) ? '23000' : '22000';
  return new MariaDbError(`${message}${others} [MariaDB ${warning.Code}]`, state, Number(warning.Code));
}

/**
 * A value for a column that holds bytes which is neither bytes nor bytes in their \x hex form:
 * a data error of its row (it can be rejected), naming the column and never the value.
 */
export function notBytesError(column: string): MariaDbError {
  return new MariaDbError(
    `a value for column \`${column}\` is not bytes (nor bytes in their \\x hex form), and the column holds bytes`,
    '22000',
    undefined,
  );
}
