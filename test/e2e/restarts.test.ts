// Database servers restarted under running loads, as a failover or a minor-version upgrade
// does (a fast shutdown: every session cut, the batch in flight with it). The worker process
// must stay up, and every load must move again by itself once the server answers, and end
// exact. Two PostgreSQL servers of the test's own (with passwords): one holds the source and
// the target, the other the metadata, so that each can go down alone.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/temporal-dev';
import { FACT_COLUMNS, FACT_TARGET_COLUMNS } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import {
  addMappingRow,
  factMappingRow,
  migrateMetadata,
  startPasswordServer,
  type PasswordServer,
} from '../support/password-postgres';
import type { WorkerProcess } from '../support/worker-process';

const ROWS = 30_000;
const secret = () => `pw-${randomBytes(9).toString('hex')}`;
const PASSWORDS = { meta: secret(), src: secret(), tgt: secret() };
/** How soon after a restart every load must have moved again. */
const MOVES_WITHIN_MS = 30_000;

let data: PasswordServer;
let meta: PasswordServer;
let h: Harness;
let metadataUrl: string;

async function digest(table: string): Promise<{ n: string; md5: string | null }> {
  const database = table === 'sales' ? 'dms_src' : 'dms_tgt';
  return data.admin(
    database,
    async (c) =>
      (
        await c.query(
          `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY sale_id, t::text)) AS md5 FROM ${table} t`,
        )
      ).rows[0],
  );
}

/** Batches committed so far, per mapping, as the checkpoint rows in the target hold them (ranges summed). */
async function committed(mapref: string): Promise<number> {
  return data.admin('dms_tgt', async (c) => {
    const { rows } = await c.query(
      `SELECT coalesce(sum(batchcnt), 0) AS n FROM dms_chkpnt WHERE mapref = $1 OR mapref LIKE $1 || '#p%'`,
      [mapref],
    );
    return Number(rows[0].n);
  });
}

async function addMapping(mapref: string, table: string, columns: Record<string, string | number> = {}): Promise<void> {
  await data.admin('dms_tgt', (c) =>
    c.query(`CREATE TABLE ${table} (${FACT_TARGET_COLUMNS}); ALTER TABLE ${table} OWNER TO dms_tgt`),
  );
  await addMappingRow(
    meta,
    'dms_meta',
    factMappingRow(mapref, table, { bulklmt: 500, ...columns }),
    metadataUrl,
    PASSWORDS.meta,
  );
}

/**
 * Restarts `server` while `maprefs` load, then waits until each has committed a batch more
 * than it had when the server went down.
 */
async function restartUnderLoad(server: PasswordServer, maprefs: string[], worker: WorkerProcess): Promise<string[]> {
  const before = await Promise.all(maprefs.map(committed));
  // What DMS_PRCLOG.LASTERR says meanwhile (the metadata server permitting).
  const said = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      await meta
        .admin('dms_meta', async (c) =>
          (await c.query(`SELECT lasterr FROM dms_prclog WHERE lasterr IS NOT NULL AND status = 'IP'`)).rows.forEach(
            (r: { lasterr: string }) => said.add(r.lasterr),
          ),
        )
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await server.restart();
  const back = Date.now();
  // A load that passed its stalled batch before the restart may have ended since.
  const completed = async (m: string) =>
    (await h.client.workflow.getHandle(`dms-${m}`).describe()).status.name === 'COMPLETED';
  const moved = async (m: string, i: number) => (await committed(m)) > before[i] || (await completed(m));
  await waitUntil(
    'every load moving again',
    async () => (await Promise.all(maprefs.map(moved))).every(Boolean) || undefined,
    MOVES_WITHIN_MS,
    200,
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; the worker ${worker.child.exitCode === null ? 'runs' : `exited (${worker.child.exitCode ?? worker.child.signalCode})`}, its last output:\n${worker.output().slice(-3000)}`,
    );
  });
  expect(Date.now() - back).toBeLessThan(MOVES_WITHIN_MS);
  watching = false;
  await watch;
  return [...said];
}

function start(mapref: string) {
  return h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-${mapref}`, args: [{ mapref }] });
}

