import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WideGarbage } from '../../activities/wide-garbage';
import { drained } from '../../dialects/mariadb/mariadb-target-transaction';
import { WIDE_VALUE } from '../../dialects/tab-text';

describe('wide values and memory', () => {
  const W = WIDE_VALUE;
  // Rows of `bytes`, each changing a fake heap by `grows` (a wide row held until a collection
  // grows it by its bytes; Node's own collector can shrink it); the budget is 4 W.
  it.each([
    ['narrow rows: never, nor look at the heap', Array<number>(8).fill(W - 1), Array<number>(8).fill(W - 1), 0, 0],
    ['wide rows: each time the heap has grown by half the budget', Array<number>(8).fill(W), Array<number>(8).fill(W), 4, 8],
    ["wide rows Node's own collector freed at once: never", Array<number>(8).fill(W), Array<number>(8).fill(0), 0, 8],
    ['wide rows after Node collected: growth counts from the heap it left', [W, W, W], [-10 * W, W, W], 1, 3],
  ])('collects after %s', (_, rows, grows, collections, looks) => {
    const base = 80 * W;
    let heap = base;
    let looked = 0;
    let calls = 0;
    const garbage = new WideGarbage(
      4 * W,
      () => () => {
        calls += 1;
        heap = base;
      },
      () => (looked++, heap),
    );
    rows.forEach((bytes, i) => {
      heap += grows[i];
      garbage.passed(bytes);
    });
    expect(calls).toBe(collections);
    expect(garbage.collections).toBe(collections);
    // One look at the start, one every quarter budget of wide rows, and one after each collection.
    expect(looked).toBe(1 + looks + collections);
  });

  it("finds V8's full collection in a worker started without --expose-gc", () => {
    const garbage = new WideGarbage(WIDE_VALUE);
    const held = Buffer.alloc(2 * WIDE_VALUE, 1);
    garbage.passed(WIDE_VALUE);
    expect(garbage.collections).toBe(1);
    expect(held[0]).toBe(1);
  });

  it('waits for a socket that holds what it was given to send it, and not for one that has sent it', async () => {
    let sent: (() => void) | undefined;
    const socket = Object.assign(new Writable({ highWaterMark: 4, write: (_chunk, _enc, done) => (sent = done) }), { destroyed: false });
    expect(drained(socket)).toBeUndefined();
    socket.write(Buffer.alloc(16));
    const wait = drained(socket);
    expect(wait).toBeInstanceOf(Promise);
    let done = false;
    void wait!.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    sent!();
    await wait;
    expect(socket.writableNeedDrain).toBe(false);
  });

  it('stops waiting for a socket that closes', async () => {
    const socket = new Writable({ highWaterMark: 4, write: () => undefined });
    socket.write(Buffer.alloc(16));
    const wait = drained(socket);
    socket.destroy();
    await expect(wait).resolves.toBeUndefined();
  });
});
