/** Thrown when a name from metadata is not a plain or double-quoted SQL identifier. */
export class IdentifierError extends Error {
  constructor(
    readonly raw: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'IdentifierError';
  }
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const QUOTED = /^"((?:[^"]|"")+)"$/;

/**
 * Parses one identifier as SQL does: a plain name is folded with `fold`, a double-quoted
 * one is taken as written ("" standing for one quote). Anything else is refused, so that
 * nothing from metadata can change the shape of a statement.
 */
export function parseIdentifier(raw: string, fold: (name: string) => string, maxLength: number): string {
  const text = raw.trim();
  let name: string;
  if (PLAIN.test(text)) {
    name = fold(text);
  } else {
    const quoted = QUOTED.exec(text);
    if (!quoted) {
      throw new IdentifierError(
        raw,
        `"${raw}" is not a valid identifier: use letters, digits, _ and $ (starting with a letter or _), or put the exact name in double quotes`,
      );
    }
    name = quoted[1].replace(/""/g, '"');
  }
  if (name.includes('\u0000')) throw new IdentifierError(raw, `"${raw}" contains a NUL character`);
  if (Buffer.byteLength(name, 'utf8') > maxLength) {
    throw new IdentifierError(raw, `"${raw}" is longer than ${maxLength} bytes`);
  }
  return name;
}

/** Splits a comma-separated list of identifiers, keeping commas inside double quotes. */
export function splitIdentifierList(raw: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim());
}
