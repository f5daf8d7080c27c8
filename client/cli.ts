// The `dms` command line: every command, its options and its help, in one tree. Each action
// loads the file of its verb group when it runs (run.ts, status.ts, catalog.ts, ...), so that
// `dms --help`, `--version` and `completion` load no database driver and no Temporal client,
// and every command starts in a fraction of a second (bin/dms.js runs a compiled bundle).
import { Argument, Command, CommanderError } from 'commander';
import { unknownVariableWarnings } from '../common/env';
import { ConfigError, EnvError, UnreachableError } from '../common/errors';
import { withOutput } from './output';

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
  'codec-server': 'DMS_PAYLOAD_KEYS=k1:… DMS_CODEC_AUTH="Bearer …" dms codec-server --listen 127.0.0.1:8081 --origin https://temporal-ui.example.com',
  run: 'dms run SALES_FACT_LOAD --wait        (dms run SALES_FACT_LOAD --from-start to reload)',
  watch: 'dms watch SALES_FACT_LOAD',
  cancel: 'dms cancel SALES_FACT_LOAD',
  pause: 'dms pause SALES_FACT_LOAD',
  resume: 'dms resume SALES_FACT_LOAD',
  status: 'dms status SALES_FACT_LOAD --limit 3',
  'checkpoint show': 'dms checkpoint show SALES_FACT_LOAD',
  'checkpoint reset': "dms checkpoint reset SALES_FACT_LOAD --to '[\"410000\"]'",
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

const MAPPING_FILE_HELP = `
Example file (keys as the columns, in either case; a key dms-etl does not read is an error):
  connections:
    - { conid: SALES_SRC, dbtyp: POSTGRES, conurl: "postgres://etl@src-host:5432/sales", pwdenv: SALES_SRC_PASSWORD }
  mappings:
    - mapref: SALES_FACT_LOAD
      srcconid: SALES_SRC
      srcquery: SELECT * FROM sales_fact
      trgconid: DWH
      trgschm: PUBLIC
      trgtbnm: SALES_FACT
      bulklmt: 10000
      chkpntstrategy: KEY
      chkpntcolumn: TRANSACTION_ID`;

/** The commands that run something (no subcommands), each with its path ('schedule create'). */
export function leafCommands(command: Command, prefix = ''): { path: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = `${prefix}${prefix ? ' ' : ''}${c.name()}`;
    return c.commands.length > 0 ? leafCommands(c, path) : [{ path, command: c }];
  });
}

/* eslint-disable @typescript-eslint/no-require-imports -- each verb group loads when its command runs */
const catalog = () => require('./catalog') as typeof import('./catalog');
const checkpoint = () => require('./checkpoint') as typeof import('./checkpoint');
const jobs = () => require('./jobs') as typeof import('./jobs');
const rejects = () => require('./rejects') as typeof import('./rejects');
const runs = () => require('./run') as typeof import('./run');
const schedule = () => require('./schedule') as typeof import('./schedule');
const status = () => require('./status') as typeof import('./status');
const verify = () => require('./verify') as typeof import('./verify');
/* eslint-enable @typescript-eslint/no-require-imports */

