// `npm run demo`: a real load from scratch on the local PostgreSQL. It creates three
// databases (metadata, source, target), a 100,000-row source table and a mapping, starts a
// Temporal dev server (unless one answers at TEMPORAL_ADDRESS) and a `dms worker`, runs
// `dms run DEMO_SALES --wait`, compares target and source, and stops what it started.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { splitPassword } from '../common/url-password';
import { freePort, startDevServer, type DevServer } from './temporal-dev';

const ROOT = path.join(__dirname, '..');
const PG_URL = (process.env.DMS_DEMO_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
// CONURL and DMS_METADATA_URL carry no password: a password in DMS_DEMO_PG_URL reaches the
// worker as DMS_DEMO_PASSWORD (named by PWDENV) and DMS_METADATA_PASSWORD.
const { url: BARE_URL, password: PASSWORD } = splitPassword(PG_URL);
const bareUrl = (database: string) => `${BARE_URL.replace(/\/$/, '')}/${database}`;
const ROWS = Number(process.env.DMS_DEMO_ROWS ?? 100_000);
const DB = { metadata: 'dms_demo_meta', source: 'dms_demo_src', target: 'dms_demo_tgt' };

async function sql(database: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: `${PG_URL}/${database}` });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: 1000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

function dms(args: string[], env: NodeJS.ProcessEnv, stdio: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'bin', 'dms.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', stdio, stdio] });
}

function finished(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  console.log(`== databases on ${BARE_URL}: ${Object.values(DB).join(', ')} (dropped and created anew)`);
  for (const name of Object.values(DB)) {
    await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await sql('postgres', `CREATE DATABASE ${name}`);
  }
  const columns = 'sale_id bigint PRIMARY KEY, store_id int NOT NULL, amount numeric(12,2), sold_at timestamptz, note text';
  await sql(DB.source, `CREATE TABLE sales (${columns})`);
  await sql(
    DB.source,
    `INSERT INTO sales SELECT g, g % 50, round((random() * 1000)::numeric, 2), now() - g * interval '1 minute', 'sale ' || g FROM generate_series(1, $1) g`,
    [ROWS],
  );
  await sql(DB.target, `CREATE TABLE sales_copy (${columns})`);

  let server: DevServer | undefined;
  let address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  if (await temporalAnswers(address)) {
    console.log(`== using the Temporal server at ${address}`);
  } else {
    server = await startDevServer({ port: await freePort(), headless: true, quiet: true });
    address = server.address;
    console.log(`== started a temporary Temporal dev server on ${address}`);
  }
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    DMS_METADATA_URL: bareUrl(DB.metadata),
    ...(PASSWORD ? { DMS_METADATA_PASSWORD: PASSWORD, DMS_DEMO_PASSWORD: PASSWORD } : {}),
  };
  let worker: ChildProcess | undefined;
  try {
    console.log('== dms migrate');
    if ((await finished(dms(['migrate'], env))) !== 0) throw new Error('dms migrate failed');
    await sql(DB.metadata, `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('DEMO_SRC', 'POSTGRES', $1, $3), ('DEMO_TGT', 'POSTGRES', $2, $3)`, [
      bareUrl(DB.source),
      bareUrl(DB.target),
      PASSWORD ? 'DMS_DEMO_PASSWORD' : null,
    ]);
    await sql(
      DB.metadata,
      `INSERT INTO dms_mapr (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, loadmode, bulklmt, chkpntstrategy, chkpntcolumn, chkpntenabled)
       VALUES ('DEMO_SALES', 'DEMO_SRC', 'SELECT * FROM sales', 'DEMO_TGT', 'PUBLIC', 'SALES_COPY', 'APPEND', 5000, 'KEY', 'SALE_ID', 'Y')`,
    );
    console.log('== dms job sync DEMO_SALES');
    if ((await finished(dms(['job', 'sync', 'DEMO_SALES'], env))) !== 0) throw new Error('dms job sync failed');

    console.log('== dms worker (in the background)');
    worker = dms(['worker'], env, 'pipe');
    await new Promise<void>((resolve, reject) => {
      let out = '';
      worker!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('polling task queue')) resolve();
      });
      worker!.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      worker!.once('exit', () => reject(new Error(`the worker stopped:\n${out}`)));
    });

    console.log('== dms run DEMO_SALES --wait');
    if ((await finished(dms(['run', 'DEMO_SALES', '--wait'], env))) !== 0) throw new Error('dms run failed');

    const digest = `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY sale_id)) AS md5 FROM %s t`;
    const [src, tgt] = await Promise.all([sql(DB.source, digest.replace('%s', 'sales')), sql(DB.target, digest.replace('%s', 'sales_copy'))]);
    const same = src.rows[0].n === tgt.rows[0].n && src.rows[0].md5 === tgt.rows[0].md5;
    console.log(`== target ${same ? 'equals' : 'DIFFERS FROM'} source: ${tgt.rows[0].n} rows, md5 ${tgt.rows[0].md5}`);
    console.log('== dms status DEMO_SALES');
    await finished(dms(['status', 'DEMO_SALES'], env));
    if (!same) process.exitCode = 1;
    console.log(
      `\nTo go on by hand: export DMS_METADATA_URL=${bareUrl(DB.metadata)}` +
        `${PASSWORD ? ' and DMS_METADATA_PASSWORD and DMS_DEMO_PASSWORD (the password of DMS_DEMO_PG_URL)' : ''};` +
        ` start \`npm run temporal\` and \`npx dms worker\`;` +
        ` empty the target (psql ${bareUrl(DB.target)} -c 'TRUNCATE sales_copy': a new run after a completed one loads everything again)` +
        ` and run \`npx dms run DEMO_SALES --wait\`.`,
    );
  } finally {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await finished(worker);
    }
    await server?.stop();
  }
}

main().catch((err) => {
  console.error(`demo: ${(err as Error).message}`);
  process.exit(1);
});
