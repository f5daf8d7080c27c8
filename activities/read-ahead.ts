// An async iterable started before anyone reads it: its first item is asked for at once, so
// that the source runs the query and sends the first rows while the batch before it is
// still being written and committed. Whoever primes a read must either read it or close it
// (a read left open would hold its database session).

export interface Primed<T> extends AsyncIterable<T> {
  /** Ends the read if nobody took it (its session is released); waits for a first item in flight. */
  close(): Promise<void>;
}

export function prime<T>(source: AsyncIterable<T>): Primed<T> {
  const iterator = source[Symbol.asyncIterator]();
  const first = iterator.next();
  // A failure nobody reads must not crash the worker; whoever reads gets it.
  first.catch(() => undefined);
  let taken = false;
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (taken) throw new Error('a primed read can be read once');
      taken = true;
      let pending: Promise<IteratorResult<T>> | null = first;
      return {
        next: () => {
          const next = pending ?? iterator.next();
          pending = null;
          return next;
        },
        return: async (value?: unknown) => {
          await first.catch(() => undefined);
          return (await iterator.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
    async close() {
      if (taken) return;
      taken = true;
      const started = await first.then(
        (r) => !r.done,
        () => false,
      );
      if (started) await iterator.return?.(undefined);
    },
  };
}
