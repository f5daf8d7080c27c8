// MariaDB as a target, end to end: PostgreSQL as the source, the real MariaDB server (a user
// with a password from PWDENV) as the target, a real Temporal dev server and worker. Each load
// ends in a value-by-value compare through a canonical text computed on each side. Targets
// have no primary key unless a merge needs one, so a batch loaded twice shows as extra rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { DuplicateKeyInBatchError } from '../../common/errors';
import type { CheckpointRow, RowBatch } from '../../dialects';
import { mariadbDialect } from '../../dialects/mariadb/mariadb-dialect';
import { settleTruncate, truncateLockName } from '../../dialects/mariadb/mariadb-checkpoint-table';
import { connectionOf } from '../../dialects/mariadb/mariadb-target-transaction';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { withClient } from '../support/postgres';

const ROWS = 20_000;
const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';

let h: Harness;
let m: TestMariaDb;

const TARGET_COLUMNS = `sale_id BIGINT NOT NULL, amount DECIMAL(38,10), note TEXT, sold_at DATETIME(6), local_at DATETIME(6), day DATE,
  at_time TIME(6), paid BOOLEAN, raw VARBINARY(16), payload JSON, flags BIT(5), uid CHAR(36), big BIGINT UNSIGNED`;

/** Each row as one text, the same on both sides: NULL apart from '', every digit and microsecond kept. */
async function postgresRows(table: string): Promise<string[]> {
  return withClient(h.dbs.source, async (c) => {
    await c.query(`SET TimeZone = 'UTC'`);
    const { rows } = await c.query<{ t: string }>(
      `SELECT concat_ws('|', sale_id, coalesce(amount::text, '<null>'), coalesce(note, '<null>'),
              coalesce(to_char(sold_at, 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'), coalesce(to_char(local_at, 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'),
              coalesce(day::text, '<null>'), coalesce(to_char(timestamp '2000-01-01' + at_time, 'HH24:MI:SS.US'), '<null>'),
              coalesce(paid::int::text, '<null>'), coalesce(encode(raw, 'hex'), '<null>'), coalesce(payload::text, '<null>'),
              coalesce(flags::text, '<null>'), coalesce(uid::text, '<null>'), coalesce(big::text, '<null>')) AS t
         FROM ${table} ORDER BY sale_id`,
    );
    return rows.map((r) => r.t);
  });
}

async function mariadbRows(table: string): Promise<string[]> {
  const rows = await m.query<{ t: string }[]>(
    `SELECT CONCAT_WS('|', sale_id, IFNULL(amount, '<null>'), IFNULL(note, '<null>'),
            IFNULL(DATE_FORMAT(sold_at, '%Y-%m-%d %H:%i:%s.%f'), '<null>'), IFNULL(DATE_FORMAT(local_at, '%Y-%m-%d %H:%i:%s.%f'), '<null>'),
            IFNULL(day, '<null>'), IFNULL(DATE_FORMAT(at_time, '%H:%i:%s.%f'), '<null>'),
            IFNULL(paid, '<null>'), IFNULL(LOWER(HEX(raw)), '<null>'), IFNULL(payload, '<null>'),
            IFNULL(LPAD(BIN(flags), 5, '0'), '<null>'), IFNULL(uid, '<null>'), IFNULL(big, '<null>')) AS t
       FROM ${table} ORDER BY sale_id`,
  );
  return rows.map((r) => r.t);
}

async function checkpointOf(
  mapref: string,
): Promise<{ batchcnt: number; trgrows: number; chkpnt: string | null; trncpend: string | null } | undefined> {
  const rows = await m.query<{ batchcnt: string; trgrows: string; chkpnt: string | null; trncpend: string | null }[]>(
    `SELECT batchcnt, trgrows, chkpnt, trncpend FROM dms_chkpnt WHERE mapref = ?`,
    [mapref],
  );
  return rows[0] ? { ...rows[0], batchcnt: Number(rows[0].batchcnt), trgrows: Number(rows[0].trgrows) } : undefined;
}

async function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

