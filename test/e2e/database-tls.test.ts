// TLS to the databases: a PostgreSQL server of the test's own with ssl=on and a certificate from a
// CA the test makes (openssl), naming 127.0.0.1 and localhost. A load whose source, target and
// metadata URLs say sslmode=verify-full with that CA ends exact, over encrypted sessions only
// (pg_stat_ssl); a connection that trusts another CA is refused at once, naming it and the fix.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../support/certificates';
import { FACT_COLUMNS, FACT_TARGET_COLUMNS } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import {
  addMappingRow,
  factMappingRow,
  migrateMetadata,
  startPasswordServer,
  type PasswordServer,
} from '../support/password-postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 3000;
const PASSWORDS = { meta: 'tls-meta-pw', src: 'tls-src-pw', tgt: 'tls-tgt-pw' };

const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-dbtls-'));
const file = (name: string) => path.join(dir, name);
let pg: PasswordServer | undefined;
let h: Harness | undefined;
let metadataUrl: string;
const verified = (url: string, ca = file('ca.pem')) =>
  `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

/** The test's certificates, the server's key owned by the user PostgreSQL runs as (postgres, when the test runs as root). */
function makeCertificates(): void {
  makeTestCertificates(dir);
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(file('server.key'), id('-u'), id('-g'));
  }
}

async function digest(database: string, table: string): Promise<{ n: string; md5: string }> {
  return pg!.admin(
    database,
    async (c) =>
      (
        await c.query(
          `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY sale_id, t::text)) AS md5 FROM ${table} t`,
        )
      ).rows[0],
  );
}

async function addMapping(mapref: string, srcconid: string, trgconid: string, table: string): Promise<void> {
  await pg!.admin('dms_tgt', (c) =>
    c.query(`CREATE TABLE ${table} (${FACT_TARGET_COLUMNS}); ALTER TABLE ${table} OWNER TO dms_tgt`),
  );
  await addMappingRow(
    pg!,
    'dms_meta',
    factMappingRow(mapref, table, { srcconid, trgconid, bulklmt: 500 }),
    metadataUrl,
    PASSWORDS.meta,
  );
}

const start = (mapref: string) =>
  h!.client.workflow.start('dmsJob', { taskQueue: h!.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });

beforeAll(async () => {
  makeCertificates();
  pg = await startPasswordServer({
    flags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${file('server.pem')}`, '-c', `ssl_key_file=${file('server.key')}`],
  });
  for (const name of ['meta', 'src', 'tgt'] as const) await pg.createUserDatabase(`dms_${name}`, PASSWORDS[name]);
  await pg.admin('dms_src', async (c) => {
    await c.query(`CREATE TABLE sales (${FACT_COLUMNS}); ALTER TABLE sales OWNER TO dms_src`);
    await c.query(
      `INSERT INTO sales SELECT g * 3, g % 97, (g % 100000) / 100.0, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second', 'note ' || g FROM generate_series(1, $1) g`,
      [ROWS],
    );
  });
  metadataUrl = verified(pg.urlFor('dms_meta', 'dms_meta'));
  await migrateMetadata(metadataUrl, PASSWORDS.meta);
  await pg.admin('dms_meta', (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES
         ('SRC', 'POSTGRES', $1, 'DMS_TEST_SRC_PASSWORD'),
         ('TGT', 'POSTGRES', $2, 'DMS_TEST_TGT_PASSWORD'),
         ('TGT_OTHER_CA', 'POSTGRES', $3, 'DMS_TEST_TGT_PASSWORD')`,
      [
        verified(pg!.urlFor('dms_src', 'dms_src')),
        verified(pg!.urlFor('dms_tgt', 'dms_tgt')),
        verified(pg!.urlFor('dms_tgt', 'dms_tgt'), file('other-ca.pem')),
      ],
    ),
  );
  h = await openHarness(
    'dbtls',
    {
      DMS_METADATA_URL: metadataUrl,
      DMS_METADATA_PASSWORD: PASSWORDS.meta,
      DMS_TEST_SRC_PASSWORD: PASSWORDS.src,
      DMS_TEST_TGT_PASSWORD: PASSWORDS.tgt,
    },
    { databases: { metadata: 'dms_meta', source: 'dms_src', target: 'dms_tgt', drop: async () => undefined } },
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to PostgreSQL', () => {
  it('loads exactly with sslmode=verify-full on the source, the target and the metadata, every session encrypted', async () => {
    await addMapping('TLSLOAD', 'SRC', 'TGT', 't_load');
    const worker = await h!.startWorker();
    // Sessions end with the worker; pg_stat_ssl is read while it still holds its pools.
    expect((await (await start('TLSLOAD')).result()).rows).toBe(ROWS);
    expect(await digest('dms_tgt', 't_load')).toEqual(await digest('dms_src', 'sales'));

    const sessions = await pg!.admin(
      'postgres',
      async (c) =>
        (
          await c.query<{ app: string; datname: string; ssl: boolean; version: string | null }>(
            `SELECT a.application_name AS app, a.datname, s.ssl, s.version
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.application_name LIKE 'dms-etl%'`,
          )
        ).rows,
    );
    const seen = new Set(sessions.map((s) => `${s.app} ${s.datname}`));
    expect(seen).toContain('dms-etl source dms_src');
    expect(seen).toContain('dms-etl target dms_tgt');
    expect(seen).toContain('dms-etl metadata dms_meta');
    for (const s of sessions)
      expect(s, `${s.app} on ${s.datname}`).toMatchObject({
        ssl: true,
        version: expect.stringMatching(/^TLSv1\.[23]$/),
      });
    await worker.kill();
  });

  it('refuses a connection whose sslrootcert is another CA at once, naming it and the fix, and moves no row', async () => {
    await addMapping('TLSWRONG', 'SRC', 'TGT_OTHER_CA', 't_wrong');
    const worker = await h!.startWorker();
    const began = Date.now();
    const message = await failureOf(await start('TLSWRONG'));
    expect(message).toBe(
      "Mapping TLSWRONG: TRGCONID uses connection 'TGT_OTHER_CA', whose TLS handshake failed: unable to verify the first certificate. " +
        "Fix: in CONURL of connection 'TGT_OTHER_CA' in DMS_DBCONDTLS, set sslrootcert to the file of the CA that signed the server's certificate",
    );
    // Not retried: one attempt, not the bounded policy's minutes.
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(await digest('dms_tgt', 't_wrong')).toMatchObject({ n: '0' });
    const runs = await pg!.admin(
      'dms_meta',
      async (c) => (await c.query(`SELECT status, lasterr FROM dms_prclog WHERE mapref = 'TLSWRONG'`)).rows,
    );
    expect(runs).toEqual([{ status: 'FL', lasterr: message }]);
    await worker.kill();
  });

  it('`dms connection test` and the metadata database say the same', async () => {
    const dms = (args: string[], env: Record<string, string>) =>
      run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h!.workerEnv, ...env } }).then(
        (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    expect((await dms(['connection', 'test', 'TGT'], {})).stdout).toContain(
      'connection TGT (POSTGRES): logged in and ran a query',
    );
    expect(await dms(['connection', 'test', 'TGT_OTHER_CA'], {})).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        "Connection TGT_OTHER_CA: uses connection 'TGT_OTHER_CA', whose TLS handshake failed: unable to verify the first certificate. Fix: in CONURL of connection 'TGT_OTHER_CA'",
      ),
    });
    const otherCa = verified(pg!.urlFor('dms_meta', 'dms_meta'), file('other-ca.pem'));
    expect(await dms(['status', 'TLSLOAD'], { DMS_METADATA_URL: otherCa })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        `Cannot open a TLS session with the metadata database at DMS_METADATA_URL=${otherCa}: unable to verify the first certificate. Fix: in DMS_METADATA_URL, set sslrootcert to the file of the CA`,
      ),
    });
  });
});
