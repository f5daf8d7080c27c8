// Oracle's types as dms-etl sorts them (dialect.ts's TypeFamily), and how a key column of each
// type is read as text and bound back from it, exactly: NUMBER through its own text, DATE with
// its time of day, TIMESTAMP with nine fractional digits, a zoned one in UTC, RAW as hex.
// Type names are node-oracledb's `dbTypeName` in a query's metadata (NUMBER, VARCHAR2, DATE,
// TIMESTAMP, TIMESTAMP WITH TIME ZONE, …), with no precision.
import type { TypeFamily } from '../dialect';

const FAMILIES: [RegExp, TypeFamily][] = [
  [/^(NUMBER|FLOAT|BINARY_FLOAT|BINARY_DOUBLE|BINARY_INTEGER)$/, 'number'],
  [/^(VARCHAR2|NVARCHAR2|CHAR|NCHAR|CLOB|NCLOB|LONG)$/, 'string'],
  [/^(DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP WITH LOCAL TIME ZONE)$/, 'datetime'],
  [/^INTERVAL /, 'timespan'],
  [/^(RAW|LONG RAW|BLOB)$/, 'bytes'],
  [/^JSON$/, 'json'],
  [/^BOOLEAN$/, 'boolean'],
];

export function oracleFamily(typeName: string): TypeFamily {
  return FAMILIES.find(([re]) => re.test(typeName))?.[1] ?? 'other';
}

/** Types a key cannot be ordered or compared by (ORA-00932 for LOBs and JSON). */
export function isOrderable(typeName: string): boolean {
  return !/^(CLOB|NCLOB|BLOB|LONG|LONG RAW|JSON|BFILE)$/.test(typeName) && oracleFamily(typeName) !== 'other';
}

// Keys: SYYYY, so a year before 1 AD keeps its sign (YYYY would print 44 BC as 0044, a year
// AD, and the resumed read would start two thousand years late); a year AD prints with a space
// where the sign would be, which the bind reads back. Values travel as YYYY (RowBatch's form).
/**
 * Why a key of this type cannot travel as a checkpoint's text and be bound back to the same
 * value (null: it can): a binary float's text is not its stored value, and an INTERVAL has no
 * text form the bind reads back exactly. Such a key is refused at planning.
 */
export function inexactKeyType(typeName: string): string | null {
  if (/^BINARY_(FLOAT|DOUBLE)$/.test(typeName))
    return `a ${typeName} key's text is not the value it stores, so a checkpoint could not be bound back to its own row`;
  if (/^INTERVAL /.test(typeName)) return 'an INTERVAL key has no text form that binds back to the same value';
  return null;
}

const DATE_FORMAT = `'SYYYY-MM-DD HH24:MI:SS'`;
const TIMESTAMP_FORMAT = `'SYYYY-MM-DD HH24:MI:SS.FF9'`;
const VALUE_DATE_FORMAT = `'YYYY-MM-DD HH24:MI:SS'`;
const VALUE_TIMESTAMP_FORMAT = `'YYYY-MM-DD HH24:MI:SS.FF9'`;

/** How a key column's value goes to text in SQL (`read`) and back from a bound text (`bind`). */
interface KeyText {
  read: (expr: string) => string;
  bind: (bind: string) => string;
}

// TM9: every digit, no padding, no exponent below 64 digits. It writes 0.5 as .5, which only
// goes back to this database (TO_NUMBER reads it), never into a row.
const number = (convert: string): KeyText => ({ read: (e) => `TO_CHAR(${e}, 'TM9')`, bind: (b) => `${convert}(${b})` });
// In UTC, as every timestamp with a zone travels (docs/type-mapping.md).
const zoned: KeyText = {
  read: (e) => `TO_CHAR(SYS_EXTRACT_UTC(${e}), ${TIMESTAMP_FORMAT}) || '+00'`,
  bind: (b) => `TO_TIMESTAMP_TZ(${b}, 'SYYYY-MM-DD HH24:MI:SS.FF9TZH')`,
};