async function mapping(
  mapref: string,
  table: string,
  columns: Record<string, string | number | null> = {},
  srcquery = 'SELECT * FROM sales',
): Promise<void> {
  await registerMapping(h.dbs, {
    mapref,
    batchSize: 1000,
    srcquery,
    trgtbnm: table,
    columns: { trgconid: 'MDB', trgschm: m.database, ...columns },
  });
}

beforeAll(async () => {
  m = await createMariaDb('tgt');
  h = await openHarness('mdbt', { [PASSWORD_ENV]: m.password });
  await withClient(h.dbs.source, async (c) => {
    await c.query(`CREATE TABLE sales (sale_id bigint PRIMARY KEY, amount numeric(38,10), note text, sold_at timestamptz(6), local_at timestamp(6), day date,
      at_time time(6), paid boolean, raw bytea, payload jsonb, flags bit(5), uid uuid, big numeric(20,0))`);
    await c.query(
      `INSERT INTO sales
       SELECT g * 3, round(g * 1.0001234567, 10) * CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END,
              CASE g % 10 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'\\\\N' ELSE 'n' || g || E' 𝄞 ünï\\ttab\\nline\\\\back' END,
              timestamptz '2026-01-01 00:00:00.000001+00' + g * interval '1001 microseconds' * 1000,
              timestamp '1999-12-31 23:59:59.999999' + g * interval '1 day',
              date '2000-02-29' + g,
              time '00:00:00' + g * interval '4.000001 seconds',
              CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
              CASE WHEN g % 13 = 0 THEN NULL WHEN g % 13 = 1 THEN ''::bytea ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END,
              jsonb_build_object('seq', g, 's', 'x' || g),
              (g % 32)::bit(5),
              md5(g::text)::uuid,
              18446744073709551615 - g
         FROM generate_series(1, $1) g`,
      [ROWS],
    );
  });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

describe('MariaDB as a target', () => {
  it('loads KEY from PostgreSQL exactly, value by value, through a worker SIGKILL', async () => {
    await m.query(`CREATE TABLE t_key (${TARGET_COLUMNS}) ENGINE=InnoDB`);
    await mapping('MDBTKEY', 'T_KEY');
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 6, action: 'kill' }] });
    const handle = await start('MDBTKEY');
    await first.waitFor(/fault: kill at beforeCommit of batch 6/);
    await first.kill();
    expect(await checkpointOf('MDBTKEY')).toMatchObject({ batchcnt: 5, trgrows: 5000, chkpnt: '15000' });
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: ROWS, batches: ROWS / 1000 });
    const source = await postgresRows('sales');
    expect(source).toHaveLength(ROWS);
    expect(await mariadbRows('t_key')).toEqual(source);
    expect(await runs(h.dbs.metadata, 'MDBTKEY')).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
    await second.kill();
  });

  it('merges UPSERT with ON DUPLICATE KEY UPDATE: twice, then after source updates and inserts, the target equals the source', async () => {
    await withClient(h.dbs.source, (c) =>
      c.query(`CREATE TABLE sales_up AS SELECT * FROM sales; ALTER TABLE sales_up ADD PRIMARY KEY (sale_id)`),
    );
    await m.query(`CREATE TABLE t_up (${TARGET_COLUMNS}, PRIMARY KEY (sale_id)) ENGINE=InnoDB`);
    await mapping('MDBTUP', 'T_UP', { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' }, 'SELECT * FROM sales_up');
    const worker = await h.startWorker();
    await (await start('MDBTUP')).result();
    await (await start('MDBTUP')).result();
    expect(await mariadbRows('t_up')).toEqual(await postgresRows('sales_up'));
    await withClient(h.dbs.source, (c) =>
      c.query(`UPDATE sales_up SET note = 'changed', amount = -amount, paid = NOT paid, raw = '\\xdeadbeef' WHERE sale_id % 7 = 0;
               INSERT INTO sales_up (sale_id, note) SELECT sale_id + 1, 'new' FROM sales_up WHERE sale_id % 11 = 0`),
    );
    await (await start('MDBTUP')).result();
    const source = await postgresRows('sales_up');
    expect(source.length).toBeGreaterThan(ROWS);
    expect(await mariadbRows('t_up')).toEqual(source);
    await worker.kill();
  });

  it('TRUNCATE empties the target on a fresh start only: a kill mid-run keeps the batches committed before it', async () => {
    await m.query(`CREATE TABLE t_trunc (${TARGET_COLUMNS}) ENGINE=InnoDB`);
    await m.query(`INSERT INTO t_trunc (sale_id) SELECT seq FROM seq_1_to_50`);
    await mapping('MDBTTRUNC', 'T_TRUNC', { loadmode: 'TRUNCATE' });
    const first = await h.startWorker({ faults: [{ point: 'afterCommit', batch: 3, action: 'kill' }] });
    const handle = await start('MDBTTRUNC');
    await first.waitFor(/fault: kill at afterCommit of batch 3/);
    await first.kill();
    // The rows that were there are gone; the three committed batches stay.
    expect(await m.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM t_trunc`)).toEqual([{ n: '3000' }]);
    const second = await h.startWorker();
    await handle.result();
    const source = await postgresRows('sales');
    expect(await mariadbRows('t_trunc')).toEqual(source);
    // A new run after a completed one is a fresh start: it truncates again, no duplicates.
    await (await start('MDBTTRUNC')).result();
    expect(await mariadbRows('t_trunc')).toEqual(source);
    expect(await checkpointOf('MDBTTRUNC')).toMatchObject({ trgrows: ROWS, trncpend: null });
    await second.kill();
  });

  it('loads TRUNCATE in 3 key ranges at once: the target emptied once, by the run, and never again by a range', async () => {
    await m.query(`CREATE TABLE t_parts (${TARGET_COLUMNS}) ENGINE=InnoDB`);
    await m.query(`INSERT INTO t_parts (sale_id) SELECT seq FROM seq_1_to_50`);
    await mapping('MDBTPARTS', 'T_PARTS', { loadmode: 'TRUNCATE', partitions: 3 });
    const worker = await h.startWorker();
    const source = await postgresRows('sales');
    for (let n = 0; n < 2; n++) {
      await (await start('MDBTPARTS')).result();
      expect(await mariadbRows('t_parts')).toEqual(source);
    }
    // Only the run's own row ever owes the truncate, and it was paid.
    const owing = await m.query<{ mapref: string }[]>(
      `SELECT mapref FROM dms_chkpnt WHERE mapref LIKE 'MDBTPARTS%' AND trncpend IS NOT NULL`,
    );
    expect(owing).toEqual([]);
    await worker.kill();
  });

  it('refuses a value that does not fit its column as a data error naming the column, with no row loaded', async () => {
    await m.query(`CREATE TABLE t_narrow (${TARGET_COLUMNS.replace('note TEXT', 'note VARCHAR(5)')}) ENGINE=InnoDB`);
    await mapping('MDBTNARROW', 'T_NARROW');
    const worker = await h.startWorker();
    const failure = await failureOf(await start('MDBTNARROW'));
    expect(failure).toMatch(/Data truncated for column `note` at row \d+/);
    // No value of the row reaches Temporal: the first notes that do not fit are 'n3 …'.
    expect(failure).not.toMatch(/n3|𝄞|ünï/);
    expect(await m.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM t_narrow`)).toEqual([{ n: '0' }]);
    await worker.kill();
  });
});

