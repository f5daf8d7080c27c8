// Rows as tab-separated text: one line a row, a tab between values, \N for NULL, and backslash
// escapes for the characters that would otherwise end a value or a row. PostgreSQL's COPY
// (text format) and MariaDB's LOAD DATA (FIELDS ESCAPED BY '\\') both read it the same way.
import type { RowValue } from './row-values';

const SPECIAL = /[\\\t\n\r]/g;
const HAS_SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escape = (ch: string) => ESCAPES[ch];

export function escapeTabValue(value: string | null): string {
  if (value === null) return '\\N';
  // Most values have nothing to escape: a test is cheaper than a replace.
  return HAS_SPECIAL.test(value) ? value.replace(SPECIAL, escape) : value;
}

/**
 * A value at least this long is written as pieces of its own rather than copied into a chunk:
 * a document of megabytes is never concatenated, flattened or escaped as a whole copy.
 */
export const WIDE_VALUE = 65_536;

/** The most characters of a wide value in one piece: a load stream turns each piece into bytes at once. */
export const WIDE_PIECE = 2 ** 20;

/** `text` in slices of at most WIDE_PIECE characters (a slice of a string is not a copy), none ending inside a surrogate pair. */
function* slices(text: string): Generator<string> {
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + WIDE_PIECE, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield text.slice(start, end);
    start = end;
  }
}

/**
 * A wide value's pieces, escaped. Only where a character to escape is found past the first is the
 * value copied by a replace: bytes in their hex form (`\x…`) escape their one leading backslash
 * and pass the rest as slices of the value, which cost no copy.
 */
function* widePieces(value: string): Generator<string> {
  const first = value[0];
  const rest = value.slice(1);
  if (HAS_SPECIAL.test(rest)) {
    yield* slices(value.replace(SPECIAL, escape));
    return;
  }
  yield ESCAPES[first] ?? first;
  yield* slices(rest);
}

/** The most bytes of a value turned into hex text at once: a piece of 64 KiB characters. */
const HEX_SLICE = 32_768;

/** Bytes in their hex form, a slice at a time: the whole text is never made. */
function* hexPieces(bytes: Buffer): Generator<string> {
  for (let at = 0; at < bytes.length; at += HEX_SLICE)
    yield bytes.toString('hex', at, Math.min(bytes.length, at + HEX_SLICE));
}

/** The most bytes escaped at once: a raw value goes into a load stream a slice at a time. */
const RAW_SLICE = 32_768;

const BACKSLASH = 0x5c;
/** By byte: the byte a backslash before it stands for (NUL, tab, newline, carriage return, backslash), else 0. */
const RAW_ESCAPES = new Uint8Array(256);
for (const [byte, escape] of [
  [0x00, 0x30],
  [0x09, 0x74],
  [0x0a, 0x6e],
  [0x0d, 0x72],
  [BACKSLASH, BACKSLASH],
])
  RAW_ESCAPES[byte] = escape;

/** `bytes` with each backslash, NUL, tab, newline and carriage return written as its escape. */
export function escapeBytes(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length * 2);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const escaped = RAW_ESCAPES[b];
    if (escaped !== 0) out[n++] = BACKSLASH;
    out[n++] = escaped !== 0 ? escaped : b;
  }
  return out.subarray(0, n);
}

/**
 * A value of a raw column (RawBytes) as its bytes, escaped, a slice at a time: bytes as they are,
 * text in the \x hex form decoded. Returns false, having yielded what came before, where the
 * text is not bytes in that form: the value cannot load as bytes.
 */
function* rawPieces(value: string | Buffer): Generator<Buffer, boolean> {
  if (typeof value !== 'string') {
    for (let at = 0; at < value.length; at += RAW_SLICE) yield escapeBytes(value.subarray(at, at + RAW_SLICE));
    return true;
  }
  if (!value.startsWith('\\x') || value.length % 2 !== 0) return false;
  for (let at = 2; at < value.length; at += 2 * RAW_SLICE) {
    const hex = value.slice(at, at + 2 * RAW_SLICE);
    const bytes = Buffer.from(hex, 'hex');
    // Buffer.from stops at the first pair that is not hex: fewer bytes than pairs.
    if (bytes.length * 2 !== hex.length) return false;
    yield escapeBytes(bytes);
  }
  return true;
}

/**
 * For a load that reads its stream as bytes (MariaDB's LOAD DATA … CHARACTER SET binary): the
 * columns whose values are written as their bytes, not as text, and what to call where one is not.
 */
export interface RawBytes {
  columns: readonly boolean[];
  /** Called with the column of a value that is not bytes; the rows end there (the load must then fail). */
  refuse(column: number): void;
}

/**
 * Yields the text of the rows in chunks of about 64 KiB, and each value of WIDE_VALUE or more as
 * pieces of its own, of at most WIDE_PIECE characters; bytes (RowValue) as their \x hex form, 64
 * KiB characters a piece. Values of the columns `plain` marks (RowBatch.plain) are written as
 * they are, without a look for characters to escape.
 */
export function encodeTabText(rows: Iterable<RowValue[]>, plain: boolean[] = []): Generator<string> {
  return encodeRows(rows, plain) as Generator<string>;
}

/**
 * encodeTabText's text, except that each value of a column `raw` marks is written as its bytes,
 * escaped (see escapeBytes), in Buffers of at most 64 KiB: half the size of the hex form, and
 * nothing for the database to decode.
 */
export function encodeTabBytes(
  rows: Iterable<RowValue[]>,
  plain: boolean[],
  raw: RawBytes,
): Generator<string | Buffer> {
  return encodeRows(rows, plain, raw);
}

function* encodeRows(rows: Iterable<RowValue[]>, plain: boolean[], raw?: RawBytes): Generator<string | Buffer> {
  let chunk = '';
  for (const row of rows) {
    // One string built a value at a time: no array per row.
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (i > 0) line += '\t';
      if (value !== null && raw?.columns[i]) {
        if (chunk || line) yield chunk + line;
        chunk = line = '';
        if (!(yield* rawPieces(value))) {
          raw.refuse(i);
          return;
        }
        continue;
      }
      if (value !== null && typeof value !== 'string') {
        // \x, its backslash escaped, then the hex, which has nothing to escape.
        yield chunk + line + '\\\\x';
        chunk = line = '';
        yield* hexPieces(value);
        continue;
      }
      if (value !== null && value.length >= WIDE_VALUE) {
        if (chunk || line) yield chunk + line;
        chunk = line = '';
        if (plain[i]) yield* slices(value);
        else yield* widePieces(value);
        continue;
      }
      line += value !== null && plain[i] ? value : escapeTabValue(value);
    }
    chunk += line + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
