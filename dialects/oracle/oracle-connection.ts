// A node-oracledb (thin mode) pool configuration from a CONURL and a password kept apart from it.
//   oracle://user@host:1521/SERVICE            Easy Connect host:1521/SERVICE
//   oracle://user@[::1]:1521/FREEPDB1?expire_time=2   Easy Connect Plus parameters pass through
// The port defaults to 1521; the service name is required (a SID is written as a service).
// Every session pins the NLS settings that make values exact and comparable.

export class OracleUrlError extends Error {}

/**
 * Session settings every connection starts with, whatever the database's defaults: '.' as the
 * decimal mark, ISO dates and timestamps (nine fractional digits), and UTC.
 */
export const ORACLE_SESSION = [
  `ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'`,
  `ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS'`,
  `ALTER SESSION SET NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9'`,
  `ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9TZH:TZM'`,
  `ALTER SESSION SET TIME_ZONE = '+00:00'`,
];

export interface OraclePoolSettings {
  user: string;
  password: string | undefined;
  connectString: string;
}

/** The pool's user, password and Easy Connect string for `url` (no password in it) and `password`. */
export function oraclePoolSettings(url: string, password: string | undefined): OraclePoolSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OracleUrlError('is not a URL such as oracle://user@host:1521/SERVICE');
  }
  if (parsed.protocol !== 'oracle:') throw new OracleUrlError(`starts with ${parsed.protocol}//, not oracle://`);
  if (!parsed.hostname) throw new OracleUrlError('names no host: write oracle://user@host:1521/SERVICE');
  const service = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!service || service.includes('/')) throw new OracleUrlError('names no service: write oracle://user@host:1521/SERVICE (the service name, e.g. FREEPDB1)');
  if (!parsed.username) throw new OracleUrlError('names no user: write oracle://user@host:1521/SERVICE');
  const port = parsed.port || '1521';
  // Easy Connect Plus takes the URL's parameters as they are (expire_time, transport_connect_timeout, …).
  const params = [...parsed.searchParams.entries()].filter(([name]) => name !== 'password');
  const query = params.length ? `?${params.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
  return { user: decodeURIComponent(parsed.username), password, connectString: `${parsed.hostname}:${port}/${service}${query}` };
}
