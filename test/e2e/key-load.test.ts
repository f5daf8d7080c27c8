// KEY loads end to end: real Temporal dev server, real worker processes, real PostgreSQL,
// with metadata, source and target in three different databases. Every scenario ends in an
// exact compare of the target with the source (count plus md5 over every column of every row).
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointRow,
  createFactSource,
  createFactTarget,
  FACT_TARGET_COLUMNS,
  registerMapping,
  runs,
} from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { conurlFor, PG_PASSWORD_ENV, tableDigest, withClient } from '../support/postgres';

let h: Harness;
const SMALL = 30_000;

beforeAll(async () => {
  // Batches of the fault scenarios must not outlive this start-to-close timeout.
  h = await openHarness('key', { DMS_BATCH_TIMEOUT_MS: '4000' });
  await createFactSource(h.dbs.source, 200_000, 'sales');
  await createFactSource(h.dbs.source, SMALL, 'sales_small');
});

afterAll(async () => {
  await h?.close();
});

/** A fresh target table and mapping named after the scenario. */
async function scenario(mapref: string, opts: { rows?: 'big' | 'small'; batchSize?: number } = {}) {
  const table = `t_${mapref.toLowerCase()}`;
  const big = opts.rows === 'big';
  await createFactTarget(h.dbs.target, table);
  await registerMapping(h.dbs, {
    mapref,
    batchSize: opts.batchSize ?? (big ? 1000 : 500),
    srcquery: `SELECT * FROM ${big ? 'sales' : 'sales_small'}`,
    trgtbnm: table.toUpperCase(),
  });
  return {
    table,
    start: (workflowId = `dms-${mapref}`) =>
      h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId, args: [{ mapref }] }),
    batches: async () => (await checkpointRow(h.dbs.target, mapref))?.batchcnt ?? 0,
    async expectExact() {
      const source = await tableDigest(h.dbs.source, big ? 'sales' : 'sales_small', 'sale_id');
      const target = await tableDigest(h.dbs.target, table, 'sale_id');
      expect(target.count).toBe(source.count);
      expect(target.md5).toBe(source.md5);
    },
  };
}

