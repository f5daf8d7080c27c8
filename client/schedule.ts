// `dms schedule …`: nightly loads on Temporal Schedules, one schedule a mapping, whose id
// (dms-schedule-<MAPREF>) says which mapping it runs. Overlap SKIP, a catch-up window set
// explicitly, UTC unless a zone is given. Each scheduled run is a `dmsJob` like any other:
// the database's one-run-a-mapping guard stands between it and a `dms run` of the same mapping.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleSpec,
} from '@temporalio/client';
import { CommandError } from '../common/errors';
import type { RunRow } from '../metadata/repository';
import { dmsSearchAttributes, WORKFLOW_TYPE, withMetadata, withTemporal, workflowIdFor } from './connections';
import { dstClashes, knownTimeZone } from './cron-dst';
import { runSummary } from '../workflows/details';
import { formatOf, printRows } from './output';
import { RunStatus } from '../common/run-status';

function scheduleIdFor(mapref: string): string {
  return `dms-schedule-${mapref}`;
}

/** When a schedule runs, as `dms schedule create` takes it (kept in the schedule's memo for display). */
export interface ScheduleTiming {
  cron?: string;
  every?: string;
  timezone: string;
}

/** A duration such as 90s, 30m, 6h or 1d, in milliseconds; null when it is not one. */
function durationMs(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) return null;
  return (
    Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
  );
}

/** Checks the timing a user gave, with messages that name the option and the fix. */
function checkTiming(timing: Partial<ScheduleTiming>): void {
  if (timing.cron !== undefined && timing.cron.trim().split(/\s+/).length !== 5) {
    throw new CommandError(
      `--cron takes five fields (minute hour day-of-month month day-of-week), such as "0 2 * * *", not "${timing.cron}"`,
    );
  }
  if (timing.every !== undefined && durationMs(timing.every) === null) {
    throw new CommandError(`--every takes a duration such as 30m, 6h or 1d, not "${timing.every}"`);
  }
  if (timing.timezone !== undefined && !knownTimeZone(timing.timezone)) {
    throw new CommandError(`--timezone takes an IANA time zone such as UTC or Europe/Berlin, not "${timing.timezone}"`);
  }
}

function specOf(timing: ScheduleTiming): ScheduleSpec {
  return {
    ...(timing.cron ? { cronExpressions: [timing.cron] } : {}),
    ...(timing.every ? { intervals: [{ every: durationMs(timing.every)! }] } : {}),
    timezone: timing.timezone,
  };
}

/** Warnings for a cron time that a daylight-saving change of the zone skips or repeats. */
function dstWarnings(timing: ScheduleTiming, from: Date): string[] {
  if (!timing.cron) return [];
  return dstClashes(timing.cron, timing.timezone, from).map((c) =>
    c.kind === 'skipped'
      ? `${c.time} does not exist in ${timing.timezone} on ${c.date} (clocks go forward): a run due then is skipped that day`
      : `${c.time} happens twice in ${timing.timezone} on ${c.date} (clocks go back): a run due then runs twice that day`,
  );
}

function describeTiming(timing: ScheduleTiming): string {
  const parts = [timing.cron ? `cron "${timing.cron}"` : '', timing.every ? `every ${timing.every}` : ''].filter(
    Boolean,
  );
  return `${parts.join(' and ')} in ${timing.timezone}`;
}

function timingOf(description: ScheduleDescription): ScheduleTiming {
  const memo = (description.memo ?? {}) as Partial<ScheduleTiming>;
  return { cron: memo.cron, every: memo.every, timezone: memo.timezone ?? description.spec.timezone ?? 'UTC' };
}

async function existing(
  client: Client,
  mapref: string,
): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = client.schedule.getHandle(scheduleIdFor(mapref));
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new CommandError(
        `${mapref} has no schedule (${scheduleIdFor(mapref)}); create one with \`dms schedule create ${mapref} --cron "0 2 * * *"\``,
      );
    }
    throw err;
  }
}

/** One line a recent run: when, its workflow, and its DMS_PRCLOG row where there is one. */
function recentRunLine(takenAt: Date, workflowId: string, run: RunRow | undefined): string {
  const outcome = run
    ? `run ${run.prcid} ${run.status}${run.status === RunStatus.completed ? `, ${run.trgrows} rows` : ''}${run.lasterr ? `: ${run.lasterr}` : ''}`
    : 'no DMS_PRCLOG run (it found the mapping busy, or has not claimed it yet)';
  return `  ${takenAt.toISOString()}  ${workflowId}  ${outcome}`;
}

