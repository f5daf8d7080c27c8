// SQL text for Oracle, built from resolved identifiers only: every value is a bind, named
// :k1, :k2, … in the order of the text (node-oracledb binds an array by position). A key of
// several columns is compared in the expanded form, since Oracle has no row-value comparison
// (ORA-01796). Keys are read as text and bound back through their type (oracle-types.ts).
import { expandedGreaterThan } from '../expanded-key';
import { driverFetched, keyBind, keyRead, valueRead } from './oracle-types';

export function quoteOracleIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The user's query as a subquery (Oracle takes no AS before a table alias). */
export function sourceSubquery(query: string, select = '*'): string {
  // Newlines keep a trailing line comment in the user's query from swallowing our SQL.
  return `SELECT ${select} FROM (\n${query.replace(/[\s;/]+$/, '')}\n) dms_src`;
}

/** A key column and its type's name (oracle-types.ts). */
export interface KeyPart {
  name: string;
  type: string;
}

const col = (name: string) => `dms_src.${quoteOracleIdentifier(name)}`;

/** Numbers the binds of one statement in the order they are written. */
class Binds {
  private n = 0;
  next(): string {
    this.n += 1;
    return `:k${this.n}`;
  }
}

/** The key's columns as text, named k0, k1, … (the driver returns them in that order). */
function keyColumns(key: KeyPart[]): string {
  return key.map((k, i) => `${keyRead(k.type, col(k.name))} AS "K${i}"`).join(', ');
}

function keyOrder(key: KeyPart[], direction = ''): string {
  return key.map((k) => `${col(k.name)}${direction}`).join(', ');
}

export function notNull(key: KeyPart[]): string {
  return key.map((k) => `${col(k.name)} IS NOT NULL`).join(' AND ');
}

export function anyNull(key: KeyPart[]): string {
  return key.map((k) => `${col(k.name)} IS NULL`).join(' OR ');
}

function greaterThan(key: KeyPart[], binds: Binds): string {
  return expandedGreaterThan(
    key,
    (p) => col(p.name),
    (p) => keyBind(p.type, binds.next()),
  );
}

/** Keys after the lower bound and up to `upTo` (NOT key > upTo: keys are NOT NULL here). */
function bounds(key: KeyPart[], binds: Binds, hasAfter: boolean, hasUpTo: boolean): string {
  const after = hasAfter ? ` AND ${greaterThan(key, binds)}` : '';
  const upTo = hasUpTo ? ` AND NOT ${greaterThan(key, binds)}` : '';
  return `${after}${upTo}`;
}

/**
 * The key of the n-th row after the bound (and up to `upTo`, a partition's end, when given).
 * Values: [...expandValues(after), ...expandValues(upTo), n - 1].
 */
export function nthKeySql(query: string, key: KeyPart[], hasAfter: boolean, hasUpTo = false): string {
  const binds = new Binds();
  const where = `${notNull(key)}${bounds(key, binds, hasAfter, hasUpTo)}`;
  return `${sourceSubquery(query, keyColumns(key))}\nWHERE ${where}\nORDER BY ${keyOrder(key)}\nOFFSET ${binds.next()} ROWS FETCH NEXT 1 ROWS ONLY`;
}

/** The greatest key after the bound (and up to `upTo`). Values: [...expandValues(after), ...expandValues(upTo)]. */
export function lastKeySql(query: string, key: KeyPart[], hasAfter: boolean, hasUpTo = false): string {
  const binds = new Binds();
  return `${sourceSubquery(query, keyColumns(key))}\nWHERE ${notNull(key)}${bounds(key, binds, hasAfter, hasUpTo)}\nORDER BY ${keyOrder(key, ' DESC')}\nFETCH FIRST 1 ROWS ONLY`;
}

/**
 * The rows after `after` up to and including `upTo`. Values: [...expandValues(after),
 * ...expandValues(upTo)].
 */
export function rangeSql(
  query: string,
  key: KeyPart[],
  range: { hasAfter: boolean; hasUpTo: boolean },
  select = '*',
): string {
  const binds = new Binds();
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${bounds(key, binds, range.hasAfter, range.hasUpTo)}`;
}

/**
 * A checkpoint's proof: the rows after `after` up to `upTo`, and how many of them have key =
 * upTo, every bound bound as rangeSql binds it. Values: [...upTo, ...expandValues(after),
 * ...expandValues(upTo)].
 */
export function proveRangeSql(query: string, key: KeyPart[], hasAfter: boolean): string {
  const binds = new Binds();
  const at = `SUM(CASE WHEN ${key.map((k) => `${col(k.name)} = ${keyBind(k.type, binds.next())}`).join(' AND ')} THEN 1 ELSE 0 END)`;
  const select = `COUNT(*) AS "N", ${at} AS "AT"`;
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${bounds(key, binds, hasAfter, true)}`;
}

/** How many rows share one key value. Values: the key's values, in order. */
export function countKeySql(query: string, key: KeyPart[]): string {
  const binds = new Binds();
  return `${sourceSubquery(query, 'COUNT(*) AS "N"')}\nWHERE ${key.map((k) => `${col(k.name)} = ${keyBind(k.type, binds.next())}`).join(' AND ')}`;
}

/** The rows with a NULL in any key column (CHKPNTNULLS), as `select` reads them. */
export function nullKeysSql(query: string, key: KeyPart[], select = '*'): string {
  return `${sourceSubquery(query, select)}\nWHERE ${anyNull(key)}`;
}

