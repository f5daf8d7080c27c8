// What `dms run --wait` and `dms status` print about a running load, from the workflow's
// `progress` query. Pure formatting here; the polling lives in cli.ts.
//
//   SALES / 45,000 rows · 45 batches · 12,345 rows/s · 0:03:12 · checkpoint 135000
//
// The source is never counted up front. Where its database's statistics give an estimate of
// the rows still to come (client/estimate.ts), a bar shows a percentage and an ETA, both
// marked as estimates; without one, the line shows counts and rates only.
//
//   SALES [=========---------------] 37% · 45,000 of ~120,000 rows (estimated) · ETA 0:06 · …
import { SingleBar } from 'cli-progress';
import type { Progress, RangeProgress } from '../workflows';
import { estimatedShare, formatSeconds } from '../workflows/details';
import { RunStatus } from '../common/run-status';

export { estimatedShare, formatSeconds };

const SPINNER = ['|', '/', '-', '\\'];
const numbers = new Intl.NumberFormat('en-US');

/** Time since the run started, as m:ss or h:mm:ss. */
export function formatElapsed(startedAt: string, nowMs: number): string {
  const started = Date.parse(startedAt);
  return formatSeconds(Number.isNaN(started) ? 0 : (nowMs - started) / 1000);
}

/** A batch activity's heartbeat details: its last committed state (see activities/index.ts). */
export interface Heartbeat {
  checkpoint: string | null;
  batches: number;
  rows: number;
  /** Sent by the pre-flight activity's first slice: the run's rows when it began. */
  rowsAtStart?: number;
  /** Sent by the pre-flight's first slice: its estimate of the run's rows, and its warnings. */
  estimatedRows?: number;
  warnings?: string[];
}

/**
 * The workflow hears of committed batches when a batch activity hands back (a slice of
 * several seconds); the activity's heartbeat carries each commit at once. This takes the
 * fresher of the two: the query's figures, moved on to the heartbeat's committed state.
 */
