// The next batch asked ahead (activities/key-slice.ts): its upper key and its primed read are
// used only by the batch that starts where the asking batch ended; a failed answer nobody
// waits for is harmless; every primed read nobody took is closed when the slice ends.
import { describe, expect, it } from 'vitest';
import { askAhead, closeLookahead, newLookahead, upperKey } from '../../activities/key-slice';
import type { JobPlan } from '../../activities/job-plan';
import type { KeyValue, RowBatch } from '../../dialects';

/** A plan whose source answers nthKey from a list and reads ranges it records, each closed or not. */
function planAnswering(answers: (KeyValue | null | Error)[]) {
  const asked: (KeyValue | null)[] = [];
  const reads: { range: string; closed: boolean }[] = [];
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
      readRange: (_q: unknown, after: KeyValue, upTo: KeyValue) => {
        const read = { range: `${after}..${upTo}`, closed: false };
        reads.push(read);
        return (async function* (): AsyncGenerator<RowBatch> {
          try {
            yield { columns: ['k'], rows: [[String(after)]] };
            yield { columns: ['k'], rows: [[String(upTo)]] };
          } finally {
            read.closed = true;
          }
        })();
      },
    },
  } as unknown as JobPlan;
  return { plan, asked, reads };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('the next batch asked ahead', () => {
  it('gives its upper key and its primed rows to the batch that starts at the checkpoint the asking batch committed', async () => {
    const { plan, asked, reads } = planAnswering([['20']]);
    const lookahead = newLookahead();
    askAhead(plan, ['10'], lookahead, 100);
    const upper = upperKey(plan, ['10'], '10', lookahead);
    expect(await upper.key).toEqual(['20']);
    const rows: string[] = [];
    for await (const batch of (await upper.rows)!) rows.push(...batch.rows.map((r) => r[0]!));
    expect(rows).toEqual(['10', '20']);
    expect(asked).toEqual([['10']]);
    expect(reads).toEqual([{ range: '10..20', closed: true }]);
    expect(lookahead.next).toBeNull();
  });

  it('is not used by a batch that starts anywhere else, which asks afresh; its primed read is closed at the slice end', async () => {
    const { plan, asked, reads } = planAnswering([['20'], ['15']]);
    const lookahead = newLookahead();
    askAhead(plan, ['10'], lookahead, 100);
    const upper = upperKey(plan, ['5'], '5', lookahead);
    expect(await upper.key).toEqual(['15']);
    expect(await upper.rows).toBeNull();
    expect(asked).toEqual([['10'], ['5']]);
    // Nor by a later batch: one answer, one use at most.
    expect(lookahead.next).toBeNull();
    await settle();
    expect(reads).toEqual([{ range: '10..20', closed: false }]);
    await closeLookahead(lookahead);
    expect(reads).toEqual([{ range: '10..20', closed: true }]);
  });

  it('primes no read after the slice has ended, and none for the last batch', async () => {
    const { plan, reads } = planAnswering([['20'], null]);
    const lookahead = newLookahead();
    askAhead(plan, ['10'], lookahead, 100);
    await closeLookahead(lookahead);
    await settle();
    expect(reads).toEqual([]);
    const later = newLookahead();
    askAhead(plan, ['20'], later, 100);
    expect(await upperKey(plan, ['20'], '20', later).rows).toBeNull();
  });

  it('fails the batch that uses a failed answer, and nothing else when no batch does', async () => {
    const { plan } = planAnswering([new Error('connection lost'), new Error('connection lost')]);
    const lookahead = newLookahead();
    askAhead(plan, ['10'], lookahead, 100);
    await expect(upperKey(plan, ['10'], '10', lookahead).key).rejects.toThrow('connection lost');
    // An answer left behind (the slice ended): no unhandled rejection fails this test.
    askAhead(plan, ['20'], lookahead, 100);
    await settle();
    await closeLookahead(lookahead);
  });
});
