import { describe, expect, it } from 'vitest';
import { proofProblem } from '../../activities/checkpoint-proof';

describe("a checkpoint's proof", () => {
  it.each([
    { name: 'holds when the key selects its row and the range counts the rows taken', proof: { rows: 50, atUpTo: 1 }, taken: 50, problem: null },
    { name: 'holds for a run of ties taken whole', proof: { rows: 57, atUpTo: 8 }, taken: 57, problem: null },
    { name: 'fails when the key, bound back, selects no row', proof: { rows: 50, atUpTo: 0 }, taken: 50, problem: /ended at key 999, but that key, bound back .* selects no row/ },
    { name: 'fails when the source counts more rows than were taken', proof: { rows: 51, atUpTo: 1 }, taken: 50, problem: /took 50 rows, but the source counts 51 between its bounds \(after key 1 up to key 999\)/ },
    { name: 'fails when the source counts fewer rows than were taken', proof: { rows: 3, atUpTo: 1 }, taken: 50, problem: /took 50 rows, but the source counts 3/ },
  ])('$name', ({ proof, taken, problem }) => {
    const found = proofProblem(proof, taken, ['1'], ['999']);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it('names the start when the batch was the first', () => {
    expect(proofProblem({ rows: 2, atUpTo: 1 }, 1, null, ['5'])).toMatch(/after the start up to key/);
  });
});
