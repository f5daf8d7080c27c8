// `dms schedule …`: nightly loads on Temporal Schedules, one schedule a mapping, whose id
// (dms-schedule-<MAPREF>) says which mapping it runs. Overlap SKIP, a catch-up window set
// explicitly, UTC unless a zone is given. Each scheduled run is a `dmsJob` like any other:
// the database's one-run-a-mapping guard stands between it and a `dms run` of the same mapping.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleHandle, type ScheduleSpec } from '@temporalio/client';
import type { Command } from 'commander';
import { EnvError } from '../common/errors';
import type { RunRow } from '../migrations/schema';
import { dmsSearchAttributes, WORKFLOW_TYPE, withMetadata, withTemporal, workflowIdFor } from './connections';
import { dstClashes, knownTimeZone } from './cron-dst';
import { runSummary } from '../workflows/details';

export function scheduleIdFor(mapref: string): string {
  return `dms-schedule-${mapref}`;
}

/** When a schedule runs, as `dms schedule create` takes it (kept in the schedule's memo for display). */
export interface ScheduleTiming {
  cron?: string;
  every?: string;
  timezone: string;
}

const DEFAULT_CATCHUP = '1h';

/** A duration such as 90s, 30m, 6h or 1d, in milliseconds; null when it is not one. */
export function durationMs(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) return null;
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

/** Checks the timing a user gave, with messages that name the option and the fix. */
export function checkTiming(timing: Partial<ScheduleTiming>): void {
  if (timing.cron !== undefined && timing.cron.trim().split(/\s+/).length !== 5) {
    throw new EnvError(`--cron takes five fields (minute hour day-of-month month day-of-week), such as "0 2 * * *", not "${timing.cron}"`);
  }
  if (timing.every !== undefined && durationMs(timing.every) === null) {
    throw new EnvError(`--every takes a duration such as 30m, 6h or 1d, not "${timing.every}"`);
  }
  if (timing.timezone !== undefined && !knownTimeZone(timing.timezone)) {
    throw new EnvError(`--timezone takes an IANA time zone such as UTC or Europe/Berlin, not "${timing.timezone}"`);
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
export function dstWarnings(timing: ScheduleTiming, from: Date): string[] {
  if (!timing.cron) return [];
  return dstClashes(timing.cron, timing.timezone, from).map((c) =>
    c.kind === 'skipped'
      ? `${c.time} does not exist in ${timing.timezone} on ${c.date} (clocks go forward): a run due then is skipped that day`
      : `${c.time} happens twice in ${timing.timezone} on ${c.date} (clocks go back): a run due then runs twice that day`,
  );
}

function describeTiming(timing: ScheduleTiming): string {
  const parts = [timing.cron ? `cron "${timing.cron}"` : '', timing.every ? `every ${timing.every}` : ''].filter(Boolean);
  return `${parts.join(' and ')} in ${timing.timezone}`;
}

function timingOf(description: ScheduleDescription): ScheduleTiming {
  const memo = (description.memo ?? {}) as Partial<ScheduleTiming>;
  return { cron: memo.cron, every: memo.every, timezone: memo.timezone ?? description.spec.timezone ?? 'UTC' };
}

async function existing(client: Client, mapref: string): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = client.schedule.getHandle(scheduleIdFor(mapref));
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new EnvError(`${mapref} has no schedule (${scheduleIdFor(mapref)}); create one with \`dms schedule create ${mapref} --cron "0 2 * * *"\``);
    }
    throw err;
  }
}

/** One line a recent run: when, its workflow, and its DMS_PRCLOG row where there is one. */
function recentRunLine(takenAt: Date, workflowId: string, run: RunRow | undefined): string {
  const outcome = run ? `run ${run.prcid} ${run.status}${run.status === 'PC' ? `, ${run.trgrows} rows` : ''}${run.lasterr ? `: ${run.lasterr}` : ''}` : 'no DMS_PRCLOG run (it found the mapping busy, or has not claimed it yet)';
  return `  ${takenAt.toISOString()}  ${workflowId}  ${outcome}`;
}

