// The checkpoint's text form, as DMS_CHKPNT and DMS_PRCLOG.PARAM1 hold it: readable, and
// exact for every key type because values stay in the database's own text form.
//   one key column:   the value itself            100765
//   several columns:  a JSON array of the values  ["EU","100765"]

export function encodeCheckpoint(key: string[]): string {
  return key.length === 1 ? key[0] : JSON.stringify(key);
}

/** Thrown when a stored checkpoint does not fit the key it is read for. */
export class CheckpointFormatError extends Error {}

export function decodeCheckpoint(text: string, columns: number): string[] {
  if (columns === 1) return [text];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckpointFormatError(`checkpoint ${text} is not a JSON array of ${columns} values`);
  }
  if (!Array.isArray(parsed) || parsed.length !== columns || !parsed.every((v) => typeof v === 'string')) {
    throw new CheckpointFormatError(`checkpoint ${text} is not a JSON array of ${columns} text values`);
  }
  return parsed;
}
