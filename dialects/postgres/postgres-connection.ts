// A node-postgres configuration from a URL and a password kept apart from it.
//
// node-postgres merges a parsed `connectionString` over the options passed beside it, so
// `{ connectionString: 'postgres://etl@host/db', password }` loses the password: the URL's
// missing one (undefined) replaces it. Every pool of dms-etl is therefore configured from
// the URL parsed here, with the password set after it.
//
// TLS parameters take libpq's meaning. pg-connection-string (2.x) treats sslmode=prefer,
// require and verify-ca as verify-full unless asked for libpq's semantics, which this file
// always asks for (its useLibpqCompat option): require encrypts without checking the
// certificate (unless sslrootcert is given: then it checks the chain, as verify-ca),
// verify-ca checks the chain but not the host name, verify-full checks both.
import pg from 'pg';
import { parse, toClientConfig } from 'pg-connection-string';
import { ConnectionUrlError, PasswordRequiredError, type TlsProblem } from '../dialect';

/** The sslmode values dms-etl runs with libpq's meaning. */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** The TLS parameters read from the URL, and from libpq's environment variables when the URL has none. */
const TLS_FILES = ['sslrootcert', 'sslcert', 'sslkey'] as const;
const TLS_PARAMETERS = ['sslmode', ...TLS_FILES, 'sslnegotiation'];

export interface PasswordOptions {
  /** The password (read from the variable PWDENV names, or from DMS_METADATA_PASSWORD). */
  password?: string;
  /**
   * Without a password here or in the URL: true lets node-postgres fall back on PGPASSWORD
   * and ~/.pgpass, as libpq does; false offers none, so a password meant for one server is
   * never sent to another, and a server that asks gets a PasswordRequiredError.
   */
  fallBack: boolean;
}

/**
 * The pool configuration for `url` with its password, and `settings` on top. Server options
 * (`-c name=value`) given in the URL's `options` parameter are kept, and those of
 * `settings.options` come after them, so they win where both set the same one.
 */
export function postgresPoolConfig(
  url: string,
  { password, fallBack }: PasswordOptions,
  settings: pg.PoolConfig = {},
): pg.PoolConfig {
  const parsed = libpqClientConfig(url);
  const options = [parsed.options, settings.options].filter(Boolean).join(' ');
  const config: pg.PoolConfig = { ...parsed, ...settings, ...(options ? { options } : {}), Client: ClosingClient };
  delete config.connectionString;
  if (password !== undefined) {
    config.password = password;
  } else if (!config.password && !fallBack) {
    // node-postgres calls this only when the server asks for a password.
    config.password = () => {
      throw new PasswordRequiredError();
    };
  }
  return config;
}

/**
 * The client configuration of `url` with sslmode and its files given libpq's meaning. Throws a
 * ConnectionUrlError, naming the parameter and the fix, for a TLS setting that would otherwise
 * mean something else here than in libpq, or be silently ignored.
 */
export function libpqClientConfig(url: string, env: NodeJS.ProcessEnv = process.env): pg.PoolConfig {
  const tls = tlsUrl(url, env);
  let config: pg.PoolConfig;
  try {
    config = toClientConfig(parse(tls.url, { useLibpqCompat: true })) as pg.PoolConfig;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const file = TLS_FILES.find((name) => e.path !== undefined && tls.params.get(name) === e.path);
    if (file) {
      throw new ConnectionUrlError(
        `names ${tls.label(file)}=${e.path}, which the worker cannot read (${e.code})`,
        `set ${file} to the path of a PEM file the worker can read`,
      );
    }
    throw err;
  }
  // Without sslmode: no TLS, node-postgres's default (libpq's is prefer), and never
  // node-postgres's own reading of PGSSLMODE.
  if (tls.checked && !tls.params.get('sslmode')) config.ssl = false;
  return config;
}

