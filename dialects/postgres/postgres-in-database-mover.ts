// The range mover when source and target are one database: each range one INSERT ... SELECT
// inside it.
import type { KeyedQuery, RangeMover } from '../dialect';
import { extended } from './postgres-session';
import { nextBoundSql, quotePostgresIdentifier, rangeSql } from './postgres-sql';
import { createStage, mergedOn, mergeStage, STAGE } from './postgres-stage';
import { clientOf } from './postgres-target-transaction';

/**
 * Source and target are one database: each range is one INSERT ... SELECT inside it, its
 * upper key found on the same connection just before (a RETURNING that reported it from the
 * INSERT itself cost more than the second round trip). Merging on `upsertKey`, the range
 * goes through the stage, which also counts the rows read.
 */
export function inDatabaseMover(
  q: KeyedQuery,
  relation: string,
  columns: string[],
  upsertKey: string[] | null,
): RangeMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const move: RangeMover['move'] = async (tx, after, upTo, onChunk) => {
    const client = clientOf(tx);
    if (upsertKey) await createStage(client, relation, columns);
    // Bound values only; SRCQUERY stays a subquery, where PostgreSQL refuses data-modifying WITH.
    const text = `INSERT INTO ${upsertKey ? STAGE : relation} (${list})\n${rangeSql(q.query, q.key, after !== null, list)}`;
    const result = await client.query(extended({ text, values: [...(after ?? []), ...upTo] }));
    if (upsertKey) await mergeStage(client, relation, columns, upsertKey);
    onChunk?.();
    return result.rowCount ?? 0;
  };
  return {
    method: `INSERT ... SELECT inside the database (source and target are one database)${mergedOn(upsertKey)}`,
    move,
    async moveNext(tx, after, limit) {
      const text = nextBoundSql(q.query, q.key, after !== null);
      const { rows } = await clientOf(tx).query<Record<string, string>>(
        extended({ text, values: [...(after ?? []), limit - 1] }),
      );
      const [bound] = rows;
      if (!bound) return null;
      const upTo = q.key.map((_, i) => bound[`upto_${i}`]);
      // Values come back as text (the pool parses no type): a boolean reads 't' or 'f'.
      return { rows: await move(tx, after, upTo), upTo, more: bound.more === 't' };
    },
  };
}
