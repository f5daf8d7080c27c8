// `dms dev`, `worker`, `codec-server` and `completion`: the processes dms-etl runs, and the
// shell's completion of the command itself.
import { Argument, type Command } from 'commander';

/* eslint-disable @typescript-eslint/no-require-imports -- each loads when its command runs */
const codecServer = () => require('../codec-server') as typeof import('../codec-server');
const completion = () => require('../completion') as typeof import('../completion');
/* eslint-enable @typescript-eslint/no-require-imports */

export function addProcessCommands(program: Command): void {
  program
    .command('dev')
    .description(
      'start the whole local stack: an embedded PostgreSQL for the metadata tables, the Temporal dev server with its Web UI, and a worker (Ctrl-C stops them)',
    )
    .action(() => fromSources<typeof import('../dev-command')>('client/dev-command.ts').devCommand());

  program
    .command('worker')
    .description(
      'run a worker for the task queue DMS_TASK_QUEUE (dms-etl by default; config from the environment, or the dev stack; stops on SIGINT/SIGTERM)',
    )
    .action(() => fromSources<typeof import('../../worker/main')>('worker/main.ts').runWorker());

  program
    .command('codec-server')
    .description(
      'serve the payload codec (DMS_PAYLOAD_KEYS) to the Temporal Web UI and CLI, so encrypted histories read in plain text there; with DMS_CODEC_AUTH set, every call must carry that Authorization header',
    )
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:8081')
    .option('--origin <url...>', 'Web UI origins allowed to call it from a browser', [
      'http://localhost:8233',
      'http://127.0.0.1:8233',
    ])
    .action((opts: { listen: string; origin: string[] }) => codecServer().codecServerCommand(opts));
}

/** `dms completion`; `build`: the whole program, whose commands the script completes. */
export function addCompletionCommand(program: Command, build: () => Command): void {
  program
    .command('completion')
    .description('print a shell completion script for dms: bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action((shell: 'bash' | 'zsh' | 'fish') => console.log(completion().completionScript(shell, build())));
}

/**
 * A module the compiled CLI does not carry: the worker and the dev stack run the TypeScript
 * sources (the worker bundles workflows/ from them), loaded through tsx.
 */
function fromSources<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { existsSync } = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('tsx/cjs');
  // A path the bundler leaves alone, resolved when the command runs from the repo's root: the
  // folder above this file's that holds package.json (dist/ for the bundle, client/commands/ for the sources).
  let root = path.dirname(__dirname);
  while (!existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
  const file = path.join(root, relative);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as T;
}