async function targetCount(table: string): Promise<number> {
  return withClient(h.dbs.target, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
}

describe('KEY load, exactly once', () => {
  it('finishes exactly after the worker is SIGKILLed mid-run', async () => {
    const s = await scenario('KILL', { rows: 'big' });
    const first = await h.startWorker();
    const handle = await s.start();
    await waitUntil('3 batches', async () => (await s.batches()) >= 3);
    await first.kill('SIGKILL');
    expect((await checkpointRow(h.dbs.target, 'KILL'))!.trgrows).toBeLessThan(200_000);

    const second = await h.startWorker();
    const result = await handle.result();
    expect(result.rows).toBe(200_000);
    await s.expectExact();
    const log = await runs(h.dbs.metadata, 'KILL');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'PC', param1: 'COMPLETED', trgrows: 200_000, batchcnt: 200 });
    await second.kill();
  });

  it('cancels mid-batch: the batch in flight rolls back, the checkpoint is kept, and the next run resumes from it', async () => {
    const s = await scenario('CANCEL');
    // Batch 6 is held open (rows loaded, checkpoint not yet committed) while the cancel arrives.
    const worker = await h.startWorker({
      faults: [{ point: 'beforeCommit', batch: 6, attempt: 1, action: 'stall', ms: 3000 }],
    });
    const handle = await s.start();
    await worker.waitFor(/fault: stall start at beforeCommit of batch 6/);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const [cancelled] = await runs(h.dbs.metadata, 'CANCEL');
    const checkpoint = await checkpointRow(h.dbs.target, 'CANCEL');
    expect(cancelled.status).toBe('CN');
    expect(cancelled.param1).not.toBeNull();
    expect(cancelled.param1).toBe(checkpoint!.chkpnt);
    // No partial batch: the target holds exactly the rows the checkpoint counts.
    expect(await targetCount(s.table)).toBe(checkpoint!.trgrows);
    expect(checkpoint!.trgrows).toBe(2_500);

    const again = await s.start();
    await again.result();
    await s.expectExact();
    const log = await runs(h.dbs.metadata, 'CANCEL');
    expect(log.map((r) => r.status)).toEqual(['CN', 'PC']);
    expect(log[1].resumedfrom).toBe(String(log[0].prcid));
    expect(worker.output()).toContain(`Resuming from checkpoint ${cancelled.param1}`);
    await worker.kill();
  });

  it('does not reload a batch whose worker died after commit, before Temporal heard of it', async () => {
    const s = await scenario('AFTERCOMMIT');
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 3, action: 'kill' }] });
    const handle = await s.start();
    await first.waitFor(/fault: kill at afterCommit of batch 3/);
    await first.kill();
    expect(await s.batches()).toBe(3);

    const second = await h.startWorker();
    await handle.result();
    await s.expectExact();
    // Batch 3 was the first slice's, committed inside the pre-flight activity: its retry
    // finds the checkpoint there and goes on after it.
    expect(second.output()).toMatch(
      /The pre-flight activity ran again \(an earlier attempt failed or timed out\); the checkpoint stands at batch 3, and the run goes on from there/,
    );
    await second.kill();
  });

  it('does not reload a batch whose first attempt stalled past its start-to-close timeout: the fence refuses it when it wakes', async () => {
    const s = await scenario('STALL');
    // Batch 4's first attempt sleeps 12 s before it locks anything. Temporal times it out after
    // 4 s; a second attempt loads batch 4 and the run completes while the first still sleeps.
    const worker = await h.startWorker({
      faults: [{ point: 'beforeLock', batch: 4, attempt: 1, action: 'stall', ms: 12_000 }],
    });
    const handle = await s.start();
    const result = await handle.result();
    expect(result).toMatchObject({ rows: SMALL, batches: SMALL / 500 });
    expect(worker.output()).not.toMatch(/fault: stall end at beforeLock of batch 4 attempt 1/);
    const ended = await checkpointRow(h.dbs.target, 'STALL');

    // The zombie attempt wakes after the run ended: the ownership fence refuses it, and it
    // writes nothing (the target has no primary key, so a batch loaded twice would show).
    await worker.waitFor(/fault: stall end at beforeLock of batch 4 attempt 1/, 30_000);
    const [run] = await runs(h.dbs.metadata, 'STALL');
    await worker.waitFor(
      new RegExp(
        `Run ${run.prcid} of mapping STALL no longer owns the mapping \\(the checkpoint row now belongs to run ${run.prcid}, epoch ${ended!.epoch}\\); it wrote nothing`,
      ),
      10_000,
    );
    expect(await checkpointRow(h.dbs.target, 'STALL')).toEqual(ended);
    await s.expectExact();
    expect(await runs(h.dbs.metadata, 'STALL')).toMatchObject([
      { status: 'PC', param1: 'COMPLETED', trgrows: SMALL, batchcnt: SMALL / 500 },
    ]);
    await worker.kill();
  });

  it('fences an attempt of a terminated run once a new run has taken the mapping over', async () => {
    const s = await scenario('TERM');
    const worker = await h.startWorker({
      faults: [{ point: 'beforeLock', batch: 4, attempt: 1, action: 'stall', ms: 6000 }],
    });
    const a = await s.start('dms-TERM-a');
    await worker.waitFor(/fault: stall start at beforeLock of batch 4 attempt 1/);
    await a.terminate('test: terminate while an attempt is in flight');

    const b = await s.start('dms-TERM-b');
    await b.result();
    await worker.waitFor(/fault: stall end at beforeLock of batch 4 attempt 1/, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    await s.expectExact();
    const log = await runs(h.dbs.metadata, 'TERM');
    expect(log.map((r) => [r.wfid, r.status])).toEqual([
      ['dms-TERM-a', 'FL'],
      ['dms-TERM-b', 'PC'],
    ]);
    expect(log[0].lasterr).toMatch(/abandoned: workflow dms-TERM-a no longer runs/);
    expect(log[1].resumedfrom).toBe(String(log[0].prcid));
    expect(worker.output()).toMatch(/no longer owns the mapping/);
    await worker.kill();
  });

  it('mirrors DMS_PRCLOG inside each batch transaction when the target is the metadata database, through a kill', async () => {
    await withClient(h.dbs.metadata, async (c) => {
      await c.query(`CREATE TABLE t_same (${FACT_TARGET_COLUMNS})`);
      await c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('META', 'POSTGRES', $1, $2) ON CONFLICT DO NOTHING`,
        [conurlFor(h.dbs.metadata), PG_PASSWORD_ENV],
      );
    });
    await registerMapping(h.dbs, {
      mapref: 'SAMEDB',
      batchSize: 500,
      srcquery: 'SELECT * FROM sales_small',
      trgtbnm: 'T_SAME',
      columns: { trgconid: 'META' },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 4, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-SAMEDB',
      args: [{ mapref: 'SAMEDB' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 4/);
    await first.kill();
    // The batch in flight rolled back with its PARAM1: both stand at batch 3.
    const [run] = await runs(h.dbs.metadata, 'SAMEDB');
    const checkpoint = await withClient(
      h.dbs.metadata,
      async (c) => (await c.query(`SELECT chkpnt, batchcnt FROM public.dms_chkpnt WHERE mapref = 'SAMEDB'`)).rows[0],
    );
    expect(Number(checkpoint.batchcnt)).toBe(3);
    expect(run).toMatchObject({ batchcnt: 3, param1: checkpoint.chkpnt });

    const second = await h.startWorker();
    await handle.result();
    expect(h.workerOutput()).toContain(
      "Mapping SAMEDB: the target is the metadata database; DMS_PRCLOG moves in each batch's transaction",
    );
    const source = await tableDigest(h.dbs.source, 'sales_small', 'sale_id');
    expect(await tableDigest(h.dbs.metadata, 't_same', 'sale_id')).toEqual(source);
    expect((await runs(h.dbs.metadata, 'SAMEDB'))[0]).toMatchObject({
      status: 'PC',
      param1: 'COMPLETED',
      trgrows: SMALL,
    });
    await second.kill();
  });

  it('refuses a second concurrent start of a mapping without touching DMS_PRCLOG', async () => {
    const s = await scenario('CONC');
    const worker = await h.startWorker();
    const [x, y] = await Promise.all([s.start('dms-CONC-x'), s.start('dms-CONC-y')]);
    const outcomes = await Promise.allSettled([x.result(), y.result()]);
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const cause = (refused[0].reason as WorkflowFailedError).cause?.cause as Error | undefined;
    const winner = outcomes[0].status === 'fulfilled' ? 'dms-CONC-x' : 'dms-CONC-y';
    expect(cause?.message).toMatch(new RegExp(`Mapping CONC is busy: run \\d+ of workflow ${winner} is still running`));
    const log = await runs(h.dbs.metadata, 'CONC');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ wfid: winner, status: 'PC' });
    await s.expectExact();
    await worker.kill();
  });
});
