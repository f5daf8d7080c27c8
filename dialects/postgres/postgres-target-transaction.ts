// One batch's transaction on the target: the mapping's checkpoint row locked and written, and
// the batch's rows loaded by COPY, into the table or through the stage to be merged.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CheckpointRow, RowBatch, TargetTransaction } from '../dialect';
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

  async load(schema: string, table: string, columns: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    return this.copyInto(`${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`, columns, chunks, onChunk);
  }

  async upsert(schema: string, table: string, columns: string[], key: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    const target = `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`;
    // Rows go to a stage first (COPY cannot resolve conflicts), then merge in one statement.
    await createStage(this.client, target, columns);
    const staged = await this.copyInto(STAGE, columns, chunks, onChunk);
    await mergeStage(this.client, target, columns, key);
    return staged;
  }

  private async copyInto(relation: string, columns: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
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
}

/** The connection of a PostgreSQL target transaction, on which a mover runs its statements. */
export function clientOf(tx: TargetTransaction): pg.PoolClient {
  if (!(tx instanceof PostgresTargetTransaction)) throw new Error('a PostgreSQL range mover needs a PostgreSQL target transaction');
  return tx.client;
}
