// SQL text for PostgreSQL, built from resolved identifiers only: every value is a bound
// parameter ($1, $2, ...), never part of the text.
import { expandedGreaterThan } from '../expanded-key';

export function quotePostgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Removes trailing semicolons so the query can be wrapped as a subquery. */
export function unwrapQuery(query: string): string {
  return query.replace(/[\s;]+$/, '');
}

export function sourceSubquery(query: string, select = '*'): string {
  // Newlines keep a trailing line comment in the user's query from swallowing our SQL.
  return `SELECT ${select} FROM (\n${unwrapQuery(query)}\n) AS dms_src`;
}

const col = (name: string) => `dms_src.${quotePostgresIdentifier(name)}`;

/** `dms_src."a"` or `(dms_src."a", dms_src."b")`: a row comparison the btree can use. */
function tuple(key: string[]): string {
  return key.length === 1 ? col(key[0]) : `(${key.map(col).join(', ')})`;
}

function params(count: number, from: number): string {
  const list = Array.from({ length: count }, (_, i) => `$${from + i}`);
  return count === 1 ? list[0] : `(${list.join(', ')})`;
}

function notNull(key: string[]): string {
  return key.map((k) => `${col(k)} IS NOT NULL`).join(' AND ');
}

function anyNull(key: string[]): string {
  return key.map((k) => `${col(k)} IS NULL`).join(' OR ');
}

function keyList(key: string[], direction = ''): string {
  return key.map((k) => `${col(k)}${direction}`).join(', ');
}

/** Rows after `after` (exclusive): the lower bound takes $1..$k when present. */
function lowerBound(key: string[], hasAfter: boolean): string {
  return hasAfter ? ` AND ${tuple(key)} > ${params(key.length, 1)}` : '';
}

/** Rows up to and including `upTo`: its parameters follow the lower bound's. */
function upperBound(key: string[], hasAfter: boolean, hasUpTo: boolean): string {
  return hasUpTo ? ` AND ${tuple(key)} <= ${params(key.length, (hasAfter ? key.length : 0) + 1)}` : '';
}

/**
 * The key of the n-th row after the bound (and up to `upTo`, a partition's end, when given),
 * in key order: the upper end of the next batch. Parameters: [...after, ...upTo, n - 1].
 */
export function nthKeySql(query: string, key: string[], hasAfter: boolean, hasUpTo = false): string {
  const offset = `$${(hasAfter ? key.length : 0) + (hasUpTo ? key.length : 0) + 1}`;
  return `${sourceSubquery(query, keyList(key))}\nWHERE ${notNull(key)}${lowerBound(key, hasAfter)}${upperBound(key, hasAfter, hasUpTo)}\nORDER BY ${keyList(key)}\nOFFSET ${offset} LIMIT 1`;
}

/**
 * The planner's estimate of the rows after the bound (every row without a key or a bound), as
 * EXPLAIN prints it: statistics only, no row read. The bound is written in the expanded form,
 * (a > $1) OR (a = $2 AND b > $3): the planner judges a row comparison by its first column
 * only. Parameters: expandValues(after).
 */
export function estimateSql(query: string, key: string[], hasAfter: boolean): string {
  let n = 0;
  const bound = hasAfter ? ` AND ${expandedGreaterThan(key, col, () => `$${++n}`)}` : '';
  const where = key.length > 0 ? `\nWHERE ${notNull(key)}${bound}` : '';
  return `EXPLAIN (FORMAT JSON) ${sourceSubquery(query, '1')}${where}`;
}

/** The greatest key after the bound (and up to `upTo` when given). Parameters: [...after, ...upTo]. */
export function lastKeySql(query: string, key: string[], hasAfter: boolean, hasUpTo = false): string {
  return `${sourceSubquery(query, keyList(key))}\nWHERE ${notNull(key)}${lowerBound(key, hasAfter)}${upperBound(key, hasAfter, hasUpTo)}\nORDER BY ${keyList(key, ' DESC')}\nLIMIT 1`;
}

/**
 * Every row whose key lies after `after` and up to and including `upTo`, so that rows
 * sharing the upper key always travel together. Parameters: [...after, ...upTo].
 */
