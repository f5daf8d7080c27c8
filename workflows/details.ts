// What the Temporal Web UI shows of a run without a query typed: the workflow's current
// details (short Markdown, set with setCurrentDetails as slices commit), each batch
// activity's summary, and the descriptions of the signals and queries it lists. Pure text
// from the run's state: keys may appear (a checkpoint is one), row values never do, since
// the workflow never holds one. Deterministic code only.
import type { RangeProgress } from './handlers';

/** The patch under which batch activities carry a summary for the Web UI (0.6.0); part of every history since. */
export const ACTIVITY_SUMMARIES_PATCH = 'activity-summaries';

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
}

/** 1234567 → 1,234,567, without Intl (the same text on every worker). */
export function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A key as Markdown code, cut short where it is long (a composite key's JSON). */
export function keyText(checkpoint: string | null, max = 120): string {
  if (checkpoint === null) return '(the start)';
  const cut = checkpoint.length > max ? `${checkpoint.slice(0, max - 1)}…` : checkpoint;
  return `\`${cut.replace(/`/g, "'")}\``;
}

const STATUS: Record<RangeProgress['status'], string> = { PC: 'complete', IP: 'loading', FL: 'failed', CN: 'cancelled' };

/** The run's current details, as the Web UI shows them on its page. */
export function currentDetails(v: RunView): string {
  const title = v.partition === undefined ? `**${v.mapref}**` : `**${v.mapref}**, key range ${v.partition}`;
  const head = [title, v.strategy, v.loadMode, v.prcid === null ? null : `run ${v.prcid} (DMS_PRCLOG)`].filter(Boolean).join(' · ');
  const lines = [head, '', `- ${grouped(v.rowsLoaded)} rows in ${grouped(v.batches)} batches, ${grouped(v.rowsPerSecond)} rows/s`];
  if (!v.partitions) lines.push(`- checkpoint ${keyText(v.checkpoint)}`);
  if (v.resumedFrom) lines.push(`- resumed from checkpoint ${keyText(v.resumedFrom.checkpoint)} of run ${v.resumedFrom.run}`);
  for (const r of v.partitions ?? []) {
    lines.push(`- range ${r.k}: ${STATUS[r.status]}, ${grouped(r.rowsLoaded)} rows, checkpoint ${keyText(r.checkpoint)}, up to ${r.upTo === null ? '(the end)' : keyText(r.upTo)}`);
  }
  if (v.paused && !v.outcome) lines.push('- **paused**: signal `resume` (or `dms resume`) to go on');
  if (v.outcome) lines.push(`- **${v.outcome}**`);
  return lines.join('\n');
}

/**
 * A run's static summary in the Web UI's list and on its page, set by `dms run` and by a
 * schedule's action: `SALES_FACT_LOAD: SALES_SRC → DWH.SALES_FACT (KEY on TRANSACTION_ID)`.
 */
export function runSummary(m: { mapref: string; srcconid: string; trgschm: string; trgtbnm: string; chkpntstrategy: string; chkpntcolumn: string | null }): string {
  const on = m.chkpntcolumn && m.chkpntstrategy !== 'NONE' && m.chkpntstrategy !== 'ROWCOUNT' ? ` on ${m.chkpntcolumn}` : '';
  return `${m.mapref}: ${m.srcconid} → ${m.trgschm}.${m.trgtbnm} (${m.chkpntstrategy}${on})`;
}

/** A batch activity's summary in the event timeline: where its slice starts. */
export function sliceSummary(batchesDone: number, checkpoint: string | null): string {
  return `batches from ${batchesDone + 1}, after key ${checkpoint === null ? '(the start)' : keyText(checkpoint, 80).slice(1, -1)}`;
}

/** Descriptions the Web UI lists beside each handler (its "Send a Signal" shows them). */
export const HANDLER_DESCRIPTIONS = {
  progress: 'Where the load stands: rows, batches, rows/s, checkpoint, run id (DMS_PRCLOG.PRCID). No input.',
  resetCheckpoint: 'Moves the checkpoint between batches. Input: {"to": "150000"} (a key as PARAM1 shows it; a composite key as a JSON array text) or {} for the start.',
  pause: 'Stops between batches, holding no database session, until signal resume. No input.',
  resume: 'Lets a paused load go on from its checkpoint. No input.',
} as const;
