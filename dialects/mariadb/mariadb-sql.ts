// SQL text for MariaDB, built from resolved identifiers only: every value is a bound `?`.
// A key of several columns is compared in the expanded form (a > ?) OR (a = ? AND b > ?),
// since MariaDB uses an index only for = and IN row comparisons. Each bound is cast to its
// column's type (see mariadb-types.ts).

import { expandedGreaterThan, expandValues } from '../expanded-key';

export function quoteMariaDbIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export function sourceSubquery(query: string, select = '*'): string {
  // Newlines keep a trailing line comment in the user's query from swallowing our SQL.
  return `SELECT ${select} FROM (\n${query.replace(/[\s;]+$/, '')}\n) AS dms_src`;
}

/** A key column, the cast of its bounds (null: none) and how its values travel (mariadb-types.ts). */
export interface KeyPart {
  name: string;
  cast: string | null;
  key?: 'bytes' | 'float' | 'bits';
}

const col = (name: string) => `dms_src.${quoteMariaDbIdentifier(name)}`;

/** A bound as the key's own type: bytes from RowBatch's \x hex, bits from their 0s and 1s, the rest cast as the column's type. */
function bound(part: KeyPart): string {
  if (part.key === 'bytes') return 'UNHEX(SUBSTRING(?, 3))';
  if (part.key === 'bits') return 'CAST(CONV(?, 2, 10) AS UNSIGNED)';
  return part.cast ? `CAST(? AS ${part.cast})` : '?';
}

function keyList(key: KeyPart[], direction = ''): string {
  return key.map((k) => `${col(k.name)}${direction}`).join(', ');
}

/** The key's columns as a key query returns them: a FLOAT as the DOUBLE it holds, every digit of it. */
function keySelect(key: KeyPart[]): string {
  return key
    .map((k) =>
      k.key === 'float' ? `CAST(${col(k.name)} AS DOUBLE) AS ${quoteMariaDbIdentifier(k.name)}` : col(k.name),
    )
    .join(', ');
}

export function notNull(key: KeyPart[]): string {
  return key.map((k) => `${col(k.name)} IS NOT NULL`).join(' AND ');
}

export function anyNull(key: KeyPart[]): string {
  return key.map((k) => `${col(k.name)} IS NULL`).join(' OR ');
}

/**
 * key > bound, expanded: (a > ?) OR (a = ? AND b > ?) OR … Its values, in order, come from
 * expandValues.
 */
export function greaterThan(key: KeyPart[]): string {
  return expandedGreaterThan(key, (p) => col(p.name), bound);
}

export { expandValues };

/** Keys after the lower bound and up to `upTo` (as NOT key > upTo: keys are NOT NULL here). */
function bounds(key: KeyPart[], hasAfter: boolean, hasUpTo: boolean): string {
  return `${hasAfter ? ` AND ${greaterThan(key)}` : ''}${hasUpTo ? ` AND NOT ${greaterThan(key)}` : ''}`;
}

/**
 * The rows after the bound (every row without a key or a bound), explained: the optimizer's
 * estimate from statistics, no row read. Values: [...expandValues(after)].
 */
export function estimateSql(query: string, key: KeyPart[], hasAfter: boolean): string {
  const where = key.length > 0 ? `\nWHERE ${notNull(key)}${bounds(key, hasAfter, false)}` : '';
  return `EXPLAIN ${sourceSubquery(query, '1')}${where}`;
}

/**
 * The estimate from EXPLAIN's rows: the outer select's tables (id 1) joined, each one's rows
 * times the share its condition keeps where EXPLAIN gives it; null when there is no such row.
 */
export function estimateOfExplain(rows: { id?: unknown; rows?: unknown; filtered?: unknown }[]): number | null {
  const outer = rows.filter((r) => Number(r.id) === 1);
  if (
    outer.length === 0 ||
    outer.some((r) => r.rows === null || r.rows === undefined || !Number.isFinite(Number(r.rows)))
  )
    return null;
  return Math.round(
    outer.reduce(
      (n, r) => n * Number(r.rows) * (r.filtered === undefined || r.filtered === null ? 1 : Number(r.filtered) / 100),
      1,
    ),
  );
}

/**
 * The key of the n-th row after the bound (and up to `upTo`, a partition's end, when given).
 * Values: [...expandValues(after), ...expandValues(upTo), n - 1].
 */
export function nthKeySql(query: string, key: KeyPart[], hasAfter: boolean, hasUpTo = false): string {
  return `${sourceSubquery(query, keySelect(key))}\nWHERE ${notNull(key)}${bounds(key, hasAfter, hasUpTo)}\nORDER BY ${keyList(key)}\nLIMIT 1 OFFSET ?`;
}