type ListOptions = { output?: string; json?: boolean };

export function create(
  mapref: string,
  opts: { cron?: string; every?: string; timezone: string; catchupWindow: string; paused?: boolean },
): Promise<void> {
  return withMetadata((metadata) =>
    withTemporal(async (client, env) => {
      if (!opts.cron && !opts.every)
        throw new CommandError('dms schedule create needs --cron "<expr>" or --every <duration> (or both)');
      const timing: ScheduleTiming = { cron: opts.cron, every: opts.every, timezone: opts.timezone };
      checkTiming(timing);
      if (durationMs(opts.catchupWindow) === null)
        throw new CommandError(`--catchup-window takes a duration such as 1h, not "${opts.catchupWindow}"`);
      if (!(await metadata.currentJob(mapref))) {
        throw new CommandError(
          `${mapref} has no job in DMS_JOB; validate the mapping and create it with \`dms job sync ${mapref}\` first`,
        );
      }
      const handle = await client.schedule
        .create({
          scheduleId: scheduleIdFor(mapref),
          spec: specOf(timing),
          action: {
            type: 'startWorkflow',
            workflowType: WORKFLOW_TYPE,
            // Temporal adds the time of each run to this id; the database keeps one run a mapping.
            workflowId: workflowIdFor(mapref),
            taskQueue: env.DMS_TASK_QUEUE,
            args: [{ mapref }],
            typedSearchAttributes: dmsSearchAttributes(mapref),
            staticSummary: runSummary(await metadata.mapping(mapref)),
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: durationMs(opts.catchupWindow)! },
          memo: { mapref, ...timing },
          state: opts.paused ? { paused: true, note: 'created paused with dms schedule create --paused' } : {},
        })
        .catch((err: Error) => {
          if (err instanceof ScheduleAlreadyRunning)
            throw new CommandError(
              `${mapref} already has a schedule (${scheduleIdFor(mapref)}); change it with \`dms schedule update ${mapref}\``,
            );
          throw new CommandError(`Temporal refused the schedule of ${mapref}: ${err.message}`);
        });
      const { info } = await handle.describe();
      console.log(
        `created schedule ${handle.scheduleId}: ${describeTiming(timing)}, overlap SKIP, catch-up window ${opts.catchupWindow}${opts.paused ? ', paused' : ''}`,
      );
      console.log(
        `next runs: ${
          info.nextActionTimes
            .slice(0, 3)
            .map((t) => t.toISOString())
            .join(', ') || '(none)'
        }`,
      );
      for (const warning of dstWarnings(timing, new Date())) console.log(`warning: ${warning}`);
    }),
  );
}

export function update(
  mapref: string,
  opts: { cron?: string; every?: string; timezone?: string; catchupWindow?: string },
): Promise<void> {
  return withTemporal(async (client) => {
    checkTiming(opts);
    if (opts.catchupWindow !== undefined && durationMs(opts.catchupWindow) === null)
      throw new CommandError(`--catchup-window takes a duration such as 1h, not "${opts.catchupWindow}"`);
    const { handle, description } = await existing(client, mapref);
    const before = timingOf(description);
    const replacesWhen = opts.cron !== undefined || opts.every !== undefined;
    const timing: ScheduleTiming = {
      cron: replacesWhen ? opts.cron : before.cron,
      every: replacesWhen ? opts.every : before.every,
      timezone: opts.timezone ?? before.timezone,
    };
    await handle.update((previous) => ({
      ...previous,
      spec: specOf(timing),
      policies: {
        ...previous.policies,
        ...(opts.catchupWindow ? { catchupWindow: durationMs(opts.catchupWindow)! } : {}),
      },
      memo: { ...(previous.memo ?? {}), mapref, ...timing },
    }));
    console.log(`updated schedule ${handle.scheduleId}: ${describeTiming(timing)}`);
    for (const warning of dstWarnings(timing, new Date())) console.log(`warning: ${warning}`);
  });
}

