// KEY loads end to end: real Temporal dev server, real worker processes, real PostgreSQL,
// with metadata, source and target in three different databases.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest } from '../support/postgres';

let h: Harness;

beforeAll(async () => {
  h = await openHarness('key');
  await createFactSource(h.dbs.source, 200_000);
});

afterAll(async () => {
  await h?.close();
});

async function startLoad(mapref: string, workflowId = `dms-${mapref}`) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId, args: [{ mapref }] });
}

async function expectExactCopy(table: string) {
  const source = await tableDigest(h.dbs.source, 'sales', 'sale_id');
  const target = await tableDigest(h.dbs.target, table, 'sale_id');
  expect(target.count).toBe(source.count);
  expect(target.md5).toBe(source.md5);
}

describe('KEY load through worker kills', () => {
  it('finishes exactly after the worker is SIGKILLed mid-run', async () => {
    await createFactTarget(h.dbs.target, 'sales_kill');
    await registerMapping(h.dbs, { mapref: 'KILL', batchSize: 1000, trgtbnm: 'SALES_KILL' });
    const first = await h.startWorker();
    const handle = await startLoad('KILL');
    await waitUntil('3 batches', async () => ((await checkpointRow(h.dbs.target, 'KILL'))?.batchcnt ?? 0) >= 3);
    await first.kill('SIGKILL');
    const before = await checkpointRow(h.dbs.target, 'KILL');
    expect(before!.trgrows).toBeLessThan(200_000);

    await h.startWorker();
    const result = await handle.result();
    expect(result.rows).toBe(200_000);
    await expectExactCopy('sales_kill');
    const log = await runs(h.dbs.metadata, 'KILL');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'PC', param1: 'COMPLETED', trgrows: 200_000, batchcnt: 200 });
  });
});
