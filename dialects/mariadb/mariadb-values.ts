// MariaDB values as the text the rest of dms-etl moves (RowBatch): the server's own text for
// numbers, decimals and dates (exact: read as text, never as a JavaScript Date or a rounded
// number), bytes as PostgreSQL's hex form (\x...), BIT(n) as a string of n bits, NULL as null.
// A zero date has no value anywhere else and is refused, naming the column.
//
// mysql2 parses most values as they should be with the pool's options (mariadb-connection.ts:
// decimals, big integers, dates and JSON as text; integers that fit as numbers, whose text is
// exact). textTypeCast takes over only where its parse is not exact: FLOAT and DOUBLE, which
// it would make JavaScript numbers, and GEOMETRY, which it would make objects. Each column's
// conversion to text is chosen once per result (rowReader), not once per value.
import type { FieldPacket, TypeCast } from 'mysql2';
import { MariaDbError } from './mariadb-errors';
import { typeOf } from './mariadb-types';

const BINARY_CHARSET = 63;
const BIT = 16;
const DATE_TYPES = new Set([7, 10, 12, 14]); // TIMESTAMP, DATE, DATETIME, NEWDATE

/** A zero date, as a data error (SQLSTATE 22007, invalid datetime) naming its column. */
export class ZeroDateError extends MariaDbError {
  constructor(readonly column: string) {
    super(`column ${column} holds the zero date 0000-00-00, which no other database has; select it as NULL or as a real date in SRCQUERY`, '22007', undefined);
  }
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

type ValueText = (value: unknown) => string | null;

/** How one column's values (as textTypeCast leaves them) become text. */
function valueText(field: FieldPacket): ValueText {
  if (field.columnType === BIT) return (v) => (v === null ? null : bits(v as Buffer, field.columnLength ?? (v as Buffer).length * 8));
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
    if (Buffer.isBuffer(v)) return binary ? `\\x${v.toString('hex')}` : v.toString('utf8');
    return String(v);
  };
}

/** Turns a result's rows (read with textTypeCast and rowsAsArray) into text values. */
export function rowReader(fields: FieldPacket[]): (row: unknown[]) => (string | null)[] {
  const columns = fields.map(valueText);
  return (row) => {
    const out = new Array<string | null>(columns.length);
    for (let i = 0; i < columns.length; i++) out[i] = columns[i](row[i]);
    return out;
  };
}

/**
 * Rows written straight from the driver's bytes into tab text (../tab-text.ts), with the same
 * text per value as rowReader gives, but no JavaScript string per value: each value's bytes
 * (utf8mb4, the session's character set) are copied, escaped where text may hold a tab,
 * newline, carriage return or backslash, or written as hex where they are bytes. A result
 * read so gives every row as [position], the end of its line in the text written so far;
 * take(position) hands over the text up to there.
 */
export class TabTextSink {
  private buf = Buffer.allocUnsafe(1 << 16);
  /** Where, in buf, the text not yet taken starts; where the next byte goes. */
  private start = 0;
  private at = 0;
  /** Bytes written before buf[0]. */
  private base = 0;
  private column = 0;
  private writers: ((bytes: Buffer | null) => void)[] = [];
  /** A value that has no text (a zero date): thrown at the next take. */
  private failure: Error | null = null;

  /** The typeCast of a query read into this sink (with rowsAsArray): call forFields first. */
  readonly typeCast: TypeCast = (field) => {
    const bytes = field.buffer();
    const i = this.column;
    if (i > 0) this.byte(9);
    this.writers[i](bytes);
    if (++this.column < this.writers.length) return null;
    this.column = 0;
    this.byte(10);
    return this.base + this.at;
  };

  /** Chooses each column's writer once per result. */
  forFields(fields: FieldPacket[]): void {
    this.column = 0;
    this.writers = fields.map((f) => this.writerOf(f));
  }

  /** The text of the rows up to `position` (a row's end) since the last take. */
  take(position: number): Buffer {
    if (this.failure) throw this.failure;
    const end = position - this.base;
    const out = Buffer.from(this.buf.subarray(this.start, end));
    this.start = end;
    return out;
  }

  /** A column's writer: by its type family, as rowReader turns each family's values into text. */
  private writerOf(field: FieldPacket): (bytes: Buffer | null) => void {
    const nul = (bytes: Buffer | null): bytes is null => {
      if (bytes !== null) return false;
      this.ascii('\\N');
      return true;
    };
    switch (typeOf(field).family) {
      case 'bits':
        return (b) => nul(b) || this.ascii(bits(b, field.columnLength ?? b.length * 8));
      case 'number':
      case 'boolean':
        // The server's own text (FLOAT and DOUBLE too): nothing to escape.
        return (b) => nul(b) || this.raw(b);
      case 'datetime':
        if (!DATE_TYPES.has(field.columnType ?? -1)) return (b) => nul(b) || this.raw(b);
        return (b) => {
          if (nul(b)) return;
          // 0000-00-00: refused at the next take, naming the column, as rowReader refuses it.
          if (b.subarray(0, 10).toString('latin1') === '0000-00-00') this.failure ??= new ZeroDateError(field.name);
          this.raw(b);
        };
      case 'bytes':
        return (b) => nul(b) || this.hex(b);
      case 'other':
        // GEOMETRY and types mysql2 hands over as bytes: hex, as rowReader writes a Buffer.
        return field.characterSet === BINARY_CHARSET ? (b) => nul(b) || this.hex(b) : (b) => nul(b) || this.escaped(b);
      default:
        // Text, JSON, ENUM and SET: utf8mb4, escaped.
        return (b) => nul(b) || this.escaped(b);
    }
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const pending = this.at - this.start;
    if (pending + n <= this.buf.length / 2) {
      this.buf.copyWithin(0, this.start, this.at);
    } else {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, (pending + n) * 2));
      this.buf.copy(next, 0, this.start, this.at);
      this.buf = next;
    }
    this.base += this.start;
    this.at = pending;
    this.start = 0;
  }

  private byte(c: number): void {
    this.room(1);
    this.buf[this.at++] = c;
  }

  private ascii(text: string): boolean {
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
    return true;
  }

  private raw(b: Buffer): boolean {
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
    return true;
  }

  private escaped(b: Buffer): boolean {
    this.room(b.length * 2);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === 92 || c === 9 || c === 10 || c === 13) {
        buf[at++] = 92;
        buf[at++] = c === 92 ? 92 : c === 9 ? 116 : c === 10 ? 110 : 114;
      } else {
        buf[at++] = c;
      }
    }
    this.at = at;
    return true;
  }

  private hex(b: Buffer): boolean {
    this.room(3 + b.length * 2);
    this.buf[this.at++] = 92;
    this.buf[this.at++] = 92;
    this.buf[this.at++] = 120;
    this.at += this.buf.write(b.toString('hex'), this.at, 'latin1');
    return true;
  }
}
