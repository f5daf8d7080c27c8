// `dms status <MAPREF>`: the latest runs of a mapping, in words and cut to the terminal, from
// DMS_PRCLOG alone (each batch's commit moves its figures), and a run started in Temporal that
// no worker has picked up yet (it has no DMS_PRCLOG row until one does).
import { CommandError } from '../common/errors';
import type { RunRow } from '../metadata/repository';
import type { Metadata } from '../metadata/repository';
import { DMS_STATUS } from '../workflows/search-attributes';
import { withMetadata, withTemporal } from './connections';
import { count, formatOf, outputWidth, printRows, type Format } from './output';
import { noWorkerLine } from './pollers';
import { formatSeconds } from './progress';
import { RunStatus } from '../common/run-status';

/** DMS_PRCLOG.STATUS in words. */
const STATUS_WORDS: Record<string, string> = { IP: 'running', PC: 'completed', FL: 'failed', CN: 'cancelled' };

/** How long status waits for Temporal (a started run no worker has picked up) before it answers without. */
const TEMPORAL_MS = 1500;

/** A run's duration so far (or in all), as m:ss or h:mm:ss. */
function took(run: RunRow, nowMs: number): string {
  return formatSeconds(((run.enddt?.getTime() ?? nowMs) - run.strtdt.getTime()) / 1000);
}

/** `2026-12-06 20:01` in UTC: short, and the same on every machine. */
function when(d: Date | null): string {
  return d ? d.toISOString().slice(0, 16).replace('T', ' ') : '';
}

/** The line about the active run: its figures as its last batch committed them. */
function activeLine(run: RunRow, resumed: RunRow | undefined, nowMs: number): string {
  const seconds = Math.max(1, (nowMs - run.strtdt.getTime()) / 1000);
  const rowsAtStart = resumed?.trgrows ?? 0;
  const rate = Math.round(Math.max(0, run.trgrows - rowsAtStart) / seconds);
  const from = run.resumedfrom ? `, resumed run ${run.resumedfrom}` : '';
  return `${run.mapref}: run ${run.prcid} is running as workflow ${run.wfid ?? '?'}${from}: ${count(run.trgrows)} rows · ${count(run.batchcnt)} batches · ${count(rate)} rows/s · ${took(run, nowMs)} · checkpoint ${run.param1 ?? '(start)'}`;
}

/** A started workflow of the mapping that has no DMS_PRCLOG row: no worker has picked it up. */
interface Waiting {
  workflowId: string;
  startTime: Date;
  why: string | null;
}

/** What Temporal adds to DMS_PRCLOG: runs no worker has picked up yet, and which running ones are paused. */
interface TemporalView {
  waiting: Waiting[];
  paused: string[];
}

/** The mapping's running workflows, as Temporal lists them (asked within TEMPORAL_MS). */
async function temporalView(mapref: string, runs: RunRow[]): Promise<TemporalView | string> {
  try {
    return await withTemporal(
      (client, env) =>
        client.connection.withDeadline(Date.now() + TEMPORAL_MS, async () => {
          const known = new Set(runs.filter((r) => r.status === RunStatus.running).map((r) => r.wfid));
          const view: TemporalView = { waiting: [], paused: [] };
          for await (const w of client.workflow.list({
            query: `DmsMapref = '${mapref.replace(/'/g, "''")}' AND ExecutionStatus = 'Running' AND WorkflowType = 'dmsJob'`,
          })) {
            if (w.typedSearchAttributes.get(DMS_STATUS) === 'PAUSED') view.paused.push(w.workflowId);
            if (known.has(w.workflowId)) continue;
            view.waiting.push({
              workflowId: w.workflowId,
              startTime: w.startTime,
              why: await noWorkerLine(client, env.DMS_TASK_QUEUE, w.workflowId),
            });
          }
          return view;
        }),
      TEMPORAL_MS,
    );
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

export function status(mapref: string, opts: { limit: string; output?: string; json?: boolean }): Promise<void> {
  const format: Format = formatOf(opts);
  const limit = Number(opts.limit);
  return withMetadata(async (metadata: Metadata) => {
    if (!Number.isInteger(limit) || limit < 1)
      throw new CommandError(`--limit takes a whole number of at least 1, not '${opts.limit}'`);
    await metadata.mapping(mapref); // an unknown mapping is an error, with the close names
    const runs = await metadata.latestRuns(mapref, limit);
    const [view, ranges] = await Promise.all([
      temporalView(mapref, runs),
      runs[0] ? metadata.ranges(runs[0].prcid) : Promise.resolve([]),
    ]);
    const now = Date.now();

    if (format !== 'text') {
      const asked = typeof view === 'string' ? { temporal: view } : view;
      if (format === 'json') console.log(JSON.stringify({ runs, ranges, ...asked }, null, 2));
      else for (const r of runs) console.log(JSON.stringify(r));
      return;
    }
    if (typeof view === 'string')
      console.log(
        `note: Temporal did not answer (${view}); a run started but not picked up by a worker would not show here`,
      );
    else {
      for (const w of view.waiting) {
        console.log(
          `${mapref}: workflow ${w.workflowId} started at ${when(w.startTime)} UTC and no worker has picked it up yet${w.why ? `: ${w.why}` : ' (workers poll its task queue: it should start soon)'}`,
        );
      }
    }
    const active = runs.find((r) => r.status === RunStatus.running);
    if (active) {
      const resumed =
        runs.find((r) => r.prcid === active.resumedfrom) ??
        (active.resumedfrom ? await metadata.run(active.resumedfrom) : undefined);
      const paused = typeof view !== 'string' && active.wfid !== null && view.paused.includes(active.wfid);
      console.log(
        `${activeLine(active, resumed, now)}${paused ? ', paused (signal resume, or `dms resume`, to go on)' : ''}`,
      );
    }
    if (runs.length === 0) {
      console.log(`Mapping ${mapref}: no runs yet (start one with \`dms run ${mapref}\`)`);
      return;
    }
    const width = outputWidth();
    if (ranges.length > 0) {
      console.log(`run ${runs[0].prcid} loads in ${ranges.length - 1} key ranges (DMS_PRCPART):`);
      printRows(
        ranges.map((r) => ({
          range: r.partno === 0 ? 'NULL keys' : r.partno,
          status: STATUS_WORDS[r.status] ?? r.status,
          rows: count(r.trgrows),
          batches: count(r.batchcnt),
          'after … up to': r.partno === 0 ? '' : `${r.afterkey ?? '(start)'} … ${r.uptokey ?? '(end)'}`,
          checkpoint: r.param1 ?? '',
          workflow: r.partno === 0 ? '' : (r.wfid ?? ''),
        })),
        'text',
        { width, shrink: 'after … up to' },
      );
      console.log('');
    }
    const rejected = runs.some((r) => r.rejrows > 0);
    printRows(
      runs.map((r) => ({
        run: r.prcid,
        status: STATUS_WORDS[r.status] ?? r.status,
        started: when(r.strtdt),
        took: took(r, now),
        rows: count(r.trgrows),
        batches: count(r.batchcnt),
        ...(rejected ? { rejected: count(r.rejrows) } : {}),
        'checkpoint / error':
          r.status === RunStatus.failed || (r.lasterr && r.status === RunStatus.running)
            ? (r.lasterr ?? '')
            : r.status === RunStatus.completed
              ? ''
              : (r.param1 ?? '(start)'),
      })),
      'text',
      { width, shrink: 'checkpoint / error' },
    );
  });
}
