// The target side on MariaDB/MySQL: its tables described, batches run in InnoDB transactions
// (mariadb-target-transaction.ts) with DMS_CHKPNT (mariadb-checkpoint-table.ts) locked and
// written in each, and for a MariaDB source on the same server the INSERT … SELECT fast path
// (mariadb-same-server.ts).
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type mysql from 'mysql2';
import type {
  CheckpointRow,
  ColumnInfo,
  KeyedQuery,
  RangeMover,
  RejectListing,
  SourceDatabase,
  TargetDatabase,
  TargetTransaction,
  TransactionOptions,
} from '../dialect';
import { countRejectRows, createRejectTable, listRejectRows } from './mariadb-reject-table';
import { createCheckpointTable, readCheckpointRow, settleTruncate } from './mariadb-checkpoint-table';
import { loginError, whereAmI } from './mariadb-connection';
import { mariadbError } from './mariadb-errors';
import { inServerMover, safeInsideWrites, tablesRead } from './mariadb-same-server';
import { MariaDbSource } from './mariadb-source';
import { MariaDbTargetTransaction, relationOf, run } from './mariadb-target-transaction';
import { quoteMariaDbIdentifier } from './mariadb-sql';
import { tableColumnInfo, type TableColumn } from './mariadb-types';
import { uniqueKeysOfTable } from './mariadb-unique-keys';

export class MariaDbTarget implements TargetDatabase {
  private readonly pool: Pool;
  private readonly tables = new Map<string, Promise<TableColumn[]>>();
  /** sameServer's answer per source (asked by planning twice: own-target check, then the mover). */
  private readonly servers = new WeakMap<
    SourceDatabase,
    Promise<{ sourceDatabase: string | null; targetDatabase: string | null } | undefined>
  >();

