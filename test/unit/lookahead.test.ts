// The next batch's upper key asked ahead (activities/key-slice.ts): used only by the batch
// that starts where the asking batch ended; a failed answer nobody waits for is harmless.
import { describe, expect, it } from 'vitest';
import { askAhead, rangeRowsWithin, upperKey, type Lookahead } from '../../activities/key-slice';
import type { JobPlan } from '../../plan/job-plan';
import type { KeyValue } from '../../dialects';

/** A plan whose source answers nthKey from a list, recording each question. */
function planAnswering(answers: (KeyValue | null | Error)[]) {
  const asked: (KeyValue | null)[] = [];
  /** The n of each nthKey asked. */
  const counts: number[] = [];
  const plan = {
    keyed: { query: 'q', key: ['k'] },
    spec: { bulklmt: 10 },
    source: {
      nthKey: async (_q: unknown, after: KeyValue | null, n: number) => {
        asked.push(after);
        counts.push(n);
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return answer ?? null;
      },
    },
  } as unknown as JobPlan;
  return { plan, asked, counts };
}

describe('the upper key asked ahead', () => {
  it('is used by the batch that starts at the checkpoint the asking batch committed', async () => {
    const { plan, asked } = planAnswering([['20'], ['99']]);
    const lookahead: Lookahead = { next: null };
    askAhead(plan, ['10'], lookahead);
    expect(await upperKey(plan, ['10'], '10', lookahead)).toEqual(['20']);
    expect(asked).toEqual([['10']]);
    expect(lookahead.next).toBeNull();
  });

  it('is not used by a batch that starts anywhere else: that batch asks afresh', async () => {
    const { plan, asked } = planAnswering([['20'], ['15']]);
    const lookahead: Lookahead = { next: null };
    askAhead(plan, ['10'], lookahead);
    expect(await upperKey(plan, ['5'], '5', lookahead)).toEqual(['15']);
    expect(asked).toEqual([['10'], ['5']]);
    // Nor by a later batch: one answer, one use at most.
    expect(lookahead.next).toBeNull();
  });

  it('is not used once the rows a range holds have changed since it was asked: the batch asks for its own count', async () => {
    const { plan, asked, counts } = planAnswering([['20'], ['13']]);
    const lookahead: Lookahead = { next: null };
    askAhead(plan, ['10'], lookahead);
    lookahead.rows = 3; // the batch that asked carried more bytes than its budget
    expect(await upperKey(plan, ['10'], '10', lookahead)).toEqual(['13']);
    expect(asked).toEqual([['10'], ['10']]);
    expect(counts).toEqual([10, 3]);
  });

  it('fails the batch that uses a failed answer, and nothing else when no batch does', async () => {
    const { plan } = planAnswering([new Error('connection lost'), new Error('connection lost')]);
    const lookahead: Lookahead = { next: null };
    askAhead(plan, ['10'], lookahead);
    await expect(upperKey(plan, ['10'], '10', lookahead)).rejects.toThrow('connection lost');
    // An answer left behind (the slice ended): no unhandled rejection fails this test.
    askAhead(plan, ['20'], lookahead);
    await new Promise((r) => setTimeout(r, 20));
  });
});

describe('the rows a key range holds, from the bytes of the last', () => {
  // budget, rows taken, their bytes, BULKLMT → the rows the next range asks for
  it.each([
    ['narrow rows: BULKLMT', 1000, 10, 100, 10, 10],
    ['rows of 100 bytes under a budget of 1,000: 10', 1000, 50, 5000, 100, 10],
    ['a range far over the budget: fewer, by the same measure', 80_000, 100, 1_600_000, 100, 5],
    ['one row wider than the budget: one', 1000, 4, 8000, 100, 1],
    ['nothing read (all rejected, or none): BULKLMT', 1000, 0, 0, 100, 100],
  ])('%s', (_, budget, taken, bytes, bulklmt, rows) => {
    expect(rangeRowsWithin(budget, taken, bytes, bulklmt)).toBe(rows);
  });
});
