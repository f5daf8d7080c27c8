// Databases behind passwords, as in production: a PostgreSQL server that asks every client
// for a scram-sha-256 password holds the metadata, the source and the target, each its own
// login role. The source's and target's passwords reach the worker only through the
// variables PWDENV names, the metadata's through DMS_METADATA_PASSWORD; none of them may
// show up in a workflow history, the worker's log or DMS_PRCLOG.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalCli } from '../../scripts/temporal-dev';
import { FACT_COLUMNS, FACT_TARGET_COLUMNS } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import {
  addMappingRow,
  factMappingRow,
  migrateMetadata,
  startPasswordServer,
  type PasswordServer,
} from '../support/password-postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 100_000;
const secret = () => `pw-${randomBytes(9).toString('hex')}`;
const PASSWORDS = { meta: secret(), src: secret(), tgt: secret(), wrong: secret() };

let pg: PasswordServer;
let h: Harness;
let metadataUrl: string;

async function count(database: string, table: string): Promise<number> {
  return pg.admin(database, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
}

async function digest(database: string, table: string): Promise<{ n: string; md5: string }> {
  return pg.admin(
    database,
    async (c) =>
      (
        await c.query(
          `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY sale_id, t::text)) AS md5 FROM ${table} t`,
        )
      ).rows[0],
  );
}

async function runsOf(mapref: string) {
  return pg.admin(
    'dms_meta',
    async (c) =>
      (
        await c.query(`SELECT status, param1, trgrows, lasterr FROM dms_prclog WHERE mapref = $1 ORDER BY prcid`, [
          mapref,
        ])
      ).rows,
  );
}

async function addMapping(mapref: string, srcconid: string, trgconid: string, table: string): Promise<void> {
  await pg.admin('dms_tgt', (c) =>
    c.query(`CREATE TABLE ${table} (${FACT_TARGET_COLUMNS}); ALTER TABLE ${table} OWNER TO dms_tgt`),
  );
  await addMappingRow(
    pg,
    'dms_meta',
    factMappingRow(mapref, table, { srcconid, trgconid }),
    metadataUrl,
    PASSWORDS.meta,
  );
}

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

/** Every string of every event of every workflow run, with base64 payloads decoded as well. */
async function historiesText(): Promise<string> {
  const texts: string[] = [];
  for await (const wf of h.client.workflow.list()) {
    const json = execFileSync(
      temporalCli(),
      [
        'workflow',
        'show',
        '--address',
        h.server.address,
        '--namespace',
        h.server.namespace,
        '--workflow-id',
        wf.workflowId,
        '--run-id',
        wf.runId,
        '--output',
        'json',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const visit = (value: unknown): void => {
      if (typeof value === 'string') {
        texts.push(value, Buffer.from(value, 'base64').toString('utf8'));
      } else if (value && typeof value === 'object') {
        Object.values(value).forEach(visit);
      }
    };
    visit(JSON.parse(json));
  }
  return texts.join('\n');
}

function dms(args: string[], env: Record<string, string | undefined>) {
  const { PGPASSWORD: _, ...inherited } = process.env;
  return run(process.execPath, [DMS, ...args], {
    env: { ...inherited, ...h.workerEnv, ...env } as NodeJS.ProcessEnv,
  }).then(
    (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

beforeAll(async () => {
  pg = await startPasswordServer();
  for (const name of ['dms_meta', 'dms_src', 'dms_tgt'] as const)
    await pg.createUserDatabase(name, PASSWORDS[name.slice(4) as 'meta' | 'src' | 'tgt']);
  await pg.admin('dms_src', async (c) => {
    await c.query(`CREATE TABLE sales (${FACT_COLUMNS}); ALTER TABLE sales OWNER TO dms_src`);
    await c.query(
      `INSERT INTO sales SELECT g * 3, g % 97, (g % 100000) / 100.0, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second', 'note ' || g FROM generate_series(1, $1) g`,
      [ROWS],
    );
  });
  metadataUrl = pg.urlFor('dms_meta', 'dms_meta');
  await migrateMetadata(metadataUrl, PASSWORDS.meta);
  await pg.admin('dms_meta', (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES
         ('SRC', 'POSTGRES', $1, 'DMS_TEST_SRC_PASSWORD'),
         ('TGT', 'POSTGRES', $2, 'DMS_TEST_TGT_PASSWORD'),
         ('TGT_WRONG', 'POSTGRES', $2, 'DMS_TEST_WRONG_PASSWORD'),
         ('SRC_UNSET', 'POSTGRES', $1, 'DMS_TEST_UNSET_PASSWORD'),
         ('SRC_EMPTY', 'POSTGRES', $1, 'DMS_TEST_EMPTY_PASSWORD'),
         ('SRC_NOPWDENV', 'POSTGRES', $1, NULL)`,
      [`${pg.urlFor('dms_src', 'dms_src')}?sslmode=disable&application_name=ignored`, pg.urlFor('dms_tgt', 'dms_tgt')],
    ),
  );
  h = await openHarness(
    'passwords',
    {
      DMS_METADATA_URL: metadataUrl,
      DMS_METADATA_PASSWORD: PASSWORDS.meta,
      DMS_TEST_SRC_PASSWORD: PASSWORDS.src,
      DMS_TEST_TGT_PASSWORD: PASSWORDS.tgt,
      DMS_TEST_WRONG_PASSWORD: PASSWORDS.wrong,
      DMS_TEST_EMPTY_PASSWORD: '',
      // The source's real password, where libpq and node-postgres would look for one: a
      // connection without PWDENV must still not offer it.
      PGPASSWORD: PASSWORDS.src,
    },
    { databases: { metadata: 'dms_meta', source: 'dms_src', target: 'dms_tgt', drop: async () => undefined } },
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  await pg?.stop();
});

describe('databases behind passwords', () => {
  it('loads exactly with source and target passwords from PWDENV alone, through a worker SIGKILL', async () => {
    await addMapping('PWLOAD', 'SRC', 'TGT', 't_load');
    const first = await h.startWorker();
    const handle = await start('PWLOAD');
    const batches = () =>
      pg.admin('dms_tgt', async (c) =>
        Number(
          (
            await c
              .query(`SELECT coalesce(max(batchcnt), 0) AS n FROM dms_chkpnt WHERE mapref = 'PWLOAD'`)
              .catch(() => ({ rows: [{ n: 0 }] }))
          ).rows[0].n,
        ),
      );
    await waitUntil('3 batches', async () => (await batches()) >= 3, 60_000, 50);
    await first.kill('SIGKILL');
    expect(await count('dms_tgt', 't_load')).toBeLessThan(ROWS);

    const second = await h.startWorker();
    expect((await handle.result()).rows).toBe(ROWS);
    // No primary key on the target: a batch loaded twice would show as extra rows.
    expect(await digest('dms_tgt', 't_load')).toEqual(await digest('dms_src', 'sales'));
    expect(await runsOf('PWLOAD')).toEqual([
      { status: 'PC', param1: 'COMPLETED', trgrows: String(ROWS), lasterr: null },
    ]);
    await second.kill();
  });

  it('refuses a wrong password at once, naming the connection and PWDENV, and moves no row', async () => {
    await addMapping('PWWRONG', 'SRC', 'TGT_WRONG', 't_wrong');
    const worker = await h.startWorker();
    const message = await failureOf(await start('PWWRONG'));
    expect(message).toBe(
      `Mapping PWWRONG: TRGCONID uses connection 'TGT_WRONG', which the worker cannot log in to: password authentication failed for user "dms_tgt" [SQLSTATE 28P01]. ` +
        `Fix: correct CONURL (host, port, database, user) of connection 'TGT_WRONG' in DMS_DBCONDTLS, or the password in DMS_TEST_WRONG_PASSWORD (the variable its PWDENV names) on the worker`,
    );
    expect(await count('dms_tgt', 't_wrong')).toBe(0);
    expect((await runsOf('PWWRONG')).map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
    await worker.kill();
  });

  it.each([
    { mapref: 'PWUNSET', conid: 'SRC_UNSET', variable: 'DMS_TEST_UNSET_PASSWORD', state: 'is not set' },
    { mapref: 'PWEMPTY', conid: 'SRC_EMPTY', variable: 'DMS_TEST_EMPTY_PASSWORD', state: 'is empty' },
  ])(
    'refuses a PWDENV variable that $state on the worker, and moves no row',
    async ({ mapref, conid, variable, state }) => {
      await addMapping(mapref, conid, 'TGT', `t_${mapref.toLowerCase()}`);
      const worker = await h.startWorker();
      const message = await failureOf(await start(mapref));
      expect(message).toBe(
        `Mapping ${mapref}: SRCCONID uses connection '${conid}', whose PWDENV names the environment variable ${variable}, which ${state} on the worker. ` +
          `Fix: export ${variable} with the password of connection '${conid}' in the worker's environment and restart it`,
      );
      expect(await count('dms_tgt', `t_${mapref.toLowerCase()}`)).toBe(0);
      expect((await runsOf(mapref)).map((r) => [r.status, r.lasterr])).toEqual([['FL', message]]);
      await worker.kill();
    },
  );

  it('offers a server no password from PGPASSWORD when the connection has no PWDENV', async () => {
    await addMapping('PWNONE', 'SRC_NOPWDENV', 'TGT', 't_none');
    const worker = await h.startWorker();
    const message = await failureOf(await start('PWNONE'));
    expect(message).toBe(
      "Mapping PWNONE: SRCCONID uses connection 'SRC_NOPWDENV', which the worker cannot log in to: the server asks for a password, and the connection's PWDENV is empty. " +
        "Fix: set PWDENV of connection 'SRC_NOPWDENV' in DMS_DBCONDTLS to the name of an environment variable that holds the password on the worker, or correct CONURL (host, port, database, user) of connection 'SRC_NOPWDENV' in DMS_DBCONDTLS",
    );
    expect(await count('dms_tgt', 't_none')).toBe(0);
    // The refused login's socket is closed at once, not left to the server's authentication
    // timeout (a minute), which would hold up the worker's exit.
    const halfOpen = () =>
      pg.admin('postgres', async (c) =>
        Number((await c.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'starting'`)).rows[0].n),
      );
    await waitUntil('no half-open login', async () => (await halfOpen()) === 0, 5_000);
    await worker.kill();
  });

  it('reads the metadata database with DMS_METADATA_PASSWORD or PGPASSWORD, and names the variables when the password is wrong', async () => {
    const status = await dms(['status', 'PWLOAD'], {});
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/^\d+ +completed /m);
    expect(
      (await dms(['status', 'PWLOAD'], { DMS_METADATA_PASSWORD: undefined, PGPASSWORD: PASSWORDS.meta })).stdout,
    ).toMatch(/completed/);

    const refused = `dms: Cannot log in to the metadata database at DMS_METADATA_URL=${metadataUrl}: password authentication failed for user "dms_meta" [SQLSTATE 28P01]. Fix: correct the user and database in DMS_METADATA_URL, and set DMS_METADATA_PASSWORD (or PGPASSWORD) to the password of its user\n`;
    const cli = await dms(['status', 'PWLOAD'], { DMS_METADATA_PASSWORD: PASSWORDS.wrong });
    expect(cli).toMatchObject({ code: 1, stderr: refused });
    const worker = await dms(['worker'], { DMS_METADATA_PASSWORD: PASSWORDS.wrong });
    expect(worker).toMatchObject({ code: 1, stderr: refused });
  });

  it('keeps every password out of the workflow histories, the worker logs and DMS_PRCLOG', async () => {
    const histories = await historiesText();
    // The search reads decoded payloads: the workflow input is there in plain text.
    expect(histories).toContain('{"mapref":"PWLOAD"}');
    const logs = h.workerOutput();
    expect(logs).toContain('dms_tgt'); // the log names users and connections, never their passwords
    const prclog = await pg.admin(
      'dms_meta',
      async (c) => (await c.query(`SELECT string_agg(t::text, E'\\n') AS all FROM dms_prclog t`)).rows[0].all as string,
    );
    expect(prclog).toContain('PWWRONG');
    for (const password of Object.values(PASSWORDS)) {
      expect(histories).not.toContain(password);
      expect(logs).not.toContain(password);
      expect(prclog).not.toContain(password);
    }
  });
});
