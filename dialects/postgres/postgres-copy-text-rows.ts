// A COPY text stream cut into whole rows, so that one ordered COPY can be split into batches
// that each end where a row ends.

/**
 * Splits a COPY text stream into whole rows: a raw newline byte only ever ends a row (one
 * inside a value is escaped as \n, and no UTF-8 sequence holds the byte).
 */
export class CopyTextRows {
  private readonly chunks: AsyncIterator<Buffer>;
  /** Bytes read but not yet handed on: they begin a row. */
  private pending: Buffer | null = null;
  /** The start of a row whose end is in a chunk not yet read. */
  private carry: Buffer[] = [];

  constructor(stream: AsyncIterable<Buffer>) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  private async chunk(): Promise<Buffer | null> {
    if (this.pending) {
      const chunk = this.pending;
      this.pending = null;
      return chunk;
    }
    const next = await this.chunks.next();
    if (!next.done) return next.value;
    if (this.carry.length > 0) throw new Error('COPY output ended inside a row');
    return null;
  }

  /**
   * Yields the bytes of the next `limit` rows (fewer at the end, or up to the row whose end
   * reaches `maxBytes`: `full` is then set), in chunks; `taken` then holds how many, and `last`
   * the last one's line.
   */
  async *take(
    limit: number,
    counts: { taken: number; last: Buffer | null; full?: boolean },
    maxBytes = Infinity,
  ): AsyncGenerator<Buffer> {
    /** Bytes of the chunks already handed on. */
    let sent = 0;
    const done = () => counts.taken === limit || counts.full === true;
    while (!done()) {
      const chunk = await this.chunk();
      if (!chunk) return;
      let pos = 0;
      let lastStart = -1;
      let lastEnd = -1;
      while (!done()) {
        const nl = chunk.indexOf(10, pos);
        if (nl < 0) break;
        counts.taken++;
        lastStart = pos;
        lastEnd = nl;
        pos = nl + 1;
        if (sent + pos >= maxBytes) counts.full = true;
      }
      if (lastEnd >= 0) {
        // The first row of a chunk may have begun in the chunks before it.
        counts.last =
          lastStart === 0 && this.carry.length > 0
            ? Buffer.concat([...this.carry, chunk.subarray(0, lastEnd)])
            : chunk.subarray(lastStart, lastEnd);
        this.carry = [];
      }
      if (done()) {
        // The rest begins the next batch's first row.
        if (pos < chunk.length) this.pending = chunk.subarray(pos);
        yield chunk.subarray(0, pos);
        return;
      }
      const rest = lastEnd >= 0 ? chunk.subarray(lastEnd + 1) : chunk;
      if (rest.length > 0) this.carry.push(rest);
      sent += chunk.length;
      yield chunk;
    }
  }

  /** Closes the read early (the stream stops; its connection must not be reused). */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}
