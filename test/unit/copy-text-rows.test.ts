import { describe, expect, it } from 'vitest';
import { CopyTextRows } from '../../dialects/postgres/postgres-copy-text-rows';

/** COPY text of rows 1..n, row i's value `i` characters wide, cut into chunks of `chunk` bytes. */
function copyText(n: number, chunk: number): Buffer[] {
  const text = Buffer.from(Array.from({ length: n }, (_, i) => `${i + 1}\t${'x'.repeat(i + 1)}\n`).join(''));
  const chunks: Buffer[] = [];
  for (let at = 0; at < text.length; at += chunk) chunks.push(text.subarray(at, at + chunk));
  return chunks;
}

async function* streamOf(chunks: Buffer[]): AsyncIterable<Buffer> {
  yield* chunks;
}

/** Takes batches until one is empty: each batch's row ids, and whether the budget ended it. */
async function batches(
  rows: CopyTextRows,
  limit: number,
  maxBytes?: number,
): Promise<{ ids: number[]; full: boolean }[]> {
  const out: { ids: number[]; full: boolean }[] = [];
  for (;;) {
    const counts: { taken: number; last: Buffer | null; full?: boolean } = { taken: 0, last: null };
    const parts: Buffer[] = [];
    for await (const part of rows.take(limit, counts, maxBytes)) parts.push(part);
    const text = Buffer.concat(parts).toString();
    if (counts.taken === 0) return out;
    const ids = text
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split('\t')[0]));
    expect(ids).toHaveLength(counts.taken);
    expect(counts.last?.toString()).toBe(`${ids.at(-1)}\t${'x'.repeat(ids.at(-1)!)}`);
    out.push({ ids, full: counts.full === true });
  }
}

describe('a COPY text stream cut into batches of whole rows', () => {
  // Row i is 2 + i bytes and its id's digits (id, tab, i characters, newline): 4, 5, … 12, then 14.
  it.each([
    [
      'by row count alone',
      7,
      4,
      undefined,
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10],
      ],
      [false, false, false],
    ],
    [
      'by bytes: the row that reaches the budget is the last',
      5,
      100,
      20,
      [[1, 2, 3, 4], [5, 6, 7], [8, 9], [10]],
      [true, true, true, false],
    ],
    [
      'by bytes, with a row wider than the budget alone',
      64,
      100,
      8,
      [[1, 2], [3, 4], [5], [6], [7], [8], [9], [10]],
      [true, true, true, true, true, true, true, true],
    ],
    [
      'by rows, then bytes, from chunks of 1 byte',
      1,
      3,
      20,
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8],
        [9, 10],
      ],
      [false, true, true, true],
    ],
  ])('%s', async (_, chunk, limit, maxBytes, ids, full) => {
    const got = await batches(new CopyTextRows(streamOf(copyText(10, chunk))), limit, maxBytes);
    expect(got.map((b) => b.ids)).toEqual(ids);
    expect(got.map((b) => b.full)).toEqual(full);
  });
});
