// Wide values leave garbage that only a full collection frees. A value of WIDE_VALUE or more (a
// document, a LOB as hex) is a string V8 keeps in its large-object space; it outlives the
// young generation's collections while its batch loads, and the old generation is collected
// only once it has grown by a factor of its live size (measured: 300 MB of heap holding 80 MB
// live, with 3 MB rows). So the worker collects in full after every `every` bytes of wide values
// it has passed to a target: what waits to be freed stays near one byte budget, whatever the
// rows' width and however many loads run at once. Narrow rows never trigger it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WIDE_VALUE } from '../dialects/tab-text';

type Collect = () => void;

let collect: Collect | null | undefined;

/** V8's full collection, made callable as `node --expose-gc` would make it; null where it cannot be. */
function fullCollection(): Collect | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (typeof exposed === 'function') return (collect = exposed);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collect = typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    collect = null;
  }
  return collect;
}

/** Counts the bytes of wide rows passed to targets, and collects each time they pass `every`. */
export class WideGarbage {
  private since = 0;
  collections = 0;

  constructor(
    private readonly every: number,
    private readonly gc: () => Collect | null = fullCollection,
  ) {}

  /** A row of `bytes` passed to a target. */
  passed(bytes: number): void {
    if (bytes < WIDE_VALUE) return;
    this.since += bytes;
    if (this.since < this.every) return;
    this.since = 0;
    const gc = this.gc();
    if (gc) {
      gc();
      this.collections += 1;
    }
  }
}