export function rangeSql(query: string, key: string[], hasAfter: boolean, select = '*'): string {
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${lowerBound(key, hasAfter)}${upperBound(key, hasAfter, true)}`;
}

/**
 * Every row after `after` (and up to `upTo`, a key range's end, when given), in key order: a
 * slice's key cursor, which its batches take their rows from in turn. Parameters: [...after, ...upTo].
 */
export function keyCursorSql(query: string, key: string[], hasAfter: boolean, hasUpTo: boolean): string {
  return `${sourceSubquery(query)}\nWHERE ${notNull(key)}${lowerBound(key, hasAfter)}${upperBound(key, hasAfter, hasUpTo)}\nORDER BY ${keyList(key)}`;
}

/**
 * The upper key of the next batch in one query: the n-th row's key after the bound, else
 * (fewer rows remain) the last key; `more` tells which. Parameters: [...after, n - 1].
 * Returns upto_0..upto_k and more, or no row when no row is left.
 */
export function nextBoundSql(query: string, key: string[], hasAfter: boolean): string {
  const offset = `$${(hasAfter ? key.length : 0) + 1}`;
  const where = `${notNull(key)}${lowerBound(key, hasAfter)}`;
  const keys = key.map((k, i) => `${col(k)} AS upto_${i}`).join(', ');
  return [
    `(${sourceSubquery(query, `${keys}, true AS more`)}\nWHERE ${where}\nORDER BY ${keyList(key)}\nOFFSET ${offset} LIMIT 1)`,
    'UNION ALL',
    `(${sourceSubquery(query, `${keys}, false AS more`)}\nWHERE ${where}\nORDER BY ${keyList(key, ' DESC')}\nLIMIT 1)`,
    // Both branches are one index probe each; the order picks the first when it exists.
    'ORDER BY more DESC LIMIT 1',
  ].join('\n');
}

/** The name of the setting that carries one bound of a COPY range. */
export function boundSetting(bound: 'after' | 'upto', column: number): string {
  return `dms.${bound}_${column}`;
}

/**
 * The rows of a key range for COPY (...) TO STDOUT, which takes no bind parameters: the
 * bounds are read from settings (set with set_config($1, $2, ...) and bound values just
 * before, on the same session), cast to the key columns' types, so no value is ever pasted
 * into SQL.
 * `types` are the key columns' type names as the database prints them (format_type).
 */
export function copyRangeSql(
  query: string,
  key: string[],
  types: string[],
  hasAfter: boolean,
  columns: string[],
): string {
  const bound = (which: 'after' | 'upto') => {
    const values = key.map((_, i) => `current_setting('${boundSetting(which, i)}')::${types[i]}`);
    return values.length === 1 ? values[0] : `(${values.join(', ')})`;
  };
  const select = columns.map(col).join(', ');
  const lower = hasAfter ? ` AND ${tuple(key)} > ${bound('after')}` : '';
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${lower} AND ${tuple(key)} <= ${bound('upto')}`;
}

/** Rows with a NULL in any key column (which no keyset predicate ever selects). */
export function nullKeysSql(query: string, key: string[]): string {
  return `${sourceSubquery(query)}\nWHERE ${anyNull(key)}`;
}

export function countNullKeysSql(query: string, key: string[]): string {
  return `${sourceSubquery(query, 'count(*) AS n')}\nWHERE ${anyNull(key)}`;
}

/**
 * A collation's name as dms-etl reports it (`name`: SQL text of its quoted name): "default"
 * with the database's own collation beside it, since two databases' defaults may differ.
 */
export function collationNameSql(name: string): string {
  return `CASE WHEN ${name} = '"default"' THEN '"default" (' || (SELECT datcollate FROM pg_database WHERE datname = current_database()) || ')' ELSE ${name} END`;
}

/**
 * The collation of each of the query's text `columns` (named c0, c1, …), read without a row:
 * one row whatever the query returns.
 */
export function keyCollationsSql(query: string, columns: string[]): string {
  const each = columns
    .map((c, i) => `${collationNameSql(`pg_collation_for(s.${quotePostgresIdentifier(c)})`)} AS c${i}`)
    .join(', ');
  return `SELECT ${each}\nFROM (${sourceSubquery(query)}\nLIMIT 0) AS s RIGHT JOIN (SELECT 1) AS one ON true`;
}

/** How many rows share one key value. Parameters: [...key]. */
export function countKeySql(query: string, key: string[]): string {
  return `${sourceSubquery(query, 'count(*) AS n')}\nWHERE ${tuple(key)} = ${params(key.length, 1)}`;
}

/**
 * A checkpoint's proof: the rows after `after` up to `upTo`, and how many of them have key =
 * upTo, both as rangeSql binds its bounds. Parameters: [...after, ...upTo].
 */
