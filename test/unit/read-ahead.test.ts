// A read primed ahead (activities/read-ahead.ts): its first item is asked for at once, it
// yields every item once in order, and closing an unread one ends it (its finally runs).
import { describe, expect, it } from 'vitest';
import { prime } from '../../activities/read-ahead';

function source(items: number[], fail?: Error) {
  const log: string[] = [];
  async function* gen() {
    log.push('started');
    try {
      for (const i of items) {
        log.push(`gave ${i}`);
        yield i;
      }
      if (fail) throw fail;
    } finally {
      log.push('closed');
    }
  }
  return { read: gen(), log };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('a read primed ahead', () => {
  it('asks for its first item at once, before anyone reads', async () => {
    const { read, log } = source([1, 2, 3]);
    const primed = prime(read);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['started', 'gave 1']);
    expect(await all(primed)).toEqual([1, 2, 3]);
    expect(log).toEqual(['started', 'gave 1', 'gave 2', 'gave 3', 'closed']);
  });

  it('ends the read when closed unread, so that its session is released', async () => {
    const { read, log } = source([1, 2, 3]);
    await prime(read).close();
    expect(log).toEqual(['started', 'gave 1', 'closed']);
  });

  it('ends the read when its reader stops early', async () => {
    const { read, log } = source([1, 2, 3]);
    for await (const x of prime(read)) if (x === 2) break;
    expect(log).toEqual(['started', 'gave 1', 'gave 2', 'closed']);
  });

  it("gives its reader the source's error, and none to nobody when closed unread", async () => {
    await expect(all(prime(source([], new Error('lost')).read))).rejects.toThrow('lost');
    await prime(source([], new Error('lost')).read).close();
    await new Promise((r) => setTimeout(r, 20));
  });

  it('can be read once', async () => {
    const primed = prime(source([1]).read);
    await all(primed);
    expect(() => primed[Symbol.asyncIterator]()).toThrow('a primed read can be read once');
  });
});