/** The greatest key after the bound (and up to `upTo`). Values: [...expandValues(after), ...expandValues(upTo)]. */
export function lastKeySql(query: string, key: KeyPart[], hasAfter: boolean, hasUpTo = false): string {
  return `${sourceSubquery(query, keySelect(key))}\nWHERE ${notNull(key)}${bounds(key, hasAfter, hasUpTo)}\nORDER BY ${keyList(key, ' DESC')}\nLIMIT 1`;
}

/**
 * The rows after `after` up to and including `upTo` (key <= upTo as NOT key > upTo: keys are
 * NOT NULL here). Values: [...expandValues(after), ...expandValues(upTo)].
 */
export function rangeSql(
  query: string,
  key: KeyPart[],
  range: { hasAfter: boolean; hasUpTo: boolean },
  select = '*',
): string {
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${bounds(key, range.hasAfter, range.hasUpTo)}`;
}

/**
 * The rows after `after` (up to `upTo`, when given) in key order: a KEY cursor's one read.
 * Values: [...expandValues(after), ...expandValues(upTo)].
 */
export function keyCursorSql(query: string, key: KeyPart[], range: { hasAfter: boolean; hasUpTo: boolean }): string {
  return `${rangeSql(query, key, range)}\nORDER BY ${keyList(key)}`;
}

/** First key columns a look-back window can go back on (type names as mariadb-types.ts gives them). */
export function isLookbackType(type: string): boolean {
  return /^(date|datetime\(\d\)|timestamp\(\d\))$/.test(type);
}

/**
 * The greatest key whose first column is at or before a high-water mark minus a look-back
 * window: the bound after which an INCREMENTAL run re-reads. Values: [mark, window in seconds].
 */
export function keyBeforeSql(query: string, key: KeyPart[]): string {
  return `${sourceSubquery(query, keySelect(key))}\nWHERE ${notNull(key)} AND ${col(key[0].name)} <= CAST(? AS DATETIME(6)) - INTERVAL ? SECOND\nORDER BY ${keyList(key, ' DESC')}\nLIMIT 1`;
}

/** How many rows share one key value. Values: the key. */
export function countKeySql(query: string, key: KeyPart[]): string {
  return `${sourceSubquery(query, 'count(*) AS n')}\nWHERE ${key.map((k) => `${col(k.name)} = ${bound(k)}`).join(' AND ')}`;
}

/**
 * A checkpoint's proof: the rows after `after` up to `upTo`, and how many of them have key =
 * upTo, every bound bound as rangeSql binds it. Values: [...upTo, ...expandValues(after),
 * ...expandValues(upTo)].
 */
export function proveRangeSql(query: string, key: KeyPart[], hasAfter: boolean): string {
  const at = `COALESCE(SUM(${key.map((k) => `${col(k.name)} = ${bound(k)}`).join(' AND ')}), 0)`;
  return rangeSql(query, key, { hasAfter, hasUpTo: true }, `COUNT(*) AS n, ${at} AS at`);
}

export function countNullKeysSql(query: string, key: KeyPart[]): string {
  return `${sourceSubquery(query, 'count(*) AS n')}\nWHERE ${anyNull(key)}`;
}

export function nullKeysSql(query: string, key: KeyPart[]): string {
  return `${sourceSubquery(query)}\nWHERE ${anyNull(key)}`;
}

/**
 * Every row in a total order over `order`, then over the bytes of the `bytes` columns (text
 * under a collation that calls different bytes equal: case, accents, trailing spaces), skipping
 * the first ? rows.
 */
export function orderedSql(query: string, order: string[], bytes: string[] = []): string {
  const list = [...order.map(col), ...bytes.map((c) => `CAST(${col(c)} AS BINARY)`)];
  return `${sourceSubquery(query)}\nORDER BY ${list.join(', ')}\nLIMIT 18446744073709551615 OFFSET ?`;
}

/** The first batch's key query, to see in its plan whether MariaDB sorts (filesort) or reads an index. */
export function keyOrderProbeSql(query: string, key: KeyPart[]): string {
  return `EXPLAIN FORMAT=JSON ${sourceSubquery(query, keyList(key))}\nWHERE ${notNull(key)}\nORDER BY ${keyList(key)}\nLIMIT 1`;
}

/**
 * `dms verify`'s look at a range: its count and an order-free digest of `columns` (the sum of
 * the first 64 bits of each row's MD5 over JSON_ARRAY of its values).
 */
export function summarySql(
  query: string,
  key: KeyPart[],
  range: { hasAfter: boolean; hasUpTo: boolean } | 'nullKeys',
  columns: string[] | null,
): string {
  const digest = columns
    ? `CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5(JSON_ARRAY(${columns.map(col).join(', ')})), 16), 16, 10) AS DECIMAL(65,0))), 0) AS CHAR)`
    : 'NULL';
  const select = `count(*) AS n, ${digest} AS digest`;
  if (range === 'nullKeys') return `${sourceSubquery(query, select)}\nWHERE ${anyNull(key)}`;
  if (key.length === 0) return sourceSubquery(query, select);
  return rangeSql(query, key, range, select);
}
