// Signals pause and resume (`dms pause|resume`) end to end: a real dev server, real worker
// processes and PostgreSQL; the target has no key, so a batch loaded twice would show.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';
import { grouped } from '../../workflows/details';
import { progressQuery } from '../../workflows/handlers';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 20_000;

let h: Harness;

async function dms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

async function pausedRuns(mapref: string): Promise<number> {
  let n = 0;
  for await (const _ of h.client.workflow.list({ query: `DmsMapref="${mapref}" AND DmsStatus="PAUSED"` })) n += 1;
  return n;
}

beforeAll(async () => {
  // Small executions: the run crosses continue-as-new boundaries before and after its pause.
  h = await openHarness('pause', { DMS_BATCHES_PER_EXECUTION: '4', DMS_ACTIVITY_SLICE_MS: '300' });
  await createFactSource(h.dbs.source, ROWS);
});

afterAll(async () => {
  await h?.close();
});

describe('pause and resume', () => {
  it('pauses between batches, stays paused through a worker SIGKILL, and resumes to an exact target', async () => {
    await createFactTarget(h.dbs.target, 't_pause');
    await registerMapping(h.dbs, { mapref: 'PAUSE', batchSize: 500, trgtbnm: 'T_PAUSE' });
    // Batch 10 waits 6 s before its commit: the pause (a `dms` process, slow on a busy
    // machine) arrives while it is in flight.
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 10, action: 'stall', ms: 6000 }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-PAUSE',
      args: [{ mapref: 'PAUSE' }],
    });
    await first.waitFor(/fault: stall start at beforeCommit of batch 10/);
    const [active] = await runs(h.dbs.metadata, 'PAUSE');
    expect((await dms('pause', 'PAUSE')).stdout).toBe(
      `pause sent to workflow dms-PAUSE (run ${active.prcid}); it stops after the batch activity in flight commits\n`,
    );

    await waitUntil(
      'the pause',
      async () => /Mapping PAUSE: paused after batch \d+/.test(h.workerOutput()),
      30_000,
      100,
    );
    const paused = (await checkpointRow(h.dbs.target, 'PAUSE'))!;
    // The batch in flight committed; the run is still 'IP', and says it is paused.
    expect(paused.batchcnt).toBeGreaterThanOrEqual(10);
    expect(paused.batchcnt).toBeLessThan(ROWS / 500);
    expect((await runs(h.dbs.metadata, 'PAUSE'))[0].status).toBe('IP');
    await waitUntil('DmsStatus PAUSED', async () => (await pausedRuns('PAUSE')) === 1, 10_000, 200);
    // `dms status` reads that search attribute beside DMS_PRCLOG.
    expect((await dms('status', 'PAUSE')).stdout).toContain('paused (signal resume, or `dms resume`, to go on)');

    // The run's page in the Web UI: its current details and its handlers, read as the UI reads them.
    type Metadata = {
      currentDetails?: string;
      definition?: { signalDefinitions?: { name: string; description?: string }[] };
    };
    const meta = await handle.query<Metadata>('__temporal_workflow_metadata');
    const details = meta.currentDetails ?? '';
    expect(details).toContain(`**PAUSE** · KEY · APPEND · run ${active.prcid} (DMS_PRCLOG)`);
    expect(details).toContain(`${grouped(paused.trgrows)} rows in ${paused.batchcnt} batches`);
    expect(details).toContain(`- checkpoint \`${paused.chkpnt}\``);
    expect(details).toContain('**paused**');
    // Keys only: no value of another column, neither the last loaded row's nor any note.
    const last = await withClient(h.dbs.source, (c) =>
      c.query(`SELECT amount::text, sold_at::text, note FROM sales WHERE sale_id = $1`, [paused.chkpnt]),
    );
    for (const value of Object.values(last.rows[0] as Record<string, string | null>))
      if (value) expect(details).not.toContain(value);
    expect(details).not.toMatch(/note \d/);
    const signals = meta.definition?.signalDefinitions ?? [];
    expect(signals.find((d) => d.name === 'resetCheckpoint')?.description).toContain('{"to": "150000"}');
    expect(signals.map((d) => d.name)).toEqual(expect.arrayContaining(['pause', 'resume', 'resetCheckpoint']));

    // A worker killed while the run is paused: a new worker replays it, and it stays paused.
    await first.kill('SIGKILL');
    const second = await h.startWorker();
    // Only the new worker can answer a query: it replays the run, which must come back paused.
    expect(await handle.query(progressQuery)).toMatchObject({ paused: true, batches: paused.batchcnt });
    expect((await checkpointRow(h.dbs.target, 'PAUSE'))!.batchcnt).toBe(paused.batchcnt);
    expect((await dms('status', 'PAUSE')).stdout).toContain('paused');

    expect((await dms('resume', 'PAUSE')).stdout).toContain('resume sent to workflow dms-PAUSE');
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: ROWS / 500 });
    expect(await tableDigest(h.dbs.target, 't_pause', 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    expect(h.workerOutput()).toMatch(new RegExp(`Mapping PAUSE: resumed after batch ${paused.batchcnt}`));
    expect(await runs(h.dbs.metadata, 'PAUSE')).toMatchObject([{ status: 'PC', param1: 'COMPLETED', trgrows: ROWS }]);
    expect(await pausedRuns('PAUSE')).toBe(0);
    await second.kill();
  });

  it('cancels a paused run: it ends CN with its checkpoint, and `dms pause` without a run says so', async () => {
    await createFactTarget(h.dbs.target, 't_pausecn');
    await registerMapping(h.dbs, { mapref: 'PAUSECN', batchSize: 500, trgtbnm: 'T_PAUSECN' });
    // Long enough for `dms pause` to land during batch 6 on a busy machine.
    const worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'stall', ms: 6000 }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-PAUSECN',
      args: [{ mapref: 'PAUSECN' }],
    });
    await worker.waitFor(/fault: stall start at beforeCommit of batch 6/);
    await dms('pause', 'PAUSECN');
    await waitUntil(
      'the pause',
      async () => /Mapping PAUSECN: paused after batch \d+/.test(h.workerOutput()),
      30_000,
      100,
    );
    expect((await dms('cancel', 'PAUSECN')).code).toBe(0);
    expect(await failureOf(handle)).toBeDefined();
    const [cancelled] = await runs(h.dbs.metadata, 'PAUSECN');
    const row = (await checkpointRow(h.dbs.target, 'PAUSECN'))!;
    expect(cancelled).toMatchObject({ status: 'CN', param1: row.chkpnt, batchcnt: row.batchcnt });
    expect((await tableDigest(h.dbs.target, 't_pausecn', 'sale_id')).count).toBe(row.trgrows);
    const none = await dms('pause', 'PAUSECN');
    expect(none.stderr.trim()).toBe('dms: PAUSECN has no active run to pause (see `dms status PAUSECN`)');
    await worker.kill();
  });
});
