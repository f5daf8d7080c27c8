// The `dms` command line and the Temporal CLI, as a user runs them, against a real worker
// started with `dms worker`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort, startDevServer, temporalCli } from '../../scripts/temporal-dev';
import { createFactSource, createFactTarget } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { conurlFor, PG_PASSWORD_ENV, tableDigest, withClient } from '../support/postgres';
import type { WorkerProcess } from '../support/worker-process';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');

let h: Harness;
let worker: WorkerProcess;

function dms(...args: string[]) {
  return run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } });
}

async function dmsFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err = await dms(...args).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  expect(err, `dms ${args.join(' ')} should fail`).toBeDefined();
  return err!;
}

async function insertMapping(mapref: string, table: string, extra = ''): Promise<void> {
  await withClient(h.dbs.metadata, (c) =>
    c.query(
      `INSERT INTO dms_mapr (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, bulklmt, chkpntstrategy, chkpntcolumn)
       VALUES ($1, 'SRC', 'SELECT * FROM sales', 'TGT', 'public', $2, 1000, 'KEY', ${extra || "'SALE_ID'"})`,
      [mapref, table],
    ),
  );
}

async function expectExact(table: string) {
  expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(
    await tableDigest(h.dbs.source, 'sales', 'sale_id'),
  );
}

beforeAll(async () => {
  h = await openHarness('cli');
  await createFactSource(h.dbs.source, 25_000);
});

afterAll(async () => {
  await h?.close();
});

