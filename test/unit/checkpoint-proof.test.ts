import { describe, expect, it } from 'vitest';
import { checkedResetKey, openingProof, proofProblem } from '../../plan/checkpoint-proof';

describe("a checkpoint's proof", () => {
  it.each([
    {
      name: 'holds when the key selects its row and the range counts the rows taken',
      proof: { rows: 50, atUpTo: 1 },
      taken: 50,
      problem: null,
    },
    { name: 'holds for a run of ties taken whole', proof: { rows: 57, atUpTo: 8 }, taken: 57, problem: null },
    {
      name: 'fails when the key, bound back, selects no row',
      proof: { rows: 50, atUpTo: 0 },
      taken: 50,
      problem: /ended at key 999, but that key, bound back .* selects no row/,
    },
    {
      name: 'fails when the source counts more rows than were taken',
      proof: { rows: 51, atUpTo: 1 },
      taken: 50,
      problem: /took 50 rows, but the source counts 51 between its bounds \(after key 1 up to key 999\)/,
    },
    {
      name: 'fails when the source counts fewer rows than were taken',
      proof: { rows: 3, atUpTo: 1 },
      taken: 50,
      problem: /took 50 rows, but the source counts 3/,
    },
  ])('$name', ({ proof, taken, problem }) => {
    const found = proofProblem(proof, taken, ['1'], ['999']);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it('names the start when the batch was the first', () => {
    expect(proofProblem({ rows: 2, atUpTo: 1 }, 1, null, ['5'])).toMatch(/after the start up to key/);
  });
});

/** A source whose keys are the given numbers, with its bounds bound by `bind` (a cast, exact or not). */
function sourceOf(keys: string[], bind: (bound: string) => number) {
  const sorted = [...keys].sort((a, b) => Number(a) - Number(b));
  return {
    keyed: { query: 'SELECT 1', key: ['k'] },
    source: {
      countKey: async (_q: unknown, [at]: string[]) => sorted.filter((k) => Number(k) === bind(at)).length,
      lastKey: async (_q: unknown, _after: null, [upTo]: string[]) => {
        const found = sorted.filter((k) => Number(k) <= bind(upTo)).pop();
        return found === undefined ? null : [found];
      },
      nthKey: async (_q: unknown, [after]: string[]) => {
        const found = sorted.find((k) => Number(k) > bind(after));
        return found === undefined ? null : [found];
      },
    },
  } as unknown as Parameters<typeof openingProof>[0];
}

describe('a checkpoint a read opens at', () => {
  const exact = Number;
  // A source that rounds its bounds to one decimal, as a too narrow cast would.
  const rounding = (bound: string) => Number(Number(bound).toFixed(1));
  it.each([
    { name: 'is proven when it selects its own row', keys: ['1', '2', '3'], bind: exact, at: '2', found: 'proven' },
    {
      name: 'is gone when no row has it, on either side of the bound',
      keys: ['1', '3'],
      bind: exact,
      at: '2',
      found: 'gone',
    },
    {
      name: 'is proven under a comparison that reads its keys as they are bound',
      keys: ['1.1', '1.3'],
      bind: rounding,
      at: '1.3',
      found: 'proven',
    },
    {
      name: 'fails when its bound selects another row',
      keys: ['1.05', '1.26', '1.3'],
      bind: rounding,
      at: '1.26',
      found:
        /opened at key 1.26, which, bound back .* selects 1 row\(s\) whose key the worker reads as 1.3: the source does not compare/,
    },
    {
      name: 'fails when its row is there and its bound selects none',
      keys: ['1.24', '1.5'],
      bind: rounding,
      at: '1.24',
      found: /opened at key 1.24, .* selects no row, though a source row has that key/,
    },
  ])('$name', async ({ keys, bind, at, found }) => {
    const proof = await openingProof(sourceOf(keys, bind), [at]);
    if (typeof found === 'string') expect(proof).toBe(found);
    else expect(proof).toMatch(found);
  });

  it('refuses a reset to the key of no source row, and takes one of a row', async () => {
    const p = sourceOf(['1', '3'], Number) as Parameters<typeof checkedResetKey>[0];
    await expect(checkedResetKey(p, '2')).rejects.toThrow(
      /is the key of no source row \(k\): a checkpoint must select its own row/,
    );
    await expect(checkedResetKey(p, '3')).resolves.toEqual(['3']);
    // Another form of a row's key is taken as that row's key, as the worker reads it.
    await expect(checkedResetKey(p, '3.0')).resolves.toEqual(['3']);
    const rounded = sourceOf(['1.24', '1.3'], (bound) => Number(Number(bound).toFixed(1))) as Parameters<
      typeof checkedResetKey
    >[0];
    await expect(checkedResetKey(rounded, '1.24')).rejects.toThrow(
      /^as a checkpoint, bound back into the source's comparison .* selects no row, though a source row has that key/,
    );
  });
});
