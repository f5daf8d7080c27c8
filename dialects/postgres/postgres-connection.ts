// A node-postgres configuration from a URL and a password kept apart from it.
//
// node-postgres merges a parsed `connectionString` over the options passed beside it, so
// `{ connectionString: 'postgres://etl@host/db', password }` loses the password: the URL's
// missing one (undefined) replaces it. Every pool of dms-etl is therefore configured from
// the URL parsed here, with the password set after it.
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { PasswordRequiredError } from '../dialect';

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
export function postgresPoolConfig(url: string, { password, fallBack }: PasswordOptions, settings: pg.PoolConfig = {}): pg.PoolConfig {
  const parsed = parseIntoClientConfig(url) as pg.PoolConfig;
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
 * A client that closes its socket when its login fails on this side (no password to give):
 * node-postgres leaves it open, and the server waits for the password until its
 * authentication_timeout (a minute by default), holding up the worker's exit all that time.
 */
class ClosingClient extends pg.Client {
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
