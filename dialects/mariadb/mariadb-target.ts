// The target side on MariaDB/MySQL: its tables described, batches run in InnoDB transactions
// with DMS_CHKPNT (mariadb-checkpoint-table.ts) locked and written in each, and rows loaded by
// LOAD DATA LOCAL INFILE from a stream (mariadb-load.ts).
//
// LOAD DATA LOCAL cannot stop the client's stream part way, so MariaDB turns every error about
// a row into a warning and goes on: a value cut to fit, a zero date, a duplicate key skipped.
// A load that ends with a warning is therefore an error here, and its transaction rolls back.
import { Readable } from 'node:stream';
import type { Pool, PoolConnection, QueryOptions, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type mysql from 'mysql2';
import { DuplicateKeyInBatchError } from '../../common/errors';
import { encodeTabText } from '../tab-text';
import type { CheckpointRow, ColumnInfo, RowBatch, TargetDatabase, TargetTransaction, TransactionOptions } from '../dialect';
import { createCheckpointTable, readCheckpointRow, settleTruncate, writeCheckpointRow, type OwedTruncate } from './mariadb-checkpoint-table';
import { loginError } from './mariadb-connection';
import { loadWarningError, mariadbError } from './mariadb-errors';
import { loadDataSql } from './mariadb-load';
import { quoteMariaDbIdentifier } from './mariadb-sql';
import { tableColumnInfo, type TableColumn } from './mariadb-types';

/** The stage an UPSERT batch loads before it merges (LOAD DATA cannot update a row). */
const STAGE = 'dms_stage';

const relationOf = (schema: string, table: string) => `${quoteMariaDbIdentifier(schema)}.${quoteMariaDbIdentifier(table)}`;

/** Runs a statement, its error converted (mariadb-errors.ts). */
async function run<T = ResultSetHeader>(db: Pick<Pool, 'query'> | Pick<PoolConnection, 'query'>, options: string | QueryOptions, values?: unknown[]): Promise<T> {
  try {
    const [result] = await db.query(typeof options === 'string' ? { sql: options, values } : options);
    return result as T;
  } catch (err) {
    throw mariadbError(err);
  }
}

export class MariaDbTarget implements TargetDatabase {
  private readonly pool: Pool;
  private readonly tables = new Map<string, Promise<TableColumn[]>>();

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

  /** The table's columns as information_schema has them (cached until the next describeTable). */
  columnsOf(schema: string, table: string): Promise<TableColumn[]> {
    const key = JSON.stringify([schema, table]);
    let found = this.tables.get(key);
    if (!found) {
      found = run<RowDataPacket[]>(
        this.pool,
        `SELECT c.COLUMN_NAME AS name, c.DATA_TYPE AS dataType, c.COLUMN_TYPE AS columnType
           FROM information_schema.COLUMNS c
           JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
          WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? AND t.TABLE_TYPE = 'BASE TABLE'
          ORDER BY c.ORDINAL_POSITION`,
        [schema, table],
      ).then((rows) => rows.map((r) => ({ name: String(r.name), dataType: String(r.dataType), columnType: String(r.columnType) })));
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

  async uniqueKeys(schema: string, table: string): Promise<string[][]> {
    const rows = await run<RowDataPacket[]>(
      this.pool,
      `SELECT s.INDEX_NAME AS idx, s.COLUMN_NAME AS col, c.IS_NULLABLE AS nullable
         FROM information_schema.STATISTICS s
         JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
        WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
        ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX`,
      [schema, table],
    );
    const indexes = new Map<string, { cols: string[]; ok: boolean }>();
    for (const r of rows) {
      const entry = indexes.get(r.idx) ?? { cols: [], ok: true };
      // NOT NULL only: rows with a NULL key never conflict, so they would be inserted again.
      if (r.nullable !== 'NO') entry.ok = false;
      entry.cols.push(String(r.col));
      indexes.set(r.idx, entry);
    }
    return [...indexes.values()].filter((i) => i.ok).map((i) => i.cols);
  }

  async readCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    const found = await run<RowDataPacket[]>(this.pool, `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dms_chkpnt'`, [schema]);
    if (found.length === 0) return undefined;
    return (await readCheckpointRow(this.pool, schema, mapref).catch((err: unknown) => Promise.reject(mariadbError(err))))?.row;
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
      const tx = new MariaDbTargetTransaction(connection, this, this.lockTimeoutMs);
      let result: T;
      try {
        result = await fn(tx);
        await run(connection, 'COMMIT');
      } catch (err) {
        await connection.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
      // The reset has committed: the truncate it owes follows (TRUNCATE commits on its own).
      if (tx.owes) await settleTruncate(connection, tx.owes.schema, tx.owes.mapref, this.lockTimeoutMs).catch((err: unknown) => Promise.reject(mariadbError(err)));
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

export class MariaDbTargetTransaction implements TargetTransaction {
  /** A statement that writes has run: a truncate owed can no longer be paid in here. */
  private wrote = false;
  private owed: OwedTruncate | null = null;
  /** The checkpoint row written here owes a truncate, to be paid after the commit. */
  owes: { schema: string; mapref: string } | null = null;

  constructor(
    readonly connection: PoolConnection,
    private readonly target: MariaDbTarget,
    private readonly lockTimeoutMs: number,
  ) {}

  async lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    for (let round = 0; ; round++) {
      const read = await readCheckpointRow(this.connection, schema, mapref, ' FOR UPDATE').catch((err: unknown) => Promise.reject(mariadbError(err)));
      if (!read?.owed) return read?.row;
      // A reset committed, and its truncate did not follow (a crash in between): pay it now,
      // before any row of this transaction loads.
      if (this.wrote || round >= 3) throw new Error(`the checkpoint row of mapping ${mapref} still owes a truncate of ${read.owed.schema}.${read.owed.table}`);
      await run(this.connection, 'COMMIT');
      await settleTruncate(this.connection, schema, mapref, this.lockTimeoutMs).catch((err: unknown) => Promise.reject(mariadbError(err)));
      await run(this.connection, 'START TRANSACTION');
    }
  }

  async writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    this.wrote = true;
    await writeCheckpointRow(this.connection, schema, row, this.owed).catch((err: unknown) => Promise.reject(mariadbError(err)));
    this.owes = this.owed ? { schema, mapref: row.mapref } : null;
  }

  async load(schema: string, table: string, columns: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    const described = await this.target.columnsOf(schema, table);
    return this.loadInto(relationOf(schema, table), columns, described, chunks, onChunk);
  }

  async upsert(schema: string, table: string, columns: string[], key: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    const relation = relationOf(schema, table);
    const described = await this.target.columnsOf(schema, table);
    const list = columns.map(quoteMariaDbIdentifier).join(', ');
    // A temporary table neither commits nor outlives the session; pooled sessions serve many
    // mappings, so it is dropped as soon as it has been merged.
    await run(this.connection, `DROP TEMPORARY TABLE IF EXISTS ${STAGE}`);
    await run(this.connection, `CREATE TEMPORARY TABLE ${STAGE} AS SELECT ${list} FROM ${relation} LIMIT 0`);
    try {
      const staged = await this.loadInto(STAGE, columns, described, chunks, onChunk);
      const keys = key.map(quoteMariaDbIdentifier).join(', ');
      // ON DUPLICATE KEY UPDATE would apply two staged rows of one key one after the other.
      const twice = await run<RowDataPacket[]>(this.connection, `SELECT 1 FROM ${STAGE} GROUP BY ${keys} HAVING COUNT(*) > 1 LIMIT 1`);
      if (twice.length > 0) throw new DuplicateKeyInBatchError(key);
      const others = columns.filter((c) => !key.includes(c)).map(quoteMariaDbIdentifier);
      const updates = others.length ? others.map((c) => `${c} = VALUES(${c})`) : [`${quoteMariaDbIdentifier(key[0])} = ${quoteMariaDbIdentifier(key[0])}`];
      await run(this.connection, `INSERT INTO ${relation} (${list}) SELECT ${list} FROM ${STAGE} ON DUPLICATE KEY UPDATE ${updates.join(', ')}`);
      return staged;
    } finally {
      await this.connection.query(`DROP TEMPORARY TABLE IF EXISTS ${STAGE}`).catch(() => undefined);
    }
  }

  private async loadInto(relation: string, columns: string[], described: TableColumn[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    this.wrote = true;
    async function* text(): AsyncGenerator<Buffer> {
      for await (const chunk of chunks) {
        for (const part of encodeTabText(chunk.rows)) yield Buffer.from(part, 'utf8');
        onChunk?.();
      }
    }
    const stream = Readable.from(text());
    const header = await run(this.connection, { sql: loadDataSql(relation, columns, new Map(described.map((c) => [c.name, c]))), infileStreamFactory: () => stream } as QueryOptions);
    if (header.warningStatus > 0) {
      const warnings = await run<RowDataPacket[]>(this.connection, `SHOW WARNINGS LIMIT 1`);
      throw loadWarningError(warnings[0] as { Level: string; Code: number; Message: string } | undefined, header.warningStatus);
    }
    return header.affectedRows;
  }

  async truncate(schema: string, table: string): Promise<void> {
    // Paid after the commit that resets the checkpoint (see mariadb-checkpoint-table.ts).
    this.wrote = true;
    this.owed = { schema, table };
  }

  async execute(sql: string, values: unknown[]): Promise<void> {
    this.wrote = true;
    await run(this.connection, sql, values);
  }
}