describe('a worker against a server without the search attributes', () => {
  it('refuses to start, saying how to create them', async () => {
    const bare = await startDevServer({ port: await freePort(), headless: true, quiet: true, searchAttributes: false });
    try {
      const err = await run(process.execPath, [DMS, 'worker'], {
        env: { ...process.env, ...h.workerEnv, TEMPORAL_ADDRESS: bare.address },
        timeout: 60_000,
      }).then(
        () => undefined,
        (e: { stderr: string; code: number }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain(
        'dms: Namespace default lacks the search attributes DmsMapref, DmsStatus, DmsRowsLoaded',
      );
      expect(err?.stderr).toContain(
        'temporal operator search-attribute create --namespace default --name DmsMapref --type Keyword',
      );
    } finally {
      await bare.stop();
    }
  });
});

describe('dms CLI', () => {
  it('migrates, and migrating again changes nothing', async () => {
    await dms('migrate');
    const { stdout } = await dms('migrate');
    expect(stdout).toContain('metadata tables are up to date');
    await withClient(h.dbs.metadata, (c) =>
      c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRC', 'POSTGRES', $1, $3), ('TGT', 'POSTGRES', $2, $3)`,
        [conurlFor(h.dbs.source), conurlFor(h.dbs.target), PG_PASSWORD_ENV],
      ),
    );
  });

  it('syncs a job once, and again only when the mapping changed', async () => {
    await createFactTarget(h.dbs.target, 'cli_copy');
    await insertMapping('CLI', 'cli_copy');
    expect((await dms('job', 'sync', 'CLI')).stdout).toMatch(/^job \d+ \(version 1\) created for CLI/);
    expect((await dms('job', 'sync', 'CLI')).stdout).toMatch(/^job \d+ \(version 1\) of CLI is up to date/);
    await withClient(h.dbs.metadata, (c) => c.query(`UPDATE dms_mapr SET bulklmt = 2000 WHERE mapref = 'CLI'`));
    expect((await dms('job', 'sync', 'CLI')).stdout).toMatch(/^job \d+ \(version 2\) created for CLI/);
  });

  it('refuses a bad mapping with the mapping, the field and the fix, and no stack trace', async () => {
    await insertMapping('CLIBAD', 'cli_copy', `'id; DROP TABLE sales'`);
    const { code, stderr } = await dmsFails('job', 'sync', 'CLIBAD');
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(
      /^dms: Mapping CLIBAD: CHKPNTCOLUMN is refused: .* Fix: .*then run `dms job sync CLIBAD`$/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
    expect((await dmsFails('job', 'sync', 'NOPE')).stderr).toMatch(/^dms: Mapping NOPE: MAPREF is not in DMS_MAPR/);
  });

  it('validates a mapping against its databases, with warnings, before any run', async () => {
    const ok = await dms('mapping', 'validate', 'CLI');
    expect(ok.stdout).toContain("Mapping CLI: CHKPNTSTRATEGY is 'KEY': KEY on (sale_id); key (sale_id) is unique");
    expect(ok.stdout).toContain('Mapping CLI is valid: 5 columns into "public"."cli_copy", 2,000 rows a batch');
    expect(ok.stdout).not.toContain('warning');

    await insertMapping('CLINOINDEX', 'cli_copy', `'STORE_ID'`);
    const warned = await dms('mapping', 'validate', 'CLINOINDEX');
    expect(warned.stdout).toContain('key (store_id) is not unique; ties are broken by (sale_id)');
    expect(warned.stdout).toMatch(
      /warning: Mapping CLINOINDEX: the source database cannot read SRCQUERY in key order \(store_id, sale_id\) from an index/,
    );

    await withClient(h.dbs.metadata, (c) =>
      c.query(`UPDATE dms_mapr SET trgtbnm = 'NO_SUCH' WHERE mapref = 'CLINOINDEX'`),
    );
    const bad = await dmsFails('mapping', 'validate', 'CLINOINDEX');
    expect(bad.stderr.trim()).toMatch(
      /^dms: Mapping CLINOINDEX: TRGTBNM names the table "public"."no_such", which does not exist on connection 'TGT'\. Fix: /,
    );
    expect(await tableDigest(h.dbs.target, 'cli_copy', 'sale_id')).toEqual({ count: 0, md5: '' });

    // A source database that is down (nothing listens on port 1): the message names the
    // field and the connection.
    await withClient(h.dbs.metadata, async (c) => {
      await c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl) VALUES ('DOWN', 'POSTGRES', 'postgres://postgres@127.0.0.1:1/nowhere')`,
      );
      await c.query(`UPDATE dms_mapr SET trgtbnm = 'CLI_COPY', srcconid = 'DOWN' WHERE mapref = 'CLINOINDEX'`);
    });
    const down = await dmsFails('mapping', 'validate', 'CLINOINDEX');
    expect(down.stderr.trim()).toMatch(
      /^dms: Mapping CLINOINDEX: SRCCONID uses connection 'DOWN', which cannot be reached: connect ECONNREFUSED 127\.0\.0\.1:1\. Fix: check that the database is up and reachable from the worker/,
    );
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which variable is missing', async () => {
    const err = await run(process.execPath, [DMS, 'status', 'CLI'], {
      env: { ...process.env, DMS_METADATA_URL: '' },
    }).then(
      () => undefined,
      (e: { stderr: string }) => e,
    );
    expect(err?.stderr).toMatch(/DMS_METADATA_URL is empty/);
  });

  it('says within seconds that no worker polls, shows the waiting run in `dms status`, says how to come back on Ctrl-C, and `dms watch` follows the run to its end', async () => {
    await createFactTarget(h.dbs.target, 'cli_wait');
    await insertMapping('CLIWAIT', 'cli_wait');
    await dms('job', 'sync', 'CLIWAIT');
    // No worker polls this file's task queue yet.
    const child = spawn(process.execPath, [DMS, 'run', 'CLIWAIT', '--wait'], {
      env: { ...process.env, ...h.workerEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const started = Date.now();
    await waitUntil(
      'the line saying no worker polls',
      async () => /no worker polls task queue dms-etl-cli/.test(out),
      30_000,
      100,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(out).toContain(
      'CLIWAIT: no worker polls task queue dms-etl-cli, so workflow dms-CLIWAIT waits for one: start it with `dms worker`',
    );
    expect((await dms('status', 'CLIWAIT')).stdout).toMatch(
      /^CLIWAIT: workflow dms-CLIWAIT started at \d{4}-\d\d-\d\d \d\d:\d\d UTC and no worker has picked it up yet: no worker polls task queue dms-etl-cli/,
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(out).toContain(
      'CLIWAIT: stopped watching; the load goes on as workflow dms-CLIWAIT. `dms watch CLIWAIT` to follow it again, `dms cancel CLIWAIT` to stop it',
    );

    // Watching before a worker starts: a worker started first may end the run before `dms watch` looks.
    const watch = spawn(process.execPath, [DMS, 'watch', 'CLIWAIT'], {
      env: { ...process.env, ...h.workerEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watched = '';
    watch.stdout!.on('data', (d: Buffer) => (watched += d.toString()));
    watch.stderr!.on('data', (d: Buffer) => (watched += d.toString()));
    const watchExited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
    onTestFinished(() => void (watch.exitCode === null && watch.kill('SIGKILL')));
    await waitUntil(
      'dms watch following the run',
      async () => /^watching workflow dms-CLIWAIT\n/.test(watched),
      30_000,
      100,
    );
    worker = await h.startWorker({ cli: true });
    expect(await watchExited).toBe(0);
    expect(watched).toMatch(/^watching workflow dms-CLIWAIT\n/);
    expect(watched).toMatch(/\nCLIWAIT: completed run \d+: 25,000 rows in 25 batches, \d+:\d\d, [\d,]+ rows\/s\n$/);
    expect(await tableDigest(h.dbs.target, 'cli_wait', 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    expect((await dmsFails('watch', 'CLIWAIT')).stderr).toMatch(
      /^dms: CLIWAIT has no running load to watch; its latest run \d+ ended PC at /,
    );
  });

  it('runs a load with `dms run --wait` on a `dms worker`, and shows it with `dms status`', async () => {
    const { stdout } = await dms('run', 'CLI', '--wait');
    expect(stdout).toMatch(/started workflow dms-CLI/);
    // The last line: rows, batches, how long and how fast, numbers written one way.
    expect(stdout).toMatch(/\nCLI: completed run \d+: 25,000 rows in 13 batches, \d+:\d\d, [\d,]+ rows\/s\n$/);
    expect(stdout).toMatch(/CLI: run \d+ loads from the start/);
    await expectExact('cli_copy');
    const status = (await dms('status', 'CLI')).stdout;
    // Aligned columns under a header, statuses in words, one number format.
    expect(status).toMatch(
      /^run +status +started +took +rows +batches +checkpoint \/ error\n\d+ +completed +\d{4}-\d\d-\d\d \d\d:\d\d +\d+:\d\d +25,000 +13\n$/,
    );
    for (const json of [
      (await dms('status', 'CLI', '--json')).stdout,
      (await dms('status', 'CLI', '-o', 'json')).stdout,
    ]) {
      expect((JSON.parse(json) as { runs: unknown[] }).runs[0]).toMatchObject({
        status: 'PC',
        param1: 'COMPLETED',
        trgrows: 25000,
      });
    }
    const lines = (await dms('status', 'CLI', '-o', 'jsonl')).stdout.trim().split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ mapref: 'CLI', status: 'PC', trgrows: 25000 });
    // Cut to the terminal's width (COLUMNS where there is no terminal).
    const narrow = await run(process.execPath, [DMS, 'status', 'CLI'], {
      env: { ...process.env, ...h.workerEnv, COLUMNS: '72' },
    });
    expect(narrow.stdout.split('\n').every((l) => l.length < 72)).toBe(true);
  });

  it('warns of a key the source cannot read in order from an index, with the fix, at apply and at run', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-apply-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await createFactTarget(h.dbs.target, 'cli_slow');
    const file = path.join(dir, 'slow.yaml');
    writeFileSync(
      file,
      `mappings:\n  - { mapref: CLISLOW, srcconid: SRC, srcquery: SELECT * FROM sales, trgconid: TGT, trgschm: public, trgtbnm: cli_slow, bulklmt: 5000, chkpntstrategy: KEY, chkpntcolumn: STORE_ID }\n`,
    );
    const warning =
      'warning: Mapping CLISLOW: the source database cannot read SRCQUERY in key order (store_id, sale_id) from an index, so every batch sorts the source, which is slow on a large table. Fix: create an index over (store_id, sale_id) on the table SRCQUERY reads (CREATE INDEX ON <table> (store_id, sale_id)), or set CHKPNTCOLUMN to a unique column that has an index';
    expect((await dms('mapping', 'apply', file)).stdout).toContain(warning);
    const ran = await dms('run', 'CLISLOW', '--wait');
    expect(ran.stderr).toContain(warning);
    expect(ran.stdout).toMatch(/CLISLOW: completed run \d+: 25,000 rows/);
    // A key read from an index gets no warning.
    await createFactTarget(h.dbs.target, 'cli_fast');
    await insertMapping('CLIFAST', 'cli_fast');
    await dms('job', 'sync', 'CLIFAST');
    const keyed = await dms('run', 'CLIFAST', '--wait');
    expect(keyed.stderr).not.toContain('warning');
    expect(keyed.stdout).toMatch(/CLIFAST: completed run \d+: 25,000 rows/);
  });

  it('calls an unknown mapping an error, with the close names; a known one without runs is not', async () => {
    const unknown = await dmsFails('status', 'CLl');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(
      /^dms: Mapping CLl: MAPREF is not in DMS_MAPR\. Fix: did you mean 'CLI'\? `dms mapping list` lists the mappings/,
    );
    expect((await dms('status', 'CLINOINDEX')).stdout.trim()).toBe(
      'Mapping CLINOINDEX: no runs yet (start one with `dms run CLINOINDEX`)',
    );
  });

  it('lists and shows mappings and connections, and tests a connection as the worker logs in', async () => {
    const list = (await dms('mapping', 'list')).stdout;
    expect(list).toMatch(/^CLI +SRC +TGT: public\.cli_copy +KEY +SALE_ID +APPEND +2,000$/m);
    expect(
      (JSON.parse((await dms('mapping', 'list', '--json')).stdout) as { mapref: string }[]).map((m) => m.mapref),
    ).toEqual(['CLI', 'CLIBAD', 'CLIFAST', 'CLINOINDEX', 'CLISLOW', 'CLIWAIT']);
    expect(JSON.parse((await dms('mapping', 'show', 'CLI', '--json')).stdout)).toMatchObject({
      mapref: 'CLI',
      bulklmt: 2000,
      chkpntcolumn: 'SALE_ID',
      rejectlmt: 0,
    });
    expect((await dms('connection', 'list')).stdout).toMatch(
      /^DOWN +POSTGRES +postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere$/m,
    );
    expect((await dms('connection', 'test', 'SRC')).stdout.trim()).toBe(
      'connection SRC (POSTGRES): logged in and ran a query',
    );
    expect((await dmsFails('connection', 'test', 'DOWN')).stderr.trim()).toMatch(
      /^dms: Connection DOWN: uses connection 'DOWN', which cannot be reached: connect ECONNREFUSED/,
    );
    expect((await dmsFails('connection', 'test', 'SCR')).stderr.trim()).toMatch(
      /^dms: Connection SCR is not in DMS_DBCONDTLS\. Fix: did you mean 'SRC'\?/,
    );
  });

  it('applies mappings and connections from a YAML file, in one transaction, with a dry run first', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-apply-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'mappings.yaml');
    writeFileSync(
      file,
      `connections:
  - { conid: SRC2, dbtyp: postgres, conurl: "${conurlFor(h.dbs.source)}", pwdenv: ${PG_PASSWORD_ENV ?? 'null'} }
mappings:
  - MAPREF: YAML_LOAD
    SRCCONID: SRC2
    SRCQUERY: SELECT * FROM sales
    TRGCONID: TGT
    TRGSCHM: PUBLIC
    TRGTBNM: CLI_COPY
    BULKLMT: 5000
    CHKPNTSTRATEGY: KEY
    CHKPNTCOLUMN: SALE_ID
  - { mapref: CLI, srcconid: SRC, srcquery: SELECT * FROM sales, trgconid: TGT, trgschm: public, trgtbnm: cli_copy, bulklmt: 2000, chkpntstrategy: KEY, chkpntcolumn: SALE_ID, rejectlmt: 10 }
`,
    );
    const checked = (await dms('mapping', 'apply', file, '--dry-run')).stdout.trim().split('\n');
    // Each mapping checked against its databases first, as a run checks it.
    expect(checked.filter((l) => l.startsWith('Mapping '))).toEqual([
      expect.stringMatching(
        /^Mapping YAML_LOAD: CHKPNTSTRATEGY is 'KEY': KEY on \(sale_id\); key \(sale_id\) is unique/,
      ),
      expect.stringMatching(/^Mapping CLI: CHKPNTSTRATEGY is 'KEY': KEY on \(sale_id\); key \(sale_id\) is unique/),
    ]);
    const dry = checked.filter((l) => !l.startsWith('Mapping '));
    expect(dry).toEqual([
      'would add connection SRC2 (POSTGRES)',
      'would add mapping YAML_LOAD (SRC2 → TGT.CLI_COPY)',
      'would change mapping CLI: REJECTLMT 0 → 10',
      'dry run: nothing written (2 mapping(s) would change)',
    ]);
    expect((await dmsFails('mapping', 'show', 'YAML_LOAD')).stderr).toMatch(/MAPREF is not in DMS_MAPR/);
    const applied = (await dms('mapping', 'apply', file)).stdout;
    expect(applied).toMatch(/job \d+ \(version 1\) created for YAML_LOAD/);
    expect(applied).toMatch(/job \d+ \(version 3\) created for CLI/);
    expect(JSON.parse((await dms('mapping', 'show', 'YAML_LOAD', '--json')).stdout)).toMatchObject({
      srcconid: 'SRC2',
      bulklmt: 5000,
      loadmode: 'APPEND',
    });
    expect((await dms('mapping', 'apply', file, '--dry-run')).stdout).toContain('mapping YAML_LOAD unchanged');
    // A bad file changes nothing: every problem named with its place, no partial write.
    writeFileSync(
      file,
      `connections:\n  - { conid: BAD, dbtyp: DB2, conurl: "postgres://u:secret@h/db" }\nmappings:\n  - { mapref: YAML_LOAD, bulklmt: 0 }\n`,
    );
    const bad = (await dmsFails('mapping', 'apply', file)).stderr;
    expect(bad).toContain('connections.0.dbtyp: must be one of POSTGRES');
    expect(bad).toContain('connections.0.conurl: carries a password: remove it');
    expect(bad).not.toContain('secret');
    expect((await dms('connection', 'list', '--json')).stdout).not.toContain('BAD');
  });

  it.each([
    [
      'a column that is not there',
      { chkpntcolumn: 'SALE_IDD' },
      /^dms: Mapping APPLYBAD: CHKPNTCOLUMN is 'SALE_IDD'; the column "sale_idd" \(from SALE_IDD\) is not returned by SRCQUERY/,
    ],
    [
      'a target key that is not there',
      { loadmode: 'UPSERT', trgkeycols: 'NO_SUCH' },
      /^dms: Mapping APPLYBAD: TRGKEYCOLS /,
    ],
    [
      'a query that does not parse',
      { srcquery: 'SELEC * FROM sales' },
      /^dms: Mapping APPLYBAD: SRCQUERY .*syntax error/,
    ],
    [
      'a password variable not set here',
      { srcconid: 'SRCPWENV' },
      /^dms: Mapping APPLYBAD: SRCCONID uses connection 'SRCPWENV', whose PWDENV names the environment variable DMS_TEST_UNSET_PASSWORD, which is not set here, where dms runs\. Fix: export DMS_TEST_UNSET_PASSWORD/,
    ],
  ])(
    'refuses to save a mapping that cannot run (%s), saying why once; --no-validate saves it',
    async (_, change, message) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-apply-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'bad.yaml');
      const mapping = {
        mapref: 'APPLYBAD',
        srcconid: 'SRC',
        srcquery: 'SELECT * FROM sales',
        trgconid: 'TGT',
        trgschm: 'public',
        trgtbnm: 'cli_copy',
        chkpntstrategy: 'KEY',
        chkpntcolumn: 'SALE_ID',
        ...change,
      };
      const connection = `{ conid: SRCPWENV, dbtyp: POSTGRES, conurl: "${conurlFor(h.dbs.source)}", pwdenv: DMS_TEST_UNSET_PASSWORD }`;
      writeFileSync(file, `connections:\n  - ${connection}\nmappings:\n  - ${JSON.stringify(mapping)}\n`);
      const { stderr } = await dmsFails('mapping', 'apply', file);
      expect(stderr).toMatch(message);
      expect(stderr.match(/Mapping APPLYBAD:/g)).toHaveLength(1);
      expect(stderr).toContain(
        `${file}: nothing was saved: the file holds a mapping that cannot run (fix it, or apply with --no-validate to save it unchecked)`,
      );
      expect(stderr).not.toMatch(/\n\s+at /);
      expect((await dmsFails('mapping', 'show', 'APPLYBAD')).stderr).toMatch(/MAPREF is not in DMS_MAPR/);
      expect((await dms('mapping', 'apply', file, '--no-validate')).stdout).toMatch(
        /applied \(1 connection\(s\), 1 mapping\(s\)\), not checked against their databases \(--no-validate\)/,
      );
      await withClient(h.dbs.metadata, async (c) => {
        await c.query(`DELETE FROM dms_job WHERE mapref = 'APPLYBAD'`);
        await c.query(`DELETE FROM dms_mapr WHERE mapref = 'APPLYBAD'`);
      });
    },
  );

  it('refuses a misspelt key in a mapping file, naming its line and the key meant, and saves nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-apply-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'typo.yaml');
    writeFileSync(
      file,
      `mappings:\n  - mapref: TYPO\n    srcconid: SRC\n    srcquery: SELECT * FROM sales\n    trgconid: TGT\n    trgschm: public\n    trgtbnm: cli_copy\n    loadmod: TRUNCATE\n    chkpntstrategy: NONE\n`,
    );
    expect((await dmsFails('mapping', 'apply', file)).stderr).toBe(
      `dms: ${file}:8: mappings.0 (TYPO): unknown key 'loadmod' (did you mean 'loadmode'?). Nothing was saved\n`,
    );
    expect((await dmsFails('mapping', 'show', 'TYPO')).stderr).toMatch(/MAPREF is not in DMS_MAPR/);
  });

  it("answers the earlier implementation's monitoring queries verbatim", async () => {
    const current = await withClient(h.dbs.metadata, (c) =>
      c.query(`SELECT param1 as checkpoint, status, strtdt
FROM DMS_PRCLOG
WHERE mapref = 'CLI'
  AND status = 'PC'
ORDER BY reccrdt DESC
FETCH FIRST 1 ROW ONLY;`),
    );
    expect(current.rows).toEqual([expect.objectContaining({ checkpoint: 'COMPLETED', status: 'PC' })]);
    const history = await withClient(h.dbs.metadata, (c) =>
      c.query(`SELECT reccrdt, param1 as checkpoint, status, enddt - strtdt as duration
FROM DMS_PRCLOG
WHERE mapref = 'CLI'
ORDER BY reccrdt DESC
FETCH FIRST 10 ROWS ONLY;`),
    );
    expect(history.rows).toHaveLength(1);
    expect(history.rows[0].duration).toBeTruthy();
  });

  it('runs a load started with `temporal workflow start`', async () => {
    await createFactTarget(h.dbs.target, 'cli_temporal');
    await insertMapping('CLITEMPORAL', 'cli_temporal');
    await dms('job', 'sync', 'CLITEMPORAL');
    const cli = temporalCli();
    await run(cli, [
      'workflow',
      'start',
      '--address',
      h.server.address,
      '--type',
      'dmsJob',
      '--task-queue',
      h.taskQueue,
      '--workflow-id',
      'dms-CLITEMPORAL',
      '--input',
      '{"mapref":"CLITEMPORAL"}',
    ]);
    const { stdout } = await run(
      cli,
      ['workflow', 'result', '--address', h.server.address, '--workflow-id', 'dms-CLITEMPORAL'],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/COMPLETED/);
    await expectExact('cli_temporal');
  });

  it('finds runs by DmsMapref, shows a running load with dms status, and cancels it with dms cancel', async () => {
    await createFactTarget(h.dbs.target, 'cli_cancel');
    await insertMapping('CLICANCEL', 'cli_cancel');
    // 5,000 batches of 5: the load still runs when `dms cancel` comes, seconds later.
    await withClient(h.dbs.metadata, (c) => c.query(`UPDATE dms_mapr SET bulklmt = 5 WHERE mapref = 'CLICANCEL'`));
    await dms('job', 'sync', 'CLICANCEL');
    await dms('run', 'CLICANCEL');
    await waitUntil('5 batches', async () => {
      const { rows } = await withClient(h.dbs.metadata, (c) =>
        c.query(`SELECT batchcnt FROM dms_prclog WHERE mapref = 'CLICANCEL'`),
      );
      return Number(rows[0]?.batchcnt ?? 0) >= 5;
    });
    const status = (await dms('status', 'CLICANCEL')).stdout;
    expect(status).toMatch(
      /^CLICANCEL: run \d+ is running as workflow dms-CLICANCEL: [\d,]+ rows · [\d,]+ batches · [\d,]+ rows\/s · \d+:\d\d · checkpoint \d+\n/,
    );
    const listed = await run(temporalCli(), [
      'workflow',
      'list',
      '--address',
      h.server.address,
      '--query',
      'DmsMapref="CLICANCEL"',
    ]);
    expect(listed.stdout).toContain('dms-CLICANCEL');

    expect((await dms('cancel', 'CLICANCEL')).stdout).toMatch(
      /^cancel requested for workflow dms-CLICANCEL \(run \d+\)/,
    );
    await h.client.workflow
      .getHandle('dms-CLICANCEL')
      .result()
      .catch(() => undefined);
    const { rows } = await withClient(h.dbs.metadata, (c) =>
      c.query(`SELECT status, param1, trgrows FROM dms_prclog WHERE mapref = 'CLICANCEL'`),
    );
    expect(rows[0].status).toBe('CN');
    expect(Number((await tableDigest(h.dbs.target, 'cli_cancel', 'sale_id')).count)).toBe(Number(rows[0].trgrows));
    const cancelled = await run(temporalCli(), [
      'workflow',
      'list',
      '--address',
      h.server.address,
      '--query',
      'DmsMapref="CLICANCEL" AND DmsStatus="CN"',
    ]);
    expect(cancelled.stdout).toContain('dms-CLICANCEL');
    expect((await dmsFails('cancel', 'CLICANCEL')).stderr).toMatch(/^dms: CLICANCEL has no active run to cancel/);

    // The next run resumes, and says from which run and checkpoint; its last line counts what it loaded itself.
    const resumed = (await dms('run', 'CLICANCEL', '--wait')).stdout;
    const stoppedAt = rows[0] as { param1: string; trgrows: string };
    expect(resumed).toMatch(
      new RegExp(
        `CLICANCEL: run \\d+ resumes run \\d+ from checkpoint '${stoppedAt.param1}', with ${Number(stoppedAt.trgrows).toLocaleString('en')} rows already loaded`,
      ),
    );
    expect(resumed).toMatch(
      new RegExp(
        `CLICANCEL: completed run \\d+: 25,000 rows in 5,000 batches, \\d+:\\d\\d, [\\d,]+ rows/s; ${(25_000 - Number(stoppedAt.trgrows)).toLocaleString('en')} of them by this run, which resumed run \\d+`,
      ),
    );
    await expectExact('cli_cancel');
  });

  it('stops the worker gracefully on SIGTERM', async () => {
    await worker.kill('SIGTERM');
    expect(worker.child.exitCode).toBe(0);
    expect(worker.output()).toContain('dms worker: stopped');
  });
});
