// The ordered mover (ROWCOUNT) from another PostgreSQL database: one text COPY of the ordered
// rows, split into batches of whole rows, each piped into COPY on the target.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { KeyedQuery, OrderedMover } from '../dialect';
import { decodeCopyTextRow } from './postgres-copy';
import { progressEvery } from './postgres-copy-progress';
import { CopyTextRows } from './postgres-copy-text-rows';
import { extended } from './postgres-session';
import type { PostgresSource } from './postgres-source';
import { OFFSET_SETTING, orderedCopySql, quotePostgresIdentifier } from './postgres-sql';
import { clientOf } from './postgres-target-transaction';

/**
 * ROWCOUNT from another PostgreSQL database: one COPY of the ordered rows in text format
 * (the last row of each batch is read back for its digest; binary would need every type's
 * decoder), split into batches of whole rows, each piped into COPY on the target.
 */
export function orderedCopyMover(
  source: PostgresSource,
  q: KeyedQuery,
  relation: string,
  columns: string[],
): OrderedMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const valuesOf = (line: Buffer | null) => line && decodeCopyTextRow(line.toString('utf8'));
  return {
    method: 'text COPY from the source, split into batches of whole rows, piped into COPY on the target',
    async open(offset) {
      const client = await source.pool.connect();
      try {
        // COPY takes no bind parameters: the offset goes in as a setting local to a read-only
        // transaction that lasts as long as the COPY, ended in close().
        await client.query('BEGIN READ ONLY');
        await client.query(
          extended({ text: 'SELECT set_config($1, $2, true)', values: [OFFSET_SETTING, String(offset)] }),
        );
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
      // SRCQUERY is checked to be one statement (extended protocol) by every run's pre-flight.
      const out = client.query(
        copyTo(`COPY (${orderedCopySql(q.query, q.key, q.key.length === columns.length)}) TO STDOUT`),
      );
      const rows = new CopyTextRows(out);
      let finished = false;
      return {
        async next() {
          const counts = { taken: 0, last: null as Buffer | null };
          for await (const _ of rows.take(1, counts));
          finished = counts.taken === 0;
          return valuesOf(counts.last);
        },
        async moveInto(tx, limit, onChunk, maxBytes) {
          const counts: { taken: number; last: Buffer | null; full?: boolean } = { taken: 0, last: null };
          const into = clientOf(tx).query(copyFrom(`COPY ${relation} (${list}) FROM STDIN`));
          // Bytes, not objects: the stream holds one chunk ahead, not sixteen.
          await pipeline(
            Readable.from(rows.take(limit, counts, maxBytes), { objectMode: false }),
            progressEvery(1 << 20, onChunk),
            into,
          );
          if (into.rowCount !== counts.taken)
            throw new Error(`COPY took ${into.rowCount} rows where ${counts.taken} were sent`);
          finished = counts.taken < limit && !counts.full;
          return { rows: counts.taken, last: valuesOf(counts.last), full: counts.full };
        },
        async close() {
          // A COPY stopped before its end leaves the connection mid-stream: never reuse it.
          let broken = finished ? undefined : new Error('COPY closed before its end');
          await rows.close().catch(() => undefined);
          if (!broken)
            broken = await client.query('COMMIT').then(
              () => undefined,
              (err: Error) => err,
            );
          client.release(broken);
        },
      };
    },
  };
}
