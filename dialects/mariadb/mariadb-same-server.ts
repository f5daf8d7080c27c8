// When a MariaDB source and a MariaDB target are one server: the tables SRCQUERY reads (so that
// a mapping reading its own target is refused), and the fast path that moves a key range with
// one INSERT … SELECT across databases, never through the worker.
//
// MariaDB's plans do not name the tables or functions a query reads, so both are found in the
// query's text, conservatively: a name counts wherever it appears as a word, and a view is
// followed into its definition. A wrong guess costs a refusal the user can see, or the fast
// path, never a row.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { KeyedQuery, RangeMover } from '../dialect';
import { mariadbError } from './mariadb-errors';
import type { MariaDbSource } from './mariadb-source';
import { expandValues, quoteMariaDbIdentifier, rangeSql } from './mariadb-sql';
import { connectionOf } from './mariadb-target-transaction';

/** The words of a text, lower case: every name it could refer to. */
function wordsOf(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9_$\u0080-\uffff]+/g) ?? []);
}

/**
 * The tables (views followed) that `query`, run in `database`, may read: those whose name is a
 * word of it, in `database` or in a database it also names.
 */
export async function tablesRead(
  pool: Pick<Pool, 'query'>,
  query: string,
  database: string | null,
): Promise<{ schema: string; table: string }[]> {
  const [tables] = await pool.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_TYPE AS k FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys')`,
  );
  const found = new Map<string, { schema: string; table: string }>();
  const pending = [{ text: query, database }];
  while (pending.length > 0) {
    const { text, database: db } = pending.pop()!;
    const words = wordsOf(text);
    for (const t of tables) {
      const schema = String(t.s);
      const table = String(t.t);
      const key = `${schema}.${table}`;
      if (found.has(key) || !words.has(table.toLowerCase())) continue;
      if (schema !== db && !words.has(schema.toLowerCase())) continue;
      found.set(key, { schema, table });
      if (t.k === 'VIEW') {
        const [views] = await pool.query<RowDataPacket[]>(
          'SELECT VIEW_DEFINITION AS d FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
          [schema, table],
        );
        if (views[0]?.d) pending.push({ text: String(views[0].d), database: schema });
      }
    }
  }
  return [...found.values()];
}

/** Functions with effects that a SELECT may call: a query naming one never runs in a transaction that writes. */
const WRITING_BUILTINS = ['nextval', 'setval', 'get_lock', 'release_lock', 'release_all_locks'];

/**
 * Whether SRCQUERY may run inside the target's transaction, which writes: it names no stored
 * function and no view (a view may call one), and no built-in function with an effect.
 */
export async function safeInsideWrites(pool: Pick<Pool, 'query'>, query: string): Promise<boolean> {
  const words = wordsOf(query);
  if (WRITING_BUILTINS.some((w) => words.has(w))) return false;
  const [names] = await pool.query<RowDataPacket[]>(
    `SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION'
     UNION SELECT TABLE_NAME FROM information_schema.VIEWS`,
  );
  return !names.some((r) => words.has(String(r.n).toLowerCase()));
}

/**
 * Source and target on one MariaDB server: each range one INSERT … SELECT on the target's
 * connection, SRCQUERY run with the source's database as the default one (so its unqualified
 * names mean what they mean on the source), inside the batch's transaction.
 */
export function inServerMover(
  source: MariaDbSource,
  q: KeyedQuery,
  sourceDatabase: string,
  targetDatabase: string | null,
  relation: string,
  columns: string[],
): RangeMover {
  const list = columns.map(quoteMariaDbIdentifier).join(', ');
  return {
    method: `one INSERT … SELECT per batch from database ${sourceDatabase}, on the same MariaDB server`,
    async move(tx, after, upTo, onChunk) {
      const connection = connectionOf(tx);
      const key = await source.keyParts(q);
      const text = `INSERT INTO ${relation} (${list})\n${rangeSql(q.query, key, { hasAfter: after !== null, hasUpTo: true }, list)}`;
      try {
        await connection.query(`USE ${quoteMariaDbIdentifier(sourceDatabase)}`);
        const [header] = await connection.query({
          sql: text,
          values: [...(after ? expandValues(after) : []), ...expandValues(upTo)],
        });
        onChunk?.();
        return (header as { affectedRows: number }).affectedRows;
      } catch (err) {
        throw mariadbError(err);
      } finally {
        if (targetDatabase)
          await connection.query(`USE ${quoteMariaDbIdentifier(targetDatabase)}`).catch(() => undefined);
      }
    },
  };
}
