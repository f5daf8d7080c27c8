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
  for (let start = 0; start < text.length; ) {
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
  for (let at = 0; at < bytes.length; at += HEX_SLICE) yield bytes.toString('hex', at, Math.min(bytes.length, at + HEX_SLICE));
}

/**
 * Yields the text of the rows in chunks of about 64 KiB, and each value of WIDE_VALUE or more as
 * pieces of its own, of at most WIDE_PIECE characters; bytes (RowValue) as their \x hex form, 64
 * KiB characters a piece. Values of the columns `plain` marks (RowBatch.plain) are written as
 * they are, without a look for characters to escape.
 */
export function* encodeTabText(rows: Iterable<RowValue[]>, plain: boolean[] = []): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    // One string built a value at a time: no array per row.
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (i > 0) line += '\t';
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
