// MariaDB as a source, end to end: the real MariaDB server (a user with a password from
// PWDENV), a real Temporal dev server and worker, PostgreSQL as the target. Each load ends in
// a value-by-value compare through a canonical text computed on each side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, selectsOf, type TestMariaDb } from '../support/mariadb';
import { expandValues, rangeSql } from '../../dialects/mariadb/mariadb-sql';
import { mariadbDialect } from '../../dialects/mariadb/mariadb-dialect';
import type { RowValue } from '../../dialects';
import { withClient } from '../support/postgres';

const ROWS = 20_000;
const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';

let h: Harness;
let m: TestMariaDb;

/** Each row as one text, the same on both sides: NULL apart from '', every digit and microsecond kept. */
async function mariadbRows(table: string): Promise<string[]> {
  const rows = await m.query<{ t: string }[]>(
    `SELECT CONCAT_WS('|', sale_id, region, IFNULL(amount, '<null>'), IFNULL(big, '<null>'),
            IFNULL(DATE_FORMAT(sold_at, '%Y-%m-%d %H:%i:%s.%f'), '<null>'), IFNULL(day, '<null>'),
            IFNULL(note, '<null>'), IFNULL(LPAD(BIN(flags), 5, '0'), '<null>'), IFNULL(payload, '<null>'), IFNULL(LOWER(HEX(raw)), '<null>'),
            IFNULL(DATE_FORMAT(at_time, '%H:%i:%s.%f'), '<null>'), IFNULL(yr, '<null>'), IFNULL(mood, '<null>'), IFNULL(tags, '<null>')) AS t
       FROM ${table} ORDER BY sale_id`,
  );
  return rows.map((r) => r.t);
}

async function postgresRows(table: string): Promise<string[]> {
  return withClient(h.dbs.target, async (c) => {
    const { rows } = await c.query<{ t: string }>(
      `SELECT concat_ws('|', sale_id, region, coalesce(amount::text, '<null>'), coalesce(big::text, '<null>'),
              coalesce(to_char(sold_at, 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'), coalesce(day::text, '<null>'),
              coalesce(note, '<null>'), coalesce(flags::text, '<null>'), coalesce(payload::text, '<null>'), coalesce(encode(raw, 'hex'), '<null>'),
              coalesce(to_char(timestamp '2000-01-01' + at_time, 'HH24:MI:SS.US'), '<null>'), coalesce(yr::text, '<null>'), coalesce(mood, '<null>'), coalesce(tags, '<null>')) AS t
         FROM ${table} ORDER BY sale_id`,
    );
    return rows.map((r) => r.t);
  });
}

