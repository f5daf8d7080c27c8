// The range mover from another PostgreSQL database: each range the source's COPY output piped
// into the target's COPY input.
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { KeyedQuery, RangeMover } from '../dialect';
import { progressEvery } from './postgres-copy-progress';
import { extended } from './postgres-session';
import type { PostgresSource } from './postgres-source';
import { boundSetting, copyRangeSql, quotePostgresIdentifier } from './postgres-sql';
import { createStage, mergedOn, mergeStage, STAGE } from './postgres-stage';
import { clientOf } from './postgres-target-transaction';

/**
 * Another PostgreSQL database: the source's COPY output streams straight into the target's
 * COPY input (binary when every column has the same type on both sides, else text), never
 * decoded in the worker. COPY takes no bind parameters, so the range's bounds travel as
 * settings of the source's read-only session, set with bound values just before.
 */
export function copyPipeMover(
  source: PostgresSource,
  q: KeyedQuery,
  keyTypes: string[],
  relation: string,
  columns: string[],
  binary: boolean,
  upsertKey: string[] | null,
): RangeMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const format = binary ? 'binary' : 'text';
  return {
    method: `${format} COPY from the source piped into COPY on the target${mergedOn(upsertKey)}`,
    async move(tx, after, upTo, onChunk) {
      // Merging, the stage has the target's columns and types, so the format holds for it too.
      if (upsertKey) await createStage(clientOf(tx), relation, columns);
      const client = await source.pool.connect();
      let broken: Error | undefined;
      let rows: number;
      try {
        // COPY takes no bind parameters: the bounds go in as settings local to a read-only
        // transaction around the COPY, all set in one round trip, gone at its end.
        const names = [
          ...(after ?? []).map((_, i) => boundSetting('after', i)),
          ...upTo.map((_, i) => boundSetting('upto', i)),
        ];
        const values = [...(after ?? []), ...upTo];
        const calls = names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ');
        await client.query('BEGIN READ ONLY');
        await client.query(extended({ text: `SELECT ${calls}`, values: names.flatMap((n, i) => [n, values[i]]) }));
        // SRCQUERY is checked to be one statement (extended protocol) by every run's pre-flight.
        const out = client.query(
          copyTo(
            `COPY (${copyRangeSql(q.query, q.key, keyTypes, after !== null, columns)}) TO STDOUT WITH (FORMAT ${format})`,
          ),
        );
        const into = clientOf(tx).query(
          copyFrom(`COPY ${upsertKey ? STAGE : relation} (${list}) FROM STDIN WITH (FORMAT ${format})`),
        );
        await pipeline(out, progressEvery(1 << 20, onChunk), into);
        rows = into.rowCount ?? 0;
        await client.query('COMMIT');
      } catch (err) {
        broken = err as Error; // the connection may be mid-COPY: never reuse it
        throw err;
      } finally {
        client.release(broken);
      }
      // The source's session is back in its pool before the merge, whatever the merge meets.
      if (upsertKey) await mergeStage(clientOf(tx), relation, columns, upsertKey);
      return rows;
    },
  };
}