export function proveRangeSql(query: string, key: string[], hasAfter: boolean): string {
  const at = `count(*) FILTER (WHERE ${tuple(key)} = ${params(key.length, (hasAfter ? key.length : 0) + 1)})`;
  return rangeSql(query, key, hasAfter, `count(*) AS n, ${at} AS at`);
}

/** The first batch's key query, to see whether the database reads it from an index. */
export function keyOrderProbeSql(query: string, key: string[]): string {
  return `${sourceSubquery(query, keyList(key))}\nWHERE ${notNull(key)}\nORDER BY ${keyList(key)}\nLIMIT 1`;
}

/**
 * Whether a look-back window applies to a type (as format_type prints it, precision
 * included): date and timestamps. Only these names are ever pasted as a cast.
 */
export function isLookbackType(type: string): boolean {
  return /^(date|timestamp(\([0-6]\))? with(out)? time zone)$/.test(type);
}

/**
 * The greatest key whose first column is at or before `$1 - $2` (a high-water mark minus a
 * look-back window): the bound after which an INCREMENTAL run re-reads.
 */
export function keyBeforeSql(query: string, key: string[], type: string): string {
  if (!isLookbackType(type)) throw new Error(`no look-back over type ${type}`);
  return `${sourceSubquery(query, keyList(key))}\nWHERE ${notNull(key)} AND ${col(key[0])} <= $1::${type} - $2::interval\nORDER BY ${keyList(key, ' DESC')}\nLIMIT 1`;
}

/**
 * ROWCOUNT's order: `order`, and where it is every column (no unique key is known), then each
 * row's text in the bytes' order. Rows a collation, a type (citext, numeric's 1.0 and 1.00)
 * or a nondeterministic collation calls equal but whose bytes differ would otherwise come in
 * a different order from one query to the next, and a resume would skip or repeat them.
 */
function rowOrderList(order: string[], everyColumn: boolean): string {
  return `${keyList(order)}${everyColumn ? ', dms_src::text COLLATE "C"' : ''}`;
}

/** Every row in a total order over `order` (see rowOrderList), skipping the first $1 (once per attempt). */
export function orderedSql(query: string, order: string[], everyColumn = false): string {
  return `${sourceSubquery(query)}\nORDER BY ${rowOrderList(order, everyColumn)}\nOFFSET $1`;
}

/** The name of the setting that carries ROWCOUNT's offset into COPY. */
export const OFFSET_SETTING = 'dms.offset';

/**
 * orderedSql for COPY (...) TO STDOUT, which takes no bind parameters: the offset is read
 * from a setting, set with a bound value just before on the same session.
 */
export function orderedCopySql(query: string, order: string[], everyColumn = false): string {
  return `${sourceSubquery(query)}\nORDER BY ${rowOrderList(order, everyColumn)}\nOFFSET current_setting('${OFFSET_SETTING}')::bigint`;
}

/** Plans (never runs) an ORDER BY on one column: fails when its type has no ordering. */
export function orderProbeSql(query: string, column: string): string {
  return `EXPLAIN ${sourceSubquery(query)}\nORDER BY ${col(column)}`;
}

/**
 * `dms verify`'s look at one key range: its row count and, with `columns`, an order-free
 * digest of those columns' values (the sum of the first 64 bits of each row's md5, so rows
 * may come in any order). Parameters: [...after, ...upTo] for the bounds present; with
 * `nullKeys`, the rows with a NULL in a key column instead. With no key: every row.
 */
export function summarySql(
  query: string,
  key: string[],
  range: { hasAfter: boolean; hasUpTo: boolean } | 'nullKeys',
  columns: string[] | null,
): string {
  const digest = columns
    ? `coalesce(sum(('x' || left(md5(ROW(${columns.map(col).join(', ')})::text), 16))::bit(64)::bigint::numeric), 0)::text`
    : 'NULL::text';
  const where: string[] = [];
  if (range === 'nullKeys') where.push(anyNull(key));
  else if (key.length > 0) {
    where.push(notNull(key));
    if (range.hasAfter) where.push(`${tuple(key)} > ${params(key.length, 1)}`);
    if (range.hasUpTo) where.push(`${tuple(key)} <= ${params(key.length, (range.hasAfter ? key.length : 0) + 1)}`);
  }
  return `${sourceSubquery(query, `count(*) AS n, ${digest} AS digest`)}${where.length ? `\nWHERE ${where.join(' AND ')}` : ''}`;
}
