import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkSizer, chunksOf, cursorOver, keyCursorOver, rowBytes } from '../../dialects/chunks';
import type { RowBatch } from '../../dialects';

/** A stream of 0..n-1 that records how far it has been read ahead, with an error at `failAt`. */
function numbers(n: number, opts: { highWaterMark?: number; failAt?: number } = {}) {
  const seen = { produced: 0 };
  let next = 0;
  const stream = new Readable({
    objectMode: true,
    highWaterMark: opts.highWaterMark ?? 16,
    read() {
      // Asynchronous, as a driver's rows arrive.
      setImmediate(() => {
        if (next === opts.failAt) return this.destroy(new Error(`lost at ${next}`));
        if (next >= n) return this.push(null);
        seen.produced = next + 1;
        this.push(next++);
      });
    },
  });
  return { stream, seen };
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const chunk of it) out.push(chunk);
  return out;
}

describe('chunksOf', () => {
  it('cuts a stream into chunks of the size asked, the last one smaller, every item mapped once', async () => {
    const chunks = await collect(chunksOf(numbers(25).stream, 10, (x: number) => x * 2));
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
  });

  it('yields nothing for an empty stream, and a chunk exactly full only once', async () => {
    expect(await collect(chunksOf(numbers(0).stream, 10, (x: number) => x))).toEqual([]);
    expect((await collect(chunksOf(numbers(20).stream, 10, (x: number) => x))).map((c) => c.length)).toEqual([10, 10]);
  });

  it('reads no further ahead than the stream buffers while a chunk is being used (backpressure)', async () => {
    const { stream, seen } = numbers(10_000, { highWaterMark: 8 });
    const it = chunksOf(stream, 5, (x: number) => x)[Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setTimeout(r, 50));
    // Five taken, at most the buffer's eight and the one being pushed beyond.
    expect(seen.produced).toBeLessThanOrEqual(5 + 8 + 1);
    await it.return?.(undefined);
  });

  it('ends a chunk where its items reach the byte budget, and lets the stream buffer fewer wide items', async () => {
    // Items of 100 "bytes" each, at most 10 a chunk, 350 bytes a chunk: 4 items (the one reaching it included).
    const { stream, seen } = numbers(40, { highWaterMark: 16 });
    const it = chunksOf(stream, 10, (x: number) => x, { max: 350, of: () => 100 })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toEqual([0, 1, 2, 3]);
    await new Promise((r) => setTimeout(r, 50));
    // The buffer shrank to 3 items (350 / 100): 4 taken, 3 buffered, one being pushed.
    expect(seen.produced).toBeLessThanOrEqual(4 + 3 + 1);
    const rest = [first.value!];
    for (let next = await it.next(); !next.done; next = await it.next()) rest.push(next.value);
    expect(rest.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(rest.every((c) => c.length <= 4)).toBe(true);
  });

  it("ends in the stream's error, after the chunks read before it", async () => {
    const got: number[][] = [];
    await expect(
      (async () => {
        for await (const c of chunksOf(numbers(100, { failAt: 23 }).stream, 10, (x: number) => x)) got.push(c);
      })(),
    ).rejects.toThrow('lost at 23');
    expect(got.map((c) => c.length)).toEqual([10, 10]);
  });

  it("ends in the map's error (a value refused)", async () => {
    const refuse = (x: number) => {
      if (x === 7) throw new Error('refused 7');
      return x;
    };
    await expect(collect(chunksOf(numbers(50).stream, 10, refuse))).rejects.toThrow('refused 7');
  });
});

describe('a cursor over chunks', () => {
  it('reads across chunk boundaries, fewer rows only at the end, and ends the stream when closed early', async () => {
    let returned = false;
    async function* batches() {
      try {
        for (const rows of [[['1'], ['2'], ['3']], [['4']], [['5'], ['6']]]) yield { columns: ['id'], rows };
      } finally {
        returned = true;
      }
    }
    const cursor = cursorOver(batches());
    expect(await cursor.read(2)).toEqual([['1'], ['2']]);
    expect(await cursor.read(3)).toEqual([['3'], ['4'], ['5']]);
    await cursor.close();
    expect(returned).toBe(true);
    const whole = cursorOver(batches());
    expect(await whole.read(10)).toEqual([['1'], ['2'], ['3'], ['4'], ['5'], ['6']]);
    expect(await whole.read(10)).toEqual([]);
  });
});

describe('ChunkSizer', () => {
  it('asks for one row first, then as many as fit the bytes, at least one and at most the rows allowed', () => {
    const sizer = new ChunkSizer(2000, 1000);
    expect(sizer.next()).toBe(1);
    sizer.saw([['aaaaaaaaaa'], ['bbbbbbbbbb', null]]);
    expect(sizer.next()).toBe(100); // 10 bytes a row
    sizer.saw([['x'.repeat(400)]]);
    expect(sizer.next()).toBe(7); // 1000 / (420 / 3)
    const wide = new ChunkSizer(2000, 1000);
    wide.saw([['x'.repeat(5000)]]);
    expect(wide.next()).toBe(1);
    const narrow = new ChunkSizer(50, 1_000_000);
    narrow.saw([['1']]);
    expect(narrow.next()).toBe(50);
    expect(rowBytes(['ab', null, 'cde'])).toBe(5);
  });
});

describe('keyCursorOver', () => {
  /** Chunks of rows [region, k, v] in key order (region, k), `per` rows a chunk; records closing. */
  function rows(n: number, per: number) {
    const state = { closed: false, pulled: 0 };
    async function* chunks(): AsyncGenerator<RowBatch> {
      try {
        for (let i = 0; i < n; i += per) {
          state.pulled++;
          const rows = Array.from({ length: Math.min(per, n - i) }, (_, j) => [
            'eu',
            String(i + j + 1),
            `v${i + j + 1}`,
          ]);
          yield { columns: ['REGION', 'k', 'v'], rows, plain: [false, true, false] };
        }
      } finally {
        state.closed = true;
      }
    }
    return { chunks: chunks(), state };
  }

  async function take(cursor: ReturnType<typeof keyCursorOver>, n: number): Promise<string[]> {
    const out: string[] = [];
    for await (const chunk of cursor.take(n)) out.push(...chunk.rows.map((r) => r[1] as string));
    return out;
  }

  it('hands out the rows batch by batch, splitting a chunk at the batch size, each ending at its last key', async () => {
    const { chunks, state } = rows(25, 10);
    const cursor = keyCursorOver(chunks, ['region', 'k'], ['eu', '0']);
    expect(cursor.at).toEqual(['eu', '0']);
    expect(await take(cursor, 7)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect([cursor.at, cursor.taken]).toEqual([['eu', '7'], 7]);
    expect(await take(cursor, 7)).toEqual(['8', '9', '10', '11', '12', '13', '14']);
    expect(await cursor.ready()).toBe(true);
    expect(await take(cursor, 20)).toHaveLength(11);
    expect([cursor.at, cursor.taken]).toEqual([['eu', '25'], 11]);
    expect(await cursor.ready()).toBe(false);
    expect(await take(cursor, 5)).toEqual([]);
    expect([cursor.at, cursor.taken]).toEqual([['eu', '25'], 0]);
    expect(state.pulled).toBe(3);
  });

  it('reads one chunk ahead to know whether a row is left, and closes its read early', async () => {
    const { chunks, state } = rows(100, 10);
    const cursor = keyCursorOver(chunks, ['k'], null);
    expect(await cursor.ready()).toBe(true);
    expect(state.pulled).toBe(1);
    expect(await take(cursor, 10)).toHaveLength(10);
    // It looked at the next chunk's first row, for a key equal to the batch's last.
    expect(state.pulled).toBe(2);
    await cursor.close();
    expect(state.closed).toBe(true);
  });

  it('keeps rows that share the last key in the batch, across chunks, where a key thought unique repeats', async () => {
    async function* chunks(): AsyncGenerator<RowBatch> {
      const row = (k: number, v: string) => ['eu', String(k), v];
      yield { columns: ['region', 'k', 'v'], rows: [row(1, 'a'), row(2, 'a'), row(2, 'b')], plain: [] };
      yield { columns: ['region', 'k', 'v'], rows: [row(2, 'c'), row(3, 'a'), row(3, 'b')], plain: [] };
      yield { columns: ['region', 'k', 'v'], rows: [row(4, 'a')], plain: [] };
    }
    const cursor = keyCursorOver(chunks(), ['k'], null);
    const batch = async (n: number) => {
      const out: string[] = [];
      for await (const chunk of cursor.take(n)) out.push(...chunk.rows.map((r) => `${r[1]}${r[2]}`));
      return out;
    };
    expect(await batch(2)).toEqual(['1a', '2a', '2b', '2c']);
    expect([cursor.at, cursor.taken]).toEqual([['2'], 4]);
    expect(await batch(1)).toEqual(['3a', '3b']);
    expect(await batch(5)).toEqual(['4a']);
    expect(await cursor.ready()).toBe(false);
  });

  it('ends a batch at its byte budget, at the row that reaches it, keeping its ties, and says it is full', async () => {
    // Rows [region, k, v] of 2 + 1–2 + 2–3 characters: about 6 bytes each.
    const { chunks } = rows(40, 10);
    const cursor = keyCursorOver(chunks, ['region', 'k'], null);
    const batch = async (n: number, bytes: number) => {
      const out: string[] = [];
      for await (const chunk of cursor.take(n, bytes)) out.push(...chunk.rows.map((r) => r[1] as string));
      return out;
    };
    // 1..9 are 5 bytes a row (eu, k, vk): 20 bytes end at the fourth row.
    expect(await batch(100, 20)).toEqual(['1', '2', '3', '4']);
    expect([cursor.at, cursor.taken, cursor.full]).toEqual([['eu', '4'], 4, true]);
    // A budget smaller than one row: the row loads alone.
    expect(await batch(100, 1)).toEqual(['5']);
    expect(cursor.full).toBe(true);
    // The row count first: not full.
    expect(await batch(3, 1000)).toEqual(['6', '7', '8']);
    expect(cursor.full).toBe(false);
  });

  it('keeps the rows that share the key of the row reaching the byte budget', async () => {
    async function* tied(): AsyncGenerator<RowBatch> {
      yield {
        columns: ['k', 'v'],
        rows: [
          ['1', 'aaaa'],
          ['2', 'bbbb'],
          ['2', 'cccc'],
        ],
        plain: [true, false],
      };
      yield {
        columns: ['k', 'v'],
        rows: [
          ['2', 'dddd'],
          ['3', 'eeee'],
        ],
        plain: [true, false],
      };
    }
    const cursor = keyCursorOver(tied(), ['k'], null);
    const out: string[] = [];
    for await (const chunk of cursor.take(100, 10)) out.push(...chunk.rows.map((r) => r[1] as string));
    expect(out).toEqual(['aaaa', 'bbbb', 'cccc', 'dddd']);
    expect([cursor.at, cursor.taken, cursor.full]).toEqual([['2'], 4, true]);
  });

  it('fails on a key column the rows do not have', async () => {
    const cursor = keyCursorOver(rows(5, 5).chunks, ['nope'], null);
    await expect(take(cursor, 5)).rejects.toThrow("the key column nope is not among the rows' columns");
  });
});
