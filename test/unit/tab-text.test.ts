// Tab text (dialects/tab-text.ts) written from values and read back, as a source that reads
// rows straight into it (RowBatch.tabText) hands it over.
import { describe, expect, it } from 'vitest';
import { decodeTabText, encodeTabText, tabTextBatch } from '../../dialects/tab-text';

const rows: (string | null)[][] = [
  ['1', 'plain', null],
  ['2', 'tab\there, newline\nthere, return\r, backslash \\ and \\N', ''],
  ['3', '\\x00ff', 'é 😀'],
];

describe('tab text', () => {
  it('reads back exactly the values it was written from: NULL, the empty string, escapes, 4-byte characters', () => {
    const text = Buffer.from([...encodeTabText(rows)].join(''), 'utf8');
    expect(decodeTabText(text)).toEqual(rows);
  });

  it('a batch of tab text builds its rows once, and only when asked', () => {
    const text = Buffer.from([...encodeTabText(rows)].join(''), 'utf8');
    const batch = tabTextBatch(['id', 'note', 'extra'], [true, false, false], text);
    expect(batch.tabText).toBe(text);
    expect(batch.rows).toEqual(rows);
    expect(batch.rows).toBe(batch.rows);
  });
});
