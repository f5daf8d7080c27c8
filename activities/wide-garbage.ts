// Wide values leave garbage that only a full collection frees. A value of WIDE_VALUE or more (a
// document, a LOB as hex) is a string V8 keeps in its large-object space; it outlives the
// young generation's collections while its batch loads, and the old generation is collected
// only once it has grown by a factor of its live size (measured: 300 MB of heap holding 80 MB
// live, with 3 MB rows). So while wide rows pass to a target, the worker looks at its heap every
// quarter of a byte budget of them, and collects in full once the heap has grown by half a
// budget from the least it has been since the last collection: what waits to be freed stays
// under a budget, whatever the rows' width, the copies an engine pair makes of them, or how many
// loads run at once. Narrow rows never look.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
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

/** The bytes the heap holds now, live or not yet collected, with the memory its objects hold outside it (large strings, buffers). */
function heapUsed(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** Counts the bytes of wide rows passed to targets, and collects when the heap has grown by half of `every` (see above). */
export class WideGarbage {
  private since = 0;
  /** The heap's least size seen since the last collection (or since the worker began). */
  private live: number;
  collections = 0;

  constructor(
    private readonly every: number,
    private readonly gc: () => Collect | null = fullCollection,
    private readonly heap: () => number = heapUsed,
  ) {
    this.live = heap();
  }

  /** A row of `bytes` passed to a target. */
  passed(bytes: number): void {
    if (bytes < WIDE_VALUE) return;
    this.since += bytes;
    if (this.since < this.every / 4) return;
    this.since = 0;
    // Lower than after the last collection: Node collected since (its own collector, a
    // scavenge of young buffers), and growth counts from there.
    const now = this.heap();
    this.live = Math.min(this.live, now);
    if (now - this.live < this.every / 2) return;
    const gc = this.gc();
    if (!gc) return;
    gc();
    this.collections += 1;
    this.live = this.heap();
  }
}