export function list(opts: ListOptions): Promise<void> {
  const format = formatOf(opts);
  return withTemporal(async (client) => {
    const rows: Record<string, unknown>[] = [];
    for await (const summary of client.schedule.list()) {
      if (!summary.scheduleId.startsWith('dms-schedule-')) continue;
      const timing = (summary.memo ?? {}) as Partial<ScheduleTiming> & { mapref?: string };
      const mapref = timing.mapref ?? summary.scheduleId.slice('dms-schedule-'.length);
      const when = timing.timezone ? describeTiming(timing as ScheduleTiming) : '(made outside dms)';
      const next = summary.info.nextActionTimes[0]?.toISOString() ?? null;
      rows.push(
        format === 'text'
          ? { schedule: summary.scheduleId, mapref, when, next: summary.state.paused ? 'paused' : (next ?? '-') }
          : {
              schedule: summary.scheduleId,
              mapref,
              cron: timing.cron ?? null,
              every: timing.every ?? null,
              timezone: timing.timezone ?? null,
              paused: summary.state.paused,
              next,
            },
      );
    }
    printRows(rows, format, {
      shrink: 'when',
      empty: 'no schedules yet; create one with `dms schedule create <MAPREF> --cron "0 2 * * *"`',
    });
  });
}

export function describe(mapref: string, opts: ListOptions): Promise<void> {
  const format = formatOf(opts);
  return withMetadata((metadata) =>
    withTemporal(async (client) => {
      const { handle, description } = await existing(client, mapref);
      const { state, info, policies } = description;
      const runs = await metadata.latestRuns(mapref, 100);
      const recent = info.recentActions.slice(-10).map((action) => ({
        takenAt: action.takenAt,
        workflowId: action.action.workflow.workflowId,
        run: runs.find((r) => r.wfid === action.action.workflow.workflowId),
      }));
      if (format !== 'text') {
        const record = {
          schedule: handle.scheduleId,
          mapref,
          ...timingOf(description),
          overlap: policies.overlap,
          catchupWindowSeconds: Math.round(policies.catchupWindow / 1000),
          paused: state.paused,
          note: state.note ?? null,
          nextRuns: info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
          taken: info.numActionsTaken,
          skippedOverlap: info.numActionsSkippedOverlap,
          missedCatchupWindow: info.numActionsMissedCatchupWindow,
          recent: recent.map((r) => ({
            takenAt: r.takenAt.toISOString(),
            workflowId: r.workflowId,
            prcid: r.run?.prcid ?? null,
            status: r.run?.status ?? null,
            rows: r.run?.trgrows ?? null,
          })),
        };
        console.log(format === 'json' ? JSON.stringify(record, null, 2) : JSON.stringify(record));
        return;
      }
      console.log(`schedule ${handle.scheduleId} runs mapping ${mapref}: ${describeTiming(timingOf(description))}`);
      console.log(`overlap ${policies.overlap}, catch-up window ${Math.round(policies.catchupWindow / 1000)}s`);
      console.log(state.paused ? `paused${state.note ? `: ${state.note}` : ''}` : 'active');
      console.log(
        `next runs: ${
          info.nextActionTimes
            .slice(0, 5)
            .map((t) => t.toISOString())
            .join(', ') || '(none)'
        }`,
      );
      console.log(
        `runs taken ${info.numActionsTaken}, skipped while one ran ${info.numActionsSkippedOverlap}, missed the catch-up window ${info.numActionsMissedCatchupWindow}`,
      );
      if (recent.length > 0) console.log('last runs:');
      for (const r of recent) console.log(recentRunLine(r.takenAt, r.workflowId, r.run));
    }),
  );
}

export function pauseOrUnpause(verb: 'pause' | 'unpause', mapref: string, opts: { note?: string }): Promise<void> {
  return withTemporal(async (client) => {
    const { handle } = await existing(client, mapref);
    const note = opts.note ?? `${verb}d with dms schedule ${verb}`;
    await (verb === 'pause' ? handle.pause(note) : handle.unpause(note));
    console.log(`schedule ${handle.scheduleId} ${verb}d`);
  });
}

export function trigger(mapref: string): Promise<void> {
  return withTemporal(async (client) => {
    const { handle } = await existing(client, mapref);
    // The SDK's trigger() allows overlaps unless told otherwise.
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    console.log(`schedule ${handle.scheduleId} triggered (skipped by Temporal if its last run is still running)`);
  });
}

export function remove(mapref: string): Promise<void> {
  return withTemporal(async (client) => {
    const { handle } = await existing(client, mapref);
    await handle.delete();
    console.log(`schedule ${handle.scheduleId} deleted`);
  });
}