export function withHeartbeat(progress: Progress, beat: Heartbeat | undefined, nowMs: number): Progress {
  // What the pre-flight found, before the workflow hears of it.
  const found = {
    ...(progress.estimatedRows === undefined && typeof beat?.estimatedRows === 'number'
      ? { estimatedRows: beat.estimatedRows }
      : {}),
    ...(!progress.warnings && beat?.warnings?.length ? { warnings: beat.warnings } : {}),
  };
  const p = Object.keys(found).length > 0 ? { ...progress, ...found } : progress;
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
  const more = (pick: (r: RangeProgress) => number) =>
    live.reduce((n, r, i) => n + Math.max(0, pick(r) - (known[i] ? pick(known[i]) : 0)), 0);
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

/** `~37% of an estimated 120000 rows, ETA 0:06`: every figure said to be an estimate. */
function estimateText(p: Progress, estimate: number, format: (n: number) => string): string {
  const share = estimatedShare(p, estimate);
  const eta = share.etaSeconds === null ? 'ETA unknown' : `ETA ${formatSeconds(share.etaSeconds)}`;
  return `~${share.percent}% of an estimated ${format(share.total)} rows, ${eta}`;
}

/** The line printed once the estimate is known, or once it is known there is none. */
export function estimateNote(mapref: string, found: { rows: number } | { reason: string }): string {
  return 'rows' in found
    ? `${mapref}: about ${numbers.format(found.rows)} rows in all, estimated from the source's statistics (the % and ETA are estimates)`
    : `${mapref}: no estimate of the rows to load, so no % or ETA: ${found.reason}`;
}

/** Where a run stands: its checkpoint, or a partitioned run's ranges. */
function position(p: Progress): string {
  if (!p.partitions) return `checkpoint ${p.checkpoint ?? '(start)'}`;
  const done = p.partitions.filter((r) => r.status === RunStatus.completed).length;
  return `${done}/${p.partitions.length} key ranges complete`;
}

/** One plain line (logs, `dms status`), with the estimated share where there is an estimate. */
export function formatProgress(p: Progress, nowMs: number, estimate: number | null = null): string {
  const state = p.paused ? ', paused (signal resume, or `dms resume`, to go on)' : '';
  const share = estimate === null ? '' : `, ${estimateText(p, estimate, numbers.format)}`;
  return `${p.mapref}: ${numbers.format(p.rowsLoaded)} rows in ${numbers.format(p.batches)} batches, ${numbers.format(p.rowsPerSecond)} rows/s, ${position(p)}, ${formatElapsed(p.startedAt, nowMs)} elapsed${share}${state}`;
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
export function nextPlainLine(
  last: PlainState | null,
  p: Progress,
  nowMs: number,
  everyMs = 5000,
  estimate: number | null = null,
): { line: string; state: PlainState } | null {
  const key = `${p.prcid}|${p.rowsLoaded}|${p.batches}|${p.checkpoint}`;
  if (last && (key === last.key || nowMs - last.at < everyMs)) return null;
  return { line: formatProgress(p, nowMs, estimate), state: { at: nowMs, key } };
}

/** The words beside the bar: the figures cli-progress does not know (its own % would reach 100). */
function barPayload(p: Progress, estimate: number, nowMs: number): Record<string, string> {
  const share = estimatedShare(p, estimate);
  return {
    mapref: p.mapref,
    percent: String(share.percent),
    rows: numbers.format(p.rowsLoaded),
    estimate: numbers.format(share.total),
    left: share.etaSeconds === null ? 'unknown' : formatSeconds(share.etaSeconds),
    rate: numbers.format(p.rowsPerSecond),
    elapsed: formatElapsed(p.startedAt, nowMs),
    position: p.paused ? `paused · ${position(p)}` : position(p),
  };
}

const BAR_FORMAT =
  '{mapref} [{bar}] {percent}% · {rows} of ~{estimate} rows (estimated) · ETA {left} · {rate} rows/s · {elapsed} · {position}';

/** Where the display writes: process.stdout, or a fake in tests. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/**
 * Shows progress as it arrives: redrawn in place on a terminal (a bar, once an estimate is
 * known), as throttled lines elsewhere.
 */
export class ProgressDisplay {
  private last: Progress | null = null;
  private frame = 0;
  private plain: PlainState | null = null;
  private drawn = false;
  private estimate: number | null = null;
  private bar: SingleBar | null = null;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {}

  /** The estimated rows the run will have loaded when it ends (client/estimate.ts). */
  setEstimate(rows: number): void {
    this.estimate = rows;
  }

  /** A line of its own above the display (which is drawn again at the next tick). */
  note(line: string): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    this.out.write(`${this.drawn ? '\r\x1b[2K' : ''}${line}\n`);
    this.drawn = false;
  }

  /** A fresh reading from the query, or null when the query failed (the clock still moves). */
  tick(p: Progress | null): void {
    if (p) this.last = p;
    if (!this.last) return;
    if (this.out.isTTY && this.estimate !== null) {
      this.drawBar(this.last, this.estimate);
    } else if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${renderProgressLine(this.last, this.now(), this.frame++, this.out.columns)}`);
      this.drawn = true;
    } else if (p) {
      const next = nextPlainLine(this.plain, p, this.now(), 5000, this.estimate);
      if (next) {
        this.plain = next.state;
        this.out.write(`${next.line}\n`);
      }
    }
  }

  private drawBar(p: Progress, estimate: number): void {
    const payload = barPayload(p, estimate, this.now());
    const total = Math.max(1, estimatedShare(p, estimate).total);
    if (!this.bar) {
      if (this.drawn) this.out.write('\r\x1b[2K');
      this.drawn = false;
      this.bar = new SingleBar({
        stream: this.out as NodeJS.WritableStream,
        format: BAR_FORMAT,
        barsize: 24,
        linewrap: false,
        clearOnComplete: true,
        gracefulExit: false,
        fps: 4,
      });
      this.bar.start(total, p.rowsLoaded, payload);
      return;
    }
    this.bar.setTotal(total);
    this.bar.update(p.rowsLoaded, payload);
  }

  /** Clears the redrawn line or bar, so that what follows starts on a clean line. */
  clear(): void {
    if (this.bar) {
      this.bar.stop(); // clearOnComplete: the bar's line is cleared
      this.bar = null;
    }
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
