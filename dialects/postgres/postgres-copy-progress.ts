// Progress of COPY data passing through the worker: a pass-through stream that calls onChunk
// every so many bytes, as a load from RowBatches does once a chunk.
import { Transform } from 'node:stream';

/** Calls onChunk about once a MiB of COPY data passing through. */
export function progressEvery(bytes: number, onChunk?: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen >= bytes) {
        seen = 0;
        try {
          onChunk?.();
        } catch (err) {
          done(err as Error);
          return;
        }
      }
      done(null, chunk);
    },
  });
}
