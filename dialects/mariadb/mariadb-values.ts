// MariaDB values as the text the rest of dms-etl moves (RowBatch): the server's own text for
// numbers, decimals and dates (exact: read as text, never as a JavaScript number or Date),
// bytes as PostgreSQL's hex form (\x...), BIT(n) as a string of n bits, NULL as null. A zero
// date has no value anywhere else and is refused, naming the column.
import type { FieldPacket, TypeCast } from 'mysql2';

/** Column types whose values come as bytes from the protocol (text or binary by charset). */
const BYTES = new Set(['TINY_BLOB', 'MEDIUM_BLOB', 'LONG_BLOB', 'BLOB', 'VAR_STRING', 'STRING', 'BIT', 'GEOMETRY']);
const BINARY_CHARSET = 63;

export class ZeroDateError extends Error {
  constructor(readonly column: string) {
    super(`column ${column} holds the zero date 0000-00-00, which no other database has`);
    this.name = 'ZeroDateError';
  }
}

/** Reads every value as text, or as bytes where the charset decides (see toText). */
export const textTypeCast: TypeCast = (field) => {
  if (BYTES.has(field.type)) return field.buffer();
  const text = field.string();
  if (text !== null && (field.type === 'DATE' || field.type === 'DATETIME' || field.type === 'TIMESTAMP' || field.type === 'NEWDATE') && text.startsWith('0000-00-00')) {
    throw new ZeroDateError(field.name);
  }
  return text;
};

function bits(bytes: Buffer, length: number): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(2).padStart(8, '0');
  return out.slice(out.length - length);
}

/** A row read with textTypeCast, as text values, by each column's metadata. */
export function toText(row: unknown[], fields: FieldPacket[]): (string | null)[] {
  return row.map((value, i) => {
    if (value === null || value === undefined) return null;
    if (!Buffer.isBuffer(value)) return String(value);
    const field = fields[i];
    if (field.columnType === 16) return bits(value, field.columnLength ?? value.length * 8); // BIT(n)
    return field.characterSet === BINARY_CHARSET ? `\\x${value.toString('hex')}` : value.toString('utf8');
  });
}
