// TLS to MariaDB: a MariaDB server of the test's own (the local one has no TLS), on a free
// loopback port, with a certificate from a CA the test makes (openssl) naming 127.0.0.1 and
// localhost, and a user that the server admits over TLS only (REQUIRE SSL). Loads from it and
// into it with ssl-mode=VERIFY_IDENTITY and that CA end exact, value by value, over sessions
// the server reports encrypted; a connection that trusts another CA fails the run at once,
// naming it and the fix, and moves no row.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadbPool } from '../../dialects/mariadb/mariadb-connection';
import { Metadata } from '../../metadata/repository';
import { makeTestCertificates } from '../support/certificates';
import { createFactSource, registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { mariadbFactRowsSql, postgresFactRows } from '../support/mariadb';
import { startOwnMariaDb, type OwnMariaDb } from '../support/mariadb-server';
import { urlFor, withClient } from '../support/postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 3000;
const USER = 'tls_etl';
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
const PASSWORD_ENV = 'DMS_TEST_MARIADB_TLS_PASSWORD';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-mdbtls-'));
const file = (name: string) => path.join(dir, name);
let server: OwnMariaDb | undefined;
let port: number;
let h: Harness | undefined;

const conurl = (database: string, ca = file('ca.pem')) =>
  `mysql://${USER}@127.0.0.1:${port}/${database}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(ca)}`;

/** Runs SQL as the server's root. */
function admin<T>(sql: string, database?: string): Promise<T> {
  return server!.admin<T>(sql, database);
}

/** Every row of a MariaDB table of the TLS server as one text (NULL apart from '', every digit and microsecond kept), in key order. */
async function mariadbRows(database: string, table: string): Promise<string[]> {
  const rows = await admin<{ t: string }[]>(mariadbFactRowsSql(table), database);
  return rows.map((r) => r.t);
}

const start = (mapref: string) =>
  h!.client.workflow.start('dmsJob', { taskQueue: h!.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });

/** The highest attempt any activity of the mapping's workflow reached: 1 when nothing was retried. */
async function mostAttempts(mapref: string): Promise<number> {
  const history = await h!.client.workflow.getHandle(`dms-${mapref}`).fetchHistory();
  return Math.max(0, ...(history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0));
}

const FACT = `sale_id BIGINT NOT NULL, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT`;

beforeAll(async () => {
  makeTestCertificates(dir);
  server = await startOwnMariaDb(dir, {
    flags: [
      '--performance-schema=ON',
      `--ssl-ca=${file('ca.pem')}`,
      `--ssl-cert=${file('server.pem')}`,
      `--ssl-key=${file('server.key')}`,
    ],
    ownedFiles: [file('server.key')],
  });
  port = server.port;
  // A user the server admits over TLS only: a session of it that is not encrypted cannot exist.
  await admin(
    `CREATE DATABASE dms_src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
     CREATE DATABASE dms_tgt CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
     CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}' REQUIRE SSL;
     GRANT ALL ON dms_src.* TO '${USER}'@'%';
     GRANT ALL ON dms_tgt.* TO '${USER}'@'%';
     USE dms_src;
     CREATE TABLE dms_src.sales (sale_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL, amount DECIMAL(12,2), sold_at DATETIME(6), note TEXT) ENGINE=InnoDB;
     INSERT INTO dms_src.sales
     SELECT seq * 3, seq % 97, (seq % 100000) / 100, TIMESTAMP'2026-01-01 00:00:00.123456' + INTERVAL seq SECOND,
            CASE WHEN seq % 10 = 0 THEN NULL WHEN seq % 10 = 1 THEN '' ELSE CONCAT('note ', seq, '\\twith a tab é 𝄞\\\\') END
       FROM seq_1_to_${ROWS};
     CREATE TABLE dms_tgt.t_into (${FACT}) ENGINE=InnoDB;
     CREATE TABLE dms_tgt.t_wrong (${FACT}) ENGINE=InnoDB;`,
  );
  h = await openHarness('mdbtls', { [PASSWORD_ENV]: PASSWORD });
  await createFactSource(h.dbs.source, ROWS);
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE t_from (sale_id bigint NOT NULL, store_id int NOT NULL, amount numeric(12,2), sold_at timestamp(6), note text)`,
    ),
  );
  const metadata = Metadata.open(urlFor(h.dbs.metadata));
  await metadata.migrate().finally(() => metadata.close());
  await withClient(h.dbs.metadata, (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES
         ('MSRC', 'MARIADB', $1, $4), ('MTGT', 'MARIADB', $2, $4), ('MTGT_OTHER_CA', 'MARIADB', $3, $4)`,
      [conurl('dms_src'), conurl('dms_tgt'), conurl('dms_tgt', file('other-ca.pem')), PASSWORD_ENV],
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

describe('TLS to MariaDB', () => {
  it('loads exactly from and into a server with ssl-mode=VERIFY_IDENTITY, every dms-etl session encrypted', async () => {
    await registerMapping(h!.dbs, {
      mapref: 'TLSFROM',
      batchSize: 500,
      trgtbnm: 'T_FROM',
      columns: { srcconid: 'MSRC' },
    });
    await registerMapping(h!.dbs, {
      mapref: 'TLSINTO',
      batchSize: 500,
      trgtbnm: 't_into',
      columns: { trgconid: 'MTGT', trgschm: 'dms_tgt' },
    });
    const worker = await h!.startWorker();
    expect((await (await start('TLSFROM')).result()).rows).toBe(ROWS);
    expect((await (await start('TLSINTO')).result()).rows).toBe(ROWS);
    const source = await mariadbRows('dms_src', 'sales');
    expect(source).toHaveLength(ROWS);
    expect(await postgresFactRows(h!.dbs.target, 't_from')).toEqual(source);
    const pgSource = await postgresFactRows(h!.dbs.source, 'sales');
    expect(pgSource).toHaveLength(ROWS);
    expect(await mariadbRows('dms_tgt', 't_into')).toEqual(pgSource);

    // The worker still holds its pools: the server's view of each of its sessions.
    const sessions = await admin<{ db: string | null; version: string | null; cipher: string | null }[]>(
      `SELECT t.PROCESSLIST_DB AS db,
              (SELECT VARIABLE_VALUE FROM performance_schema.status_by_thread s WHERE s.THREAD_ID = t.THREAD_ID AND s.VARIABLE_NAME = 'Ssl_version') AS version,
              (SELECT VARIABLE_VALUE FROM performance_schema.status_by_thread s WHERE s.THREAD_ID = t.THREAD_ID AND s.VARIABLE_NAME = 'Ssl_cipher') AS cipher
         FROM performance_schema.threads t
        WHERE t.PROCESSLIST_USER = '${USER}'`,
    );
    expect(new Set(sessions.map((s) => s.db))).toEqual(new Set(['dms_src', 'dms_tgt']));
    for (const s of sessions)
      expect(s, `a session in ${s.db}`).toMatchObject({
        version: expect.stringMatching(/^TLSv1\.[23]$/),
        cipher: expect.stringMatching(/\S/),
      });
    await worker.kill();

    // A session opened with the options the dialect gives mysql2 for this CONURL says the same.
    const pool = mariadbPool(conurl('dms_src'), PASSWORD, { connectionLimit: 1 }, { readOnly: true }).promise();
    try {
      const [status] = await pool.query<mysql.RowDataPacket[]>(
        `SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')`,
      );
      expect(Object.fromEntries(status.map((r) => [r.Variable_name, r.Value]))).toMatchObject({
        Ssl_version: expect.stringMatching(/^TLSv1\.[23]$/),
        Ssl_cipher: expect.stringMatching(/\S/),
      });
    } finally {
      await pool.end();
    }
  });

  it('fails at once, naming the connection and the fix, when CONURL trusts another CA, and moves no row', async () => {
    await registerMapping(h!.dbs, {
      mapref: 'TLSWRONG',
      batchSize: 500,
      trgtbnm: 't_wrong',
      columns: { trgconid: 'MTGT_OTHER_CA', trgschm: 'dms_tgt' },
    });
    const worker = await h!.startWorker();
    const began = Date.now();
    const message = await failureOf(await start('TLSWRONG'));
    expect(message).toBe(
      "Mapping TLSWRONG: TRGCONID uses connection 'MTGT_OTHER_CA', whose TLS handshake failed: self-signed certificate in certificate chain. " +
        "Fix: in CONURL of connection 'MTGT_OTHER_CA' in DMS_DBCONDTLS, set ssl-ca to the file of the CA that signed the server's certificate",
    );
    // Not retried: one attempt, not the bounded policy's minutes.
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(await mostAttempts('TLSWRONG')).toBe(1);
    expect(await mariadbRows('dms_tgt', 't_wrong')).toEqual([]);
    expect((await runs(h!.dbs.metadata, 'TLSWRONG')).map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
    await worker.kill();
  });

  it('`dms connection test` says the same', async () => {
    const dms = (args: string[]) =>
      run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h!.workerEnv } }).then(
        (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    expect((await dms(['connection', 'test', 'MTGT'])).stdout).toContain(
      'connection MTGT (MARIADB): logged in and ran a query',
    );
    expect(await dms(['connection', 'test', 'MTGT_OTHER_CA'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        "Connection MTGT_OTHER_CA: uses connection 'MTGT_OTHER_CA', whose TLS handshake failed: self-signed certificate in certificate chain. Fix: in CONURL of connection 'MTGT_OTHER_CA'",
      ),
    });
  });
});
