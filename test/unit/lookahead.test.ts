// The next batch's upper key asked ahead (activities/key-slice.ts): used only by the batch
// that starts where the asking batch ended; a failed answer nobody waits for is harmless.
import { describe, expect, it } from 'vitest';
import { askAhead, upperKey, type Lookahead } from '../../activities/key-slice';
import type { JobPlan } from '../../activities/job-plan';
import type { KeyValue } from '../../dialects';

/** A plan whose source answers nthKey from a list, recording each question. */
function planAnswering(answers: (KeyValue | null | Error)[]) {
  const asked: (KeyValue | null)[] = [];
  const plan = {
    keyed: { query: 'q', key: ['k'] },
    spec: { bulklmt: 10 },
    source: {
      nthKey: async (_q: unknown, after: KeyValue | null) => {
        asked.push(after);
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return answer ?? null;
      },
    },
  } as unknown as JobPlan;
  return { plan, asked };
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
