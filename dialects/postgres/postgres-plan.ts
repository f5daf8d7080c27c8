// A query's plan read for what it touches: on one database, the tables SRCQUERY reads and the
// functions it calls.
import type pg from 'pg';
import { extended } from './postgres-session';
import { sourceSubquery } from './postgres-sql';

/**
 * What a query's plan reads and calls, from EXPLAIN (VERBOSE): the tables it scans (through
 * views, subqueries and partitions alike) and the names of the functions its expressions call.
 */
export async function planOf(
  pool: pg.Pool,
  query: string,
): Promise<{ relations: { schema: string; table: string }[]; functions: string[] }> {
  const { rows } = await pool.query<{ 'QUERY PLAN': unknown }>(
    extended({ text: `EXPLAIN (VERBOSE, FORMAT JSON) ${sourceSubquery(query)}` }),
  );
  const relations = new Map<string, { schema: string; table: string }>();
  const functions = new Set<string>();
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      // Names before an opening parenthesis, plain or quoted, schema-qualified or not.
      for (const m of node.matchAll(
        /(?:^|[^\w$".])(?:(?:[a-z_][\w$]*|"(?:[^"]|"")+")\.)?([a-z_][\w$]*|"(?:[^"]|"")+")\(/gi,
      )) {
        const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1].toLowerCase();
        functions.add(name);
      }
      return;
    }
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n['Relation Name'] === 'string' && typeof n.Schema === 'string')
      relations.set(`${n.Schema}.${n['Relation Name']}`, { schema: n.Schema, table: n['Relation Name'] });
    Object.values(n).forEach(walk);
  };
  const plan = rows[0]['QUERY PLAN'];
  walk(typeof plan === 'string' ? JSON.parse(plan) : plan);
  return { relations: [...relations.values()], functions: [...functions] };
}
