// MariaDB values as the text the rest of dms-etl moves (RowBatch): the server's own text for
// numbers, decimals and dates (exact: read as text, never as a JavaScript Date or a rounded
// number), bytes as PostgreSQL's hex form (\x...) or, where wide, as the bytes (row-values.ts), BIT(n) as a string of n bits, NULL as null.
// A zero date has no value anywhere else and is refused, naming the column.
//
// mysql2 parses most values as they should be with the pool's options (mariadb-connection.ts:
// decimals, big integers, dates and JSON as text; integers that fit as numbers, whose text is
// exact). textTypeCast takes over only where its parse is not exact: FLOAT and DOUBLE, which
// it would make JavaScript numbers, and GEOMETRY, which it would make objects. Each column's
// conversion to text is chosen once per result (rowReader), not once per value; a result with
// none of those columns is read without textTypeCast (needsTextCast).
import type { FieldPacket, TypeCast } from 'mysql2';
import { MariaDbError } from './mariadb-errors';
import { bytesValue, type RowValue } from '../row-values';

const BINARY_CHARSET = 63;
const BIT = 16;
const DATE_TYPES = new Set([7, 10, 12, 14]); // TIMESTAMP, DATE, DATETIME, NEWDATE

/** A zero date, as a data error (SQLSTATE 22007, invalid datetime) naming its column. */
class ZeroDateError extends MariaDbError {
  constructor(readonly column: string) {
    super(
      `column ${column} holds the zero date 0000-00-00, which no other database has; select it as NULL or as a real date in SRCQUERY`,
      '22007',
      undefined,
    );
  }
}

/** Column types (mysql2's numbers) whose values textTypeCast must read: FLOAT, DOUBLE, GEOMETRY. */
const CAST_TYPES = new Set([4, 5, 255]);

/**
 * Whether a result with these columns needs textTypeCast. A cast costs a call and a closure per
 * value (40% of reading a row, measured), so a result without such columns is read without it.
 */
export function needsTextCast(fields: FieldPacket[]): boolean {
  return fields.some((f) => CAST_TYPES.has(f.columnType ?? -1));
}

/** FLOAT and DOUBLE as the server's text, GEOMETRY as its bytes; every other type as mysql2 parses it. */
export const textTypeCast: TypeCast = (field, next) => {
  switch (field.type) {
    case 'FLOAT':
    case 'DOUBLE':
      return field.string();
    case 'GEOMETRY':
      return field.buffer();
    default:
      return next();
  }
};

function bits(bytes: Buffer, length: number): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(2).padStart(8, '0');
  return out.slice(out.length - length);
}

type ValueText = (value: unknown) => RowValue;

/** How one column's values (as textTypeCast leaves them) become text. */
function valueText(field: FieldPacket): ValueText {
  if (field.columnType === BIT)
    return (v) => (v === null ? null : bits(v as Buffer, field.columnLength ?? (v as Buffer).length * 8));
  if (DATE_TYPES.has(field.columnType ?? -1)) {
    return (v) => {
      if (v === null) return null;
      const text = v as string;
      if (text.startsWith('0000-00-00')) throw new ZeroDateError(field.name);
      return text;
    };
  }
  const binary = field.characterSet === BINARY_CHARSET;
  return (v) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return binary ? bytesValue(v) : v.toString('utf8');
    return String(v);
  };
}

/** Turns a result's rows (read with textTypeCast and rowsAsArray) into text values. */
export function rowReader(fields: FieldPacket[]): (row: unknown[]) => RowValue[] {
  const columns = fields.map(valueText);
  return (row) => {
    const out = new Array<RowValue>(columns.length);
    for (let i = 0; i < columns.length; i++) out[i] = columns[i](row[i]);
    return out;
  };
}
