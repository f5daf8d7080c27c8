// When an Oracle source and an Oracle target are one database (unverified: never run against an
// Oracle server): each key range moves by one INSERT … SELECT inside the batch's transaction,
// never through the worker, as on PostgreSQL and MariaDB.
//
// Only for a plain single-table SRCQUERY (oracle-single-table.ts) that calls nothing: no
// parenthesis anywhere, so no function, whose effects would then run inside a transaction that
// writes rather than in a read-only one. Any other query moves through the worker, and the
// run's log says which way rows moved. SRCQUERY's unqualified names mean what they mean to the
// source's user: the target's session reads with CURRENT_SCHEMA set to the source's schema for
// the statement, then set back (ALTER SESSION commits nothing).
import type { KeyedQuery, KeyValue, RangeMover, TargetTransaction } from '../dialect';
import { expandValues } from '../expanded-key';
import { quoteOracleIdentifier as q, rangeSql } from './oracle-sql';
import { singleTable } from './oracle-single-table';
import type { OracleSource } from './oracle-source';

/** Whether SRCQUERY may run inside the target's transaction (see the header). */
export function movableInDatabase(query: string): boolean {
  return singleTable(query) !== null && !query.includes('(');
}

/** Where the statement reads as the source's user: `readAs` for its duration, then `home` again. */
export interface ReadAs {
  readAs: string;
  home: string;
}

/** Makes `schema` the session's default for unqualified names. */
export function schemaSwitch(schema: string): string {
  return `ALTER SESSION SET CURRENT_SCHEMA = ${q(schema)}`;
}

/** What a transaction must offer the mover: one statement run inside it, its rows counted. */
export interface InsertSelectTransaction extends TargetTransaction {
  insertSelect(text: string, binds: string[], as: ReadAs | null): Promise<number>;
}

export function inDatabaseMover(
  source: OracleSource,
  query: KeyedQuery,
  relation: string,
  columns: string[],
  as: ReadAs | null,
): RangeMover {
  const list = columns.map(q).join(', ');
  const select = columns.map((c) => `dms_src.${q(c)}`).join(', ');
  return {
    method: `one INSERT … SELECT per batch inside the Oracle database (source and target are one database)`,
    async move(tx, after: KeyValue | null, upTo: KeyValue, onChunk) {
      const key = await source.keyParts(query);
      const text = `INSERT INTO ${relation} (${list})\n${rangeSql(query.query, key, { hasAfter: after !== null, hasUpTo: true }, select)}`;
      const rows = await (tx as InsertSelectTransaction).insertSelect(
        text,
        [...(after ? expandValues(after) : []), ...expandValues(upTo)],
        as,
      );
      onChunk?.();
      return rows;
    },
  };
}
