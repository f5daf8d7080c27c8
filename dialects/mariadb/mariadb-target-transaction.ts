// One batch's transaction on a MariaDB target: the mapping's checkpoint row locked and written
// (mariadb-checkpoint-table.ts), and the batch's rows loaded by LOAD DATA LOCAL INFILE from a
// stream (mariadb-load.ts), into the table or through a stage to be merged.
//
// LOAD DATA LOCAL cannot stop the client's stream part way, so MariaDB turns every error about
// a row into a warning and goes on: a value cut to fit, a zero date, a duplicate key skipped.
// A load that ends with a warning is therefore an error here, and its transaction rolls back.
import { Readable, type Writable } from 'node:stream';
import type { Pool, PoolConnection, QueryOptions, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { DuplicateKeyInBatchError, KeyCollisionError } from '../../common/errors';
import { encodeTabBytes } from '../tab-text';
import type { CheckpointRow, RejectedRow, RowBatch, TargetTransaction } from '../dialect';
import { readCheckpointRow, settleTruncate, writeCheckpointRow, type OwedTruncate } from './mariadb-checkpoint-table';
import { loadWarningError, mariadbError, notBytesError } from './mariadb-errors';
import { bytesColumns, loadDataSql } from './mariadb-load';
import { quoteMariaDbIdentifier } from './mariadb-sql';
import type { TableColumn } from './mariadb-types';
import { countRejectRows, insertRejects } from './mariadb-reject-table';

/** The stage an UPSERT batch loads before it merges (LOAD DATA cannot update a row). */
const STAGE = 'dms_stage';

export const relationOf = (schema: string, table: string) =>
  `${quoteMariaDbIdentifier(schema)}.${quoteMariaDbIdentifier(table)}`;

/** Runs a statement, its error converted (mariadb-errors.ts). */
export async function run<T = ResultSetHeader>(
  db: Pick<Pool, 'query'> | Pick<PoolConnection, 'query'>,
  options: string | QueryOptions,
  values?: unknown[],
): Promise<T> {
  try {
    const [result] = await db.query(typeof options === 'string' ? { sql: options, values } : options);
    return result as T;
  } catch (err) {
    throw mariadbError(err);
  }
}

type Socket = Writable & { destroyed: boolean };

function socketOf(connection: PoolConnection): Socket {
  return (connection as unknown as { connection: { stream: Socket } }).connection.stream;
}

/** Resolves once the socket has sent what it was given (at once if it has), or has closed. */
export function drained(socket: Socket): Promise<void> | undefined {
  if (!socket.writableNeedDrain || socket.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

export class MariaDbTargetTransaction implements TargetTransaction {
  /** A statement that writes has run: a truncate owed can no longer be paid in here. */
  private wrote = false;
  private owed: OwedTruncate | null = null;
  /** The checkpoint row written here owes a truncate, to be paid after the commit. */
  owes: { schema: string; mapref: string } | null = null;

  constructor(
    readonly connection: PoolConnection,
    private readonly columnsOf: (schema: string, table: string) => Promise<TableColumn[]>,
    private readonly lockTimeoutMs: number,
  ) {}

  async lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    for (let round = 0; ; round++) {
      const read = await readCheckpointRow(this.connection, schema, mapref, ' FOR UPDATE').catch((err: unknown) =>
        Promise.reject(mariadbError(err)),
      );
      if (!read?.owed) return read?.row;
      // A reset committed, and its truncate did not follow (a crash in between): pay it now,
      // before any row of this transaction loads.
      if (this.wrote || round >= 3)
        throw new Error(
          `the checkpoint row of mapping ${mapref} still owes a truncate of ${read.owed.schema}.${read.owed.table}`,
        );
      await run(this.connection, 'COMMIT');
      await settleTruncate(this.connection, schema, mapref, this.lockTimeoutMs).catch((err: unknown) =>
        Promise.reject(mariadbError(err)),
      );
      await run(this.connection, 'START TRANSACTION');
    }
  }

  async writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    this.wrote = true;
    await writeCheckpointRow(this.connection, schema, row, this.owed).catch((err: unknown) =>
      Promise.reject(mariadbError(err)),
    );
    this.owes = this.owed ? { schema, mapref: row.mapref } : null;
  }

  async load(
    schema: string,
    table: string,
    columns: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const described = await this.columnsOf(schema, table);
    return this.loadInto(relationOf(schema, table), columns, described, chunks, onChunk);
  }

  async upsert(
    schema: string,
    table: string,
    columns: string[],
    key: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const relation = relationOf(schema, table);
    const described = await this.columnsOf(schema, table);
    const list = columns.map(quoteMariaDbIdentifier).join(', ');
    // A temporary table neither commits nor outlives the session; pooled sessions serve many
    // mappings, so it is dropped as soon as it has been merged.
    await run(this.connection, `DROP TEMPORARY TABLE IF EXISTS ${STAGE}`);
    await run(this.connection, `CREATE TEMPORARY TABLE ${STAGE} AS SELECT ${list} FROM ${relation} LIMIT 0`);
    try {
      const staged = await this.loadInto(STAGE, columns, described, chunks, onChunk);
      const keys = key.map(quoteMariaDbIdentifier).join(', ');
      // ON DUPLICATE KEY UPDATE would apply two staged rows of one key one after the other.
      const twice = await run<RowDataPacket[]>(
        this.connection,
        `SELECT 1 FROM ${STAGE} GROUP BY ${keys} HAVING COUNT(*) > 1 LIMIT 1`,
      );
      if (twice.length > 0) throw new DuplicateKeyInBatchError(key);
      // A staged row whose key the target's collation calls equal to a target row's key with
      // other bytes ('key7' and 'KEY7' under a _ci collation, 'a' and 'a ' under PAD SPACE)
      // would overwrite a row of another source key: the merge would leave a row that is in
      // no source row.
      const on = key.map((k) => `t.${quoteMariaDbIdentifier(k)} = s.${quoteMariaDbIdentifier(k)}`).join(' AND ');
      const sameBytes = key
        .map((k) => `CAST(t.${quoteMariaDbIdentifier(k)} AS BINARY) = CAST(s.${quoteMariaDbIdentifier(k)} AS BINARY)`)
        .join(' AND ');
      const select = key
        .map((k, i) => `s.${quoteMariaDbIdentifier(k)} AS s${i}, t.${quoteMariaDbIdentifier(k)} AS t${i}`)
        .join(', ');
      const clash = await run<RowDataPacket[]>(
        this.connection,
        `SELECT ${select} FROM ${STAGE} s JOIN ${relation} t ON ${on} WHERE NOT (${sameBytes}) LIMIT 1`,
      );
      if (clash.length > 0) {
        const keyOf = (side: 's' | 't') => key.map((_, i) => String(clash[0][`${side}${i}`]));
        throw new KeyCollisionError(key, keyOf('s'), keyOf('t'));
      }
      const others = columns.filter((c) => !key.includes(c)).map(quoteMariaDbIdentifier);
      const updates = others.length
        ? others.map((c) => `${c} = VALUES(${c})`)
        : [`${quoteMariaDbIdentifier(key[0])} = ${quoteMariaDbIdentifier(key[0])}`];
      await run(
        this.connection,
        `INSERT INTO ${relation} (${list}) SELECT ${list} FROM ${STAGE} ON DUPLICATE KEY UPDATE ${updates.join(', ')}`,
      );
      return staged;
    } finally {
      await this.connection.query(`DROP TEMPORARY TABLE IF EXISTS ${STAGE}`).catch(() => undefined);
    }
  }

  private async loadInto(
    relation: string,
    columns: string[],
    described: TableColumn[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    this.wrote = true;
    // mysql2 writes each piece of the stream to the socket as it comes, whether or not the socket
    // has sent the last; a source faster than MariaDB would queue the whole batch in the worker.
    const socket = socketOf(this.connection);
    const table = new Map(described.map((c) => [c.name, c]));
    let refused: number | undefined;
    const raw = { columns: bytesColumns(columns, table), refuse: (column: number) => (refused = column) };
    async function* stream(): AsyncGenerator<Buffer> {
      // Parts are gathered to about 64 KiB: a narrow row with bytes is three small parts.
      let parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of chunks) {
        for (const part of encodeTabBytes(chunk.rows, chunk.plain ?? [], raw)) {
          const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
          parts.push(bytes);
          size += bytes.length;
          if (size < 65_536) continue;
          yield parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
          parts = [];
          size = 0;
          await drained(socket);
        }
        if (refused !== undefined) return;
        onChunk?.();
      }
      if (size > 0) yield Buffer.concat(parts, size);
    }
    const rows = Readable.from(stream(), { highWaterMark: 1 });
    const header = await run(this.connection, {
      sql: loadDataSql(relation, columns, table, raw.columns),
      infileStreamFactory: () => rows,
    } as QueryOptions);
    // The stream ended at a value that is not bytes: what loaded before it rolls back with the batch.
    if (refused !== undefined) throw notBytesError(columns[refused]);
    if (header.warningStatus > 0) {
      const warnings = await run<RowDataPacket[]>(this.connection, `SHOW WARNINGS LIMIT 1`);
      throw loadWarningError(
        warnings[0] as { Level: string; Code: number; Message: string } | undefined,
        header.warningStatus,
      );
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

  private savepoints = 0;

  async withSavepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `dms_sp_${++this.savepoints}`;
    await run(this.connection, `SAVEPOINT ${name}`);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await run(this.connection, `ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
    await run(this.connection, `RELEASE SAVEPOINT ${name}`);
    return result;
  }

  async reject(schema: string, rows: RejectedRow[]): Promise<void> {
    this.wrote = true;
    await insertRejects(this.connection, schema, rows).catch((err: unknown) => Promise.reject(mariadbError(err)));
  }

  countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    return countRejectRows(this.connection, schema, mapref, prcid);
  }
}

/** The connection of a MariaDB target transaction, on which a mover runs its statements. */
export function connectionOf(tx: TargetTransaction): PoolConnection {
  if (!(tx instanceof MariaDbTargetTransaction))
    throw new Error('a MariaDB range mover needs a MariaDB target transaction');
  return tx.connection;
}
