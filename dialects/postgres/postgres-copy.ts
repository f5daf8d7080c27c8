// COPY's text format (see ../tab-text.ts, which writes it), read back.

export { escapeTabValue as escapeCopyValue, encodeTabText as encodeCopyText } from '../tab-text';

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
