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

const UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One value of COPY's text format back to its text (or null): the inverse of escapeCopyValue. */
export function unescapeCopyValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|[^])/g, (_, e: string) => {
    if (e[0] === 'x' && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return UNESCAPES[e] ?? e;
  });
}

/** One row of COPY's text format (its line without the newline) back to its values. */
export function decodeCopyTextRow(line: string): (string | null)[] {
  return line.split('\t').map(unescapeCopyValue);
}
