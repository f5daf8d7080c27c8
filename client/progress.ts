// What `dms run --wait` and `dms status` print about a running load, from the workflow's
// `progress` query. Pure formatting here; the polling lives in cli.ts.
//
//   SALES / 45,000 rows · 45 batches · 12,345 rows/s · 0:03:12 · checkpoint 135000
//
// No total is known while a load runs (the source is never counted up front), so the
// display shows counts and rates, never a percentage.
import type { Progress, RangeProgress } from '../workflows';

const SPINNER = ['|', '/', '-', '\\'];
const numbers = new Intl.NumberFormat('en-US');

/** Time since the run started, as m:ss or h:mm:ss. */
export function formatElapsed(startedAt: string, nowMs: number): string {
  const started = Date.parse(startedAt);
  const total = Number.isNaN(started) ? 0 : Math.max(0, Math.floor((nowMs - started) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A batch activity's heartbeat details: its last committed state (see activities/index.ts). */
export interface Heartbeat {
  checkpoint: string | null;
  batches: number;
  rows: number;
  /** Sent by the pre-flight activity's first slice: the run's rows when it began. */
  rowsAtStart?: number;
}

/**
 * The workflow hears of committed batches when a batch activity hands back (a slice of
 * several seconds); the activity's heartbeat carries each commit at once. This takes the
 * fresher of the two: the query's figures, moved on to the heartbeat's committed state.
 */
export function withHeartbeat(p: Progress, beat: Heartbeat | undefined, nowMs: number): Progress {
  if (!beat || typeof beat.batches !== 'number' || beat.batches <= p.batches) return p;
  const started = Date.parse(p.startedAt);
  const seconds = Number.isNaN(started) ? 0 : (nowMs - started) / 1000;
  // The pre-flight activity's first slice knows where the run began before the workflow does.
  const rowsAtStart = typeof beat.rowsAtStart === 'number' ? beat.rowsAtStart : p.rowsAtStart;
  const rowsThisRun = beat.rows - (rowsAtStart ?? 0);
  return {
    ...p,
    rowsAtStart,
    checkpoint: beat.checkpoint,
    batches: beat.batches,
    rowsLoaded: beat.rows,
    rowsPerSecond: seconds > 0 && rowsAtStart !== undefined ? Math.round(rowsThisRun / seconds) : p.rowsPerSecond,
  };
}

/**
 * A partitioned run's progress with its ranges' live figures (each from its own workflow):
 * the run's rows and batches move on by what the ranges committed since the run heard of them.
 */
export function withRanges(p: Progress, live: RangeProgress[], nowMs: number): Progress {
  const known = p.partitions ?? [];
  const more = (pick: (r: RangeProgress) => number) => live.reduce((n, r, i) => n + Math.max(0, pick(r) - (known[i] ? pick(known[i]) : 0)), 0);
  const rowsLoaded = p.rowsLoaded + more((r) => r.rowsLoaded);
  const started = Date.parse(p.startedAt);
  const seconds = Number.isNaN(started) ? 0 : (nowMs - started) / 1000;
  return {
    ...p,
    rowsLoaded,
    batches: p.batches + more((r) => r.batches),
    rowsPerSecond: seconds > 0 ? Math.round((rowsLoaded - (p.rowsAtStart ?? 0)) / seconds) : p.rowsPerSecond,
    partitions: live,
  };
}

/** Where a run stands: its checkpoint, or a partitioned run's ranges. */
function position(p: Progress): string {
  if (!p.partitions) return `checkpoint ${p.checkpoint ?? '(start)'}`;
  const done = p.partitions.filter((r) => r.status === 'PC').length;
  return `${done}/${p.partitions.length} key ranges complete`;
}

/** One plain line (logs, `dms status`). */
export function formatProgress(p: Progress, nowMs: number): string {
  const state = p.paused ? ', paused (signal resume, or `dms resume`, to go on)' : '';
  return `${p.mapref}: ${p.rowsLoaded} rows in ${p.batches} batches, ${p.rowsPerSecond} rows/s, ${position(p)}, ${formatElapsed(p.startedAt, nowMs)} elapsed${state}`;
}

/**
 * The line a terminal redraws in place: cut to the terminal's width (a wrapped line could
 * not be redrawn), the checkpoint last since it may be long.
 */
export function renderProgressLine(p: Progress, nowMs: number, frame: number, columns?: number): string {
  const parts = [
    `${numbers.format(p.rowsLoaded)} rows`,
    `${numbers.format(p.batches)} batches`,
    `${numbers.format(p.rowsPerSecond)} rows/s`,
    formatElapsed(p.startedAt, nowMs),
    position(p),
  ];
  if (p.paused) parts.unshift('paused');
  const line = `${p.mapref} ${SPINNER[frame % SPINNER.length]} ${parts.join(' · ')}`;
  const width = columns && columns > 1 ? columns - 1 : Infinity;
  if (line.length <= width) return line;
  return width > 1 ? `${line.slice(0, width - 1)}…` : line.slice(0, width);
}

/** What the plain (not a terminal) output printed last. */
export interface PlainState {
  at: number;
  key: string;
}

/**
 * The plain line to print now, or null: only when the load moved since the last line, and
 * at most one line every `everyMs`, so that logs stay readable.
 */
export function nextPlainLine(last: PlainState | null, p: Progress, nowMs: number, everyMs = 5000): { line: string; state: PlainState } | null {
  const key = `${p.prcid}|${p.rowsLoaded}|${p.batches}|${p.checkpoint}`;
  if (last && (key === last.key || nowMs - last.at < everyMs)) return null;
  return { line: formatProgress(p, nowMs), state: { at: nowMs, key } };
}

/** Where the display writes: process.stdout, or a fake in tests. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Shows progress as it arrives: redrawn in place on a terminal, as throttled lines elsewhere. */
export class ProgressDisplay {
  private last: Progress | null = null;
  private frame = 0;
  private plain: PlainState | null = null;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh reading from the query, or null when the query failed (the clock still moves). */
  tick(p: Progress | null): void {
    if (p) this.last = p;
    if (!this.last) return;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${renderProgressLine(this.last, this.now(), this.frame++, this.out.columns)}`);
      this.drawn = true;
    } else if (p) {
      const next = nextPlainLine(this.plain, p, this.now());
      if (next) {
        this.plain = next.state;
        this.out.write(`${next.line}\n`);
      }
    }
  }

  /** Clears the redrawn line, so that what follows starts on a clean line. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
