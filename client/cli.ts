// The `dms` command line: migrate, job sync, mapping validate, worker, run, cancel, status,
// verify, and the schedule (schedule.ts) and checkpoint (checkpoint.ts) commands.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Command } from 'commander';
import { DatabaseRegistry } from '../activities/databases';
import { messageWithFix } from '../activities/failures';
import { checkNullKeys, describeKey, planMapping } from '../activities/job-plan';
import { ConfigError, EnvError, innermostMessage, UnreachableError } from '../common/errors';
import type { DmsJobInput, DmsJobResult, Progress, RangeProgress } from '../workflows';
import { runSummary } from '../workflows/details';
import { WORKFLOW_TYPE, withMetadata, withTemporal, workflowIdFor, dmsSearchAttributes } from './connections';
import { estimateRun } from './estimate';
import { estimateNote, formatProgress, ProgressDisplay, withHeartbeat, withRanges } from './progress';
import { addCheckpointCommands } from './checkpoint';
import { addCatalogCommands, printTable } from './catalog';
import { addRejectsCommand } from './rejects';
import { addScheduleCommands } from './schedule';
import { formatReport, verifyCaveats, verifyMapping } from './verify';

/** How often `dms run --wait` asks the workflow for its progress. */
const POLL_MS = 1000;

/**
 * A running load's progress: the workflow's `progress` query, moved on to what its batch
 * activity's last heartbeat reports as committed (the workflow hears of it only when the
 * activity hands back).
 */
async function liveProgress(client: Client, handle: WorkflowHandle): Promise<Progress> {
  const [progress, description] = await Promise.all([handle.query<Progress>('progress'), handle.describe().catch(() => undefined)]);
  // The first slice of a run is committed by its pre-flight activity (prepareRun).
  const pending = description?.raw.pendingActivities?.find((a) => a.activityType?.name === 'runBatch' || a.activityType?.name === 'prepareRun');
  const payloads = pending?.heartbeatDetails?.payloads ?? [];
  let beat: Parameters<typeof withHeartbeat>[1];
  try {
    beat = payloads.length ? client.options.loadedDataConverter.payloadConverter.fromPayload(payloads[0]) : undefined;
  } catch {
    beat = undefined; // details of another version: the query alone will do
  }
  const live = withHeartbeat(progress, beat, Date.now());
  return live.partitions ? withRanges(live, await Promise.all(live.partitions.map((r) => liveRange(client, r))), Date.now()) : live;
}

/** A key range still loading, as its own workflow reports it (the run's figures otherwise). */
async function liveRange(client: Client, range: RangeProgress): Promise<RangeProgress> {
  if (range.status !== 'IP') return range;
  const live = await liveProgress(client, client.workflow.getHandle(range.workflowId)).catch(() => undefined);
  return live && live.batches >= range.batches ? { ...range, checkpoint: live.checkpoint, rowsLoaded: live.rowsLoaded, batches: live.batches } : range;
}

/**
 * Polls the run's live progress until stopped, drawing it on stdout. A query that
 * fails (no worker yet, the workflow between two runs of a continue-as-new) is skipped
 * silently and asked again at the next tick.
 */
function watchProgress(client: Client, handle: WorkflowHandle, mapref: string): () => void {
  const display = new ProgressDisplay(process.stdout);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let estimating = false;
  const poll = async () => {
    const p = await client.connection.withDeadline(Date.now() + 5000, () => liveProgress(client, handle)).catch(() => null);
    if (stopped) return;
    // Once, from the first reading that knows where the run began (the workflow's, or the first
    // slice's heartbeat: the workflow hears of the run only when that slice hands back).
    if (p && (p.prcid !== null || p.rowsAtStart !== undefined) && !estimating) {
      estimating = true;
      void estimateRun(mapref, p).then((found) => {
        if (stopped) return;
        display.note(estimateNote(mapref, found));
        if ('rows' in found) display.setEstimate(found.rows);
      });
    }
    display.tick(p);
    timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    display.clear();
  };
}

