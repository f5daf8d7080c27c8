// Rows as tab-separated text: one line a row, a tab between values, \N for NULL, and backslash
// escapes for the characters that would otherwise end a value or a row. PostgreSQL's COPY
// (text format) and MariaDB's LOAD DATA (FIELDS ESCAPED BY '\\') both read it the same way.

const SPECIAL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function escapeTabValue(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(SPECIAL, (ch) => ESCAPES[ch]);
}

/** Yields the text of the rows in chunks of about 64 KiB. */
export function* encodeTabText(rows: Iterable<(string | null)[]>): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += row.map(escapeTabValue).join('\t') + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
