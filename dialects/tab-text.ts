// Rows as tab-separated text: one line a row, a tab between values, \N for NULL, and backslash
// escapes for the characters that would otherwise end a value or a row. PostgreSQL's COPY
// (text format) and MariaDB's LOAD DATA (FIELDS ESCAPED BY '\\') both read it the same way.
import type { RowBatch } from './dialect';

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
 * Yields the text of the rows in chunks of about 64 KiB. Values of the columns `plain` marks
 * (RowBatch.plain) are written as they are, without a look for characters to escape.
 */
export function* encodeTabText(rows: Iterable<(string | null)[]>, plain: boolean[] = []): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    // One string built a value at a time: no array per row.
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      line += (i === 0 ? '' : '\t') + (value !== null && plain[i] ? value : escapeTabValue(value));
    }
    chunk += line + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

const UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

/** One value of tab text back to its text (or null): the inverse of escapeTabValue. */
export function unescapeTabValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\([^])/g, (_, e: string) => UNESCAPES[e] ?? e);
}

/** Rows of tab text (whole lines, each ending in a newline) back to their values. */
export function decodeTabText(text: Buffer): (string | null)[][] {
  const lines = text.toString('utf8').split('\n');
  lines.pop(); // after the last newline
  return lines.map((line) => line.split('\t').map(unescapeTabValue));
}

/** A RowBatch of rows read as tab text: `rows` is decoded from it once, on first use. */
export function tabTextBatch(columns: string[], plain: boolean[], tabText: Buffer): RowBatch {
  let rows: (string | null)[][] | undefined;
  return {
    columns,
    plain,
    tabText,
    get rows() {
      return (rows ??= decodeTabText(tabText));
    },
  };
}