  constructor(
    pool: mysql.Pool,
    private readonly passwordOffered: boolean,
    private readonly lockTimeoutMs: number,
  ) {
    this.pool = pool.promise();
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1').catch((err: unknown) => {
      throw loginError(err, this.passwordOffered);
    });
  }

  /** Whether `source` reaches this very server, and the databases both sessions start in. */
  private sameServer(
    source: SourceDatabase,
  ): Promise<{ sourceDatabase: string | null; targetDatabase: string | null } | undefined> {
    if (!(source instanceof MariaDbSource)) return Promise.resolve(undefined);
    let answer = this.servers.get(source);
    if (!answer) {
      answer = Promise.all([source.whereAmI(), whereAmI(this.pool)]).then(([from, into]) =>
        from.server === into.server ? { sourceDatabase: from.database, targetDatabase: into.database } : undefined,
      );
      answer.catch(() => this.servers.delete(source));
      this.servers.set(source, answer);
    }
    return answer;
  }

  async sameDatabaseReads(
    source: SourceDatabase,
    query: string,
  ): Promise<{ schema: string; table: string }[] | undefined> {
    const same = await this.sameServer(source);
    if (!same) return undefined;
    return tablesRead(this.pool, query, same.sourceDatabase);
  }

  /**
   * From a MariaDB source on this server, into a table not merged on a key: one INSERT … SELECT
   * per range, when the target's user may read what SRCQUERY reads and SRCQUERY can have no
   * effect inside a transaction that writes (mariadb-same-server.ts). Otherwise rows travel
   * through the worker.
   */
  async rangeMover(
    source: SourceDatabase,
    q: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
    upsertKey: string[] | null = null,
  ): Promise<RangeMover | null> {
    const same = await this.sameServer(source);
    if (!same?.sourceDatabase || upsertKey || !(source instanceof MariaDbSource)) return null;
    if (!(await safeInsideWrites(this.pool, q.query)) || !(await this.canRead(same.sourceDatabase, q.query)))
      return null;
    return inServerMover(source, q, same.sourceDatabase, same.targetDatabase, relationOf(schema, table), columns);
  }

  ensureRejectTable(schema: string): Promise<void> {
    return createRejectTable(this.pool, schema);
  }

  rejects(schema: string, mapref: string, prcid: number | null, limit: number): Promise<RejectListing[]> {
    return listRejectRows(this.pool, schema, mapref, prcid, limit);
  }

  countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    return countRejectRows(this.pool, schema, mapref, prcid);
  }

  /** Whether this connection's user may run SRCQUERY in the source's database (planning checks privileges). */
  private async canRead(database: string, query: string): Promise<boolean> {
    const connection = await this.pool.getConnection();
    try {
      await connection.query(`USE ${quoteMariaDbIdentifier(database)}`);
      await connection.query(`EXPLAIN SELECT * FROM (\n${query.replace(/[\s;]+$/, '')}\n) AS dms_src`);
      return true;
    } catch {
      return false;
    } finally {
      connection.destroy(); // its default database changed: not for the pool again
    }
  }

  /** The table's columns as information_schema has them (cached until the next describeTable). */
  columnsOf(schema: string, table: string): Promise<TableColumn[]> {
    const key = JSON.stringify([schema, table]);
    let found = this.tables.get(key);
    if (!found) {
      found = run<RowDataPacket[]>(
        this.pool,
        `SELECT c.COLUMN_NAME AS name, c.DATA_TYPE AS dataType, c.COLUMN_TYPE AS columnType, c.COLLATION_NAME AS collation
           FROM information_schema.COLUMNS c
           JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
          WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? AND t.TABLE_TYPE = 'BASE TABLE'
          ORDER BY c.ORDINAL_POSITION`,
        [schema, table],
      ).then((rows) =>
        rows.map((r) => ({
          name: String(r.name),
          dataType: String(r.dataType),
          columnType: String(r.columnType),
          collation: r.collation === null ? null : String(r.collation),
        })),
      );
      found.catch(() => this.tables.delete(key));
      this.tables.set(key, found);
    }
    return found;
  }

  async describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    this.tables.delete(JSON.stringify([schema, table]));
    const columns = await this.columnsOf(schema, table);
    return columns.length === 0 ? undefined : columns.map(tableColumnInfo);
  }

  uniqueKeys(schema: string, table: string): Promise<string[][]> {
    return uniqueKeysOfTable((text, values) => run<RowDataPacket[]>(this.pool, text, values), schema, table);
  }

  async readCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    const found = await run<RowDataPacket[]>(
      this.pool,
      `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dms_chkpnt'`,
      [schema],
    );
    if (found.length === 0) return undefined;
    return (
      await readCheckpointRow(this.pool, schema, mapref).catch((err: unknown) => Promise.reject(mariadbError(err)))
    )?.row;
  }

  async ensureCheckpointTable(schema: string): Promise<void> {
    await createCheckpointTable(this.pool, schema).catch((err: unknown) => Promise.reject(mariadbError(err)));
  }

  /** Never the metadata database (a PostgreSQL one). */
  async identity(): Promise<string | null> {
    return null;
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>, _options: TransactionOptions = {}): Promise<T> {
    const connection = await this.pool.getConnection().catch((err: unknown) => Promise.reject(mariadbError(err)));
    let broken = false;
    try {
      await run(connection, 'START TRANSACTION');
      const tx = new MariaDbTargetTransaction(
        connection,
        (schema, table) => this.columnsOf(schema, table),
        this.lockTimeoutMs,
      );
      let result: T;
      try {
        result = await fn(tx);
        await run(connection, 'COMMIT');
      } catch (err) {
        await connection.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
      // The reset has committed: the truncate it owes follows (TRUNCATE commits on its own).
      if (tx.owes)
        await settleTruncate(connection, tx.owes.schema, tx.owes.mapref, this.lockTimeoutMs).catch((err: unknown) =>
          Promise.reject(mariadbError(err)),
        );
      return result;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  /**
   * Each commit is as durable as the server's innodb_flush_log_at_trx_commit makes it (1, the
   * default: on disk at commit): a batch's commit is never made to wait less.
   */
  async flushCommits(): Promise<void> {}

  close(): Promise<void> {
    return this.pool.end();
  }
}
