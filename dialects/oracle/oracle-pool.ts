// A node-oracledb pool (thin mode: no Instant Client) for one connection, every session set
// up with ORACLE_SESSION when it is created. The pool is made on first use (createPool is
// asynchronous, a dialect opens synchronously); a failed creation is tried again next time.
import oracledb from 'oracledb';
import { PasswordRequiredError } from '../dialect';
import { ORACLE_SESSION, oraclePoolSettings } from './oracle-connection';
import { oracleError } from './oracle-errors';

export class OraclePool {
  private pool?: Promise<oracledb.Pool>;

  constructor(
    private readonly url: string,
    private readonly password: string | undefined,
    private readonly size: number,
  ) {}

  private open(): Promise<oracledb.Pool> {
    const settings = oraclePoolSettings(this.url, this.password);
    // Oracle always asks for a password, and thin mode has no external authentication.
    if (settings.password === undefined) return Promise.reject(new PasswordRequiredError());
    return oracledb.createPool({
      user: settings.user,
      password: settings.password,
      connectString: settings.connectString,
      poolMin: 0,
      poolMax: this.size,
      poolIncrement: 1,
      sessionCallback: (connection, _tag, done) => {
        (async () => {
          for (const statement of ORACLE_SESSION) await connection.execute(statement);
        })().then(() => done(), done);
      },
    });
  }

  /** A session of the pool; release it with release() (or drop it when it may be mid-statement). */
  async connection(): Promise<oracledb.Connection> {
    if (!this.pool) {
      this.pool = this.open();
      this.pool.catch(() => (this.pool = undefined));
    }
    try {
      return await (await this.pool).getConnection();
    } catch (err) {
      throw oracleError(err);
    }
  }

  /** Runs fn on a session; the session is dropped, not reused, when fn fails. */
  async with<T>(fn: (connection: oracledb.Connection) => Promise<T>): Promise<T> {
    const connection = await this.connection();
    let ok = false;
    try {
      const result = await fn(connection);
      ok = true;
      return result;
    } catch (err) {
      throw oracleError(err);
    } finally {
      await connection.close({ drop: !ok }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool.catch(() => undefined))?.close(0);
  }
}
