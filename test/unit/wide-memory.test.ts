import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WideGarbage } from '../../activities/wide-garbage';
import { drained } from '../../dialects/mariadb/mariadb-target-transaction';
import { WIDE_VALUE } from '../../dialects/tab-text';

describe('wide values and memory', () => {
  it.each([
    ['narrow rows never', Array<number>(8).fill(WIDE_VALUE - 1), 0],
    ['wide rows once their bytes reach the budget', [WIDE_VALUE, WIDE_VALUE, WIDE_VALUE], 1],
    ['wide rows again after another budget', [WIDE_VALUE * 2, 10, WIDE_VALUE * 2, WIDE_VALUE * 2, WIDE_VALUE * 2], 2],
  ])('collects after %s', (_, rows, collections) => {
    let calls = 0;
    const garbage = new WideGarbage(WIDE_VALUE * 3, () => () => (calls += 1));
    for (const bytes of rows) garbage.passed(bytes);
    expect(calls).toBe(collections);
    expect(garbage.collections).toBe(collections);
  });

  it("finds V8's full collection in a worker started without --expose-gc", () => {
    const garbage = new WideGarbage(WIDE_VALUE);
    garbage.passed(WIDE_VALUE);
    expect(garbage.collections).toBe(1);
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