/**
 * ROWCOUNT's rows in their total order from an offset on (one ordered read a slice).
 * Values: [offset], or none from the start.
 */
export function orderedSql(query: string, order: string[], offset: number, select = '*'): string {
  const skip = offset > 0 ? `\nOFFSET :k1 ROWS` : '';
  return `${sourceSubquery(query, select)}\nORDER BY ${order.map(col).join(', ')}${skip}`;
}

/** A returned column and its type's name. */
export interface Column {
  name: string;
  type: string;
}

/** Every returned column in RowBatch's text form, under its own name (LOBs as they are, for the driver). */
export function rowSelect(columns: Column[]): string {
  return columns
    .map(
      (c) =>
        `${driverFetched(c.type) ? col(c.name) : valueRead(c.type, col(c.name))} AS ${quoteOracleIdentifier(c.name)}`,
    )
    .join(', ');
}

/** The query's columns without a row. */
export function describeSql(query: string): string {
  return `${sourceSubquery(query)}\nWHERE 1 = 0`;
}

/**
 * The greatest key whose first column is at or before a high-water mark minus a look-back
 * window: the bound after which an INCREMENTAL run re-reads. Values: [mark, window in seconds].
 */
export function keyBeforeSql(query: string, key: KeyPart[]): string {
  const first = key[0];
  const mark = `${keyBind(first.type, ':k1')} - NUMTODSINTERVAL(:k2, 'SECOND')`;
  return `${sourceSubquery(query, keyColumns(key))}\nWHERE ${notNull(key)} AND ${col(first.name)} <= ${mark}\nORDER BY ${keyOrder(key, ' DESC')}\nFETCH FIRST 1 ROWS ONLY`;
}

/** The count of a range of keys (or of the rows with a NULL key). Values as rangeSql's. */
export function countSql(
  query: string,
  key: KeyPart[],
  range: { hasAfter: boolean; hasUpTo: boolean } | 'nullKeys',
): string {
  if (range === 'nullKeys') return nullKeysSql(query, key, 'COUNT(*) AS "N"');
  if (key.length === 0) return sourceSubquery(query, 'COUNT(*) AS "N"');
  return rangeSql(query, key, range, 'COUNT(*) AS "N"');
}

/** The first batch's key query, explained, to see whether Oracle sorts or reads the key's index. */
export function keyOrderProbeSql(statementId: string, query: string, key: KeyPart[]): string {
  return `EXPLAIN PLAN SET STATEMENT_ID = '${statementId.replace(/'/g, "''")}' FOR\n${sourceSubquery(query, keyColumns(key))}\nWHERE ${notNull(key)}\nORDER BY ${keyOrder(key)}\nFETCH FIRST 1 ROWS ONLY`;
}

/** Every row of the query, explained: the optimizer's estimate of their number. */
export function estimateProbeSql(statementId: string, query: string): string {
  return `EXPLAIN PLAN SET STATEMENT_ID = '${statementId.replace(/'/g, "''")}' FOR\n${sourceSubquery(query, '1')}`;
}

/** The explained plan's estimated rows (its top line). Values: [statement id]. */
export const PLAN_ROWS_SQL = `SELECT CARDINALITY AS "N" FROM PLAN_TABLE WHERE STATEMENT_ID = :k1 AND ID = 0`;

/** Whether the explained plan sorts. Values: [statement id]. */
export const PLAN_SORTS_SQL = `SELECT COUNT(*) AS "N" FROM PLAN_TABLE WHERE STATEMENT_ID = :k1 AND OPERATION = 'SORT' AND OPTIONS LIKE 'ORDER BY%'`;

/**
 * The primary key and unique constraints or indexes of owner.table whose columns are all NOT
 * NULL, one row per column in order. Values: [owner, table].
 */
export const UNIQUE_KEYS_SQL = `SELECT k.KEY_NAME, k.COLUMN_NAME, k.PRIMARY_KEY, c.NULLABLE
  FROM (SELECT cc.CONSTRAINT_NAME AS KEY_NAME, cc.COLUMN_NAME, cc.POSITION AS POS, CASE WHEN ac.CONSTRAINT_TYPE = 'P' THEN 1 ELSE 0 END AS PRIMARY_KEY
          FROM ALL_CONSTRAINTS ac JOIN ALL_CONS_COLUMNS cc ON cc.OWNER = ac.OWNER AND cc.CONSTRAINT_NAME = ac.CONSTRAINT_NAME
         WHERE ac.OWNER = :k1 AND ac.TABLE_NAME = :k2 AND ac.CONSTRAINT_TYPE IN ('P', 'U') AND ac.STATUS = 'ENABLED'
        UNION ALL
        SELECT ic.INDEX_NAME, ic.COLUMN_NAME, ic.COLUMN_POSITION, 0
          FROM ALL_INDEXES ai JOIN ALL_IND_COLUMNS ic ON ic.INDEX_OWNER = ai.OWNER AND ic.INDEX_NAME = ai.INDEX_NAME
         WHERE ai.TABLE_OWNER = :k3 AND ai.TABLE_NAME = :k4 AND ai.UNIQUENESS = 'UNIQUE') k
  JOIN ALL_TAB_COLUMNS c ON c.OWNER = :k5 AND c.TABLE_NAME = :k6 AND c.COLUMN_NAME = k.COLUMN_NAME
 ORDER BY k.PRIMARY_KEY DESC, k.KEY_NAME, k.POS`;
