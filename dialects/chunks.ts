// A readable stream of objects (a driver's rows) read in chunks: the objects the stream has
// buffered are taken synchronously, so a chunk costs one await rather than one per row, and
// the stream stays paused (backpressure) while the consumer works on a chunk.
import type { Readable } from 'node:stream';
import type { KeyCursor, KeyValue, RowBatch, RowCursor } from './dialect';
import { textLength, valueText, type RowValue } from './row-values';

/** The bytes a row holds as text (a character counted as a byte: hex, digits, most text; bytes as their hex). */
export function rowBytes(row: RowValue[]): number {
  let n = 0;
  for (const v of row) if (v !== null) n += textLength(v);
  return n;
}

/**
 * About the most text one chunk of rows holds, whatever its row count: a streamed read holds
 * a chunk or two at once, so wide rows (documents, LOBs) keep a worker's memory near this
 * rather than near chunkRows of them.
 */
export const CHUNK_BYTES = 8 * 2 ** 20;

/**
 * How many rows to ask for next, so that a chunk holds about `maxBytes`: at most `maxRows`,
 * fewer once the rows seen are wide. The first ask is one row: a read of documents must not
 * fetch many before it knows how wide they are (16 rows of 6 MB were 96 MB at each batch's start).
 */
export class ChunkSizer {
  private rows = 0;
  private bytes = 0;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  next(): number {
    if (this.rows === 0) return 1;
    const perRow = Math.max(1, this.bytes / this.rows);
    return Math.max(1, Math.min(this.maxRows, Math.floor(this.maxBytes / perRow)));
  }

  saw(rows: RowValue[][]): void {
    for (const row of rows) this.add(rowBytes(row));
  }

  /** One more row seen, of `bytes`. */
  add(bytes: number): void {
    this.bytes += bytes;
    this.rows += 1;
  }
}

/**
 * Chunks of `size` mapped objects (the last may be smaller), or fewer where they reach
 * `bytes.max` (`bytes.of` each); a throw from `map` ends the read. With `bytes`, the stream's
 * buffer (its highWaterMark, in objects) shrinks as the objects seen grow, so that what waits
 * unread stays near one chunk's bytes, not `size` wide objects.
 */
export async function* chunksOf<T, U>(
  stream: Readable,
  size: number,
  map: (item: T) => U,
  bytes?: { max: number; of(item: U): number },
): AsyncGenerator<U[]> {
  const sizer = bytes ? new ChunkSizer(size, bytes.max) : null;
  /** The bytes of the chunk being filled. */
  let held = 0;
  let failure: { error: unknown } | null = null;
  // Also keeps an error while the consumer holds a chunk from being an unhandled 'error'.
  const onError = (error: unknown) => (failure ??= { error });
  stream.on('error', onError);
  try {
    let chunk: U[] = [];
    for (;;) {
      let item: T | null;
      while ((item = stream.read() as T | null) !== null) {
        const mapped = map(item);
        chunk.push(mapped);
        if (bytes && sizer) {
          const n = bytes.of(mapped);
          held += n;
          sizer.add(n);
          shrinkBuffer(stream, sizer.next());
        }
        if (chunk.length >= size || (bytes !== undefined && held >= bytes.max)) {
          yield chunk;
          chunk = [];
          held = 0;
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
 * Sets how many objects a stream buffers before it pauses its source. Node reads the limit
 * from the stream's state on every push; the public readableHighWaterMark is read-only.
 */
function shrinkBuffer(stream: Readable, objects: number): void {
  const state = (stream as unknown as { _readableState?: { highWaterMark: number } })._readableState;
  if (state && state.highWaterMark > objects) state.highWaterMark = objects;
}

/**
 * A cursor over a stream of chunks (ROWCOUNT's one ordered read): read(n) takes the next n rows
 * (fewer only at the end), pulling chunks as needed; close() ends the stream early.
 */
export function cursorOver(chunks: AsyncIterator<RowBatch>): RowCursor {
  let buffered: RowValue[][] = [];
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
  /** The last take ended at the byte budget. */
  let full = false;
  let positions: number[] | null = null;
  const keyOf = (chunk: RowBatch, row: RowValue[]): KeyValue => {
    positions ??= key.map((name) => {
      const i = chunk.columns.indexOf(name);
      const found = i >= 0 ? i : chunk.columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
      if (found < 0) throw new Error(`the key column ${name} is not among the rows' columns`);
      return found;
    });
    // A key's value is text: a key of wide bytes (none fits an index) is its hex form.
    return positions.map((i) => valueText(row[i]) as string);
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
    get full() {
      return full;
    },
    async *take(rows, maxBytes = Infinity) {
      taken = 0;
      full = false;
      let bytes = 0;
      while (await ready()) {
        const chunk = rest!;
        // Once full, only rows that share the last key follow (below).
        let count = full ? 0 : Math.min(chunk.rows.length, Math.max(0, rows - taken));
        // The byte budget ends the batch at the row that reaches it (a row wider than the
        // budget alone): the batch is then full, whatever its row count.
        for (let i = 0; i < count; i++) {
          bytes += rowBytes(chunk.rows[i]);
          if (bytes >= maxBytes) {
            count = i + 1;
            full = true;
            break;
          }
        }
        // Rows with the key of the batch's last row stay in the batch: a checkpoint never falls
        // between equal keys, even where a key thought unique repeats (a join, say).
        const last = count > 0 ? keyOf(chunk, chunk.rows[count - 1]) : at;
        if ((taken + count >= rows || full) && last) {
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