/** The URL with libpq's environment variables filled in where it has no TLS parameter, checked. */
function tlsUrl(
  url: string,
  env: NodeJS.ProcessEnv,
): { url: string; checked: boolean; params: URLSearchParams; label: (name: string) => string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Left to pg-connection-string, which reads more than WHATWG URLs (a Unix socket path).
    return { url, checked: false, params: new URLSearchParams(), label: (name) => name };
  }
  const params = parsed.searchParams;
  const fromEnv = new Set<string>();
  const label = (name: string) => (fromEnv.has(name) ? `${name} (from PGSSL${name.slice(3).toUpperCase()})` : name);
  let changed = false;
  for (const name of [...params.keys()]) {
    if (name === 'uselibpqcompat') {
      if (params.get(name) !== 'true')
        throw new ConnectionUrlError(
          `sets uselibpqcompat=${params.get(name)}`,
          'remove uselibpqcompat: sslmode always has its libpq meaning here',
        );
      params.delete(name);
      changed = true;
    } else if (name === 'ssl') {
      throw new ConnectionUrlError(
        `sets ssl=${params.get(name)}, node-postgres's own parameter, whose meaning differs from libpq's`,
        "write sslmode instead (disable, prefer, require, verify-ca or verify-full), with sslrootcert=<the CA certificate file> to check the server's certificate",
      );
    } else if (name.startsWith('ssl') && !TLS_PARAMETERS.includes(name)) {
      throw new ConnectionUrlError(
        `sets ${name}, which is not read here`,
        `remove ${name}; the TLS parameters read are ${TLS_PARAMETERS.join(', ')}`,
      );
    }
  }
  for (const name of ['sslmode', ...TLS_FILES]) {
    const variable = `PGSSL${name.slice(3).toUpperCase()}`;
    if (!params.has(name) && env[variable]) {
      params.set(name, env[variable]);
      fromEnv.add(name);
      changed = true;
    }
  }
  const mode = params.get('sslmode');
  if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) {
    const fix =
      mode === 'allow'
        ? 'use sslmode=disable (no TLS) or sslmode=prefer (TLS, the certificate unchecked): a first attempt without TLS is not made here'
        : `set sslmode to one of ${SSL_MODES.join(', ')}`;
    throw new ConnectionUrlError(`sets ${label('sslmode')}=${mode}, which is not one of ${SSL_MODES.join(', ')}`, fix);
  }
  if (params.get('sslrootcert') === 'system') {
    // libpq 16: the system's trusted CAs, and then only verify-full.
    if (mode !== null && mode !== 'verify-full') {
      throw new ConnectionUrlError(
        `sets sslrootcert=system with sslmode=${mode}`,
        'use sslmode=verify-full with sslrootcert=system (a public CA vouches for a host name, not for your server)',
      );
    }
    params.delete('sslrootcert');
    params.set('sslmode', 'verify-full');
    changed = true;
  } else if (mode === null) {
    const file = TLS_FILES.find((name) => params.has(name));
    if (file)
      throw new ConnectionUrlError(
        `sets ${label(file)} without sslmode`,
        "add sslmode=verify-full (or verify-ca, require, prefer) to say how the server's certificate is checked",
      );
    if (params.get('sslnegotiation') === 'direct')
      throw new ConnectionUrlError('sets sslnegotiation=direct without sslmode', 'add sslmode=require or stronger');
  } else if (mode === 'verify-ca' && !params.has('sslrootcert')) {
    throw new ConnectionUrlError(
      `sets ${label('sslmode')}=verify-ca without sslrootcert`,
      "add sslrootcert=<the file of the CA that signed the server's certificate>, or use sslmode=verify-full to check against the system's trusted CAs",
    );
  }
  if (params.has('sslcert') !== params.has('sslkey')) {
    const [given, missing] = params.has('sslcert') ? ['sslcert', 'sslkey'] : ['sslkey', 'sslcert'];
    throw new ConnectionUrlError(
      `sets ${label(given)} without ${missing}`,
      `add ${missing}=<the file of the client certificate's ${missing === 'sslkey' ? 'private key' : 'certificate'}>`,
    );
  }
  return { url: changed ? parsed.toString() : url, checked: true, params, label };
}

/** What to change in a PostgreSQL CONURL when its TLS handshake fails. */
export function postgresTlsFix(problem: TlsProblem): string {
  switch (problem) {
    case 'untrusted':
      return "set sslrootcert to the file of the CA that signed the server's certificate";
    case 'hostname':
      return "write the host as the server's certificate names it, or use sslmode=verify-ca, which checks the CA but not the host name";
    case 'expired':
      return "the server's certificate is out of its dates: renew it on the server";
    case 'no-tls':
      return 'turn ssl on in the server, or set sslmode=disable to connect without TLS (prefer does not fall back to a session without TLS here)';
  }
}

/**
 * Every client of every pool dms-etl opens (source, target, metadata, its mirror, COPY
 * streams, cursors, estimates, verify), with two differences from node-postgres's own:
 *
 * - It always listens for its own 'error' event. node-postgres emits one when the server
 *   cuts the session (a restart, a failover: `terminating connection due to administrator
 *   command`), and its pool listens only while the client is idle: a client checked out for a
 *   batch's transaction, a COPY or a cursor had no listener, so the event ended the worker
 *   process. The query in flight (or the next one) still fails with the error, so the batch
 *   it belongs to fails as a lost connection and is retried; the event needs nothing more.
 * - It closes its socket when its login fails on this side (no password to give):
 *   node-postgres leaves it open, and the server waits for the password until its
 *   authentication_timeout (a minute by default), holding up the worker's exit all that time.
 */
class ClosingClient extends pg.Client {
  /** The error the server ended this session with, for what the next query says. */
  private lostWith?: Error & { code?: string };

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (err: Error) => (this.lostWith = err));
    // A query after the loss fails with node-postgres's "Client has encountered a connection
    // error and is not queryable"; it says instead why the session ended (and keeps its SQLSTATE,
    // 57P01 for a restart), for the worker's log and DMS_PRCLOG.LASTERR.
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      // Before any loss (every batch's case), node-postgres's own query, with nothing around it.
      if (!this.lostWith) return query(...args);
      const submittable = args[0] as
        { submit?: unknown; handleError?: (err: Error, connection: unknown) => void } | undefined;
      if (typeof submittable?.submit === 'function' && typeof submittable.handleError === 'function') {
        const handle = submittable.handleError.bind(submittable);
        submittable.handleError = (err, connection) => handle(this.explained(err), connection);
      }
      const callback = args.at(-1);
      if (typeof callback === 'function')
        args[args.length - 1] = (err: Error | null, result: unknown) => callback(err && this.explained(err), result);
      const result = query(...args);
      return result instanceof Promise ? result.catch((err: Error) => Promise.reject(this.explained(err))) : result;
    }) as typeof this.query;
  }

  private explained(err: Error): Error {
    if (!this.lostWith || !/is not queryable/.test(err.message)) return err;
    return Object.assign(new Error(`the database ended this session: ${this.lostWith.message}`), {
      code: this.lostWith.code ?? '08006',
    });
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<pg.Client> | void {
    if (!callback) return new Promise((resolve, reject) => this.connect((err) => (err ? reject(err) : resolve(this))));
    super.connect((err: Error) => {
      if (err) (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      callback(err);
    });
  }
}
