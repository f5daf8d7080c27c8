// Names close to one that does not exist, for a "did you mean" in an error's fix.
import { distance } from 'fastest-levenshtein';

/** Up to three of `known` within a few edits of `name` (case ignored), the closest first. */
export function closeNames(name: string, known: readonly string[]): string[] {
  const wanted = name.toUpperCase();
  const most = Math.max(2, Math.floor(wanted.length / 3));
  return known
    .map((k) => ({ k, d: distance(wanted, k.toUpperCase()) }))
    .filter(({ k, d }) => d <= most || k.toUpperCase().includes(wanted))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, 3)
    .map(({ k }) => k);
}

/** "did you mean 'A' or 'B'? " or nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  const close = closeNames(name, known);
  if (close.length === 0) return '';
  const quoted = close.map((c) => `'${c}'`);
  return `did you mean ${quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted[0]}? `;
}
