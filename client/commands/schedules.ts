// `dms schedule …`: nightly loads on Temporal Schedules.
import type { Command } from 'commander';
import { withOutput } from '../output';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loads when its command runs
const schedule = () => require('../schedule') as typeof import('../schedule');

export function addScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedule')
    .description('nightly loads on Temporal Schedules (one schedule a mapping, id dms-schedule-<MAPREF>)');
  schedules
    .command('create <MAPREF>')
    .description('create the schedule of a mapping: --cron and/or --every, in UTC unless --timezone')
    .option('--cron <expr>', 'cron expression, five fields (e.g. "0 2 * * *")')
    .option('--every <duration>', 'an interval (e.g. 6h, 30m)')
    .option('--timezone <zone>', 'IANA time zone of the cron times', 'UTC')
    .option(
      '--catchup-window <duration>',
      'after an outage of Temporal, a run missed by at most this long still runs, once',
      '1h',
    )
    .option('--paused', 'create it paused')
    .action((mapref: string, opts) => schedule().create(mapref, opts));
  schedules
    .command('update <MAPREF>')
    .description('change when a schedule runs (the options given replace the ones set)')
    .option('--cron <expr>', 'cron expression, five fields')
    .option('--every <duration>', 'an interval (e.g. 6h)')
    .option('--timezone <zone>', 'IANA time zone of the cron times')
    .option('--catchup-window <duration>', 'the catch-up window')
    .action((mapref: string, opts) => schedule().update(mapref, opts));
  withOutput(schedules.command('list').description('the schedules of dms-etl, with their next run')).action((opts) =>
    schedule().list(opts),
  );
  withOutput(
    schedules
      .command('describe <MAPREF>')
      .description('when a schedule runs, its next runs, and its last runs with their DMS_PRCLOG status'),
  ).action((mapref: string, opts) => schedule().describe(mapref, opts));
  for (const [verb, description] of [
    ['pause', 'pause a schedule: no new runs until unpause (a running load goes on)'],
    ['unpause', 'let a paused schedule run again'],
  ] as const) {
    schedules
      .command(`${verb} <MAPREF>`)
      .description(description)
      .option('--note <text>', 'why, shown by describe and in the Web UI')
      .action((mapref: string, opts: { note?: string }) => schedule().pauseOrUnpause(verb, mapref, opts));
  }
  schedules
    .command('trigger <MAPREF>')
    .description('run the schedule now, unless its last run is still running (overlap SKIP)')
    .action((mapref: string) => schedule().trigger(mapref));
  schedules
    .command('delete <MAPREF>')
    .description('delete a schedule (a running load goes on)')
    .action((mapref: string) => schedule().remove(mapref));
}
