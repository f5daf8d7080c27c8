// SQL text for Oracle, built from resolved identifiers only: every value is a bind, named
// :k1, :k2, … in the order of the text (node-oracledb binds an array by position). A key of
// several columns is compared in the expanded form, since Oracle has no row-value comparison
// (ORA-01796). Keys are read as text and bound back through their type (oracle-types.ts).
import { expandedGreaterThan } from '../expanded-key';
import { keyBind, keyRead } from './oracle-types';

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
  return expandedGreaterThan(key, (p) => col(p.name), (p) => keyBind(p.type, binds.next()));
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
export function rangeSql(query: string, key: KeyPart[], range: { hasAfter: boolean; hasUpTo: boolean }, select = '*'): string {
  const binds = new Binds();
  return `${sourceSubquery(query, select)}\nWHERE ${notNull(key)}${bounds(key, binds, range.hasAfter, range.hasUpTo)}`;
}

/** How many rows share one key value. Values: the key's values, in order. */
export function countKeySql(query: string, key: KeyPart[]): string {
  const binds = new Binds();
  return `${sourceSubquery(query, 'COUNT(*) AS "N"')}\nWHERE ${key.map((k) => `${col(k.name)} = ${keyBind(k.type, binds.next())}`).join(' AND ')}`;
}

/** The rows with a NULL in any key column (CHKPNTNULLS), and their count. */
export function nullKeysSql(query: string, key: KeyPart[], count = false): string {
  return `${sourceSubquery(query, count ? 'COUNT(*) AS "N"' : '*')}\nWHERE ${anyNull(key)}`;
}

/**
 * ROWCOUNT's rows in their total order from an offset on (one ordered read a slice).
 * Values: [offset], or none from the start.
 */
export function orderedSql(query: string, order: string[], offset: number): string {
  const skip = offset > 0 ? `\nOFFSET :k1 ROWS` : '';
  return `${sourceSubquery(query)}\nORDER BY ${order.map(col).join(', ')}${skip}`;
}
