// The fences of the activities, called directly (a mock activity context, real PostgreSQL):
// late attempts of older runs, stale expectations and a lost checkpoint row.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type BatchInput, type BatchResult, type DmsActivities } from '../../activities';
import { DatabaseRegistry } from '../../plan/databases';
import { Metadata } from '../../metadata/repository';
import { checkpointRow, createFactSource, createFactTarget, registerMapping } from '../support/fact-load';
import {
  createDatabases,
  PG_PASSWORD_VARIABLES,
  tableDigest,
  urlFor,
  withClient,
  type TestDatabases,
} from '../support/postgres';

let dbs: TestDatabases;
let metadata: Metadata;
let databases: DatabaseRegistry;
let acts: DmsActivities;
const env = new MockActivityEnvironment();

beforeAll(async () => {
  // The activities run in this process: they read PWDENV's variable from its environment.
  Object.assign(process.env, PG_PASSWORD_VARIABLES);
  dbs = await createDatabases('fence');
  await createFactSource(dbs.source, 3000);
  await createFactTarget(dbs.target);
  await registerMapping(dbs, { mapref: 'FENCE', batchSize: 1000 });
  metadata = Metadata.open(urlFor(dbs.metadata));
  databases = new DatabaseRegistry({ lockTimeoutMs: 2000 });
  acts = createActivities({
    metadata,
    databases,
    settings: {
      batchesPerExecution: 1000,
      batchTimeoutMs: 60_000,
      heartbeatTimeoutMs: 10_000,
      retry: { initialIntervalMs: 100, maximumIntervalMs: 100, backoffCoefficient: 1, maximumAttempts: 1 },
    },
    isWorkflowRunning: async () => false, // every earlier workflow is gone
  });
});

afterAll(async () => {
  await databases?.close();
  await metadata?.close();
  await dbs?.drop();
});

const runBatch = (input: BatchInput) => env.run(acts.runBatch, input) as Promise<BatchResult>;

async function failureType(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return (err as ApplicationFailure).type ?? '';
}

describe('activity fences', () => {
  it('refuses a late prepare of an older run, a batch of a superseded run, and a stale expectation', async () => {
    const first = await acts.startRun({ mapref: 'FENCE', workflowId: 'w1', firstRunId: 'r1', fromStart: false });
    const plan1 = await acts.prepareRun({
      mapref: 'FENCE',
      prcid: first.prcid,
      jobid: first.jobid,
      resume: false,
      fromStart: false,
    });
    const batch1 = { mapref: 'FENCE', prcid: first.prcid, epoch: plan1.epoch, jobid: first.jobid };
    const one = await runBatch({ ...batch1, expected: plan1.state });
    expect(one).toMatchObject({ rowsInBatch: 1000, state: { batches: 1, rows: 1000, checkpoint: '3000' } });

    // The same expectation again (a retry after a commit Temporal never heard of): nothing loads.
    const again = await runBatch({ ...batch1, expected: plan1.state });
    expect(again).toMatchObject({ alreadyCommitted: true, rowsInBatch: 0, state: one.state });

    // A second workflow takes the mapping over and resumes.
    const second = await acts.startRun({ mapref: 'FENCE', workflowId: 'w2', firstRunId: 'r2', fromStart: false });
    expect(second).toMatchObject({ resumesRun: first.prcid, abandonedRun: first.prcid });
    const plan2 = await acts.prepareRun({
      mapref: 'FENCE',
      prcid: second.prcid,
      jobid: second.jobid,
      resume: true,
      fromStart: false,
    });
    expect(plan2.state).toEqual(one.state);

    // The first run's attempts: a late prepare must not reset it, a batch must not load.
    expect(
      await failureType(
        acts.prepareRun({ mapref: 'FENCE', prcid: first.prcid, jobid: first.jobid, resume: false, fromStart: false }),
      ),
    ).toBe('OwnershipLostError');
    expect(await failureType(runBatch({ ...batch1, expected: one.state }))).toBe('OwnershipLostError');
    expect(await checkpointRow(dbs.target, 'FENCE')).toMatchObject({
      prcid: second.prcid,
      epoch: plan2.epoch,
      batchcnt: 1,
      trgrows: 1000,
    });

    const batch2 = { mapref: 'FENCE', prcid: second.prcid, epoch: plan2.epoch, jobid: second.jobid };
    let state = plan2.state;
    for (;;) {
      const r = await runBatch({ ...batch2, expected: state });
      state = r.state;
      if (r.done) break;
    }
    await acts.finishRun({
      mapref: 'FENCE',
      prcid: second.prcid,
      epoch: plan2.epoch,
      status: 'PC',
      error: null,
      state,
    });
    expect(await tableDigest(dbs.target, 'sales_copy', 'sale_id')).toEqual(
      await tableDigest(dbs.source, 'sales', 'sale_id'),
    );
  });

  it('refuses to resume when the checkpoint row has vanished, instead of loading everything again', async () => {
    const run = await acts.startRun({ mapref: 'FENCE', workflowId: 'w3', firstRunId: 'r3', fromStart: false });
    const plan = await acts.prepareRun({
      mapref: 'FENCE',
      prcid: run.prcid,
      jobid: run.jobid,
      resume: false,
      fromStart: false,
    });
    await withClient(dbs.target, (c) => c.query('TRUNCATE sales_copy'));
    const r = await runBatch({
      mapref: 'FENCE',
      prcid: run.prcid,
      epoch: plan.epoch,
      jobid: run.jobid,
      expected: plan.state,
    });
    await acts.finishRun({
      mapref: 'FENCE',
      prcid: run.prcid,
      epoch: plan.epoch,
      status: 'CN',
      error: 'cancelled',
      state: r.state,
    });
    await withClient(dbs.target, (c) => c.query(`DELETE FROM public.dms_chkpnt WHERE mapref = 'FENCE'`));

    const next = await acts.startRun({ mapref: 'FENCE', workflowId: 'w4', firstRunId: 'r4', fromStart: false });
    const err = await acts
      .prepareRun({ mapref: 'FENCE', prcid: next.prcid, jobid: next.jobid, resume: true, fromStart: false })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(
      /^Mapping FENCE: DMS_CHKPNT has no row for this mapping in "public", though the run being resumed stopped at checkpoint 3000; resuming would load everything again\. Fix: /,
    );
    expect(
      await withClient(dbs.target, async (c) => (await c.query('SELECT count(*)::int AS n FROM sales_copy')).rows[0].n),
    ).toBe(1000);
  });
});