export function addScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('nightly loads on Temporal Schedules (one schedule a mapping, id dms-schedule-<MAPREF>)');

  schedule
    .command('create <MAPREF>')
    .description('create the schedule of a mapping: --cron and/or --every, in UTC unless --timezone')
    .option('--cron <expr>', 'cron expression, five fields (e.g. "0 2 * * *")')
    .option('--every <duration>', 'an interval (e.g. 6h, 30m)')
    .option('--timezone <zone>', 'IANA time zone of the cron times', 'UTC')
    .option('--catchup-window <duration>', 'after an outage of Temporal, a run missed by at most this long still runs, once', DEFAULT_CATCHUP)
    .option('--paused', 'create it paused')
    .action((mapref: string, opts: { cron?: string; every?: string; timezone: string; catchupWindow: string; paused?: boolean }) =>
      withMetadata((metadata) =>
        withTemporal(async (client, env) => {
          if (!opts.cron && !opts.every) throw new EnvError('dms schedule create needs --cron "<expr>" or --every <duration> (or both)');
          const timing: ScheduleTiming = { cron: opts.cron, every: opts.every, timezone: opts.timezone };
          checkTiming(timing);
          if (durationMs(opts.catchupWindow) === null) throw new EnvError(`--catchup-window takes a duration such as 1h, not "${opts.catchupWindow}"`);
          if (!(await metadata.currentJob(mapref))) {
            throw new EnvError(`${mapref} has no job in DMS_JOB; validate the mapping and create it with \`dms job sync ${mapref}\` first`);
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
              if (err instanceof ScheduleAlreadyRunning) throw new EnvError(`${mapref} already has a schedule (${scheduleIdFor(mapref)}); change it with \`dms schedule update ${mapref}\``);
              throw new EnvError(`Temporal refused the schedule of ${mapref}: ${err.message}`);
            });
          const { info } = await handle.describe();
          console.log(`created schedule ${handle.scheduleId}: ${describeTiming(timing)}, overlap SKIP, catch-up window ${opts.catchupWindow}${opts.paused ? ', paused' : ''}`);
          console.log(`next runs: ${info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()).join(', ') || '(none)'}`);
          for (const warning of dstWarnings(timing, new Date())) console.log(`warning: ${warning}`);
        }),
      ),
    );

  schedule
    .command('update <MAPREF>')
    .description('change when a schedule runs (the options given replace the ones set)')
    .option('--cron <expr>', 'cron expression, five fields')
    .option('--every <duration>', 'an interval (e.g. 6h)')
    .option('--timezone <zone>', 'IANA time zone of the cron times')
    .option('--catchup-window <duration>', 'the catch-up window')
    .action((mapref: string, opts: { cron?: string; every?: string; timezone?: string; catchupWindow?: string }) =>
      withTemporal(async (client) => {
        checkTiming(opts);
        if (opts.catchupWindow !== undefined && durationMs(opts.catchupWindow) === null) throw new EnvError(`--catchup-window takes a duration such as 1h, not "${opts.catchupWindow}"`);
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
          policies: { ...previous.policies, ...(opts.catchupWindow ? { catchupWindow: durationMs(opts.catchupWindow)! } : {}) },
          memo: { ...(previous.memo ?? {}), mapref, ...timing },
        }));
        console.log(`updated schedule ${handle.scheduleId}: ${describeTiming(timing)}`);
        for (const warning of dstWarnings(timing, new Date())) console.log(`warning: ${warning}`);
      }),
    );

  schedule
    .command('list')
    .description('the schedules of dms-etl, with their next run')
    .action(() =>
      withTemporal(async (client) => {
        let n = 0;
        for await (const summary of client.schedule.list()) {
          if (!summary.scheduleId.startsWith('dms-schedule-')) continue;
          const timing = (summary.memo ?? {}) as Partial<ScheduleTiming> & { mapref?: string };
          const mapref = timing.mapref ?? summary.scheduleId.slice('dms-schedule-'.length);
          const when = timing.timezone ? describeTiming(timing as ScheduleTiming) : '(made outside dms)';
          console.log(`${summary.scheduleId}  ${mapref}  ${when}  ${summary.state.paused ? 'paused' : `next ${summary.info.nextActionTimes[0]?.toISOString() ?? '-'}`}`);
          n += 1;
        }
        if (n === 0) console.log('no schedules yet; create one with `dms schedule create <MAPREF> --cron "0 2 * * *"`');
      }),
    );

  schedule
    .command('describe <MAPREF>')
    .description('when a schedule runs, its next runs, and its last runs with their DMS_PRCLOG status')
    .action((mapref: string) =>
      withMetadata((metadata) =>
        withTemporal(async (client) => {
          const { handle, description } = await existing(client, mapref);
          const { state, info, policies } = description;
          console.log(`schedule ${handle.scheduleId} runs mapping ${mapref}: ${describeTiming(timingOf(description))}`);
          console.log(`overlap ${policies.overlap}, catch-up window ${Math.round(policies.catchupWindow / 1000)}s`);
          console.log(state.paused ? `paused${state.note ? `: ${state.note}` : ''}` : 'active');
          console.log(`next runs: ${info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()).join(', ') || '(none)'}`);
          console.log(`runs taken ${info.numActionsTaken}, skipped while one ran ${info.numActionsSkippedOverlap}, missed the catch-up window ${info.numActionsMissedCatchupWindow}`);
          const runs = await metadata.latestRuns(mapref, 100);
          const recent = info.recentActions.slice(-10);
          if (recent.length > 0) console.log('last runs:');
          for (const action of recent) {
            const workflowId = action.action.workflow.workflowId;
            console.log(recentRunLine(action.takenAt, workflowId, runs.find((r) => r.wfid === workflowId)));
          }
        }),
      ),
    );

  for (const [verb, description] of [
    ['pause', 'pause a schedule: no new runs until unpause (a running load goes on)'],
    ['unpause', 'let a paused schedule run again'],
  ] as const) {
    schedule
      .command(`${verb} <MAPREF>`)
      .description(description)
      .option('--note <text>', 'why, shown by describe and in the Web UI')
      .action((mapref: string, opts: { note?: string }) =>
        withTemporal(async (client) => {
          const { handle } = await existing(client, mapref);
          const note = opts.note ?? `${verb}d with dms schedule ${verb}`;
          await (verb === 'pause' ? handle.pause(note) : handle.unpause(note));
          console.log(`schedule ${handle.scheduleId} ${verb}d`);
        }),
      );
  }

  schedule
    .command('trigger <MAPREF>')
    .description('run the schedule now, unless its last run is still running (overlap SKIP)')
    .action((mapref: string) =>
      withTemporal(async (client) => {
        const { handle } = await existing(client, mapref);
        // The SDK's trigger() allows overlaps unless told otherwise.
        await handle.trigger(ScheduleOverlapPolicy.SKIP);
        console.log(`schedule ${handle.scheduleId} triggered (skipped by Temporal if its last run is still running)`);
      }),
    );

  schedule
    .command('delete <MAPREF>')
    .description('delete a schedule (a running load goes on)')
    .action((mapref: string) =>
      withTemporal(async (client) => {
        const { handle } = await existing(client, mapref);
        await handle.delete();
        console.log(`schedule ${handle.scheduleId} deleted`);
      }),
    );
}
