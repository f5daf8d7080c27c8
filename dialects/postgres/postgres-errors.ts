// node-postgres's errors in the neutral shape (Dialect.readError): their SQLSTATE read into a
// kind (dialects/sqlstate.ts), the connection losses it reports by message only, the place COPY
// names in `where`, a RAISE's text that may quote anything, and the object a `permission denied`
// names, for the GRANT to suggest.
import type { ErrorReading } from '../dialect';
import { isSqlState, sqlStateReading, type SqlStateExtras } from '../sqlstate';

/** node-postgres's and pg-pool's messages for a connection lost or not made in time (they carry no code). */
const CONNECTION_LOST = [
  /Connection terminated/i,
  /connection timeout/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
];

/** `permission denied for table sales`: the kind of object and its name, as PostgreSQL prints them. */
const PERMISSION_DENIED = /permission denied for (table|view|materialized view|sequence|schema|database) (\S+)/;

/** The fields of node-postgres's DatabaseError that a reading uses. */
interface PgError {
  code?: string;
  message?: string;
  column?: string;
  where?: string;
}

export function readPostgresError(err: unknown): ErrorReading | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as PgError;
  const message = e.message ?? '';
  if (!isSqlState(e.code))
    return CONNECTION_LOST.some((re) => re.test(message)) ? { kind: 'transient', message } : undefined;
  return sqlStateReading(
    { code: e.code, message: e.message, column: e.column },
    extrasOf({ code: e.code, message: e.message, where: e.where }),
  );
}

function extrasOf(err: PgError & { code: string }): SqlStateExtras {
  const message = err.message ?? '';
  const reading: SqlStateExtras = {};
  // COPY FROM STDIN places a bad value: `COPY sales_fact, line 7, column amount: "x"`.
  const copy = err.where ? /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(err.where) : null;
  if (copy) reading.place = { text: `COPY line ${copy[1]}${copy[2] ? `, column ${copy[2]}` : ''}`, column: copy[2] };
  // A RAISE in a trigger or function may print anything, values included.
  if (err.code === 'P0001') reading.withheld = 'raised by a trigger or function: (message redacted)';
  const denied = err.code === '42501' ? PERMISSION_DENIED.exec(message) : null;
  if (denied) {
    const [, kind, name] = denied;
    reading.grant = (grantee, readOnly) => {
      if (kind === 'schema') return `GRANT USAGE ON SCHEMA ${name} TO ${grantee}`;
      if (kind === 'database') return `GRANT CONNECT ON DATABASE ${name} TO ${grantee}`;
      if (kind === 'sequence') return `GRANT USAGE ON SEQUENCE ${name} TO ${grantee}`;
      // A read-only source needs SELECT only; elsewhere PostgreSQL does not say which privilege.
      return readOnly ? `GRANT SELECT ON ${name} TO ${grantee}` : null;
    };
  }
  return reading;
}