describe('MariaDB to MariaDB', () => {
  const COLUMNS = `id BIGINT UNSIGNED NOT NULL, amount DECIMAL(65,30), at DATETIME(6), t TIME(6), yr YEAR, flag BOOLEAN, bits BIT(5),
    raw VARBINARY(8), doc JSON, mood ENUM('sad', 'ok'), tags SET('a', 'b'), note TEXT`;
  /** Each row as one text, every value exact, NULL apart from ''. */
  const rowsOf = async (table: string) =>
    (
      await m.query<{ r: string }[]>(
        `SELECT CONCAT_WS('|', id, IFNULL(amount, '~'), IFNULL(DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), '~'), IFNULL(t, '~'), IFNULL(yr, '~'), IFNULL(flag, '~'),
                IFNULL(BIN(bits), '~'), IFNULL(HEX(raw), '~'), IFNULL(doc, '~'), IFNULL(mood, '~'), IFNULL(tags, '~'), IFNULL(note, '~')) AS r FROM ${table} ORDER BY id`,
      )
    ).map((x) => x.r);

  beforeAll(async () => {
    await m.query(`CREATE TABLE m_src (${COLUMNS}, PRIMARY KEY (id)) ENGINE=InnoDB;
      INSERT INTO m_src SELECT 18446744073709551615 - seq, CAST(CONCAT(seq, '.', LPAD(seq, 30, '9')) AS DECIMAL(65,30)), TIMESTAMP'2026-01-01 00:00:00.000001' + INTERVAL seq SECOND,
        SEC_TO_TIME(seq + 0.000001 * seq), 1901 + seq % 255, seq % 2, seq % 32, IF(seq % 7 = 0, '', UNHEX(LPAD(HEX(seq), 6, '0'))), JSON_OBJECT('n', seq),
        ELT(1 + seq % 2, 'sad', 'ok'), ELT(1 + seq % 3, '', 'a', 'a,b'), CASE seq % 5 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE CONCAT('n', seq, ' 𝄞\\t\\\\') END
        FROM seq_1_to_5000`);
  });

  it('moves each range with one INSERT … SELECT on the server, exactly, through a worker SIGKILL', async () => {
    await m.query(`CREATE TABLE t_same (${COLUMNS}) ENGINE=InnoDB`);
    await registerMapping(h.dbs, {
      mapref: 'MDBSAME',
      batchSize: 1000,
      srcquery: 'SELECT * FROM m_src',
      trgtbnm: 'T_SAME',
      chkpntcolumn: 'ID',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database },
    });
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 3, action: 'kill' }] });
    const handle = await start('MDBSAME');
    await first.waitFor(/fault: kill at beforeCommit of batch 3/);
    await first.kill();
    const second = await h.startWorker();
    expect(await handle.result()).toMatchObject({ rows: 5000, batches: 5 });
    expect(await rowsOf('t_same')).toEqual(await rowsOf('m_src'));
    expect(h.workerOutput()).toContain(
      `rows move by one INSERT … SELECT per batch from database ${m.database}, on the same MariaDB server`,
    );
    await second.kill();
  });

  it('merges UPSERT through the worker (LOAD DATA into a stage), MariaDB values exact', async () => {
    await m.query(`CREATE TABLE t_same_up (${COLUMNS}, PRIMARY KEY (id)) ENGINE=InnoDB`);
    await registerMapping(h.dbs, {
      mapref: 'MDBSAMEUP',
      batchSize: 1000,
      srcquery: 'SELECT * FROM m_src',
      trgtbnm: 'T_SAME_UP',
      chkpntcolumn: 'ID',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database, loadmode: 'UPSERT', trgkeycols: 'ID' },
    });
    const worker = await h.startWorker();
    await (await start('MDBSAMEUP')).result();
    await m.query(`UPDATE m_src SET note = 'changed', flag = NOT flag WHERE id % 3 = 0`);
    await (await start('MDBSAMEUP')).result();
    expect(await rowsOf('t_same_up')).toEqual(await rowsOf('m_src'));
    await worker.kill();
  });

  it('never lets a stored function that SRCQUERY calls write: refused in the read-only source session, never run inside the write transaction', async () => {
    await m.query(`CREATE TABLE touched (n INT) ENGINE=InnoDB;
      CREATE FUNCTION touch() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO touched VALUES (1); RETURN 1; END`);
    await m.query(`CREATE TABLE t_touch (${COLUMNS}) ENGINE=InnoDB`);
    await registerMapping(h.dbs, {
      mapref: 'MDBTOUCH',
      batchSize: 1000,
      srcquery: 'SELECT * FROM m_src WHERE touch() = 1',
      trgtbnm: 'T_TOUCH',
      chkpntcolumn: 'ID',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database },
    });
    const worker = await h.startWorker();
    // Refused where it first runs, in the checks before any row moves: every source session reads only.
    expect(await failureOf(await start('MDBTOUCH'))).toMatch(
      /^Mapping MDBTOUCH: SRCQUERY fails on the source: Cannot execute statement in a READ ONLY transaction \[SQLSTATE 25006\]/,
    );
    expect(await m.query(`SELECT (SELECT COUNT(*) FROM touched) + (SELECT COUNT(*) FROM t_touch) AS n`)).toEqual([
      { n: '0' },
    ]);
    await worker.kill();
  });

  it('moves rows through the worker when SRCQUERY reads a view (which may call a function), exactly', async () => {
    await m.query(`CREATE VIEW v_src AS SELECT * FROM m_src; CREATE TABLE t_view (${COLUMNS}) ENGINE=InnoDB`);
    await registerMapping(h.dbs, {
      mapref: 'MDBVIEW',
      batchSize: 1000,
      srcquery: 'SELECT * FROM v_src',
      trgtbnm: 'T_VIEW',
      chkpntcolumn: 'ID',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database },
    });
    const worker = await h.startWorker();
    await (await start('MDBVIEW')).result();
    expect(await rowsOf('t_view')).toEqual(await rowsOf('m_src'));
    const planned = worker
      .output()
      .split('\n')
      .find((line) => line.includes('Mapping MDBVIEW:') && line.includes('KEY on'));
    expect(planned).toBeDefined();
    expect(planned).not.toContain('INSERT … SELECT');
    await worker.kill();
  });

  it('refuses a SRCQUERY that reads its own target table, before any row moves', async () => {
    await registerMapping(h.dbs, {
      mapref: 'MDBSELF',
      batchSize: 1000,
      srcquery: 'SELECT s.* FROM m_src s JOIN t_same t ON t.id = s.id',
      trgtbnm: 'T_SAME',
      chkpntcolumn: 'ID',
      columns: { srcconid: 'MDB', trgconid: 'MDB', trgschm: m.database, loadmode: 'TRUNCATE' },
    });
    const worker = await h.startWorker();
    expect(await failureOf(await start('MDBSELF'))).toMatch(
      /^Mapping MDBSELF: SRCQUERY reads the target table `[^`]+`\.`t_same` itself/,
    );
    expect(await m.query(`SELECT COUNT(*) AS n FROM t_same`)).toEqual([{ n: '5000' }]);
    await worker.kill();
  });
});

describe('a MariaDB target that cannot be reached', () => {
  it('is retried, each attempt naming TRGCONID and the connection, until the server is back or the run is stopped', async () => {
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MDBDOWN', 'MARIADB', 'mysql://nobody@127.0.0.1:1/nowhere', $1)`,
        [PASSWORD_ENV],
      ),
    );
    await registerMapping(h.dbs, {
      mapref: 'MDBTDOWN',
      batchSize: 1000,
      srcquery: 'SELECT * FROM sales',
      trgtbnm: 'T_KEY',
      columns: { trgconid: 'MDBDOWN', trgschm: 'nowhere' },
    });
    const worker = await h.startWorker();
    const handle = await start('MDBTDOWN');
    await waitUntil(
      'two failed attempts',
      async () =>
        (
          h
            .workerOutput()
            .match(
              /Mapping MDBTDOWN: TRGCONID uses connection 'MDBDOWN', which cannot be reached: connect ECONNREFUSED 127\.0\.0\.1:1/g,
            ) ?? []
        ).length >= 2,
    );
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test: seen');
    await worker.kill();
  });
});

