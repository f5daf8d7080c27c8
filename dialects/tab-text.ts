// Rows as tab-separated text: one line a row, a tab between values, \N for NULL, and backslash
// escapes for the characters that would otherwise end a value or a row. PostgreSQL's COPY
// (text format) and MariaDB's LOAD DATA (FIELDS ESCAPED BY '\\') both read it the same way.

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
