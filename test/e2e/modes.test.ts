// AUTO, NONE and LOADMODE TRUNCATE end to end, each ending in an exact compare.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';

let h: Harness;
const ROWS = 20_000;

beforeAll(async () => {
  h = await openHarness('modes');
  await createFactSource(h.dbs.source, ROWS, 'sales');
  await withClient(h.dbs.source, (c) => c.query('CREATE TABLE sales_nokey AS SELECT * FROM sales'));
});

afterAll(async () => {
  await h?.close();
});

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

async function expectExact(table: string) {
  expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(await tableDigest(h.dbs.source, 'sales', 'sale_id'));
}

describe('AUTO', () => {
  it("picks KEY on the primary key of the one table the source reads, and records it", async () => {
    await createFactTarget(h.dbs.target, 't_auto');
    await registerMapping(h.dbs, { mapref: 'AUTO', batchSize: 1000, trgtbnm: 'T_AUTO', columns: { chkpntstrategy: 'AUTO', chkpntcolumn: null } });
    const worker = await h.startWorker();
    const result = await (await start('AUTO')).result();
    expect(result.batches).toBe(20);
    await expectExact('t_auto');
    expect(h.workerOutput()).toContain('Mapping AUTO: AUTO: KEY on (sale_id), the unique key of the one table SRCQUERY reads; key (sale_id) is unique');
    expect((await runs(h.dbs.metadata, 'AUTO'))[0]).toMatchObject({ status: 'PC' });
    const strategy = await withClient(h.dbs.metadata, async (c) => (await c.query(`SELECT chkpntstrategy FROM dms_prclog WHERE mapref = 'AUTO'`)).rows[0].chkpntstrategy);
    expect(strategy).toBe('KEY');
    await worker.kill();
  });

  it('refuses, before any row moves, a source with no key it can use', async () => {
    await createFactTarget(h.dbs.target, 't_nokey');
    await registerMapping(h.dbs, { mapref: 'AUTONOKEY', batchSize: 1000, srcquery: 'SELECT * FROM sales_nokey', trgtbnm: 'T_NOKEY', columns: { chkpntstrategy: 'AUTO', chkpntcolumn: null } });
    const worker = await h.startWorker();
    const err = await (await start('AUTONOKEY')).result().then(() => undefined, (e: { cause?: { cause?: Error } }) => e.cause?.cause);
    expect(err?.message).toMatch(/^Mapping AUTONOKEY: CHKPNTCOLUMN is empty, and SRCQUERY does not read a single table with a primary or unique NOT NULL key .*Fix: /);
    expect((await tableDigest(h.dbs.target, 't_nokey', 'sale_id')).count).toBe(0);
    await worker.kill();
  });
});

describe('NONE', () => {
  it('loads everything in one transaction, so a kill mid-load leaves nothing and the retry loads each row once', async () => {
    await createFactTarget(h.dbs.target, 't_none');
    await registerMapping(h.dbs, { mapref: 'NONE', batchSize: 1000, trgtbnm: 'T_NONE', columns: { chkpntstrategy: 'NONE', chkpntcolumn: null, chkpntenabled: 'N' } });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 1, action: 'kill' }] });
    const handle = await start('NONE');
    await first.waitFor(/fault: kill at beforeCommit of batch 1/);
    await first.kill();
    expect((await tableDigest(h.dbs.target, 't_none', 'sale_id')).count).toBe(0);

    const second = await h.startWorker();
    const result = await handle.result();
    expect(result).toMatchObject({ rows: ROWS, batches: 1 });
    await expectExact('t_none');
    expect((await runs(h.dbs.metadata, 'NONE'))[0]).toMatchObject({ status: 'PC', param1: 'COMPLETED' });
    await second.kill();
  });
});

describe('LOADMODE TRUNCATE', () => {
  it('empties the target on a fresh start only: a kill mid-run keeps the rows loaded before it', async () => {
    await createFactTarget(h.dbs.target, 't_trunc');
    await withClient(h.dbs.target, (c) => c.query(`INSERT INTO t_trunc (sale_id, store_id) SELECT -g, 0 FROM generate_series(1, 50) g`));
    await registerMapping(h.dbs, { mapref: 'TRUNC', batchSize: 1000, trgtbnm: 'T_TRUNC', columns: { loadmode: 'TRUNCATE' } });
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 3, action: 'kill' }] });
    const handle = await start('TRUNC');
    await first.waitFor(/fault: kill at afterCommit of batch 3/);
    await first.kill();
    // The rows that were there are gone; the three committed batches stay.
    expect((await tableDigest(h.dbs.target, 't_trunc', 'sale_id')).count).toBe(3000);

    const second = await h.startWorker();
    await handle.result();
    await expectExact('t_trunc');
    expect(await checkpointRow(h.dbs.target, 'TRUNC')).toMatchObject({ trgrows: ROWS });

    // A new run after a completed one is a fresh start: it truncates again, no duplicates.
    await (await start('TRUNC')).result();
    await expectExact('t_trunc');
    await waitUntil('two completed runs', async () => (await runs(h.dbs.metadata, 'TRUNC')).filter((r) => r.status === 'PC').length === 2);
    await second.kill();
  });
});

