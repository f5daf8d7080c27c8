// A MariaDB server restarted under running loads, in both directions (MariaDB → PostgreSQL
// and PostgreSQL → MariaDB, on one worker): the worker process stays up, both loads move
// again by themselves within 30 s of each restart and end exact. And a server that refuses
// LOAD DATA LOCAL (a global setting). The MariaDB server is the test's own
// (test/support/mariadb-server.ts), with a password for its user, so that no other test file
// sees it restart or change a global setting.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata } from '../../metadata/repository';
import { createFactSource, registerMapping } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { mariadbFactRowsSql, postgresFactRows } from '../support/mariadb';
import { startOwnMariaDb, type OwnMariaDb } from '../support/mariadb-server';
import { urlFor, withClient } from '../support/postgres';

const ROWS = 20_000;
const USER = 'rs_etl';
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
const PASSWORD_ENV = 'DMS_TEST_MARIADB_RS_PASSWORD';
const MOVES_WITHIN_MS = 30_000;
const FACT = `sale_id BIGINT NOT NULL, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-mdbrs-'));
let server: OwnMariaDb | undefined;
let h: Harness | undefined;

/** Batches the mapping's latest run has committed, as DMS_PRCLOG mirrors them. */
async function committed(mapref: string): Promise<number> {
  return withClient(h!.dbs.metadata, async (c) =>
    Number(
      (await c.query(`SELECT coalesce(max(batchcnt), 0) AS n FROM dms_prclog WHERE mapref = $1`, [mapref])).rows[0].n,
    ),
  );
}

/** Whether the mapping's workflow has completed (a load that passed the restart's batch may end before it). */
async function completed(mapref: string): Promise<boolean> {
  return (await h!.client.workflow.getHandle(`dms-${mapref}`).describe()).status.name === 'COMPLETED';
}

async function mariadbRows(database: string, table: string): Promise<string[]> {
  return (await server!.admin<{ t: string }[]>(mariadbFactRowsSql(table), database)).map((r) => r.t);
}

const start = (mapref: string) =>
  h!.client.workflow.start('dmsJob', { taskQueue: h!.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });

beforeAll(async () => {
  server = await startOwnMariaDb(dir);
  await server.admin(
    `CREATE DATABASE dms_src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
     CREATE DATABASE dms_tgt CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
     CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}';
     GRANT ALL ON dms_src.* TO '${USER}'@'%';
     GRANT ALL ON dms_tgt.* TO '${USER}'@'%';
     USE dms_src;
     CREATE TABLE dms_src.sales (sale_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT) ENGINE=InnoDB;
     INSERT INTO dms_src.sales
     SELECT seq * 3, seq % 97, (seq % 100000) / 100, TIMESTAMP'2026-01-01 00:00:00.123456' + INTERVAL seq SECOND, CONCAT('note ', seq)
       FROM seq_1_to_${ROWS};
     CREATE TABLE dms_tgt.t_into (${FACT}) ENGINE=InnoDB;`,
  );
  h = await openHarness('mdbrestarts', {
    [PASSWORD_ENV]: PASSWORD,
    DMS_RETRY_INITIAL_INTERVAL_MS: '500',
    DMS_RETRY_MAX_INTERVAL_MS: '2000',
    DMS_RETRY_MAX_ATTEMPTS: '30',
  });
  await createFactSource(h.dbs.source, ROWS);
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE t_from (sale_id bigint NOT NULL, store_id int NOT NULL, amount numeric(12,2), sold_at timestamp(6), note text)`,
    ),
  );
  const metadata = Metadata.open(urlFor(h.dbs.metadata));
  await metadata.migrate().finally(() => metadata.close());
  const conurl = (database: string) => `mysql://${USER}@127.0.0.1:${server!.port}/${database}`;
  await withClient(h.dbs.metadata, (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MSRC', 'MARIADB', $1, $3), ('MTGT', 'MARIADB', $2, $3)`,
      [conurl('dms_src'), conurl('dms_tgt'), PASSWORD_ENV],
    ),
  );
}, 180_000);

