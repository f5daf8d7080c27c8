// AUTO, NONE and LOADMODE TRUNCATE end to end, each ending in an exact compare.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';

let h: Harness;
const ROWS = 20_000;

beforeAll(async () => {
  // Every run of this file continues as new every 5 batch activities.
  h = await openHarness('modes', { DMS_BATCHES_PER_EXECUTION: '5' });
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
  expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(
    await tableDigest(h.dbs.source, 'sales', 'sale_id'),
  );
}

describe('AUTO', () => {
  it('picks KEY on the primary key of the one table the source reads, and records it', async () => {
    await createFactTarget(h.dbs.target, 't_auto');
    await registerMapping(h.dbs, {
      mapref: 'AUTO',
      batchSize: 1000,
      trgtbnm: 'T_AUTO',
      columns: { chkpntstrategy: 'AUTO', chkpntcolumn: null },
    });
    const worker = await h.startWorker();
    const handle = await start('AUTO');
    const result = await handle.result();
    expect(result.batches).toBe(20);
    await expectExact('t_auto');
    // 20 batches at 5 per execution: the run crossed several continue-as-new boundaries.
    const last = await h.client.workflow.getHandle('dms-AUTO').describe();
    expect(last.runId).not.toBe(handle.firstExecutionRunId);
    expect(last.raw.workflowExecutionInfo?.firstRunId).toBe(handle.firstExecutionRunId);
    expect(last.historyLength).toBeLessThan(60);
    expect(h.workerOutput()).toContain(
      'Mapping AUTO: AUTO: KEY on (sale_id), the unique key of the one table SRCQUERY reads; key (sale_id) is unique',
    );
    expect((await runs(h.dbs.metadata, 'AUTO'))[0]).toMatchObject({ status: 'PC' });
    const strategy = await withClient(
      h.dbs.metadata,
      async (c) =>
        (await c.query(`SELECT chkpntstrategy FROM dms_prclog WHERE mapref = 'AUTO'`)).rows[0].chkpntstrategy,
    );
    expect(strategy).toBe('KEY');
    await worker.kill();
  });

  it('falls back to ROWCOUNT for a source with no key, and records it', async () => {
    await createFactTarget(h.dbs.target, 't_nokey');
    await registerMapping(h.dbs, {
      mapref: 'AUTONOKEY',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales_nokey',
      trgtbnm: 'T_NOKEY',
      columns: { chkpntstrategy: 'AUTO', chkpntcolumn: null },
    });
    const worker = await h.startWorker();
    await (await start('AUTONOKEY')).result();
    await expectExact('t_nokey');
    expect(h.workerOutput()).toContain(
      'Mapping AUTONOKEY: AUTO: no CHKPNTCOLUMN and no unique key of a single source table, so ROWCOUNT in the order of every returned column',
    );
    const [run] = await runs(h.dbs.metadata, 'AUTONOKEY');
    const strategy = await withClient(
      h.dbs.metadata,
      async (c) =>
        (await c.query(`SELECT chkpntstrategy FROM dms_prclog WHERE prcid = $1`, [run.prcid])).rows[0].chkpntstrategy,
    );
    expect(strategy).toBe('ROWCOUNT');
    await worker.kill();
  });
});

describe('ROWCOUNT', () => {
  it('loads a source with no key through a worker kill, skipping the committed rows in the database', async () => {
    await createFactTarget(h.dbs.target, 't_rowcount');
    await registerMapping(h.dbs, {
      mapref: 'ROWCOUNT',
      batchSize: 700,
      srcquery: 'SELECT * FROM sales_nokey',
      trgtbnm: 'T_ROWCOUNT',
      columns: { chkpntstrategy: 'PYTHON', chkpntcolumn: null },
    });
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 4, action: 'kill' }] });
    const handle = await start('ROWCOUNT');
    await first.waitFor(/fault: kill at afterCommit of batch 4/);
    await first.kill();
    expect(await checkpointRow(h.dbs.target, 'ROWCOUNT')).toMatchObject({ chkpnt: '2800', batchcnt: 4, trgrows: 2800 });

    const second = await h.startWorker();
    const result = await handle.result();
    expect(result.rows).toBe(ROWS);
    await expectExact('t_rowcount');
    // The count never over-counts the short last batch: 20,000 = 28 batches of 700 + 400.
    expect(await checkpointRow(h.dbs.target, 'ROWCOUNT')).toMatchObject({ chkpnt: String(ROWS), batchcnt: 29 });
    expect(h.workerOutput()).toContain('rows move by text COPY from the source, split into batches of whole rows');
    await second.kill();
  });

  it('reads and loads rows decoded where no mover serves (UPSERT), through a worker kill', async () => {
    await withClient(h.dbs.target, (c) =>
      c.query(
        `CREATE TABLE t_rc_upsert (sale_id bigint PRIMARY KEY, store_id int NOT NULL, amount numeric(12,2), sold_at timestamptz, note text)`,
      ),
    );
    await registerMapping(h.dbs, {
      mapref: 'RCUPSERT',
      batchSize: 900,
      srcquery: 'SELECT * FROM sales_nokey',
      trgtbnm: 'T_RC_UPSERT',
      columns: { chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null, loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 3, action: 'kill' }] });
    const handle = await start('RCUPSERT');
    await first.waitFor(/fault: kill at afterCommit of batch 3/);
    await first.kill();
    expect(await checkpointRow(h.dbs.target, 'RCUPSERT')).toMatchObject({ chkpnt: '2700', batchcnt: 3 });
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: 23 });
    await expectExact('t_rc_upsert');
    const summary = h
      .workerOutput()
      .split('\n')
      .find((line) => line.includes('Mapping RCUPSERT: '));
    expect(summary).toContain('ROWCOUNT');
    expect(summary).not.toContain('rows move by');
    await second.kill();
  });

  it('refuses to resume when the source changed under the run', async () => {
    await withClient(h.dbs.source, (c) => c.query('CREATE TABLE sales_moving AS SELECT * FROM sales'));
    await createFactTarget(h.dbs.target, 't_moving');
    await registerMapping(h.dbs, {
      mapref: 'MOVING',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales_moving',
      trgtbnm: 'T_MOVING',
      columns: { chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 2, action: 'kill' }] });
    const handle = await start('MOVING');
    await first.waitFor(/fault: kill at afterCommit of batch 2/);
    await first.kill();
    // A row that sorts before the checkpoint disappears: counting would now skip one row.
    await withClient(h.dbs.source, (c) =>
      c.query('DELETE FROM sales_moving WHERE sale_id = (SELECT min(sale_id) FROM sales_moving)'),
    );
    const second = await h.startWorker();
    expect(await failureOf(handle)).toMatch(
      /^Mapping MOVING: SRCQUERY returned different rows since this run began: row 2000, the last one loaded, is no longer in its place/,
    );
    expect((await tableDigest(h.dbs.target, 't_moving', 'sale_id')).count).toBe(2000);
    await second.kill();
  });

  it('refuses a source whose columns have no order', async () => {
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE t_json (sale_id bigint, payload json)`));
    await registerMapping(h.dbs, {
      mapref: 'JSONROWS',
      batchSize: 1000,
      srcquery: 'SELECT sale_id, to_json(note) AS payload FROM sales_nokey',
      trgtbnm: 'T_JSON',
      columns: { chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    const worker = await h.startWorker();
    expect(await failureOf(await start('JSONROWS'))).toMatch(
      /^Mapping JSONROWS: SRCQUERY returns "payload", whose type has no order, so ROWCOUNT cannot read the rows in a total, repeatable order\. Fix: cast/,
    );
    expect(
      await withClient(h.dbs.target, async (c) => (await c.query('SELECT count(*)::int AS n FROM t_json')).rows[0].n),
    ).toBe(0);
    await worker.kill();
  });
});

describe('NONE', () => {
  it('loads everything in one transaction, so a kill mid-load leaves nothing and the retry loads each row once', async () => {
    await createFactTarget(h.dbs.target, 't_none');
    await registerMapping(h.dbs, {
      mapref: 'NONE',
      batchSize: 1000,
      trgtbnm: 'T_NONE',
      columns: { chkpntstrategy: 'NONE', chkpntcolumn: null, chkpntenabled: 'N' },
    });
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
    await withClient(h.dbs.target, (c) =>
      c.query(`INSERT INTO t_trunc (sale_id, store_id) SELECT -g, 0 FROM generate_series(1, 50) g`),
    );
    await registerMapping(h.dbs, {
      mapref: 'TRUNC',
      batchSize: 1000,
      trgtbnm: 'T_TRUNC',
      columns: { loadmode: 'TRUNCATE' },
    });
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
    await waitUntil(
      'two completed runs',
      async () => (await runs(h.dbs.metadata, 'TRUNC')).filter((r) => r.status === 'PC').length === 2,
    );
    await second.kill();
  });
});

describe('LOADMODE UPSERT', () => {
  it('merges on TRGKEYCOLS: running twice, and again after source updates, leaves the target equal to the source', async () => {
    await withClient(h.dbs.target, (c) =>
      c.query(
        `CREATE TABLE t_upsert (sale_id bigint PRIMARY KEY, store_id int NOT NULL, amount numeric(12,2), sold_at timestamptz, note text)`,
      ),
    );
    await registerMapping(h.dbs, {
      mapref: 'UPSERT',
      batchSize: 1000,
      trgtbnm: 'T_UPSERT',
      columns: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    });
    const worker = await h.startWorker();
    await (await start('UPSERT')).result();
    await (await start('UPSERT')).result();
    await expectExact('t_upsert');
    await withClient(h.dbs.source, (c) => c.query(`UPDATE sales SET note = 'changed' WHERE sale_id % 7 = 0`));
    await (await start('UPSERT')).result();
    await expectExact('t_upsert');
    // Between two PostgreSQL databases the rows travel by COPY into a stage, then merge.
    expect(h.workerOutput()).toMatch(
      /Mapping UPSERT: .*rows move by (binary|text) COPY from the source piped into COPY on the target, staged and merged on \(sale_id\)/,
    );
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
      await c.query(
        `INSERT INTO events SELECT g, timestamp '2026-11-01' + g * interval '1 minute', 'v' || g FROM generate_series(1, 5000) g`,
      );
    });
    // No key on the target: a row loaded by both runs would show as an extra row.
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE events (${columns.replace(' PRIMARY KEY', '')})`));
    await registerMapping(h.dbs, {
      mapref: 'INCR',
      batchSize: 1000,
      srcquery: 'SELECT * FROM events',
      trgtbnm: 'EVENTS',
      chkpntcolumn: 'ID',
      columns: { loadmode: 'INCREMENTAL' },
    });
    const worker = await h.startWorker();
    expect(await (await start('INCR')).result()).toMatchObject({ rows: 5000 });
    await withClient(h.dbs.source, (c) =>
      c.query(
        `INSERT INTO events SELECT g, timestamp '2026-11-01' + g * interval '1 minute', 'v' || g FROM generate_series(5001, 5300) g`,
      ),
    );
    const second = await (await start('INCR')).result();
    expect(second).toMatchObject({ rows: 300 });
    expect(await events('target')).toEqual(await events('source'));
    expect(h.workerOutput()).toContain('Incremental: the last completed run ended at 5000; reading after 5000');
    const log = await runs(h.dbs.metadata, 'INCR');
    expect(log.map((r) => [r.status, r.param1])).toEqual([
      ['PC', 'COMPLETED'],
      ['PC', 'COMPLETED'],
    ]);
    await worker.kill();
  });

  it('re-reads a look-back window on a timestamp key and merges, catching a row that committed late', async () => {
    await withClient(h.dbs.target, (c) =>
      c.query(`CREATE TABLE events_lb (id bigint PRIMARY KEY, at timestamp NOT NULL, v text)`),
    );
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
      c.query(
        `INSERT INTO events VALUES (900001, (SELECT max(at) FROM events) - interval '10 minutes', 'late'), (900002, (SELECT max(at) FROM events) + interval '1 minute', 'new')`,
      ),
    );
    const second = await (await start('LOOKBACK')).result();
    expect(second.rows).toBe(32); // 29 re-read + the late row + the row at the mark + the new row
    const source = await tableDigest(h.dbs.source, 'events', 'id');
    expect(await tableDigest(h.dbs.target, 'events_lb', 'id')).toEqual(source);
    await worker.kill();
  });
});