export function buildProgram(): Command {
  const program = new Command('dms').description('dms-etl: run DMS mappings as Temporal workflows, exactly once').version(`dms-etl ${VERSION}`, '-V, --version', 'print the version');

  program
    .command('migrate')
    .description('create or upgrade the metadata tables in DMS_METADATA_URL (safe to repeat)')
    .action(() => jobs().migrate());

  const job = program.command('job').description('jobs: the validated, versioned copies of mappings that run');
  job
    .command('sync <MAPREF>')
    .description('validate a DMS_MAPR mapping and copy it into DMS_JOB (a new version when it changed)')
    .action((mapref: string) => jobs().syncJob(mapref));

  const mapping = program.command('mapping').description('mappings (DMS_MAPR)');
  mapping
    .command('apply <file>')
    .description('check the connections and mappings of a YAML (or JSON) file against their databases, then upsert them into DMS_DBCONDTLS and DMS_MAPR in one transaction and sync their jobs')
    .option('--dry-run', 'show what would change, and write nothing')
    .option('--no-validate', 'save without checking the mappings against their databases (when they cannot be reached from here)')
    .addHelpText('after', MAPPING_FILE_HELP)
    .action((file: string, opts: { dryRun?: boolean; validate: boolean }) => catalog().apply(file, { dryRun: !!opts.dryRun, validate: opts.validate }));
  withOutput(mapping.command('list').description('list the mappings in DMS_MAPR')).action((opts) => catalog().listMappings(opts));
  withOutput(mapping.command('show <MAPREF>').description('show one mapping, every field, as `dms mapping apply` takes it')).action((mapref: string, opts) => catalog().showMapping(mapref, opts));
  withOutput(mapping.command('validate <MAPREF>').description('check a mapping against its databases, as every run does before any row moves')).action((mapref: string, opts) => jobs().validate(mapref, opts));

  const connection = program.command('connection').description('connections (DMS_DBCONDTLS)');
  withOutput(connection.command('list').description('list the connections in DMS_DBCONDTLS (CONURL never holds a password)')).action((opts) => catalog().listConnections(opts));
  connection
    .command('test <CONID>')
    .description('log in to a connection as the worker would (its password from the variable PWDENV names) and run the least query')
    .action((conid: string) => catalog().testConnection(conid));

  withOutput(
    program
      .command('verify <MAPREF>')
      .description("compare the mapping's target with its source, range by key range (exit 1 when any range differs)")
      .option('--ranges <n>', 'how many key ranges to compare', '16')
      .option('--checksum', 'compare a digest of every mapped column too, not only the counts (both databases of one kind)')
      .option('--show <n>', 'how many differing ranges to name', '10'),
  ).action((mapref: string, opts) => verify().verifyCommand(mapref, opts));

  const schedules = program.command('schedule').description('nightly loads on Temporal Schedules (one schedule a mapping, id dms-schedule-<MAPREF>)');
  schedules
    .command('create <MAPREF>')
    .description('create the schedule of a mapping: --cron and/or --every, in UTC unless --timezone')
    .option('--cron <expr>', 'cron expression, five fields (e.g. "0 2 * * *")')
    .option('--every <duration>', 'an interval (e.g. 6h, 30m)')
    .option('--timezone <zone>', 'IANA time zone of the cron times', 'UTC')
    .option('--catchup-window <duration>', 'after an outage of Temporal, a run missed by at most this long still runs, once', '1h')
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
  withOutput(schedules.command('list').description('the schedules of dms-etl, with their next run')).action((opts) => schedule().list(opts));
  withOutput(schedules.command('describe <MAPREF>').description('when a schedule runs, its next runs, and its last runs with their DMS_PRCLOG status')).action((mapref: string, opts) =>
    schedule().describe(mapref, opts),
  );
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

  const checkpoints = program.command('checkpoint').description("a mapping's checkpoint (DMS_CHKPNT in the target): show it, or move it");
  withOutput(checkpoints.command('show <MAPREF>').description('the checkpoint, its owner run and epoch, and what the next run will do')).action((mapref: string, opts) => checkpoint().show(mapref, opts));
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

  program
    .command('dev')
    .description('start the whole local stack: an embedded PostgreSQL for the metadata tables, the Temporal dev server with its Web UI, and a worker (Ctrl-C stops them)')
    .action(() => fromSources<typeof import('./dev-command')>('client/dev-command.ts').devCommand());

  program
    .command('worker')
    .description('run a worker for the task queue DMS_TASK_QUEUE (dms-etl by default; config from the environment, or the dev stack; stops on SIGINT/SIGTERM)')
    .action(() => fromSources<typeof import('../worker/main')>('worker/main.ts').runWorker());

  program
    .command('codec-server')
    .description('serve the payload codec (DMS_PAYLOAD_KEYS) to the Temporal Web UI and CLI, so encrypted histories read in plain text there; with DMS_CODEC_AUTH set, every call must carry that Authorization header')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:8081')
    .option('--origin <url...>', 'Web UI origins allowed to call it from a browser', ['http://localhost:8233', 'http://127.0.0.1:8233'])
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .action((opts: { listen: string; origin: string[] }) => (require('./codec-server') as typeof import('./codec-server')).codecServerCommand(opts));

  withOutput(
    program
      .command('run <MAPREF>')
      .description('start the mapping as workflow dms-<MAPREF>')
      .option('--wait', 'wait for the run to end, printing its progress (Ctrl-C stops waiting, not the load)')
      .option('--from-start', 'ignore an unfinished earlier run and load from the start')
      .option('--workflow-id <id>', 'workflow id to use instead of dms-<MAPREF>'),
  ).action((mapref: string, opts) => runs().run(mapref, opts));
  withOutput(program.command('watch <MAPREF>').description("follow the mapping's running load until it ends, with its progress (Ctrl-C stops watching, not the load)")).action((mapref: string, opts) =>
    runs().watch(mapref, opts),
  );
  program
    .command('cancel <MAPREF>')
    .description("cancel the mapping's active run: the batch in flight rolls back, the run ends 'CN', the next run resumes")
    .action((mapref: string) => runs().cancel(mapref));
  program
    .command('pause <MAPREF>')
    .description("pause the mapping's active run between two batch activities: the run stays 'IP', holding no database session")
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

  program
    .command('completion')
    .description('print a shell completion script for dms: bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .action((shell: 'bash' | 'zsh' | 'fish') => console.log((require('./completion') as typeof import('./completion')).completionScript(shell, buildProgram())));

  for (const { path, command } of leafCommands(program)) {
    if (EXAMPLES[path]) command.addHelpText('after', `\nExample:\n  $ ${EXAMPLES[path]}`);
  }
  return program;
}

/**
 * A module the compiled CLI does not carry: the worker and the dev stack run the TypeScript
 * sources (the worker bundles workflows/ from them), loaded through tsx.
 */
function fromSources<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('tsx/cjs');
  // A path the bundler leaves alone: resolved when the command runs.
  const file = path.join(__dirname, '..', relative);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as T;
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
  return new EnvError("Temporal holds this workflow's payloads encrypted (binary/encrypted), and DMS_PAYLOAD_KEYS is not set here. Fix: set DMS_PAYLOAD_KEYS as the workers have it");
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
      const message = err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)').replace(/\.$/, '');
      console.error(`dms: ${message}; see \`${path} --help\``);
      process.exitCode = 2;
      return;
    }
    const e = sealedWithoutKeys(err as Error);
    const known = e instanceof ConfigError || e instanceof EnvError || e instanceof UnreachableError;
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
