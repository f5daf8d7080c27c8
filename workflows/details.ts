// What the Temporal Web UI shows of a run without a query typed: the workflow's current
// details (short Markdown, set with setCurrentDetails as slices commit), each batch
// activity's summary, and the descriptions of the signals and queries it lists. Pure text
// from the run's state: keys may appear (a checkpoint is one), row values never do, since
// the workflow never holds one. Deterministic code only.
import type { RangeProgress } from './handlers';

export interface RunView {
  mapref: string;
  /** A key range's workflow: which range. */
  partition?: number;
  strategy: string | null;
  loadMode: string | null;
  prcid: number | null;
  rowsLoaded: number;
  batches: number;
  rowsPerSecond: number;
  checkpoint: string | null;
  /** Where a resumed run went on from. */
  resumedFrom?: { run: number; checkpoint: string | null };
  paused: boolean;
  /** A partitioned run's ranges, as the run last heard of them. */
  partitions?: RangeProgress[];
  /** How the run ended (or is ending). */
  outcome?: string;
  /** The rows the run will have loaded when it ends, estimated from the source's statistics (since 0.7.0). */
  estimatedRows?: number | null;
}

/** 1234567 → 1,234,567, without Intl (the same text on every worker). */
export function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A duration as m:ss or h:mm:ss. */
export function formatSeconds(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A running load measured against the estimated rows it will have loaded when it ends. */
export interface EstimatedShare {
  /** The estimate, raised to the rows loaded where the statistics were short. */
  total: number;
  /** Whole percent done, at most 99 while the run goes on. */
  percent: number;
  /** Seconds left at the run's rate; null before it has a rate. */
  etaSeconds: number | null;
}

export function estimatedShare(p: { rowsLoaded: number; rowsPerSecond: number }, estimate: number): EstimatedShare {
  const total = Math.max(Math.round(estimate), p.rowsLoaded);
  const percent = total > 0 ? Math.min(99, Math.floor((p.rowsLoaded / total) * 100)) : 99;
  const etaSeconds = p.rowsPerSecond > 0 ? Math.ceil((total - p.rowsLoaded) / p.rowsPerSecond) : null;
  return { total, percent, etaSeconds };
}

/**
 * Where a run stands, in one line for the Web UI's event history and details:
 * `400,000 rows · 80,000 rows/s · ~40% of ~1,000,000 · ETA 0:07` (the share and ETA only
 * where the source gave an estimate; both are estimates, and say so with ~).
 */
export function progressText(v: { rowsLoaded: number; rowsPerSecond: number; estimatedRows?: number | null }): string {
  const parts = [`${grouped(v.rowsLoaded)} rows`, `${grouped(v.rowsPerSecond)} rows/s`];
  if (typeof v.estimatedRows === 'number') {
    const share = estimatedShare(v, v.estimatedRows);
    parts.push(
      `~${share.percent}% of ~${grouped(share.total)}`,
      share.etaSeconds === null ? 'ETA unknown' : `ETA ${formatSeconds(share.etaSeconds)}`,
    );
  }
  return parts.join(' · ');
}

/** A key as Markdown code, cut short where it is long (a composite key's JSON). */
export function keyText(checkpoint: string | null, max = 120): string {
  if (checkpoint === null) return '(the start)';
  const cut = checkpoint.length > max ? `${checkpoint.slice(0, max - 1)}…` : checkpoint;
  return `\`${cut.replace(/`/g, "'")}\``;
}

const STATUS: Record<RangeProgress['status'], string> = {
  PC: 'complete',
  IP: 'loading',
  FL: 'failed',
  CN: 'cancelled',
};

/** The run's current details, as the Web UI shows them on its page. */
export function currentDetails(v: RunView): string {
  const title = v.partition === undefined ? `**${v.mapref}**` : `**${v.mapref}**, key range ${v.partition}`;
  const head = [title, v.strategy, v.loadMode, v.prcid === null ? null : `run ${v.prcid} (DMS_PRCLOG)`]
    .filter(Boolean)
    .join(' · ');
  const lines = [
    head,
    '',
    `- ${grouped(v.rowsLoaded)} rows in ${grouped(v.batches)} batches, ${grouped(v.rowsPerSecond)} rows/s`,
  ];
  if (typeof v.estimatedRows === 'number' && !v.outcome) {
    const share = estimatedShare(v, v.estimatedRows);
    lines.push(
      `- ~${share.percent}% of an estimated ${grouped(share.total)} rows, ${share.etaSeconds === null ? 'ETA unknown' : `ETA ${formatSeconds(share.etaSeconds)}`}`,
    );
  }
  if (!v.partitions) lines.push(`- checkpoint ${keyText(v.checkpoint)}`);
  if (v.resumedFrom)
    lines.push(`- resumed from checkpoint ${keyText(v.resumedFrom.checkpoint)} of run ${v.resumedFrom.run}`);
  for (const r of v.partitions ?? []) {
    lines.push(
      `- range ${r.k}: ${STATUS[r.status]}, ${grouped(r.rowsLoaded)} rows, checkpoint ${keyText(r.checkpoint)}, up to ${r.upTo === null ? '(the end)' : keyText(r.upTo)}`,
    );
  }
  if (v.paused && !v.outcome) lines.push('- **paused**: signal `resume` (or `dms resume`) to go on');
  if (v.outcome) lines.push(`- **${v.outcome}**`);
  return lines.join('\n');
}

/**
 * A run's static summary in the Web UI's list and on its page, set by `dms run` and by a
 * schedule's action: `SALES_FACT_LOAD: SALES_SRC → DWH.SALES_FACT (KEY on TRANSACTION_ID)`.
 */
export function runSummary(m: {
  mapref: string;
  srcconid: string;
  trgschm: string;
  trgtbnm: string;
  chkpntstrategy: string;
  chkpntcolumn: string | null;
}): string {
  const on =
    m.chkpntcolumn && m.chkpntstrategy !== 'NONE' && m.chkpntstrategy !== 'ROWCOUNT' ? ` on ${m.chkpntcolumn}` : '';
  return `${m.mapref}: ${m.srcconid} → ${m.trgschm}.${m.trgtbnm} (${m.chkpntstrategy}${on})`;
}

/**
 * A batch activity's summary in the event history (the Web UI's default tab): where its slice
 * starts, and, since 0.7.0, before that, where the run stands then (progressText).
 */
export function sliceSummary(batchesDone: number, checkpoint: string | null, progress?: string): string {
  const where = `batches from ${batchesDone + 1}, after key ${checkpoint === null ? '(the start)' : keyText(checkpoint, 80).slice(1, -1)}`;
  // Progress first: the Web UI's timeline cuts a long summary at its right edge.
  return progress ? `${progress} · ${where}` : where;
}

/** Descriptions the Web UI lists beside each handler (its "Send a Signal" shows them). */
export const HANDLER_DESCRIPTIONS = {
  progress: 'Where the load stands: rows, batches, rows/s, checkpoint, run id (DMS_PRCLOG.PRCID). No input.',
  resetCheckpoint:
    'Moves the checkpoint between batches. Input: {"to": "150000"} (a key as PARAM1 shows it; a composite key as a JSON array text) or {} for the start.',
  pause: 'Stops between batches, holding no database session, until signal resume. No input.',
  resume: 'Lets a paused load go on from its checkpoint. No input.',
} as const;