function positiveInteger(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EnvError(`${option} takes a whole number of at least 1, not '${value}'`);
  return n;
}

/** An example for each command's --help (the commands that give their own keep theirs). */
const EXAMPLES: Record<string, string> = {
  migrate: 'DMS_METADATA_URL=postgres://etl@meta-host:5432/dms dms migrate',
  'job sync': 'dms job sync SALES_FACT_LOAD',
  'mapping validate': 'dms mapping validate SALES_FACT_LOAD',
  verify: 'dms verify SALES_FACT_LOAD --ranges 32 --checksum',
  worker: 'DMS_METRICS_ADDRESS=0.0.0.0:9464 dms worker',
  'codec-server': 'DMS_PAYLOAD_KEYS=k1:… DMS_CODEC_AUTH="Bearer …" dms codec-server --listen 127.0.0.1:8081 --origin https://temporal-ui.example.com',
  run: 'dms run SALES_FACT_LOAD --wait        (dms run SALES_FACT_LOAD --from-start to reload)',
  cancel: 'dms cancel SALES_FACT_LOAD',
  pause: 'dms pause SALES_FACT_LOAD',
  resume: 'dms resume SALES_FACT_LOAD',
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
    .showHelpAfterError();

  program
    .command('migrate')
    .description('create or upgrade the metadata tables in DMS_METADATA_URL (safe to repeat)')
    .action(() =>
      withMetadata(async (metadata) => {
        await metadata.migrate();
        console.log('metadata tables are up to date');
      }),
    );

  const job = program.command('job').description('jobs: the validated, versioned copies of mappings that run');
  job
    .command('sync <MAPREF>')
    .description('validate a DMS_MAPR mapping and copy it into DMS_JOB (a new version when it changed)')
    .action((mapref: string) =>
      withMetadata(async (metadata) => {
        const spec = await metadata.mapping(mapref);
        await metadata.connection(mapref, 'SRCCONID', spec.srcconid, null);
        await metadata.connection(mapref, 'TRGCONID', spec.trgconid, null);
        const { job: row, changed } = await metadata.syncJob(spec);
        console.log(changed ? `job ${row.jobid} (version ${row.version}) created for ${mapref}` : `job ${row.jobid} (version ${row.version}) of ${mapref} is up to date`);
      }),
    );

  const mapping = program.command('mapping').description('mappings (DMS_MAPR)');
  addCatalogCommands(mapping, program);
  mapping
    .command('validate <MAPREF>')
    .description('check a mapping against its databases, as every run does before any row moves')
    .action((mapref: string) =>
      withMetadata(async (metadata) => {
        const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
        try {
          const spec = await metadata.mapping(mapref);
          const plan = await planMapping(metadata, databases, spec);
          const nulls = await checkNullKeys(plan);
          const { summary, warnings } = await describeKey(plan);
          console.log(`Mapping ${mapref}: ${summary}`);
          if (nulls > 0) console.log(`Mapping ${mapref}: ${nulls} rows with a NULL key will load first (CHKPNTNULLS = 'FIRST')`);
          for (const warning of warnings) console.log(`warning: ${warning}`);
          console.log(`Mapping ${mapref} is valid: ${plan.columns.length} columns into "${plan.schema}"."${plan.table}", ${spec.bulklmt} rows a batch`);
        } catch (err) {
          if (err instanceof ConfigError || err instanceof UnreachableError) throw err;
          throw new EnvError(`Mapping ${mapref}: could not be checked: ${messageWithFix(err as Error, 'run dms mapping validate again')}`);
        } finally {
          await databases.close();
        }
      }),
    );

  program
    .command('verify <MAPREF>')
    .description("compare the mapping's target with its source, range by key range (exit 1 when any range differs)")
    .option('--ranges <n>', 'how many key ranges to compare', '16')
    .option('--checksum', 'compare a digest of every mapped column too, not only the counts (both databases of one kind)')
    .option('--show <n>', 'how many differing ranges to name', '10')
    .action((mapref: string, opts: { ranges: string; checksum?: boolean; show: string }) =>
      withMetadata(async (metadata) => {
        const ranges = positiveInteger('--ranges', opts.ranges);
        const show = positiveInteger('--show', opts.show);
        const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
        try {
          const progress = process.stderr.isTTY ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : undefined;
          const { plan, report, emptyIsNull } = await verifyMapping(metadata, databases, mapref, { ranges, checksum: !!opts.checksum, show }, progress);
          if (progress) process.stderr.write('\r\x1b[K');
          const [latest] = await metadata.latestRuns(mapref, 1);
          for (const caveat of verifyCaveats(plan, latest?.status, emptyIsNull)) console.log(`note: ${caveat}`);
          const what = opts.checksum ? 'row counts and a digest of every mapped column' : 'row counts';
          const key = plan.strategy === 'NONE' ? [] : plan.keyed.key;
          console.log(`Mapping ${mapref}: compared ${what}${key.length ? ` by key (${key.join(', ')})` : ''}, source ${plan.spec.srcconid} with target ${plan.spec.trgconid} "${plan.schema}"."${plan.table}"`);
          for (const line of formatReport(report, key, show)) console.log(line);
          if (report.differing.length > 0) process.exitCode = 1;
        } catch (err) {
          if (err instanceof ConfigError || err instanceof UnreachableError) throw err;
          throw new EnvError(`Mapping ${mapref}: could not be verified: ${messageWithFix(err as Error, 'run dms verify again')}`);
        } finally {
          await databases.close();
        }
      }),
    );

  addScheduleCommands(program);
  addCheckpointCommands(program);
  addRejectsCommand(program);

  program
    .command('dev')
    .description('start the whole local stack: an embedded PostgreSQL for the metadata tables, the Temporal dev server with its Web UI, and a worker (Ctrl-C stops them)')
    .addHelpText('after', '\nExample (then, in another terminal, every dms command finds the stack):\n  $ npx dms dev\n  $ npx dms mapping apply mappings.yaml && npx dms run SALES_FACT_LOAD --wait')
    .action(async () => {
      const { startDevStack, devDir } = require('./dev-stack') as typeof import('./dev-stack');
      const { stack, stop } = await startDevStack((line) => console.log(`dev: ${line}`));
      console.log(`dev: ready. Addresses written to ${devDir()}/dev.json, where every \`dms\` command without DMS_METADATA_URL finds them.`);
      console.log(`dev: Web UI ${stack.webUi}; in another terminal: npx dms mapping apply <file.yaml>, npx dms run <MAPREF> --wait, npx dms status <MAPREF>. Ctrl-C stops everything.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('dev: stopping the worker, the Temporal dev server and PostgreSQL');
      await stop();
      console.log('dev: stopped');
    });

  program
    .command('worker')
    .description('run a worker for the task queue DMS_TASK_QUEUE (dms-etl by default; config from the environment; stops on SIGINT/SIGTERM)')
    .action(async () => {
      // Loaded only here: the worker side (native SDK core) is not needed by other commands.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runWorker } = require('../worker/main') as typeof import('../worker/main');
      await runWorker();
    });

  program
    .command('codec-server')
    .description('serve the payload codec (DMS_PAYLOAD_KEYS) to the Temporal Web UI and CLI, so encrypted histories read in plain text there; with DMS_CODEC_AUTH set, every call must carry that Authorization header')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:8081')
    .option('--origin <url...>', 'Web UI origins allowed to call it from a browser', ['http://localhost:8233', 'http://127.0.0.1:8233'])
    .action(async (opts: { listen: string; origin: string[] }) => {
      const { startCodecServer } = require('./codec-server') as typeof import('./codec-server');
      const at = opts.listen.lastIndexOf(':');
      const port = Number(opts.listen.slice(at + 1));
      if (at < 1 || !Number.isInteger(port) || port < 0 || port > 65535) throw new EnvError(`--listen takes host:port, e.g. 127.0.0.1:8081, not '${opts.listen}'`);
      const authorization = process.env.DMS_CODEC_AUTH || undefined;
      const server = await startCodecServer({ host: opts.listen.slice(0, at).replace(/^\[|\]$/g, ''), port, origins: opts.origin, authorization });
      console.log(`dms codec-server: ${server.url} for the Web UI at ${opts.origin.join(', ')}${authorization ? '; calls must carry DMS_CODEC_AUTH as their Authorization header' : '; no Authorization asked (set DMS_CODEC_AUTH to ask for one)'}`);
      console.log(`dms codec-server: in the Web UI, set the codec endpoint to ${server.url}; on the Temporal CLI, add --codec-endpoint ${server.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });

  program
    .command('run <MAPREF>')
    .description('start the mapping as workflow dms-<MAPREF>')
    .option('--wait', 'wait for the run to end, printing its progress')
    .option('--from-start', 'ignore an unfinished earlier run and load from the start')
    .option('--workflow-id <id>', 'workflow id to use instead of dms-<MAPREF>')
    .action((mapref: string, opts: { wait?: boolean; fromStart?: boolean; workflowId?: string }) =>
      withTemporal(async (client, env) => {
        const workflowId = opts.workflowId ?? workflowIdFor(mapref);
        const input: DmsJobInput = { mapref, ...(opts.fromStart ? { fromStart: true } : {}) };
        // The Web UI's list and the run's page show what the run loads (an unknown mapping stops here).
        const staticSummary = runSummary(await withMetadata((metadata) => metadata.mapping(mapref)));
        const handle = await client.workflow
          .start(WORKFLOW_TYPE, { taskQueue: env.DMS_TASK_QUEUE, workflowId, args: [input], typedSearchAttributes: dmsSearchAttributes(mapref), staticSummary })
          .catch((err) => {
            if (err instanceof WorkflowExecutionAlreadyStartedError) {
              throw new EnvError(`Workflow ${workflowId} is already running; watch it with \`dms status ${mapref}\``);
            }
            throw err;
          });
        console.log(`started workflow ${workflowId} (run ${handle.firstExecutionRunId}) on task queue ${env.DMS_TASK_QUEUE}`);
        if (!opts.wait) return;
        const stopWatching = watchProgress(client, handle, mapref);
        let result: DmsJobResult;
        try {
          result = (await handle.result()) as DmsJobResult;
        } catch (err) {
          if (err instanceof WorkflowFailedError) throw new EnvError(`${mapref}: run failed: ${innermostMessage(err)}`);
          throw err;
        } finally {
          stopWatching();
        }
        console.log(`${mapref}: completed, ${result.rows} rows in ${result.batches} batches (run ${result.prcid})`);
      }),
    );

  program
    .command('cancel <MAPREF>')
    .description("cancel the mapping's active run: the batch in flight rolls back, the run ends 'CN', the next run resumes")
    .action((mapref: string) =>
      withMetadata((metadata) =>
        withTemporal(async (client) => {
          const [active] = (await metadata.latestRuns(mapref, 1)).filter((r) => r.status === 'IP');
          if (!active?.wfid) throw new EnvError(`${mapref} has no active run to cancel (see \`dms status ${mapref}\`)`);
          await client.workflow.getHandle(active.wfid).cancel();
          console.log(`cancel requested for workflow ${active.wfid} (run ${active.prcid}); it stops after rolling back the batch in flight`);
        }),
      ),
    );

  for (const [verb, description, done] of [
    ['pause', "pause the mapping's active run between two batch activities: the run stays 'IP', holding no database session", 'it stops after the batch activity in flight commits'],
    ['resume', "let the mapping's paused run go on from its checkpoint", 'it goes on from its checkpoint'],
  ] as const) {
    program
      .command(`${verb} <MAPREF>`)
      .description(description)
      .action((mapref: string) =>
        withMetadata((metadata) =>
          withTemporal(async (client) => {
            const [active] = (await metadata.latestRuns(mapref, 1)).filter((r) => r.status === 'IP');
            if (!active?.wfid) throw new EnvError(`${mapref} has no active run to ${verb} (see \`dms status ${mapref}\`)`);
            await client.workflow.getHandle(active.wfid).signal(verb);
            console.log(`${verb} sent to workflow ${active.wfid} (run ${active.prcid}); ${done}`);
          }),
        ),
      );
  }

  program
    .command('status <MAPREF>')
    .description('show the latest runs of a mapping from DMS_PRCLOG')
    .option('-n, --limit <n>', 'number of runs', '10')
    .option('--json', 'print the runs (and key ranges) as JSON, for scripts')
    .addHelpText('after', '\nExample:\n  $ dms status SALES_FACT_LOAD --limit 3')
    .action((mapref: string, opts: { limit: string; json?: boolean }) =>
      withMetadata(async (metadata) => {
        const runs = await metadata.latestRuns(mapref, positiveInteger('--limit', opts.limit));
        if (runs.length === 0) {
          await metadata.mapping(mapref); // an unknown mapping is an error, with the close names
          if (opts.json) console.log('[]');
          else console.log(`Mapping ${mapref}: no runs yet (start one with \`dms run ${mapref}\`)`);
          return;
        }
        if (opts.json) {
          const ranges = await metadata.ranges(runs[0].prcid);
          console.log(JSON.stringify({ runs, ranges }, null, 2));
          return;
        }
        const active = runs.find((r) => r.status === 'IP' && r.wfid);
        if (active) {
          // The live figures of a running load come from its workflow's progress query.
          const line = await withTemporal((client) => liveProgress(client, client.workflow.getHandle(active.wfid!))).then(
            (p) => `running: ${formatProgress(p, Date.now())}`,
            (err: Error) => `running as workflow ${active.wfid}; its progress is not available (${err.message})`,
          );
          console.log(line);
        }
        const ranges = await metadata.ranges(runs[0].prcid);
        if (ranges.length > 0) {
          console.log(`run ${runs[0].prcid} loads in ${ranges.length - 1} key ranges (DMS_PRCPART):`);
          printTable(
            ranges.map((r) => ({
              range: r.partno === 0 ? 'NULL keys' : r.partno,
              after: r.partno === 0 ? '' : (r.afterkey ?? '(start)'),
              upTo: r.partno === 0 ? '' : (r.uptokey ?? '(end)'),
              status: r.status,
              checkpoint: r.param1 ?? '',
              rows: r.trgrows,
              batches: r.batchcnt,
              workflow: r.partno === 0 ? '' : (r.wfid ?? ''),
            })),
            false,
          );
        }
        printTable(
          runs.map((r) => ({
            prcid: r.prcid,
            status: r.status,
            started: r.strtdt.toISOString(),
            ended: r.enddt?.toISOString() ?? '',
            param1: r.param1 ?? '',
            rows: r.trgrows,
            batches: r.batchcnt,
            ...(runs.some((x) => x.rejrows > 0) ? { rejected: r.rejrows } : {}),
            workflow: r.wfid ?? '',
            error: r.lasterr ?? '',
          })),
          false,
        );
      }),
    );

  for (const { path, command } of leafCommands(program)) {
    if (EXAMPLES[path]) command.addHelpText('after', `\nExample:\n  $ ${EXAMPLES[path]}`);
  }
  return program;
}

/** The SDK's words for a sealed payload read without the keys, said the way an operator can act on. */
function sealedWithoutKeys(err: Error): Error {
  if (!/Unknown encoding: binary\/encrypted/.test(err?.message ?? '') || process.env.DMS_PAYLOAD_KEYS) return err;
  return new EnvError('Temporal holds this workflow\'s payloads encrypted (binary/encrypted), and DMS_PAYLOAD_KEYS is not set here. Fix: set DMS_PAYLOAD_KEYS as the workers have it');
}

/** Runs the CLI; known errors print their message alone, never a bare stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const e = sealedWithoutKeys(err as Error);
    const known = e instanceof ConfigError || e instanceof EnvError || e instanceof UnreachableError;
    console.error(`dms: ${e.message}`);
    if (!known && process.env.DMS_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv);