describe('TRUNCATE, which commits on its own in MariaDB', () => {
  it('is owed by the committed reset when it could not follow, paid before the next rows load, and never paid twice', async () => {
    const target = mariadbDialect.openTarget!(
      { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
      { lockTimeoutMs: 1000 },
    );
    const holder = await mysql.createConnection({ uri: m.conurl, password: m.password });
    try {
      await m.query(`CREATE TABLE t_debt (id INT NOT NULL) ENGINE=InnoDB`);
      await m.query(`INSERT INTO t_debt SELECT seq FROM seq_1_to_10`);
      await target.ensureCheckpointTable(m.database);
      const row: CheckpointRow = {
        mapref: 'DEBT',
        prcid: 1,
        epoch: 1,
        jobid: 1,
        keyColumns: '["id"]',
        checkpoint: null,
        lastRow: null,
        batches: 0,
        rows: 0,
      };
      // A crash between the reset's commit and the truncate: here, the truncate's lock is held elsewhere.
      await holder.query('SELECT GET_LOCK(?, 0)', [truncateLockName(m.database, 'DEBT')]);
      await expect(
        target.transaction(async (tx) => {
          await tx.lockCheckpoint(m.database, 'DEBT');
          await tx.truncate(m.database, 't_debt');
          await tx.writeCheckpoint(m.database, row);
        }),
      ).rejects.toThrow(/truncate lock/);
      expect(await checkpointOf('DEBT')).toMatchObject({
        batchcnt: 0,
        trncpend: JSON.stringify({ schema: m.database, table: 't_debt' }),
      });
      expect(await m.query(`SELECT COUNT(*) AS n FROM t_debt`)).toEqual([{ n: '10' }]);
      await holder.query('SELECT RELEASE_LOCK(?)', [truncateLockName(m.database, 'DEBT')]);

      // The next batch pays the debt before its rows load.
      async function* rows(): AsyncIterable<RowBatch> {
        yield { columns: ['id'], rows: [['101'], ['102'], ['103']] };
      }
      await target.transaction(async (tx) => {
        expect(await tx.lockCheckpoint(m.database, 'DEBT')).toMatchObject({ batches: 0 });
        expect(await tx.load(m.database, 't_debt', ['id'], rows())).toBe(3);
        await tx.writeCheckpoint(m.database, { ...row, batches: 1, rows: 3, checkpoint: '103' });
      });
      expect(await m.query(`SELECT id FROM t_debt ORDER BY id`)).toEqual([{ id: 101 }, { id: 102 }, { id: 103 }]);
      expect(await checkpointOf('DEBT')).toMatchObject({ batchcnt: 1, trncpend: null });

      // An attempt that saw the debt before it was paid, and comes to pay it late, finds it paid.
      await target.transaction(async (tx) => settleTruncate(connectionOf(tx), m.database, 'DEBT', 1000));
      expect(await m.query(`SELECT COUNT(*) AS n FROM t_debt`)).toEqual([{ n: '3' }]);
    } finally {
      await holder.end();
      await target.close();
    }
  });
});

describe('UPSERT on MariaDB', () => {
  it('refuses two rows of one key in a batch (ON DUPLICATE KEY UPDATE would apply both), merging none', async () => {
    const target = mariadbDialect.openTarget!(
      { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
      { lockTimeoutMs: 1000 },
    );
    try {
      await m.query(`CREATE TABLE t_dup (id INT NOT NULL PRIMARY KEY, v TEXT) ENGINE=InnoDB`);
      async function* rows(): AsyncIterable<RowBatch> {
        yield {
          columns: ['id', 'v'],
          rows: [
            ['1', 'a'],
            ['2', 'b'],
            ['1', 'c'],
          ],
        };
      }
      await expect(
        target.transaction((tx) => tx.upsert(m.database, 't_dup', ['id', 'v'], ['id'], rows())),
      ).rejects.toBeInstanceOf(DuplicateKeyInBatchError);
      expect(await m.query(`SELECT COUNT(*) AS n FROM t_dup`)).toEqual([{ n: '0' }]);
    } finally {
      await target.close();
    }
  });
});

describe('bytes into MariaDB', () => {
  it('refuses a value for a column of bytes that is not bytes as a data error naming the column, no row of the batch kept', async () => {
    const target = mariadbDialect.openTarget!(
      { conid: 'MDB', dbtyp: 'MARIADB', url: m.conurl, password: m.password },
      { lockTimeoutMs: 1000 },
    );
    try {
      await m.query(`CREATE TABLE t_bytes (id INT NOT NULL, doc LONGBLOB) ENGINE=InnoDB`);
      async function* rows(): AsyncIterable<RowBatch> {
        yield {
          columns: ['id', 'doc'],
          rows: [
            ['1', '\\x0102'],
            ['2', 'secret text'],
            ['3', '\\x03'],
          ],
        };
      }
      const refused = await target
        .transaction((tx) => tx.load(m.database, 't_bytes', ['id', 'doc'], rows()))
        .catch((err: unknown) => err as { code?: string; message: string });
      expect(refused).toMatchObject({ code: '22000', message: expect.stringMatching(/column `doc` is not bytes/) });
      expect((refused as { message: string }).message).not.toContain('secret');
      expect(await m.query(`SELECT COUNT(*) AS n FROM t_bytes`)).toEqual([{ n: '0' }]);
    } finally {
      await target.close();
    }
  });
});
