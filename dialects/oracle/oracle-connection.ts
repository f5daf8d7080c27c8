// A node-oracledb (thin mode) pool configuration from a CONURL and a password kept apart from it.
//   oracle://user@host:1521/SERVICE            Easy Connect host:1521/SERVICE
//   oracle://user@[::1]:1521/FREEPDB1?expire_time=2   Easy Connect Plus parameters pass through
//   oracle://user@host:2484/SERVICE?protocol=tcps&wallet_location=/etc/oracle/wallet
//                                              tcps://host:2484/SERVICE?wallet_location=…
// The port defaults to 1521; the service name is required (a SID is written as a service).
// protocol=tcps asks for TLS (Easy Connect's tcps:// prefix); the TLS parameters of Easy
// Connect Plus (wallet_location, ssl_server_dn_match, ssl_server_cert_dn, …) are read only
// then, so one written without it is refused rather than ignored.
// Every session pins the NLS settings that make values exact and comparable.
import { ConnectionUrlError } from '../dialect';

class OracleUrlError extends ConnectionUrlError {
  constructor(problem: string, fix = 'write CONURL as oracle://user@host:1521/SERVICE') {
    super(problem, fix);
  }
}

/** Easy Connect Plus parameters that only a TCPS connection reads. */
const TCPS_PARAMETERS = [
  'wallet_location',
  'ssl_server_dn_match',
  'ssl_server_cert_dn',
  'ssl_allow_weak_dn_match',
  'tls_server_dn_match',
  'tls_server_cert_dn',
  'tls_allow_weak_dn_match',
];

/**
 * Session settings every connection starts with, whatever the database's defaults: '.' as the
 * decimal mark, ISO dates and timestamps (nine fractional digits), UTC, and binary text order.
 */
export const ORACLE_SESSION = [
  `ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'`,
  `ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS'`,
  `ALTER SESSION SET NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9'`,
  `ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9TZH:TZM'`,
  `ALTER SESSION SET TIME_ZONE = '+00:00'`,
  // Binary comparison and sort: a linguistic NLS_SORT with binary > would cut KEY batches that
  // skip or repeat rows, and a linguistic NLS_COMP would let MERGE match keys the worker keeps apart.
  `ALTER SESSION SET NLS_SORT = BINARY`,
  `ALTER SESSION SET NLS_COMP = BINARY`,
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
  if (!service || service.includes('/'))
    throw new OracleUrlError(
      'names no service: write oracle://user@host:1521/SERVICE (the service name, e.g. FREEPDB1)',
    );
  if (!parsed.username) throw new OracleUrlError('names no user: write oracle://user@host:1521/SERVICE');
  const port = parsed.port || '1521';
  const protocol = (parsed.searchParams.get('protocol') ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'tcps')
    throw new OracleUrlError(`sets protocol=${protocol}`, 'set protocol=tcps for TLS, or leave it out (tcp)');
  // Easy Connect Plus takes the URL's other parameters as they are (expire_time, wallet_location, …).
  const params = [...parsed.searchParams.entries()].filter(([name]) => name !== 'password' && name !== 'protocol');
  const tlsOnly = params.find(([name]) => TCPS_PARAMETERS.includes(name.toLowerCase()));
  if (tlsOnly && protocol !== 'tcps')
    throw new OracleUrlError(
      `sets ${tlsOnly[0]}, which is read only over TLS`,
      'add protocol=tcps (and the port of the TCPS listener)',
    );
  // A value with a separator in it (a certificate's DN: CN=db,O=…) is double-quoted, as Easy Connect reads it.
  const value = (name: string, v: string) => {
    if (v.includes('"'))
      throw new OracleUrlError(
        `sets ${name} to a value with a double quote in it`,
        `write ${name} without double quotes`,
      );
    return /[=&\s]/.test(v) ? `"${v}"` : v;
  };
  const query = params.length ? `?${params.map(([k, v]) => `${k}=${value(k, v)}`).join('&')}` : '';
  const prefix = protocol === 'tcps' ? 'tcps://' : '';
  return {
    user: decodeURIComponent(parsed.username),
    password,
    connectString: `${prefix}${parsed.hostname}:${port}/${service}${query}`,
  };
}