afterAll(async () => {
  try {
    await h?.close();
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the MariaDB server restarted under running loads', () => {
  it('twice, with a load from it and one into it on one worker: the worker stays up, both move again within 30 s and end exact', async () => {
    await registerMapping(h!.dbs, {
      mapref: 'RM_FROM',
      batchSize: 500,
      trgtbnm: 'T_FROM',
      columns: { srcconid: 'MSRC' },
    });
    await registerMapping(h!.dbs, {
      mapref: 'RM_INTO',
      batchSize: 500,
      trgtbnm: 't_into',
      columns: { trgconid: 'MTGT', trgschm: 'dms_tgt' },
    });
    // Batches 6 and 20 of both loads wait before their commit: the restarts come while they
    // hold a session (and, into MariaDB, a transaction) open on the server.
    const worker = await h!.startWorker({
      faults: [
        { point: 'beforeCommit', batch: 6, action: 'stall', ms: 3000 },
        { point: 'beforeCommit', batch: 20, action: 'stall', ms: 3000 },
      ],
    });
    const pid = worker.child.pid;
    const maprefs = ['RM_FROM', 'RM_INTO'];
    const handles = await Promise.all(maprefs.map(start));
    for (const batch of [6, 20]) {
      await waitUntil(
        `batch ${batch} of both loads in flight`,
        async () =>
          maprefs.every((m) =>
            new RegExp(`fault: stall start at beforeCommit of batch ${batch} attempt \\d+ of ${m}\\n`).test(
              worker.output(),
            ),
          ) || undefined,
        60_000,
        50,
      );
      const before = await Promise.all(maprefs.map(committed));
      await server!.restart();
      const back = Date.now();
      const moved = async (m: string, i: number) => (await committed(m)) > before[i] || (await completed(m));
      await waitUntil(
        'both loads moving again',
        async () => (await Promise.all(maprefs.map(moved))).every(Boolean) || undefined,
        MOVES_WITHIN_MS,
        200,
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}; the worker ${worker.child.exitCode === null ? 'runs' : `exited (${worker.child.exitCode ?? worker.child.signalCode})`}, its last output:\n${worker.output().slice(-3000)}`,
        );
      });
      expect(Date.now() - back).toBeLessThan(MOVES_WITHIN_MS);
    }
    expect((await Promise.all(handles.map((handle) => handle.result()))).map((r) => r.rows)).toEqual([ROWS, ROWS]);
    expect(worker.child.exitCode).toBeNull();
    expect(worker.child.pid).toBe(pid);
    expect(worker.output()).not.toMatch(/Unhandled 'error' event|uncaughtException/);

    const fromMariaDb = await mariadbRows('dms_src', 'sales');
    expect(fromMariaDb).toHaveLength(ROWS);
    expect(await postgresFactRows(h!.dbs.target, 't_from')).toEqual(fromMariaDb);
    const fromPostgres = await postgresFactRows(h!.dbs.source, 'sales');
    expect(await mariadbRows('dms_tgt', 't_into')).toEqual(fromPostgres);
    await worker.kill();
  });
});

describe('a MariaDB target that refuses LOAD DATA LOCAL', () => {
  it('fails at once, saying what to set, when the server refuses LOAD DATA LOCAL (local_infile OFF), with no row loaded', async () => {
    await server!.admin(`CREATE TABLE dms_tgt.t_noinfile (${FACT}) ENGINE=InnoDB`);
    await registerMapping(h!.dbs, {
      mapref: 'RM_NOINFILE',
      batchSize: 500,
      trgtbnm: 't_noinfile',
      columns: { trgconid: 'MTGT', trgschm: 'dms_tgt' },
    });
    const worker = await h!.startWorker();
    await server!.admin('SET GLOBAL local_infile = 0');
    try {
      const handle = await start('RM_NOINFILE');
      expect(await failureOf(handle)).toMatch(
        /the target server refuses LOAD DATA LOCAL INFILE, by which dms-etl loads rows into MariaDB \(its local_infile is OFF\); a DBA can turn it on with SET GLOBAL local_infile = ON/,
      );
      const failed = await handle.result().then(
        () => undefined,
        (err: { cause?: { cause?: unknown } }) => err.cause?.cause,
      );
      expect(failed).toMatchObject({ type: 'DataError', nonRetryable: true });
    } finally {
      await server!.admin('SET GLOBAL local_infile = 1');
    }
    const [{ n }] = await server!.admin<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM t_noinfile', 'dms_tgt');
    expect(Number(n)).toBe(0);
    await worker.kill();
  });
});
