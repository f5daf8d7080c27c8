import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WideGarbage } from '../../activities/wide-garbage';
import { drained } from '../../dialects/mariadb/mariadb-target-transaction';
import { digestRow } from '../../activities/rowcount-slice';
import { keyCursorOver, rowBytes } from '../../dialects/chunks';
import type { RowBatch } from '../../dialects';
import { rowReader } from '../../dialects/mariadb/mariadb-values';
import { lobFetch } from '../../dialects/oracle/oracle-source';
import { encodeCopyText } from '../../dialects/postgres/postgres-copy';
import { bytesValue, rowText, textRows, WIDE_BYTES, type RowValue } from '../../dialects/row-values';
import { WIDE_VALUE } from '../../dialects/tab-text';

describe('wide values and memory', () => {
  const W = WIDE_VALUE;
  // Rows of `bytes`, each changing a fake heap by `grows` (a wide row held until a collection
  // grows it by its bytes; Node's own collector can shrink it); the budget is 4 W.
  it.each([
    ['narrow rows: never, nor look at the heap', Array<number>(8).fill(W - 1), Array<number>(8).fill(W - 1), 0, 0],
    [
      'wide rows: each time the heap has grown by half the budget',
      Array<number>(8).fill(W),
      Array<number>(8).fill(W),
      4,
      8,
    ],
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
    const socket = Object.assign(new Writable({ highWaterMark: 4, write: (_chunk, _enc, done) => (sent = done) }), {
      destroyed: false,
    });
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

describe('wide bytes travel as bytes', () => {
  const hex = (b: Buffer) => `\\x${b.toString('hex')}`;
  const BYTES = [
    ['one byte under WIDE_BYTES', Buffer.alloc(WIDE_BYTES - 1, 0x5c), false],
    ['WIDE_BYTES exactly', Buffer.alloc(WIDE_BYTES, 0x09), true],
    ['a document of 300 KB', Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256)), true],
  ] as const;

  it.each(BYTES)('reads %s from MariaDB and Oracle as the bytes where wide, else as \\x hex', (_, bytes, wide) => {
    const mariadb = rowReader([{ name: 'doc', columnType: 251, characterSet: 63 } as never])([bytes])[0];
    const oracle = lobFetch([{ name: 'DOC', type: 'BLOB' } as never]).toText[0](bytes);
    for (const value of [mariadb, oracle, bytesValue(bytes)]) {
      if (wide) expect(value).toBe(bytes);
      else expect(value).toBe(hex(bytes));
    }
  });

  it.each(BYTES)(
    'writes %s into COPY and LOAD DATA text as its \\x hex would be written, in pieces of at most 64 KiB characters',
    (_, bytes) => {
      const asBytes = [
        ...encodeCopyText([
          ['1', bytesValue(bytes), null],
          ['2', 'x', bytesValue(bytes)],
        ]),
      ];
      const asText = [
        ...encodeCopyText([
          ['1', hex(bytes), null],
          ['2', 'x', hex(bytes)],
        ]),
      ];
      expect(asBytes.join('')).toBe(asText.join(''));
      expect(Math.max(...asBytes.map((piece) => piece.length))).toBeLessThanOrEqual(2 * 32_768 + 1);
    },
  );

  it.each(BYTES)('counts, digests, keys and binds %s as its text', (_, bytes) => {
    const asBytes: RowValue[] = ['7', bytesValue(bytes)];
    const asText = ['7', hex(bytes)];
    expect(rowBytes(asBytes)).toBe(rowBytes(asText));
    expect(digestRow(asBytes)).toBe(digestRow(asText));
    expect(rowText(asBytes)).toEqual(asText);
    expect(textRows([asBytes, ['8', null]])).toEqual([asText, ['8', null]]);
  });

  it('keeps a key of bytes as its text, the form a checkpoint holds', async () => {
    const key = Buffer.alloc(WIDE_BYTES, 1);
    async function* chunks(): AsyncGenerator<RowBatch> {
      yield { columns: ['k', 'v'], rows: [[key, 'a']] };
    }
    const cursor = keyCursorOver(chunks(), ['k'], null);
    for await (const _ of cursor.take(10)) void _;
    expect(cursor.at).toEqual([hex(key)]);
  });

  it('passes rows of text to a driver as they are, without a copy', () => {
    const rows = [
      ['1', 'a'],
      ['2', null],
    ];
    expect(textRows(rows)).toBe(rows);
  });
});
