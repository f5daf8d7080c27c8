// A readable stream of objects (a driver's rows) read in chunks: the objects the stream has
// buffered are taken synchronously, so a chunk costs one await rather than one per row, and
// the stream stays paused (backpressure) while the consumer works on a chunk.
import type { Readable } from 'node:stream';
import type { KeyCursor, KeyValue, RowBatch, RowCursor } from './dialect';

/** Chunks of `size` mapped objects (the last may be smaller); a throw from `map` ends the read. */
export async function* chunksOf<T, U>(stream: Readable, size: number, map: (item: T) => U): AsyncGenerator<U[]> {
  let failure: { error: unknown } | null = null;
  // Also keeps an error while the consumer holds a chunk from being an unhandled 'error'.
  const onError = (error: unknown) => (failure ??= { error });
  stream.on('error', onError);
  try {
    let chunk: U[] = [];
    for (;;) {
      let item: T | null;
      while ((item = stream.read() as T | null) !== null) {
        chunk.push(map(item));
        if (chunk.length >= size) {
          yield chunk;
          chunk = [];
        }
      }
      if (failure) throw (failure as { error: unknown }).error;
      if (stream.readableEnded) break;
      if (stream.destroyed) throw new Error('the stream closed before its end');
      await new Promise<void>((resolve) => {
        const wake = () => {
          stream.off('readable', wake);
          stream.off('end', wake);
          stream.off('error', wake);
          stream.off('close', wake);
          resolve();
        };
        stream.on('readable', wake);
        stream.on('end', wake);
        stream.on('error', wake);
        stream.on('close', wake);
      });
    }
    if (chunk.length > 0) yield chunk;
  } finally {
    stream.off('error', onError);
  }
}

/**
 * A cursor over a stream of chunks (ROWCOUNT's one ordered read): read(n) takes the next n rows
 * (fewer only at the end), pulling chunks as needed; close() ends the stream early.
 */
export function cursorOver(chunks: AsyncIterator<RowBatch>): RowCursor {
  let buffered: (string | null)[][] = [];
  let ended = false;
  return {
    read: async (rows) => {
      while (buffered.length < rows && !ended) {
        const next = await chunks.next();
        if (next.done) ended = true;
        else buffered = buffered.concat(next.value.rows);
      }
      return buffered.splice(0, rows);
    },
    close: async () => {
      await chunks.return?.();
    },
  };
}

const sameKey = (a: KeyValue, b: KeyValue) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * A key cursor over a stream of chunks in key order (SourceDatabase.openKeyCursor): take(n)
 * yields whole chunks and splits the one that crosses n (after any rows that share the n-th
 * row's key), keeping its rest for the next take; `at` is the key (the columns `key` names)
 * of the last row yielded.
 */
export function keyCursorOver(chunks: AsyncIterator<RowBatch>, key: string[], after: KeyValue | null): KeyCursor {
  let rest: RowBatch | null = null;
  let ended = false;
  let at = after;
  let taken = 0;
  let positions: number[] | null = null;
  const keyOf = (chunk: RowBatch, row: (string | null)[]): KeyValue => {
    positions ??= key.map((name) => {
      const i = chunk.columns.indexOf(name);
      const found = i >= 0 ? i : chunk.columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
      if (found < 0) throw new Error(`the key column ${name} is not among the rows' columns`);
      return found;
    });
    return positions.map((i) => row[i] as string);
  };
  const ready = async (): Promise<boolean> => {
    while (!rest?.rows.length && !ended) {
      const next = await chunks.next();
      if (next.done) ended = true;
      else rest = next.value;
    }
    return Boolean(rest?.rows.length);
  };
  return {
    ready,
    get at() {
      return at;
    },
    get taken() {
      return taken;
    },
    async *take(rows) {
      taken = 0;
      while (await ready()) {
        const chunk = rest!;
        let count = Math.min(chunk.rows.length, Math.max(0, rows - taken));
        // Rows with the key of the batch's last row stay in the batch: a checkpoint never falls
        // between equal keys, even where a key thought unique repeats (a join, say).
        const last = count > 0 ? keyOf(chunk, chunk.rows[count - 1]) : at;
        if (taken + count >= rows && last) {
          while (count < chunk.rows.length && sameKey(keyOf(chunk, chunk.rows[count]), last)) count++;
        }
        if (count === 0) return;
        const part = count < chunk.rows.length ? { ...chunk, rows: chunk.rows.slice(0, count) } : chunk;
        rest = count < chunk.rows.length ? { ...chunk, rows: chunk.rows.slice(count) } : null;
        // Counted before it is handed on: a load that stops inside the chunk fails its batch.
        taken += count;
        at = keyOf(part, part.rows[count - 1]);
        yield part;
      }
    },
    close: async () => {
      await chunks.return?.();
    },
  };
}
