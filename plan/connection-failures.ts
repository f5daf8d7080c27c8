// A connection that cannot be used, said as the mapping's user error: the field that names the
// connection, what went wrong without a password or row value, and the fix (the variable PWDENV
// names, never its value). The planner (plan/job-plan.ts) and the commands that open a
// connection themselves (`dms connection test`) say it the same way.
import { ConfigError, UnreachableError } from '../common/errors';
import {
  ConnectionUrlError,
  dialectFor,
  isTransient,
  PasswordRequiredError,
  readDatabaseError,
  redactedMessage,
  tlsProblemOf,
  type ConnectionSpec,
} from '../dialects';

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
  return new ConfigError(
    mapref,
    field,
    `uses connection '${conid}', whose CONURL ${err.problem}`,
    `in CONURL of connection '${conid}' in DMS_DBCONDTLS, ${err.fix}`,
  );
}

/**
 * What to throw when a connection's first query fails, naming the mapping's field and the
 * connection: a database that is down or out of reach stays retryable (UnreachableError
 * keeps the driver's code); anything else that stops the login (authentication, a database
 * or host that does not exist, a missing password, TLS) is a ConfigError, whose fix names
 * the variable PWDENV names (never its value).
 */
export function connectionFailure(
  mapref: string,
  field: string,
  connection: Pick<ConnectionSpec, 'conid' | 'passwordEnv'> & { dbtyp?: string },
  err: unknown,
): Error {
  const { conid, passwordEnv } = connection;
  const e = err as Error | undefined;
  if (err instanceof ConfigError) return err;
  if (err instanceof ConnectionUrlError) return urlFailure(mapref, field, conid, err);
  const tls = tlsProblemOf(err);
  if (tls) {
    const fix = (connection.dbtyp && dialectFor(connection.dbtyp)?.tlsFix?.(tls)) || 'correct its TLS parameters';
    return new ConfigError(
      mapref,
      field,
      `uses connection '${conid}', whose TLS handshake failed: ${e?.message ?? String(err)}`,
      `in CONURL of connection '${conid}' in DMS_DBCONDTLS, ${fix}`,
    );
  }
  if (isTransient(err)) {
    const fix = `check that the database is up and reachable from the worker, and CONURL of connection '${conid}' in DMS_DBCONDTLS`;
    return new UnreachableError(mapref, field, conid, e?.message ?? String(err), fix, readDatabaseError(err)?.code);
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
  return new ConfigError(
    mapref,
    field,
    `uses connection '${conid}', which the worker cannot log in to: ${redactedMessage(err)}`,
    `${url}, or ${password}`,
  );
}