beforeAll(async () => {
  [data, meta] = await Promise.all([startPasswordServer(), startPasswordServer()]);
  await data.createUserDatabase('dms_src', PASSWORDS.src);
  await data.createUserDatabase('dms_tgt', PASSWORDS.tgt);
  await meta.createUserDatabase('dms_meta', PASSWORDS.meta);
  await data.admin('dms_src', async (c) => {
    await c.query(`CREATE TABLE sales (${FACT_COLUMNS}); ALTER TABLE sales OWNER TO dms_src`);
    await c.query(
      `INSERT INTO sales SELECT g * 3, g % 97, (g % 100000) / 100.0, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second', 'note ' || g FROM generate_series(1, $1) g`,
      [ROWS],
    );
  });
  metadataUrl = meta.urlFor('dms_meta', 'dms_meta');
  await migrateMetadata(metadataUrl, PASSWORDS.meta);
  await meta.admin('dms_meta', (c) =>
    c.query(
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRC', 'POSTGRES', $1, 'DMS_TEST_SRC_PASSWORD'), ('TGT', 'POSTGRES', $2, 'DMS_TEST_TGT_PASSWORD')`,
      [data.urlFor('dms_src', 'dms_src'), data.urlFor('dms_tgt', 'dms_tgt')],
    ),
  );
  h = await openHarness(
    'restarts',
    {
      DMS_METADATA_URL: metadataUrl,
      DMS_METADATA_PASSWORD: PASSWORDS.meta,
      DMS_TEST_SRC_PASSWORD: PASSWORDS.src,
      DMS_TEST_TGT_PASSWORD: PASSWORDS.tgt,
      // A batch that lost its server is tried again soon, as often as a restart takes.
      DMS_RETRY_INITIAL_INTERVAL_MS: '500',
      DMS_RETRY_MAX_INTERVAL_MS: '2000',
      DMS_RETRY_MAX_ATTEMPTS: '30',
    },
    { databases: { metadata: 'dms_meta', source: 'dms_src', target: 'dms_tgt', drop: async () => undefined } },
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([data?.stop(), meta?.stop()]);
});

describe('a database server restarted under running loads', () => {
  let worker: WorkerProcess;

  it.each([
    ['the source and target server, twice', () => data, 'RS_DATA'],
    ['the metadata server alone, twice', () => meta, 'RS_META'],
  ])('%s: the worker stays up, every load moves again within 30 s and ends exact', async (_, server, prefix) => {
    const key = `${prefix}_KEY`;
    const parts = `${prefix}_PARTS`;
    await addMapping(key, `${key.toLowerCase()}_t`);
    await addMapping(parts, `${parts.toLowerCase()}_t`, { partitions: 2 });
    // Batches 6 and 20 of every load (and of every key range) wait before their commit: the
    // restarts come while they hold a transaction open on the target.
    worker ??= await h.startWorker({
      faults: [
        { point: 'beforeCommit', batch: 6, action: 'stall', ms: 3000 },
        { point: 'beforeCommit', batch: 20, action: 'stall', ms: 3000 },
      ],
    });
    const pid = worker.child.pid;
    const handles = await Promise.all([start(key), start(parts)]);
    const inFlight = (batch: number) =>
      waitUntil(
        `batch ${batch} of both loads in flight`,
        async () =>
          [key, parts].every((m) =>
            new RegExp(`fault: stall start at beforeCommit of batch ${batch} attempt \\d+ of ${m}\\n`).test(
              worker.output(),
            ),
          ) || undefined,
        60_000,
        50,
      );
    await inFlight(6);
    const said = await restartUnderLoad(server(), [key, parts], worker);
    if (server() === data) {
      // While the batch waited for its server, DMS_PRCLOG said why.
      expect(said.join('\n')).toMatch(
        /retrying .*(the database ended this session: terminating connection due to administrator command|ECONNREFUSED|Connection terminated)/,
      );
    }
    await inFlight(20);
    await restartUnderLoad(server(), [key, parts], worker);
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((r) => r.rows)).toEqual([ROWS, ROWS]);
    // One process all along, and it said what happened.
    expect(worker.child.exitCode).toBeNull();
    expect(worker.child.pid).toBe(pid);
    expect(worker.output()).not.toMatch(/Unhandled 'error' event|uncaughtException/);
    // The worker's log says what happened to the batch in flight.
    expect(worker.output()).toMatch(
      /terminating connection due to administrator command|Connection terminated unexpectedly/,
    );
    const source = await digest('sales');
    for (const mapref of [key, parts]) expect(await digest(`${mapref.toLowerCase()}_t`), mapref).toEqual(source);
  });

  it('a stray driver error that no code waits for (an unheard socket error) is logged and counted, and the worker goes on', async () => {
    await worker?.kill();
    const mapref = 'RS_STRAY';
    await addMapping(mapref, 'rs_stray_t');
    const metrics = `127.0.0.1:${await freePort()}`;
    const stray = await h.startWorker({
      env: { DMS_METRICS_ADDRESS: metrics },
      faults: [{ point: 'beforeCommit', batch: 3, action: 'stray' }],
    });
    const pid = stray.child.pid;
    expect((await (await start(mapref)).result()).rows).toBe(ROWS);
    expect(await digest('rs_stray_t')).toEqual(await digest('sales'));
    expect(stray.child.exitCode).toBeNull();
    expect(stray.child.pid).toBe(pid);
    expect(stray.output()).toMatch(
      /dms worker: caught a database error no code was waiting for \(an unheard 'error' event\): read ECONNRESET; the worker goes on/,
    );
    const scraped = await (await fetch(`http://${metrics}/metrics`)).text();
    expect(scraped).toMatch(/^dms_worker_stray_errors_total\{[^}]*kind="event"[^}]*\} 1$/m);
    await stray.kill();
  });
});
