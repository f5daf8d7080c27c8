// One batch's transaction on the target: the mapping's checkpoint row locked and written, and
// the batch's rows loaded by COPY, into the table or through the stage to be merged.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CheckpointRow, RejectedRow, RowBatch, TargetTransaction } from '../dialect';
import { countRejectRows, insertRejects } from './postgres-reject-table';
import { lockCheckpointRow, writeCheckpointRow } from './postgres-checkpoint-table';
import { encodeCopyText } from './postgres-copy';
import { quotePostgresIdentifier } from './postgres-sql';
import { createStage, mergeStage, STAGE } from './postgres-stage';

export class PostgresTargetTransaction implements TargetTransaction {
  constructor(readonly client: pg.PoolClient) {}

  lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    return lockCheckpointRow(this.client, schema, mapref);
  }

  writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    return writeCheckpointRow(this.client, schema, row);
  }

  async load(
    schema: string,
    table: string,
    columns: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    return this.copyInto(
      `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`,
      columns,
      chunks,
      onChunk,
    );
  }

  async upsert(
    schema: string,
    table: string,
    columns: string[],
    key: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const target = `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`;
    // Rows go to a stage first (COPY cannot resolve conflicts), then merge in one statement.
    await createStage(this.client, target, columns);
    const staged = await this.copyInto(STAGE, columns, chunks, onChunk);
    await mergeStage(this.client, target, columns, key);
    // Gone now, not at the commit: a batch that isolates bad rows (REJECTLMT) merges chunk by chunk.
    await this.client.query(`DROP TABLE ${STAGE}`);
    return staged;
  }

  private async copyInto(
    relation: string,
    columns: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const list = columns.map(quotePostgresIdentifier).join(', ');
    const copy = this.client.query(copyFrom(`COPY ${relation} (${list}) FROM STDIN`));
    async function* text(): AsyncGenerator<string> {
      for await (const chunk of chunks) {
        yield* encodeCopyText(chunk.rows, chunk.plain);
        onChunk?.();
      }
    }
    await pipeline(Readable.from(text()), copy);
    return copy.rowCount ?? 0;
  }

  async truncate(schema: string, table: string): Promise<void> {
    await this.client.query(`TRUNCATE ${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`);
  }

  async execute(sql: string, values: unknown[]): Promise<void> {
    await this.client.query(sql, values);
  }

  private savepoints = 0;

  async withSavepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `dms_sp_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
    await this.client.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  }

  reject(schema: string, rows: RejectedRow[]): Promise<void> {
    return insertRejects(this.client, schema, rows);
  }

  countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    return countRejectRows(this.client, schema, mapref, prcid);
  }
}

/** The connection of a PostgreSQL target transaction, on which a mover runs its statements. */
export function clientOf(tx: TargetTransaction): pg.PoolClient {
  if (!(tx instanceof PostgresTargetTransaction))
    throw new Error('a PostgreSQL range mover needs a PostgreSQL target transaction');
  return tx.client;
}
