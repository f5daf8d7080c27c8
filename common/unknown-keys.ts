// Strict inputs: a key that nothing reads is a typo until shown otherwise (`loadmod:` for
// `loadmode:` once appended 200,000 duplicate rows because the default APPEND applied).
// Pure code: the workflow bundle uses it too.
import { closeNames } from './close-names';

export interface UnknownKey {
  key: string;
  /** The known key closest to it, if one is close. */
  nearest?: string;
}

/** The keys of `value` that are not in `known` (compared as given), each with its nearest known key. */
export function unknownKeys(value: object, known: readonly string[]): UnknownKey[] {
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((key) => {
      const [nearest] = closeNames(key, known);
      return nearest === undefined ? { key } : { key, nearest };
    });
}

/** "unknown key 'loadmod' (did you mean 'loadmode'?)", or with the known keys listed when none is close. */
export function unknownKeyText(u: UnknownKey, known: readonly string[]): string {
  return u.nearest !== undefined
    ? `unknown key '${u.key}' (did you mean '${u.nearest}'?)`
    : `unknown key '${u.key}' (known keys: ${known.join(', ')})`;
}
