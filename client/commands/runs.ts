// `dms run`, `watch`, `cancel`, `pause`, `resume` and `status`: a mapping's runs.
import type { Command } from 'commander';
import { withOutput } from '../output';

/* eslint-disable @typescript-eslint/no-require-imports -- each verb group loads when its command runs */
const runs = () => require('../run') as typeof import('../run');
const status = () => require('../status') as typeof import('../status');
/* eslint-enable @typescript-eslint/no-require-imports */

export function addRunCommands(program: Command): void {
  withOutput(
    program
      .command('run <MAPREF>')
      .description('start the mapping as workflow dms-<MAPREF>')
      .option('--wait', 'wait for the run to end, printing its progress (Ctrl-C stops waiting, not the load)')
      .option('--from-start', 'ignore an unfinished earlier run and load from the start')
      .option('--workflow-id <id>', 'workflow id to use instead of dms-<MAPREF>'),
  ).action((mapref: string, opts) => runs().run(mapref, opts));
  withOutput(
    program
      .command('watch <MAPREF>')
      .description(
        "follow the mapping's running load until it ends, with its progress (Ctrl-C stops watching, not the load)",
      ),
  ).action((mapref: string, opts) => runs().watch(mapref, opts));
  program
    .command('cancel <MAPREF>')
    .description(
      "cancel the mapping's active run: the batch in flight rolls back, the run ends 'CN', the next run resumes",
    )
    .action((mapref: string) => runs().cancel(mapref));
  program
    .command('pause <MAPREF>')
    .description(
      "pause the mapping's active run between two batch activities: the run stays 'IP', holding no database session",
    )
    .action((mapref: string) => runs().signalRun('pause', mapref));
  program
    .command('resume <MAPREF>')
    .description("let the mapping's paused run go on from its checkpoint")
    .action((mapref: string) => runs().signalRun('resume', mapref));

  withOutput(
    program
      .command('status <MAPREF>')
      .description('show the latest runs of a mapping (DMS_PRCLOG), and a started run no worker has picked up yet')
      .option('-n, --limit <n>', 'number of runs', '10'),
  ).action((mapref: string, opts) => status().status(mapref, opts));
}
