// Which returned columns are known unique: asked of the database itself. A key is reported
// only when the plan reads exactly one table through plain scans (no join, no set-returning
// function, no aggregate or union that could repeat or merge rows) and the key's columns
// are returned as they are (the column origins PostgreSQL reports for each field).
import type pg from 'pg';
import { sourceSubquery } from './postgres-sql';

/** Plan nodes that pass each row of their one input through at most once. */
const ROW_PRESERVING = new Set([
  'Seq Scan',
  'Index Scan',
  'Index Only Scan',
  'Bitmap Heap Scan',
  'Bitmap Index Scan',
  'BitmapAnd',
  'BitmapOr',
  'Tid Scan',
  'Tid Range Scan',
  'Sample Scan',
  'Limit',
  'Sort',
  'Incremental Sort',
  'Result',
  'Subquery Scan',
  'Gather',
  'Gather Merge',
  'Materialize',
  'Unique',
]);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  node.Plans?.forEach((child) => walk(child, visit));
}

export async function uniqueKeysOf(pool: pg.Pool, query: string, fields: pg.FieldDef[]): Promise<string[][]> {
  const tables = new Set(fields.map((f) => f.tableID).filter((id) => id !== 0));
  if (tables.size !== 1) return [];
  const [tableId] = tables;

  const explained = await pool.query<{ 'QUERY PLAN': string }>({
    text: `EXPLAIN (FORMAT JSON, VERBOSE) ${sourceSubquery(query)}`,
    queryMode: 'extended',
  } as pg.QueryConfig);
  const plan = (JSON.parse(explained.rows[0]['QUERY PLAN']) as { Plan: PlanNode }[])[0].Plan;
  const relations: PlanNode[] = [];
  let plain = true;
  walk(plan, (n) => {
    if (!ROW_PRESERVING.has(n['Node Type'])) plain = false;
    if (n['Relation Name']) relations.push(n);
  });
  if (!plain || relations.length !== 1) return [];
  const { rows: same } = await pool.query<{ same: boolean }>(
    `SELECT c.oid = $1::oid AS same FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $2 AND n.nspname = $3`,
    [tableId, relations[0]['Relation Name'], relations[0].Schema],
  );
  if (!same[0]?.same) return [];

  const byAttnum = new Map(fields.filter((f) => f.tableID === tableId).map((f) => [f.columnID, f.name]));
  const keys: string[][] = [];
  for (const attnums of await uniqueIndexes(pool, tableId, true)) {
    const names = attnums.map((a) => byAttnum.get(a));
    if (names.every((n): n is string => n !== undefined)) keys.push(names);
  }
  return keys;
}

/**
 * The column numbers of a table's unique indexes without predicate or expressions, primary
 * key first; with notNull, only those whose columns are all NOT NULL.
 */
export async function uniqueIndexes(
  client: pg.Pool | pg.PoolClient,
  tableOid: number | string,
  notNull: boolean,
): Promise<number[][]> {
  const { rows } = await client.query<{ attnums: string }>(
    `SELECT array_to_string(i.indkey, ' ') AS attnums
       FROM pg_index i
      WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        AND (NOT $2 OR NOT EXISTS (
          SELECT 1 FROM pg_attribute a
           WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) AND NOT a.attnotnull))
      ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid`,
    [tableOid, notNull],
  );
  return rows.map((r) => r.attnums.split(' ').map(Number));
}