async function target(table: string): Promise<void> {
  // No key: a batch loaded twice would show.
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE ${table} (sale_id numeric(20) NOT NULL, region varchar(8) NOT NULL, amount numeric(65,30), big numeric(20), sold_at timestamp(6), day date, note text, flags bit(5), payload json, raw bytea, at_time time(6), yr int, mood text, tags text)`,
    ),
  );
}

beforeAll(async () => {
  m = await createMariaDb('src');
  h = await openHarness('mdb', { [PASSWORD_ENV]: m.password });
  await m.query(`
    CREATE TABLE sales (
      sale_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
      region VARCHAR(8) NOT NULL,
      amount DECIMAL(65,30),
      big BIGINT UNSIGNED,
      sold_at DATETIME(6),
      day DATE,
      note VARCHAR(100),
      flags BIT(5),
      payload JSON,
      raw VARBINARY(16),
      at_time TIME(6),
      yr YEAR,
      mood ENUM('sad', 'ok', 'happy'),
      tags SET('a', 'b', 'c'),
      KEY region_sale (region, sale_id)
    ) ENGINE=InnoDB;
    INSERT INTO sales
    SELECT seq * 3, ELT(1 + seq % 4, 'eu', 'us', 'ap', 'ÜBER'),
           CAST(CONCAT(seq, '.', LPAD(seq % 1000, 30, '7')) AS DECIMAL(65,30)),
           18446744073709551615 - seq,
           TIMESTAMP'2026-01-01 00:00:00.000001' + INTERVAL seq * 1001 MICROSECOND,
           DATE'2000-02-29' + INTERVAL seq DAY,
           CASE seq % 10 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE CONCAT('n', seq, ' 𝄞 ünï\\ttab') END,
           seq % 32,
           JSON_OBJECT('seq', seq, 's', CONCAT('x', seq)),
           IF(seq % 13 = 0, NULL, UNHEX(LPAD(HEX(seq), 8, '0'))),
           SEC_TO_TIME(seq * 4 + 0.000001 * (seq % 1000)),
           1901 + seq % 255,
           ELT(1 + seq % 3, 'sad', 'ok', 'happy'),
           ELT(1 + seq % 4, '', 'a', 'a,c', 'a,b,c')
      FROM seq_1_to_${ROWS};`);
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

describe('MariaDB as a source', () => {
  it('loads KEY into PostgreSQL exactly, value by value, through a worker SIGKILL', async () => {
    await target('t_mdb_key');
    await registerMapping(h.dbs, {
      mapref: 'MDBKEY',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_KEY',
      columns: { srcconid: 'MDB' },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBKEY',
      args: [{ mapref: 'MDBKEY' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 6/);
    await first.kill();
    expect(await checkpointRow(h.dbs.target, 'MDBKEY')).toMatchObject({ batchcnt: 5, trgrows: 5000, chkpnt: '15000' });
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: ROWS / 1000 });
    const source = await mariadbRows('sales');
    expect(source).toHaveLength(ROWS);
    expect(await postgresRows('t_mdb_key')).toEqual(source);
    // Batch 6 was the first slice's, in the pre-flight activity: its retry went on from batch 5.
    expect(h.workerOutput()).toContain('the checkpoint stands at batch 5, and the run goes on from there');
    expect(await runs(h.dbs.metadata, 'MDBKEY')).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
    await second.kill();
  });

  it('loads a composite key (region, sale_id) exactly through a worker SIGKILL, ties of region split by sale_id', async () => {
    await target('t_mdb_comp');
    await registerMapping(h.dbs, {
      mapref: 'MDBCOMP',
      batchSize: 700,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_COMP',
      chkpntcolumn: 'REGION, SALE_ID',
      columns: { srcconid: 'MDB' },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 9, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBCOMP',
      args: [{ mapref: 'MDBCOMP' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 9/);
    await first.kill();
    // Killed with batch 9 uncommitted: the checkpoint is batch 8's composite key.
    expect(await checkpointRow(h.dbs.target, 'MDBCOMP')).toMatchObject({ batchcnt: 8, trgrows: 5600 });
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: Math.ceil(ROWS / 700) });
    expect(await postgresRows('t_mdb_comp')).toEqual(await mariadbRows('sales'));
    await second.kill();
  });

  it('loads a composite key in 3 key ranges at once, each bounded by its end', async () => {
    await target('t_mdb_parts');
    await registerMapping(h.dbs, {
      mapref: 'MDBPARTS',
      batchSize: 800,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_PARTS',
      chkpntcolumn: 'REGION, SALE_ID',
      columns: { srcconid: 'MDB', partitions: 3 },
    });
    const worker = await h.startWorker();
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBPARTS',
      args: [{ mapref: 'MDBPARTS' }],
    });
    expect(await handle.result()).toMatchObject({ rows: ROWS });
    expect(await postgresRows('t_mdb_parts')).toEqual(await mariadbRows('sales'));
    // The split points are composite keys of rows, as MariaDB prints them.
    const ranges = await withClient(
      h.dbs.metadata,
      async (c) =>
        (await c.query(`SELECT partno, uptokey, trgrows FROM dms_prcpart WHERE partno > 0 ORDER BY partno`)).rows,
    );
    expect(ranges.map((r) => r.uptokey)).toEqual([
      expect.stringMatching(/^\["\w+","\d+"\]$/),
      expect.stringMatching(/^\["\w+","\d+"\]$/),
      null,
    ]);
    expect(ranges.reduce((n, r) => n + Number(r.trgrows), 0)).toBe(ROWS);
    await worker.kill();
  });

  it('reads a composite key range through the index: the expanded form, as MariaDB plans it', async () => {
    const key = [
      { name: 'region', cast: null },
      { name: 'sale_id', cast: 'UNSIGNED' },
    ];
    const text = rangeSql('SELECT * FROM sales', key, { hasAfter: true, hasUpTo: true });
    const [plan] = await m.query<{ EXPLAIN: string }[]>(`EXPLAIN FORMAT=JSON ${text}`, [
      ...expandValues(['eu', '3000']),
      ...expandValues(['eu', '9000']),
    ]);
    const block = JSON.parse(plan.EXPLAIN).query_block;
    const table = block.table ?? block.nested_loop?.[0]?.table;
    // A range scan of the (region, sale_id) index over both key parts, not a full scan.
    expect(table).toMatchObject({
      table_name: 'sales',
      access_type: 'range',
      key: 'region_sale',
      used_key_parts: ['region', 'sale_id'],
    });
  });

  it('loads with AUTO (the primary key found in information_schema), then NONE and ROWCOUNT each through a worker SIGKILL, each exactly', async () => {
    const worker = await h.startWorker();
    await target('t_mdb_auto');
    await registerMapping(h.dbs, {
      mapref: 'MDBAUTO',
      batchSize: 1500,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_AUTO',
      columns: { srcconid: 'MDB', chkpntstrategy: 'AUTO', chkpntcolumn: null },
    });
    expect(
      await (
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-MDBAUTO',
          args: [{ mapref: 'MDBAUTO' }],
        })
      ).result(),
    ).toMatchObject({ rows: ROWS });
    expect(h.workerOutput()).toContain('AUTO: KEY on (sale_id), the unique key of the one table SRCQUERY reads');
    expect(await postgresRows('t_mdb_auto')).toEqual(await mariadbRows('sales'));

    await worker.kill();

    // NONE: the whole load in one transaction; a kill before its commit leaves nothing, and the retry loads it all once.
    await target('t_mdb_none');
    await registerMapping(h.dbs, {
      mapref: 'MDBNONE',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_NONE',
      columns: { srcconid: 'MDB', chkpntstrategy: 'NONE', chkpntcolumn: null, chkpntenabled: 'N' },
    });
    const doomed = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 1, action: 'kill' }] });
    const none = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBNONE',
      args: [{ mapref: 'MDBNONE' }],
    });
    await doomed.waitFor(/fault: kill at beforeCommit of batch 1/);
    await doomed.kill();
    expect(
      await withClient(h.dbs.target, async (c) =>
        Number((await c.query('SELECT count(*) AS n FROM t_mdb_none')).rows[0].n),
      ),
    ).toBe(0);
    const after = await h.startWorker();
    expect(await none.result()).toMatchObject({ rows: ROWS });
    expect(await postgresRows('t_mdb_none')).toEqual(await mariadbRows('sales'));
    await after.kill();

    await target('t_mdb_rc');
    await registerMapping(h.dbs, {
      mapref: 'MDBRC',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_RC',
      columns: { srcconid: 'MDB', chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBRC',
      args: [{ mapref: 'MDBRC' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 6/);
    await first.kill();
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: ROWS / 1000 });
    expect(await postgresRows('t_mdb_rc')).toEqual(await mariadbRows('sales'));
    await second.kill();
  });

  it('re-reads a CHKPNTLOOKBACK window on a DATETIME(6) key and merges, catching a row that committed late', async () => {
    await m.query(`CREATE TABLE events (id INT PRIMARY KEY, at DATETIME(6) NOT NULL, v VARCHAR(10));
      INSERT INTO events SELECT seq, TIMESTAMP'2026-01-01 00:00:00.000001' + INTERVAL seq MINUTE, CONCAT('e', seq) FROM seq_1_to_100;`);
    await withClient(h.dbs.target, (c) =>
      c.query('CREATE TABLE t_mdb_events (id bigint PRIMARY KEY, at timestamp(6) NOT NULL, v text)'),
    );
    await registerMapping(h.dbs, {
      mapref: 'MDBLOOK',
      batchSize: 40,
      srcquery: 'SELECT * FROM events',
      trgtbnm: 'T_MDB_EVENTS',
      chkpntcolumn: 'AT',
      columns: { srcconid: 'MDB', loadmode: 'INCREMENTAL', chkpntlookback: '30 minutes', trgkeycols: 'ID' },
    });
    const worker = await h.startWorker();
    const start = () =>
      h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: `dms-MDBLOOK-${Date.now()}`,
        args: [{ mapref: 'MDBLOOK' }],
      });
    expect(await (await start()).result()).toMatchObject({ rows: 100 });
    // A row stamped 10 minutes before the high-water mark commits only now, with a new row.
    await m.query(
      `INSERT INTO events VALUES (1001, TIMESTAMP'2026-01-01 01:30:00.000001', 'late'), (1002, TIMESTAMP'2026-01-01 01:41:00.000001', 'new')`,
    );
    // The mark is minute 100; the window goes back to minute 70: rows 71..100 again, the late one and the new one.
    expect(await (await start()).result()).toMatchObject({ rows: 32 });
    const source = await m.query<{ r: string }[]>(
      `SELECT CONCAT_WS('|', id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), v) AS r FROM events ORDER BY id`,
    );
    const target = await withClient(
      h.dbs.target,
      async (c) =>
        (
          await c.query<{ r: string }>(
            `SELECT concat_ws('|', id, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), v) AS r FROM t_mdb_events ORDER BY id`,
          )
        ).rows,
    );
    expect(target.map((t) => t.r)).toEqual(source.map((s) => s.r));
    expect(source).toHaveLength(102);
    await worker.kill();
  });

  it('takes the batches of a slice from one ordered read, and still loads rows that arrived after its snapshot', async () => {
    await m.query(
      "CREATE TABLE grow (k INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO grow SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000",
    );
    await withClient(h.dbs.target, (c) => c.query('CREATE TABLE t_mdb_grow (k int, v text)'));
    await registerMapping(h.dbs, {
      mapref: 'MDBGROW',
      batchSize: 50,
      srcquery: 'SELECT * FROM grow',
      trgtbnm: 'T_MDB_GROW',
      chkpntcolumn: 'K',
      columns: { srcconid: 'MDB' },
    });
    const selects = () => selectsOf(m.user);
    // Batch 20 is the last of the 1,000 rows; 100 rows arrive after the cursor's snapshot, before the run's end check.
    const worker = await h.startWorker({
      faults: [{ point: 'beforeEndCheck', batch: 20, attempt: 1, action: 'stall', ms: 1500 }],
    });
    const before = await selects();
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBGROW',
      args: [{ mapref: 'MDBGROW' }],
    });
    await worker.waitFor(/fault: stall start at beforeEndCheck of batch 20/);
    const read = (await selects()) - before;
    await m.query("INSERT INTO grow SELECT seq, CONCAT('late ', seq) FROM seq_1001_to_1100");
    expect(await handle.result()).toMatchObject({ rows: 1100, batches: 22 });
    expect(worker.output()).toContain(
      'Mapping MDBGROW: rows arrived after key 1000 during the run; loading them before the run completes',
    );
    const [rows, loaded] = [
      await m.query<{ r: string }[]>("SELECT CONCAT(k, '|', v) AS r FROM grow ORDER BY k"),
      await withClient(
        h.dbs.target,
        async (c) => (await c.query<{ r: string }>("SELECT k || '|' || v AS r FROM t_mdb_grow ORDER BY k")).rows,
      ),
    ];
    expect(loaded.map((x) => x.r)).toEqual(rows.map((x) => x.r));
    // A query for each batch's upper key and one for its rows would be 40 for 20 batches, and
    // 20 more for the checkpoints' proofs (one a batch); the proofs, the planning's queries and
    // the slices' cursors are fewer than 40 (and no fewer than the 20 proofs: the count counts).
    expect(read).toBeLessThan(40);
    expect(read).toBeGreaterThanOrEqual(20);
    await worker.kill();
    // A key order MariaDB would sort (filesort) rather than read from an index: no cursor, each
    // batch reads its own range, as before.
    const source = mariadbDialect.openSource(
      { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
      { lockTimeoutMs: 5_000 },
    );
    try {
      expect(await source.openKeyCursor!({ query: 'SELECT * FROM grow', key: ['v', 'k'] }, null, null, 100)).toBeNull();
      // Keys whose text, bound again, would not compare as ORDER BY sorts them: no cursor either.
      // Each a primary key, which InnoDB reads in order (no filesort): refused for its type alone.
      await m.query(`CREATE TABLE enumkeys (e ENUM('b', 'a', 'c') PRIMARY KEY); INSERT INTO enumkeys VALUES ('b'), ('a');
        CREATE TABLE floatkeys (f FLOAT PRIMARY KEY); INSERT INTO floatkeys VALUES (1.1), (2.2);
        CREATE TABLE binkeys (b VARBINARY(8) PRIMARY KEY); INSERT INTO binkeys VALUES (0x01), (0x02);
        CREATE TABLE strkeys (s VARCHAR(8) PRIMARY KEY); INSERT INTO strkeys VALUES ('x'), ('y');`);
      for (const [table, key] of [
        ['enumkeys', 'e'],
        ['floatkeys', 'f'],
        ['binkeys', 'b'],
      ]) {
        expect(
          await source.openKeyCursor!({ query: `SELECT * FROM ${table}`, key: [key] }, null, null, 100),
          key,
        ).toBeNull();
      }
      const strings = await source.openKeyCursor!({ query: 'SELECT * FROM strkeys', key: ['s'] }, null, null, 100);
      expect(strings).not.toBeNull();
      await strings!.close();
      const cursor = await source.openKeyCursor!({ query: 'SELECT * FROM grow', key: ['k'] }, ['1090'], null, 100);
      expect(await cursor!.ready()).toBe(true);
      await cursor!.close();
    } finally {
      await source.close();
    }
  });

  it('keeps repeated keys in one batch where a join repeats the rows of a keyed table, through a worker SIGKILL', async () => {
    await m.query(`CREATE TABLE keyed (k INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO keyed SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;
      CREATE TABLE pairs (k INT NOT NULL, n INT NOT NULL, PRIMARY KEY (k, n)); INSERT INTO pairs SELECT seq, 1 FROM seq_1_to_100; INSERT INTO pairs SELECT seq, 2 FROM seq_1_to_100;`);
    await withClient(h.dbs.target, (c) => c.query('CREATE TABLE t_mdb_twice (k int, v text)'));
    // Every row of keyed twice (its columns all come from keyed, whose key k is unique): batches of 3 rows
    // would end between two rows of one key; a resume after such a batch would skip the second.
    const twice = 'SELECT g.* FROM keyed g JOIN pairs d ON d.k = g.k';
    await registerMapping(h.dbs, {
      mapref: 'MDBTWICE',
      batchSize: 3,
      srcquery: twice,
      trgtbnm: 'T_MDB_TWICE',
      chkpntcolumn: 'K',
      columns: { srcconid: 'MDB' },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 4, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBTWICE',
      args: [{ mapref: 'MDBTWICE' }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 4/);
    await first.kill();
    // Three batches of 4 rows (2 keys each): the checkpoint at key 6.
    expect(await checkpointRow(h.dbs.target, 'MDBTWICE')).toMatchObject({ batchcnt: 3, trgrows: 12, chkpnt: '6' });
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: 200 });
    const loaded = await withClient(h.dbs.target, async (c) =>
      (await c.query<{ r: string }>("SELECT k || '|' || v AS r FROM t_mdb_twice ORDER BY k, v")).rows.map((x) => x.r),
    );
    const source = (
      await m.query<{ r: string }[]>(`SELECT CONCAT(k, '|', v) AS r FROM (${twice}) s ORDER BY k, v`)
    ).map((x) => x.r);
    expect(source).toHaveLength(200);
    expect(loaded).toEqual(source);
    await second.kill();
  });

  it('keys on BIGINT UNSIGNED values near 2^64 exactly', async () => {
    await target('t_mdb_big');
    await registerMapping(h.dbs, {
      mapref: 'MDBBIG',
      batchSize: 900,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_BIG',
      chkpntcolumn: 'BIG',
      columns: { srcconid: 'MDB' },
    });
    const worker = await h.startWorker();
    expect(
      await (
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-MDBBIG',
          args: [{ mapref: 'MDBBIG' }],
        })
      ).result(),
    ).toMatchObject({ rows: ROWS });
    expect(await postgresRows('t_mdb_big')).toEqual(await mariadbRows('sales'));
    expect((await runs(h.dbs.metadata, 'MDBBIG'))[0].param1).toBe('COMPLETED');
    await worker.kill();
  });

  it('reads FLOAT and DOUBLE as the server writes them, also when a column becomes one after the query was described', async () => {
    const source = mariadbDialect.openSource(
      { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
      { lockTimeoutMs: 5_000 },
    );
    const read = async (query: string) => {
      const rows: RowValue[][] = [];
      for await (const chunk of source.readAll(query, 100)) rows.push(...chunk.rows);
      return rows;
    };
    try {
      await m.query(`CREATE TABLE floats (k INT PRIMARY KEY, f FLOAT, d DOUBLE);
        INSERT INTO floats VALUES (1, 1.1, 0.1), (2, 3.40282e38, 1.7976931348623157e308), (3, -0.000001, -2.2250738585072014e-308), (4, NULL, 123456789.123456789)`);
      // As JavaScript numbers, 3.40282e38 would read 3.40282e+38.
      expect(await read('SELECT * FROM floats ORDER BY k')).toEqual(
        (
          await m.query<{ k: string; f: string | null; d: string }[]>(
            'SELECT k, CONCAT(f) AS f, CONCAT(d) AS d FROM floats ORDER BY k',
          )
        ).map((r) => [String(r.k), r.f, r.d]),
      );
      expect((await read('SELECT f FROM floats WHERE k = 2'))[0]).toEqual(['3.40282e38']);
      // Described (and cached) with an INT column, read without the cast; then the column
      // becomes FLOAT: the next read fails rather than load an inexact value, the one after it
      // describes the query afresh.
      await m.query('CREATE TABLE shifty (k INT PRIMARY KEY, v INT); INSERT INTO shifty VALUES (1, 1)');
      expect(await read('SELECT * FROM shifty')).toEqual([['1', '1']]);
      await m.query('ALTER TABLE shifty MODIFY v FLOAT; UPDATE shifty SET v = 3.40282e38');
      await expect(read('SELECT * FROM shifty')).rejects.toThrow(
        /the columns of the source query changed while the worker ran/,
      );
      expect(await read('SELECT * FROM shifty')).toEqual([['1', '3.40282e38']]);
    } finally {
      await source.close();
    }
  });

  it('refuses a missing MariaDB target table, a wrong password and NULL keys, each before any row moves', async () => {
    const worker = await h.startWorker();
    await registerMapping(h.dbs, {
      mapref: 'MDBTGT',
      batchSize: 100,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'SALES_MISSING',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database },
    });
    expect(
      await failureOf(
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-MDBTGT',
          args: [{ mapref: 'MDBTGT' }],
        }),
      ),
    ).toMatch(
      new RegExp(
        `^Mapping MDBTGT: TRGTBNM names the table \`${m.database}\`\\.\`sales_missing\`, which does not exist on connection 'MDB'\\. Fix: create the target table`,
      ),
    );
    await worker.kill();
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MDBWRONG', 'MYSQL', $1, 'DMS_TEST_WRONG')`,
        [m.conurl],
      ),
    );
    // The only worker now: it has the wrong password for MDBWRONG, and the right one for MDB.
    const wrong = await h.startWorker({ env: { DMS_TEST_WRONG: 'not-the-password' } });
    await target('t_mdb_wrong');
    await registerMapping(h.dbs, {
      mapref: 'MDBWRONG',
      batchSize: 100,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_MDB_WRONG',
      columns: { srcconid: 'MDBWRONG' },
    });
    const refused = await failureOf(
      await h.client.workflow.start('dmsJob', {
        taskQueue: h.taskQueue,
        workflowId: 'dms-MDBWRONG',
        args: [{ mapref: 'MDBWRONG' }],
      }),
    );
    expect(refused).toMatch(
      /^Mapping MDBWRONG: SRCCONID uses connection 'MDBWRONG', which the worker cannot log in to: Access denied for user/,
    );
    expect(refused).not.toContain('not-the-password');
    await m.query(
      `CREATE TABLE nullkeys (k INT NULL, v INT); INSERT INTO nullkeys SELECT IF(seq % 50 = 0, NULL, seq), seq FROM seq_1_to_500;`,
    );
    await withClient(h.dbs.target, (c) => c.query('CREATE TABLE t_mdb_nulls (k int, v int)'));
    await registerMapping(h.dbs, {
      mapref: 'MDBNULLS',
      batchSize: 100,
      srcquery: 'SELECT * FROM nullkeys',
      trgtbnm: 'T_MDB_NULLS',
      chkpntcolumn: 'K',
      columns: { srcconid: 'MDB' },
    });
    expect(
      await failureOf(
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-MDBNULLS',
          args: [{ mapref: 'MDBNULLS' }],
        }),
      ),
    ).toMatch(/^Mapping MDBNULLS: CHKPNTCOLUMN has NULL values: 10 source row\(s\) have NULL in "k"/);
    // A SRCQUERY MariaDB cannot run: its own message, named as SRCQUERY's, not retried.
    await registerMapping(h.dbs, {
      mapref: 'MDBBADSQL',
      batchSize: 100,
      srcquery: 'SELECT k, nope FROM nullkeys',
      trgtbnm: 'T_MDB_NULLS',
      chkpntcolumn: 'K',
      columns: { srcconid: 'MDB' },
    });
    expect(
      await failureOf(
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-MDBBADSQL',
          args: [{ mapref: 'MDBBADSQL' }],
        }),
      ),
    ).toMatch(
      /^Mapping MDBBADSQL: SRCQUERY fails on the source: Unknown column 'nope' in '[^']+' \[SQLSTATE 42S22\]\. Fix: make SRCQUERY one read-only SELECT/,
    );
    // A zero date (only a lax sql_mode lets one in) has no value in PostgreSQL: refused, the
    // column named, not retried, and the batch that read it rolled back.
    await m.query(
      `SET SESSION sql_mode = ''; CREATE TABLE zerodates (k INT PRIMARY KEY, d DATE); INSERT INTO zerodates SELECT seq, IF(seq = 70, '0000-00-00', DATE'2020-01-01' + INTERVAL seq DAY) FROM seq_1_to_300;`,
    );
    await withClient(h.dbs.target, (c) => c.query('CREATE TABLE t_mdb_zero (k int, d date)'));
    await registerMapping(h.dbs, {
      mapref: 'MDBZERO',
      batchSize: 100,
      srcquery: 'SELECT * FROM zerodates',
      trgtbnm: 'T_MDB_ZERO',
      chkpntcolumn: 'K',
      columns: { srcconid: 'MDB' },
    });
    const zero = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-MDBZERO',
      args: [{ mapref: 'MDBZERO' }],
    });
    expect(await failureOf(zero)).toMatch(
      /column d holds the zero date 0000-00-00, which no other database has; select it as NULL or as a real date in SRCQUERY/,
    );
    const failed = await zero.result().then(
      () => undefined,
      (err: { cause?: { cause?: unknown } }) => err.cause?.cause,
    );
    expect(failed).toMatchObject({ type: 'DataError', nonRetryable: true });
    const moved = await withClient(h.dbs.target, async (c) =>
      Number(
        (
          await c.query(
            'SELECT (SELECT count(*) FROM t_mdb_wrong) + (SELECT count(*) FROM t_mdb_nulls) + (SELECT count(*) FROM t_mdb_zero) AS n',
          )
        ).rows[0].n,
      ),
    );
    expect(moved).toBe(0);
    await wrong.kill();
  });
});
