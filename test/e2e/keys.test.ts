// KEY on real keys, end to end: ties (with and without a tie-breaker), composite keys,
// bigint past 2^53, timestamp/date keys in a worker whose time zone has daylight saving,
// microsecond timestamptz keys, non-ASCII text, NULL keys. Each ends in an exact compare.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';

let h: Harness;

beforeAll(async () => {
  // Every worker of this file runs in a time zone with daylight saving: no key may pass through it.
  h = await openHarness('keys', { TZ: 'America/Sao_Paulo' });
});

afterAll(async () => {
  await h?.close();
});

/** Creates the same table in source and target, fills the source with `fill`. */
async function tables(name: string, columns: string, fill: string, targetColumns = columns): Promise<void> {
  await withClient(h.dbs.source, async (c) => {
    await c.query(`CREATE TABLE ${name} (${columns})`);
    await c.query(fill);
  });
  await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE ${name} (${targetColumns})`));
}

async function load(
  mapref: string,
  table: string,
  key: string,
  batchSize: number,
  columns: Record<string, string | number | null> = {},
) {
  await registerMapping(h.dbs, {
    mapref,
    batchSize,
    srcquery: `SELECT * FROM ${table}`,
    trgtbnm: table,
    chkpntcolumn: key,
    columns,
  });
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

async function expectExact(table: string, orderBy: string) {
  const source = await tableDigest(h.dbs.source, table, orderBy);
  const target = await tableDigest(h.dbs.target, table, orderBy);
  expect(source.count).toBeGreaterThan(0);
  expect(target).toEqual(source);
}

describe('non-unique keys', () => {
  it('keeps 1,000 rows sharing one timestamp in one batch, through a worker kill inside it', async () => {
    // No primary key: nothing can break the ties, so the batch must take them whole.
    await tables(
      'ties',
      'id bigint, modified timestamp, payload text',
      `INSERT INTO ties
       SELECT g, CASE WHEN g <= 500 THEN timestamp '2026-03-01' + g * interval '1 second'
                      WHEN g <= 1500 THEN timestamp '2026-03-02 12:00:00'
                      ELSE timestamp '2026-03-03' + g * interval '1 second' END,
              'row ' || g
         FROM generate_series(1, 2000) g`,
    );
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'kill' }] });
    const handle = await load('TIES', 'ties', 'MODIFIED', 100);
    await first.waitFor(/fault: kill at beforeCommit of batch 6/);
    await first.kill();
    const before = await checkpointRow(h.dbs.target, 'TIES');
    expect(before).toMatchObject({ batchcnt: 5, trgrows: 500 });

    const second = await h.startWorker();
    await handle.result();
    await expectExact('ties', 'id');
    expect(h.workerOutput()).toContain('Largest run of equal keys kept in one batch: 1000 rows (batch 6)');
    expect(h.workerOutput()).toContain('key (modified) is not known to be unique');
    const after = await checkpointRow(h.dbs.target, 'TIES');
    expect(after).toMatchObject({ batchcnt: 11, trgrows: 2000 });
    await second.kill();
  });

  it("breaks ties with the source table's primary key, so batches stay at BULKLMT", async () => {
    await tables(
      'ties_pk',
      'id bigint PRIMARY KEY, modified timestamp NOT NULL, payload text',
      `INSERT INTO ties_pk SELECT g, timestamp '2026-03-02' + (g / 300) * interval '1 hour', 'row ' || g FROM generate_series(1, 3000) g`,
    );
    const worker = await h.startWorker();
    const handle = await load('TIESPK', 'ties_pk', 'MODIFIED', 100);
    const result = await handle.result();
    await expectExact('ties_pk', 'id');
    expect(result.batches).toBe(30);
    expect(h.workerOutput()).toContain('key (modified) is not unique; ties are broken by (id)');
    expect((await checkpointRow(h.dbs.target, 'TIESPK'))!.chkpnt).toBe('["2026-03-02 10:00:00","3000"]');
    await worker.kill();
  });
});

describe('key types', () => {
  let worker: Awaited<ReturnType<Harness['startWorker']>>;

  beforeAll(async () => {
    worker = await h.startWorker();
  });

  afterAll(async () => {
    await worker?.kill();
  });

  it('loads a composite key', async () => {
    await tables(
      'orders',
      'region_id text, order_id int, amount numeric(20,6), PRIMARY KEY (region_id, order_id)',
      `INSERT INTO orders SELECT r, g, g / 7.0 FROM unnest(ARRAY['EU','US','APAC','LATAM']) r, generate_series(1, 1500) g`,
    );
    const result = await (await load('COMPOSITE', 'orders', 'REGION_ID, ORDER_ID', 250)).result();
    await expectExact('orders', 'region_id, t.order_id');
    expect(result.rows).toBe(6000);
    expect((await runs(h.dbs.metadata, 'COMPOSITE'))[0].param1).toBe('COMPLETED');
    expect((await checkpointRow(h.dbs.target, 'COMPOSITE'))!.chkpnt).toBe('["US","1500"]');
  });

  it('keeps bigint keys past 2^53 exact', async () => {
    await tables(
      'big_keys',
      'id bigint PRIMARY KEY, v text',
      `INSERT INTO big_keys SELECT 9007199254740992 + g, 'v' || g FROM generate_series(-500, 500) g`,
    );
    await (await load('BIGINT', 'big_keys', 'ID', 100)).result();
    await expectExact('big_keys', 'id');
    // Every step near 2^53 differs by one: a JavaScript number would have merged neighbours.
    expect((await checkpointRow(h.dbs.target, 'BIGINT'))!.chkpnt).toBe('9007199254741492');
  });

  it('keeps numeric keys with more digits than a double holds exact', async () => {
    await tables(
      'amounts',
      'amount numeric(50,20) PRIMARY KEY, n int',
      `INSERT INTO amounts SELECT 12345678901234567890.00000000000000000001 * g + g / 3.0, g FROM generate_series(1, 700) g`,
    );
    await (await load('NUMERIC', 'amounts', 'AMOUNT', 64)).result();
    await expectExact('amounts', 'amount');
    const max = await withClient(
      h.dbs.source,
      async (c) => (await c.query('SELECT max(amount)::text AS m FROM amounts')).rows[0].m,
    );
    expect(max).toMatch(/^8641975230864197523233\.\d{20}$/);
    expect((await checkpointRow(h.dbs.target, 'NUMERIC'))!.chkpnt).toBe(max);
  });

  it('keeps timestamp and date keys exact around daylight-saving changes, in a worker under TZ=America/Sao_Paulo', async () => {
    // Sao Paulo skipped 2018-11-04 00:00-01:00 and repeated 2019-02-16 23:00-24:00.
    await tables(
      'dst',
      'ts timestamp PRIMARY KEY, d date NOT NULL, note text',
      `INSERT INTO dst
       SELECT t, t::date, 'at ' || t
         FROM (SELECT timestamp '2018-11-03 22:00:00.000001' + g * interval '7 minutes 0.000001 seconds' AS t FROM generate_series(0, 60) g
               UNION ALL
               SELECT timestamp '2019-02-16 21:30:00.5' + g * interval '5 minutes' FROM generate_series(0, 60) g) s`,
    );
    await (await load('TSKEY', 'dst', 'TS', 9)).result();
    await expectExact('dst', 'ts');
    await withClient(h.dbs.target, (c) => c.query('TRUNCATE dst'));
    await (await load('DATEKEY', 'dst', 'D', 10)).result();
    await expectExact('dst', 'ts');
    expect((await checkpointRow(h.dbs.target, 'DATEKEY'))!.chkpnt).toBe('["2019-02-17","2019-02-17 02:30:00.5"]');
  });

  it('keeps timestamptz keys that differ by one microsecond apart', async () => {
    await tables(
      'micro',
      'at timestamptz PRIMARY KEY, n int',
      `INSERT INTO micro SELECT timestamptz '2026-10-25 00:59:59.999+01' + g * interval '1 microsecond', g FROM generate_series(1, 1000) g`,
    );
    await (await load('MICRO', 'micro', 'AT', 7)).result();
    await expectExact('micro', 'at');
    // 23:59:59.999 UTC plus 1,000 microseconds, printed exactly as PostgreSQL prints it.
    expect((await checkpointRow(h.dbs.target, 'MICRO'))!.chkpnt).toBe('2026-10-25 00:00:00+00');
  });

  it('loads a text key with non-ASCII values in the database collation order', async () => {
    await tables(
      'words',
      'w text PRIMARY KEY, n int',
      `INSERT INTO words
       SELECT prefix || ' ' || g, g
         FROM unnest(ARRAY['Ärger', 'zebra', 'Ångström', '日本語', 'émile', 'Zoë', 'a b', 'A', 'ß', 'Ωmega', '🙂']) prefix,
              generate_series(1, 90) g`,
    );
    await (await load('TEXTKEY', 'words', 'W', 37)).result();
    await expectExact('words', 'w');
  });
});

describe('NULL keys', () => {
  it('refuses a run whose key column has NULLs, naming the column, the count and the fix, and loads nothing', async () => {
    await tables(
      'nullish',
      'id int, v text',
      `INSERT INTO nullish SELECT CASE WHEN g % 100 = 0 THEN NULL ELSE g END, 'v' || g FROM generate_series(1, 1000) g`,
    );
    const worker = await h.startWorker();
    const handle = await load('NULLS', 'nullish', 'ID', 100);
    const message = await failureOf(handle);
    expect(message).toBe(
      `Mapping NULLS: CHKPNTCOLUMN has NULL values: 10 source row(s) have NULL in "id", and a keyset never selects them, so they would be silently skipped. ` +
        `Fix: filter them out in SRCQUERY (WHERE id IS NOT NULL), fill them in the source, or set CHKPNTNULLS = 'FIRST' to load them in a first phase before the keyed batches`,
    );
    expect(
      await withClient(h.dbs.target, async (c) => (await c.query('SELECT count(*)::int AS n FROM nullish')).rows[0].n),
    ).toBe(0);

    // Opt in: the NULL-key rows load first, then the keyed batches.
    await registerMapping(h.dbs, {
      mapref: 'NULLS2',
      batchSize: 100,
      srcquery: 'SELECT * FROM nullish',
      trgtbnm: 'nullish',
      chkpntcolumn: 'ID',
      columns: { chkpntnulls: 'FIRST' },
    });
    const result = await (
      await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-NULLS2',
        args: [{ mapref: 'NULLS2' }],
      })
    ).result();
    expect(result.rows).toBe(1000);
    const source = await withClient(
      h.dbs.source,
      async (c) => (await c.query(`SELECT md5(string_agg(t::text, ',' ORDER BY v)) AS m FROM nullish t`)).rows[0].m,
    );
    const target = await withClient(
      h.dbs.target,
      async (c) => (await c.query(`SELECT md5(string_agg(t::text, ',' ORDER BY v)) AS m FROM nullish t`)).rows[0].m,
    );
    expect(target).toBe(source);
    expect(h.workerOutput()).toContain("Loading 10 rows with a NULL key first (CHKPNTNULLS = 'FIRST')");
    await worker.kill();
  });
});

describe('source and target in one database', () => {
  async function oneDatabase(table: string): Promise<void> {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ${table} (id bigint, ts timestamp, note text)`);
      // 250 rows share each timestamp (the first group 249, the last one 1): 13 runs of ties.
      await c.query(
        `INSERT INTO ${table} SELECT g, timestamp '2026-03-01' + (g / 250) * interval '1 hour', E'row\\t' || g FROM generate_series(1, 3000) g`,
      );
      await c.query(`CREATE INDEX ON ${table} (ts, id)`);
      await c.query(`CREATE TABLE ${table}_copy (id bigint, ts timestamp, note text)`);
    });
  }

  async function expectCopied(table: string) {
    const source = await tableDigest(h.dbs.source, table, 'id');
    expect(source.count).toBe(3000);
    expect(await tableDigest(h.dbs.source, `${table}_copy`, 'id')).toEqual(source);
  }

  it('moves each batch with an INSERT … SELECT inside the database, keeping ties whole, through a kill', async () => {
    await oneDatabase('onedb');
    await registerMapping(h.dbs, {
      mapref: 'ONEDB',
      batchSize: 100,
      srcquery: 'SELECT * FROM onedb',
      trgtbnm: 'ONEDB_COPY',
      chkpntcolumn: 'TS',
      columns: { trgconid: 'SRC' },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 4, action: 'kill' }] });
    const handle = h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-ONEDB',
      args: [{ mapref: 'ONEDB' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 4/);
    await first.kill();
    // Three whole runs of ties committed (249 + 250 + 250), the fourth rolled back.
    expect(await checkpointRow(h.dbs.source, 'ONEDB')).toMatchObject({ batchcnt: 3, trgrows: 749 });
    const second = await h.startWorker();
    expect(await (await handle).result()).toMatchObject({ rows: 3000, batches: 13 });
    await expectCopied('onedb');
    expect(h.workerOutput()).toContain('Mapping ONEDB: ');
    expect(h.workerOutput()).toContain('rows move by INSERT ... SELECT inside the database');
    await second.kill();
  });

  it('merges on TRGKEYCOLS inside the database: twice, and again after source updates, the target equals the source', async () => {
    await oneDatabase('onedb3');
    await withClient(h.dbs.source, (c) => c.query(`ALTER TABLE onedb3_copy ADD PRIMARY KEY (id)`));
    await registerMapping(h.dbs, {
      mapref: 'ONEDB3',
      batchSize: 100,
      srcquery: 'SELECT * FROM onedb3',
      trgtbnm: 'ONEDB3_COPY',
      chkpntcolumn: 'TS',
      columns: { trgconid: 'SRC', loadmode: 'UPSERT', trgkeycols: 'ID' },
    });
    const worker = await h.startWorker();
    const run = async () =>
      (
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-ONEDB3',
          args: [{ mapref: 'ONEDB3' }],
        })
      ).result();
    expect(await run()).toMatchObject({ rows: 3000, batches: 13 });
    expect(await run()).toMatchObject({ rows: 3000, batches: 13 });
    await expectCopied('onedb3');
    await withClient(h.dbs.source, (c) => c.query(`UPDATE onedb3 SET note = 'changed ' || id WHERE id % 7 = 0`));
    await run();
    await expectCopied('onedb3');
    expect(h.workerOutput()).toContain(
      'rows move by INSERT ... SELECT inside the database (source and target are one database), staged and merged on (id)',
    );
    await worker.kill();
  });

  it('keeps SRCQUERY read-only: a function that writes fails the run with nothing written, and one that writes where it may writes nothing', async () => {
    await oneDatabase('onedbw');
    await withClient(h.dbs.source, async (c) => {
      await c.query('CREATE TABLE onedbw_audit (id bigint)');
      await c.query(
        `CREATE FUNCTION onedbw_audited(k bigint) RETURNS bigint VOLATILE LANGUAGE plpgsql AS $$ BEGIN INSERT INTO onedbw_audit VALUES (k); RETURN k; END $$`,
      );
      // Writes only inside a read-write transaction: harmless to every read-only session.
      await c.query(`CREATE FUNCTION onedbw_noted(k bigint) RETURNS bigint VOLATILE LANGUAGE plpgsql AS $$
        BEGIN IF current_setting('transaction_read_only') = 'off' THEN INSERT INTO onedbw_audit VALUES (k); END IF; RETURN k; END $$`);
    });
    const worker = await h.startWorker();
    const audited = async () =>
      withClient(h.dbs.source, async (c) =>
        Number((await c.query('SELECT count(*) AS n FROM onedbw_audit')).rows[0].n),
      );

    await registerMapping(h.dbs, {
      mapref: 'ONEDBW',
      batchSize: 100,
      srcquery: 'SELECT onedbw_audited(id) AS id, ts, note FROM onedbw',
      trgtbnm: 'ONEDBW_COPY',
      chkpntcolumn: 'TS',
      columns: { trgconid: 'SRC' },
    });
    const writes = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-ONEDBW',
      args: [{ mapref: 'ONEDBW' }],
    });
    expect(await failureOf(writes)).toMatch(
      /^Mapping ONEDBW: SRCQUERY tried to change data \(cannot execute INSERT in a read-only transaction \[SQLSTATE 25006\]\): SRCQUERY always runs read-only, .* Fix: call only functions that read/,
    );
    expect(await audited()).toBe(0);
    expect((await tableDigest(h.dbs.source, 'onedbw_copy', 'id')).count).toBe(0);

    // Inside the target's transaction this one would write a row per source row.
    await registerMapping(h.dbs, {
      mapref: 'ONEDBN',
      batchSize: 100,
      srcquery: 'SELECT onedbw_noted(id) AS id, ts, note FROM onedbw',
      trgtbnm: 'ONEDBW_COPY',
      chkpntcolumn: 'TS',
      columns: { trgconid: 'SRC' },
    });
    const noted = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-ONEDBN',
      args: [{ mapref: 'ONEDBN' }],
    });
    expect(await noted.result()).toMatchObject({ rows: 3000 });
    await expectCopied('onedbw');
    expect(await audited()).toBe(0);
    expect(h.workerOutput()).toContain(
      'SRCQUERY calls the volatile function onedbw_noted(bigint), so it runs in a read-only session',
    );
    await worker.kill();
  });

  it('refuses a SRCQUERY that reads its own target table, directly or through a view, before any row moves', async () => {
    await oneDatabase('onedbs');
    await withClient(h.dbs.source, (c) => c.query('CREATE VIEW onedbs_view AS SELECT * FROM onedbs WHERE id > 0'));
    const worker = await h.startWorker();
    for (const [mapref, srcquery] of [
      ['ONEDBS', 'SELECT * FROM onedbs'],
      ['ONEDBV', 'SELECT * FROM onedbs_view'],
    ]) {
      await registerMapping(h.dbs, {
        mapref,
        batchSize: 100,
        srcquery,
        trgtbnm: 'ONEDBS',
        chkpntcolumn: 'TS',
        columns: { trgconid: 'SRC', loadmode: 'TRUNCATE' },
      });
      const handle = await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: `dms-${mapref}`,
        args: [{ mapref }],
      });
      expect(await failureOf(handle)).toBe(
        `Mapping ${mapref}: SRCQUERY reads the target table "public"."onedbs" itself (source and target are one database): the load would read rows it has just written, or with LOADMODE 'TRUNCATE' empty its own source. ` +
          'Fix: load into another table (then rename it), or copy the source rows into a table of their own first and read that',
      );
    }
    // TRUNCATE never ran: the table still holds every row.
    expect((await tableDigest(h.dbs.source, 'onedbs', 'id')).count).toBe(3000);
    await worker.kill();
  });

  it('moves a composite key the same way', async () => {
    await oneDatabase('onedb2');
    await registerMapping(h.dbs, {
      mapref: 'ONEDB2',
      batchSize: 100,
      srcquery: 'SELECT * FROM onedb2',
      trgtbnm: 'ONEDB2_COPY',
      chkpntcolumn: 'TS, ID',
      columns: { trgconid: 'SRC' },
    });
    const worker = await h.startWorker();
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-ONEDB2',
      args: [{ mapref: 'ONEDB2' }],
    });
    expect(await handle.result()).toMatchObject({ rows: 3000, batches: 30 });
    await expectCopied('onedb2');
    expect(h.workerOutput()).toContain('rows move by INSERT ... SELECT inside the database');
    await worker.kill();
  });
});
