// A row's values as they travel from a source to a target: text in the form every dialect
// writes and reads (RowBatch), and wide bytes as bytes. A document or BLOB of megabytes read as
// bytes is not turned into a hex text twice its size: it travels as the driver's Buffer, and a
// target writes its hex form a slice at a time into its load stream (tab-text.ts) or binds it.

/** A row's value: its text, null, or bytes of WIDE_BYTES or more (never a key: keys are narrower). */
export type RowValue = string | Buffer | null;

/** Bytes at least this long travel as bytes: their hex text would be a wide value (tab-text's WIDE_VALUE). */
export const WIDE_BYTES = 32_768;

/** Bytes a source read, as a row carries them: as they are where wide, else in their \x hex form. */
export function bytesValue(bytes: Buffer): string | Buffer {
  return bytes.length >= WIDE_BYTES ? bytes : `\\x${bytes.toString('hex')}`;
}

/** A value's text: bytes in their \x hex form (a copy: for narrow uses only, a key, a reject). */
export function valueText(value: RowValue): string | null {
  return value === null || typeof value === 'string' ? value : `\\x${value.toString('hex')}`;
}

/** A row's values as text (see valueText). */
export function rowText(row: readonly RowValue[]): (string | null)[] {
  return row.map(valueText);
}

/** The characters of a value's text: the length of its \x hex form for bytes, without making it. */
export function textLength(value: RowValue): number {
  if (value === null) return 0;
  return typeof value === 'string' ? value.length : 2 + 2 * value.length;
}

/** Rows with every value as text (see valueText): the same array where no value is bytes. */
export function textRows(rows: RowValue[][]): (string | null)[][] {
  const hasBytes = rows.some((row) => row.some((v) => v !== null && typeof v !== 'string'));
  return hasBytes ? rows.map(rowText) : (rows as (string | null)[][]);
}
