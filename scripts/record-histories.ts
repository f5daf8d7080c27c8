// Records real workflow histories for the replay test (test/replay.test.ts): a run cancelled
// mid-way, and the run that resumes it across several continue-as-new boundaries (with a
// resetCheckpoint signal it refuses, a pause and a resume); since 0.5.0 the same for a
// partitioned run (PARTITIONS 2), with the chains of its ranges' child workflows. Run it
// once per released version (`npm run record-histories`) and commit what it writes; the
// test run only replays them, so a non-deterministic change to workflows/ fails CI.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { createFactSource, createFactTarget, registerMapping } from '../test/support/fact-load';
import { waitUntil } from '../test/support/wait';
import { createDatabases, PG_PASSWORD_VARIABLES, urlFor, withClient } from '../test/support/postgres';
import { startWorker } from '../test/support/worker-process';
import { freePort, startDevServer, temporalCli } from './temporal-dev';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'test', 'histories');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

async function main(): Promise<void> {
  const server = await startDevServer({ port: await freePort(), headless: true, quiet: true });
  const dbs = await createDatabases('rec');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'dms-etl-record';
  const worker = await startWorker({
    TEMPORAL_ADDRESS: server.address,
    DMS_METADATA_URL: urlFor(dbs.metadata),
    DMS_TASK_QUEUE: taskQueue,
    DMS_BATCHES_PER_EXECUTION: '4',
    ...PG_PASSWORD_VARIABLES,
  });
  try {
    await createFactSource(dbs.source, 3000);
    await createFactTarget(dbs.target);
    await registerMapping(dbs, { mapref: 'REPLAY', batchSize: 100 });
    await createFactTarget(dbs.target, 'sales_parts');
    await registerMapping(dbs, { mapref: 'PARTS', batchSize: 100, trgtbnm: 'SALES_PARTS', columns: { partitions: 2 } });
    const save = async (name: string, workflowId: string, runId: string) => {
      // The Temporal CLI writes the proto3 JSON that the SDK's replayer reads.
      const json = execFileSync(
        temporalCli(),
        [
          'workflow',
          'show',
          '--address',
          server.address,
          '--workflow-id',
          workflowId,
          '--run-id',
          runId,
          '--output',
          'json',
        ],
        { encoding: 'utf8' },
      );
      // Stack traces in failures name files of this checkout: keep the machine's paths out.
      writeFileSync(
        path.join(OUT, `${version}-${name}.json`),
        json.split(JSON.stringify(ROOT).slice(1, -1)).join('<repo>'),
      );
      return client.workflow.getHandle(workflowId, runId).fetchHistory();
    };

    /** Saves every execution of a continue-as-new chain, from its first run to its last. */
    const saveChain = async (name: string, firstRunId: string, workflowId = 'dms-REPLAY') => {
      let runId: string | undefined = firstRunId;
      for (let n = 1; runId; n++) {
        const history = await save(`${name}-${n}`, workflowId, runId);
        // A partitioned run's ranges: each child's chain, named after its range.
        for (const event of history.events ?? []) {
          const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
          if (child?.workflowId && child.runId)
            await saveChain(
              `${name}-${child.workflowId.slice(child.workflowId.lastIndexOf('-') + 1)}`,
              child.runId,
              child.workflowId,
            );
        }
        const last = history.events?.[history.events.length - 1];
        runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
    };

    const first = await client.workflow.start('dmsJob', {
      taskQueue,
      workflowId: 'dms-REPLAY',
      args: [{ mapref: 'REPLAY' }],
    });
    await new Promise((r) => setTimeout(r, 1500));
    await first.cancel();
    await first.result().catch(() => undefined);
    await saveChain('cancelled', first.firstExecutionRunId);

    const second = await client.workflow.start('dmsJob', {
      taskQueue,
      workflowId: 'dms-REPLAY',
      args: [{ mapref: 'REPLAY' }],
    });
    // A resetCheckpoint signal the run refuses (not a key): the handler and the refusal replay too.
    await new Promise((r) => setTimeout(r, 300));
    await second.signal('resetCheckpoint', { to: 'not a key' });
    // Since 0.4.0: a pause between batches, and the resume.
    await second.signal('pause');
    await new Promise((r) => setTimeout(r, 1000));
    await second.signal('resume');
    await second.result();
    await saveChain('resumed', second.firstExecutionRunId);

    // Since 0.5.0: a partitioned run cancelled once its first range has committed a batch,
    // then resumed with a pause, a refused resetCheckpoint and a resume.
    const third = await client.workflow.start('dmsJob', {
      taskQueue,
      workflowId: 'dms-PARTS',
      args: [{ mapref: 'PARTS' }],
    });
    await waitUntil(
      'a committed batch of range 1',
      () =>
        withClient(dbs.target, async (c) => {
          const { rows } = await c.query(`SELECT to_regclass('public.dms_chkpnt') IS NOT NULL AS t`);
          if (!rows[0].t) return false;
          return (
            ((await c.query(`SELECT 1 FROM dms_chkpnt WHERE mapref = 'PARTS#p1' AND batchcnt > 0`)).rowCount ?? 0) > 0
          );
        }),
      10_000,
      5,
    );
    await third.cancel();
    await third.result().catch(() => undefined);
    await saveChain('partitioned-cancelled', third.firstExecutionRunId, 'dms-PARTS');
    const fourth = await client.workflow.start('dmsJob', {
      taskQueue,
      workflowId: 'dms-PARTS',
      args: [{ mapref: 'PARTS' }],
    });
    await fourth.signal('pause');
    await new Promise((r) => setTimeout(r, 1000));
    await fourth.signal('resetCheckpoint', { to: '300' });
    await fourth.signal('resume');
    await fourth.result();
    await saveChain('partitioned-resumed', fourth.firstExecutionRunId, 'dms-PARTS');
    console.log(`histories written to ${path.relative(process.cwd(), OUT)}`);
  } finally {
    await worker.kill();
    await connection.close();
    await server.stop();
    await dbs.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
