// The `dms` command line: every command, its options and its help, in one tree, each family of
// commands declared in its file under commands/. Each action loads the file of its verb group
// when it runs (run.ts, status.ts, catalog.ts, ...), so that
// `dms --help`, `--version` and `completion` load no database driver and no Temporal client,
// and every command starts in a fraction of a second (bin/dms.js runs a compiled bundle).
import { Command, CommanderError } from 'commander';
import { unknownVariableWarnings } from '../common/env';
import { ConfigError, EnvError, UnreachableError, UserError } from '../common/errors';
import { addCatalogCommands } from './commands/catalog';
import { addCheckpointCommands } from './commands/checkpoints';
import { addCompletionCommand, addProcessCommands } from './commands/processes';
import { addRunCommands } from './commands/runs';
import { addScheduleCommands } from './commands/schedules';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../package.json') as { version: string }).version;

/** An example for each command's --help. */
const EXAMPLES: Record<string, string> = {
  migrate: 'DMS_METADATA_URL=postgres://etl@meta-host:5432/dms dms migrate',
  'job sync': 'dms job sync SALES_FACT_LOAD',
  'mapping apply': 'dms mapping apply mappings.yaml --dry-run',
  'mapping list': 'dms mapping list -o json',
  'mapping show': 'dms mapping show SALES_FACT_LOAD',
  'mapping validate': 'dms mapping validate SALES_FACT_LOAD',
  'connection list': 'dms connection list',
  'connection test': 'DWH_PASSWORD=… dms connection test DWH',
  verify: 'dms verify SALES_FACT_LOAD --ranges 32 --checksum',
  dev: 'npx dms dev     (then, in another terminal: npx dms mapping apply mappings.yaml && npx dms run SALES_FACT_LOAD --wait)',
  worker: 'DMS_METRICS_ADDRESS=0.0.0.0:9464 dms worker',
  'codec-server':
    'DMS_PAYLOAD_KEYS=k1:… DMS_CODEC_AUTH="Bearer …" dms codec-server --listen 127.0.0.1:8081 --origin https://temporal-ui.example.com',
  run: 'dms run SALES_FACT_LOAD --wait        (dms run SALES_FACT_LOAD --from-start to reload)',
  watch: 'dms watch SALES_FACT_LOAD',
  cancel: 'dms cancel SALES_FACT_LOAD',
  pause: 'dms pause SALES_FACT_LOAD',
  resume: 'dms resume SALES_FACT_LOAD',
  status: 'dms status SALES_FACT_LOAD --limit 3',
  'checkpoint show': 'dms checkpoint show SALES_FACT_LOAD',
  'checkpoint reset': 'dms checkpoint reset SALES_FACT_LOAD --to \'["410000"]\'',
  'schedule create': 'dms schedule create SALES_FACT_LOAD --cron "0 2 * * *" --timezone Europe/Berlin',
  'schedule update': 'dms schedule update SALES_FACT_LOAD --every 6h',
  'schedule list': 'dms schedule list',
  'schedule describe': 'dms schedule describe SALES_FACT_LOAD',
  'schedule pause': 'dms schedule pause SALES_FACT_LOAD --note "source maintenance"',
  'schedule unpause': 'dms schedule unpause SALES_FACT_LOAD',
  'schedule trigger': 'dms schedule trigger SALES_FACT_LOAD',
  'schedule delete': 'dms schedule delete SALES_FACT_LOAD',
  rejects: 'dms rejects SALES_FACT_LOAD --run 42 --values',
  completion: 'dms completion bash > /etc/bash_completion.d/dms     (zsh: dms completion zsh > "${fpath[1]}/_dms")',
};

/** The commands that run something (no subcommands), each with its path ('schedule create'). */
export function leafCommands(command: Command, prefix = ''): { path: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = `${prefix}${prefix ? ' ' : ''}${c.name()}`;
    return c.commands.length > 0 ? leafCommands(c, path) : [{ path, command: c }];
  });
}

export function buildProgram(): Command {
  const program = new Command('dms')
    .description('dms-etl: run DMS mappings as Temporal workflows, exactly once')
    .version(`dms-etl ${VERSION}`, '-V, --version', 'print the version');
  addCatalogCommands(program);
  addScheduleCommands(program);
  addCheckpointCommands(program);
  addProcessCommands(program);
  addRunCommands(program);
  addCompletionCommand(program, buildProgram);
  for (const { path, command } of leafCommands(program)) {
    if (EXAMPLES[path]) command.addHelpText('after', `\nExample:\n  $ ${EXAMPLES[path]}`);
  }
  return program;
}

/** The command a command line names (`dms schedule create …` → its Command), for its --help. */
function commandOf(program: Command, argv: string[]): Command {
  let command = program;
  for (const word of argv.slice(2)) {
    if (word.startsWith('-')) break;
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    command = next;
  }
  return command;
}

/** The SDK's words for a sealed payload read without the keys, said the way an operator can act on. */
function sealedWithoutKeys(err: Error): Error {
  if (!/Unknown encoding: binary\/encrypted/.test(err?.message ?? '') || process.env.DMS_PAYLOAD_KEYS) return err;
  return new EnvError(
    "Temporal holds this workflow's payloads encrypted (binary/encrypted), and DMS_PAYLOAD_KEYS is not set here. Fix: set DMS_PAYLOAD_KEYS as the workers have it",
  );
}

/** Runs the CLI; errors print one line (or the lines a problem needs), never a bare stack trace. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // Usage errors (an unknown option or command, a missing argument) end up in the catch below.
  const quiet = (c: Command) => {
    c.exitOverride().configureOutput({ outputError: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  for (const warning of unknownVariableWarnings()) console.error(`dms: warning: ${warning}`);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, having printed what was asked.
      if (err.exitCode === 0) return;
      const path = ['dms', ...leafPath(commandOf(program, argv))].join(' ');
      const message = err.message
        .replace(/^error: /, '')
        .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)')
        .replace(/\.$/, '');
      console.error(`dms: ${message}; see \`${path} --help\``);
      process.exitCode = 2;
      return;
    }
    const e = sealedWithoutKeys(err as Error);
    const known = e instanceof ConfigError || e instanceof UserError || e instanceof UnreachableError;
    console.error(`dms: ${e.message}`);
    if (!known && process.env.DMS_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  }
}

/** A command's words below `dms`. */
function leafPath(command: Command): string[] {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words;
}

if (require.main === module) void main(process.argv);
