// COPY's text format: one line a row, tab between columns, \N for NULL, and backslash
// escapes for the characters that would otherwise end a value or a row.

const SPECIAL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function escapeCopyValue(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(SPECIAL, (ch) => ESCAPES[ch]);
}

/** Yields the COPY text of the rows in chunks of about 64 KiB. */
export function* encodeCopyText(rows: Iterable<(string | null)[]>): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += row.map(escapeCopyValue).join('\t') + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