describe('LOADMODE UPSERT', () => {
  it('merges on TRGKEYCOLS: running twice, and again after source updates, leaves the target equal to the source', async () => {
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE t_upsert (sale_id bigint PRIMARY KEY, store_id int NOT NULL, amount numeric(12,2), sold_at timestamptz, note text)`));
    await registerMapping(h.dbs, { mapref: 'UPSERT', batchSize: 1000, trgtbnm: 'T_UPSERT', columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' } });
    const worker = await h.startWorker();
    await (await start('UPSERT')).result();
    await (await start('UPSERT')).result();
    await expectExact('t_upsert');
    await withClient(h.dbs.source, (c) => c.query(`UPDATE sales SET note = 'changed' WHERE sale_id % 7 = 0`));
    await (await start('UPSERT')).result();
    await expectExact('t_upsert');
    await worker.kill();
  });
});

describe('LOADMODE INCREMENTAL', () => {
  async function events(where: 'source' | 'target') {
    return tableDigest(where === 'source' ? h.dbs.source : h.dbs.target, 'events', 'id');
  }

  it("starts each run after the last completed run's high-water mark", async () => {
    const columns = 'id bigint PRIMARY KEY, at timestamp NOT NULL, v text';
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE events (${columns})`);
      await c.query(`INSERT INTO events SELECT g, timestamp '2026-11-01' + g * interval '1 minute', 'v' || g FROM generate_series(1, 5000) g`);
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE events (${columns})`));
    await registerMapping(h.dbs, { mapref: 'INCR', batchSize: 1000, srcquery: 'SELECT * FROM events', trgtbnm: 'EVENTS', chkpntcolumn: 'ID', columns: { loadmode: 'INCREMENTAL' } });
    const worker = await h.startWorker();
    expect(await (await start('INCR')).result()).toMatchObject({ rows: 5000 });
    await withClient(h.dbs.source, (c) => c.query(`INSERT INTO events SELECT g, timestamp '2026-11-01' + g * interval '1 minute', 'v' || g FROM generate_series(5001, 5300) g`));
    const second = await (await start('INCR')).result();
    expect(second).toMatchObject({ rows: 300 });
    expect(await events('target')).toEqual(await events('source'));
    expect(h.workerOutput()).toContain('Incremental: the last completed run ended at 5000; reading after 5000');
    const log = await runs(h.dbs.metadata, 'INCR');
    expect(log.map((r) => [r.status, r.param1])).toEqual([['PC', 'COMPLETED'], ['PC', 'COMPLETED']]);
    await worker.kill();
  });

  it('re-reads a look-back window on a timestamp key and merges, catching a row that committed late', async () => {
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE events_lb (id bigint PRIMARY KEY, at timestamp NOT NULL, v text)`));
    await registerMapping(h.dbs, {
      mapref: 'LOOKBACK',
      batchSize: 500,
      srcquery: 'SELECT * FROM events',
      trgtbnm: 'EVENTS_LB',
      chkpntcolumn: 'AT',
      columns: { loadmode: 'INCREMENTAL', chkpntlookback: '30 minutes', trgkeycols: 'ID' },
    });
    const worker = await h.startWorker();
    await (await start('LOOKBACK')).result();
    // A row stamped 10 minutes before the high-water mark commits only now, with a new row.
    await withClient(h.dbs.source, (c) =>
      c.query(`INSERT INTO events VALUES (900001, (SELECT max(at) FROM events) - interval '10 minutes', 'late'), (900002, (SELECT max(at) FROM events) + interval '1 minute', 'new')`),
    );
    const second = await (await start('LOOKBACK')).result();
    expect(second.rows).toBe(32); // 29 re-read + the late row + the row at the mark + the new row
    const source = await tableDigest(h.dbs.source, 'events', 'id');
    expect(await tableDigest(h.dbs.target, 'events_lb', 'id')).toEqual(source);
    await worker.kill();
  });
});