const KEY_TEXT: Record<string, KeyText> = {
  DATE: { read: (e) => `TO_CHAR(${e}, ${DATE_FORMAT})`, bind: (b) => `TO_DATE(${b}, ${DATE_FORMAT})` },
  TIMESTAMP: {
    read: (e) => `TO_CHAR(${e}, ${TIMESTAMP_FORMAT})`,
    bind: (b) => `TO_TIMESTAMP(${b}, ${TIMESTAMP_FORMAT})`,
  },
  'TIMESTAMP WITH TIME ZONE': zoned,
  'TIMESTAMP WITH LOCAL TIME ZONE': zoned,
  RAW: { read: (e) => `LOWER(RAWTOHEX(${e}))`, bind: (b) => `HEXTORAW(${b})` },
  NUMBER: number('TO_NUMBER'),
  FLOAT: number('TO_NUMBER'),
  BINARY_FLOAT: number('TO_BINARY_FLOAT'),
  BINARY_DOUBLE: number('TO_BINARY_DOUBLE'),
};

/**
 * A key column's value as the text its checkpoint keeps, read in SQL (`expr` is the column):
 * the one form that keyBind turns back into the same value. Text types are taken as they are.
 */
export function keyRead(typeName: string, expr: string): string {
  return KEY_TEXT[typeName]?.read(expr) ?? expr;
}

/** A bound key value (`bind` is its placeholder, text) as the column's type, to compare with it. */
export function keyBind(typeName: string, bind: string): string {
  return KEY_TEXT[typeName]?.bind(bind) ?? bind;
}

/** Types whose values come through the driver, not as SQL text: LOBs (CLOB as text, BLOB as bytes). */
export function driverFetched(typeName: string): 'string' | 'buffer' | null {
  if (/^(CLOB|NCLOB|LONG)$/.test(typeName)) return 'string';
  if (/^(BLOB|LONG RAW)$/.test(typeName)) return 'buffer';
  return null;
}

/**
 * A column's value in RowBatch's text form (dialect.ts), read in SQL (`expr` is the column):
 * numbers with every digit, DATE with its time, timestamps with nine fractional digits (a
 * zoned one in UTC, ending in +00), RAW as \x and lower-case hex, JSON as its text, BOOLEAN as
 * t/f. Text types and LOBs come as they are.
 */
export function valueRead(typeName: string, expr: string): string {
  switch (typeName) {
    case 'RAW':
      return `CASE WHEN ${expr} IS NOT NULL THEN '\\x' || LOWER(RAWTOHEX(${expr})) END`;
    case 'JSON':
      return `JSON_SERIALIZE(${expr})`;
    case 'BOOLEAN':
      return `CASE WHEN ${expr} THEN 't' WHEN NOT ${expr} THEN 'f' END`;
    case 'INTERVAL DAY TO SECOND':
    case 'INTERVAL YEAR TO MONTH':
      return `TO_CHAR(${expr})`;
    case 'DATE':
      return `TO_CHAR(${expr}, ${VALUE_DATE_FORMAT})${bc(expr)}`;
    case 'TIMESTAMP':
      return `TO_CHAR(${expr}, ${VALUE_TIMESTAMP_FORMAT})${bc(expr)}`;
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP WITH LOCAL TIME ZONE':
      return `TO_CHAR(SYS_EXTRACT_UTC(${expr}), ${VALUE_TIMESTAMP_FORMAT}) || '+00'${bc(`SYS_EXTRACT_UTC(${expr})`)}`;
    default:
      return keyRead(typeName, expr);
  }
}

/**
 * A value before year 1 ends in ' BC', as PostgreSQL writes and reads it: YYYY alone prints
 * 4000 BC as the year 4000, which another engine would load as AD.
 */
function bc(expr: string): string {
  return ` || CASE WHEN ${expr} < DATE '0001-01-01' THEN ' BC' END`;
}

/** Types whose text never holds a tab, newline, carriage return or backslash (RowBatch.plain). */
export function isPlain(typeName: string): boolean {
  return ['number', 'datetime', 'boolean', 'timespan'].includes(oracleFamily(typeName));
}
