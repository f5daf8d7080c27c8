// `dms checkpoint …` and `dms rejects`: what a mapping's target holds of its load.
import type { Command } from 'commander';
import { withOutput } from '../output';

/* eslint-disable @typescript-eslint/no-require-imports -- each verb group loads when its command runs */
const checkpoint = () => require('../checkpoint') as typeof import('../checkpoint');
const rejects = () => require('../rejects') as typeof import('../rejects');
/* eslint-enable @typescript-eslint/no-require-imports */

export function addCheckpointCommands(program: Command): void {
  const checkpoints = program
    .command('checkpoint')
    .description("a mapping's checkpoint (DMS_CHKPNT in the target): show it, or move it");
  withOutput(
    checkpoints
      .command('show <MAPREF>')
      .description('the checkpoint, its owner run and epoch, and what the next run will do'),
  ).action((mapref: string, opts) => checkpoint().show(mapref, opts));
  checkpoints
    .command('reset <MAPREF>')
    .description('move the checkpoint: to a key with --to, else to the start (by signal while the mapping runs)')
    .option('--to <key>', 'the key to go on after, as DMS_PRCLOG.PARAM1 shows it (a JSON array for several columns)')
    .action((mapref: string, opts: { to?: string }) => checkpoint().reset(mapref, opts));

  withOutput(
    program
      .command('rejects <MAPREF>')
      .description("list the rows the mapping's runs rejected into the target's DMS_REJECT (REJECTLMT)")
      .option('--run <prcid>', 'only the rows of this run (DMS_PRCLOG.PRCID)')
      .option('--values', "also print each row's values (they stay in the target database otherwise)")
      .option('-n, --limit <n>', 'at most this many rows', '100'),
  ).action((mapref: string, opts) => rejects().rejectsCommand(mapref, opts));
}
