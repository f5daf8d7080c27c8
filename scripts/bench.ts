// `npm run bench` — how fast dms-etl moves rows, against baselines measured in the same run
// on the same data and server. Never part of the test suite.
//
//   npm run bench                       1,000,000 rows, 5 runs of each figure
//   npm run bench -- --rows 10000000    or --large for the same; --runs N; --batch N; --keep
//   npm run bench -- --large --only partitions    the partitioned loads and their baselines alone
//   npm run bench -- --only mariadb     the MariaDB rounds alone (both ways, pgloader among them)
//   npm run bench -- --only wide        wide rows (documents of 3 MB and 100 KB as bytes), each
//                                       engine pair: time, MB/s, ÷ a pipe, the worker's peak RSS
//                                       (scripts/bench-wide.ts); --wide TEXT: only the loads
//                                       whose "shape, pair" holds TEXT ("3 MB, MariaDB")
//
// It creates three databases (dms_bench_meta, dms_bench_src, dms_bench_tgt; dropped and
// made anew, and dropped at the end unless --keep), a fact table, a Temporal dev server and a worker (with a prebuilt workflow
// bundle), then times each way of moving the table and checks the target exact (count and
// md5 over every column of every row) after every run. The ways the throughput ratios
// compare run in rounds, one run of each in turn, pgloader included: a baseline measured at
// another time than what it is compared with would compare the machine's moods. With MariaDB reachable (DMS_BENCH_MARIADB_URL, root on 127.0.0.1:3306 by default), it
// also moves the same table between MariaDB and PostgreSQL both ways (scripts/bench-mariadb.ts).
// Each figure is the median of its runs. It prints a table, then one closing line of
// JSON with every figure and ratio.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createActivities, type BatchState, type DmsActivities } from '../activities';
import { DatabaseRegistry } from '../plan/databases';
import { nextBoundSql, quotePostgresIdentifier, rangeSql } from '../dialects/postgres/postgres-sql';
import { splitPassword } from '../common/url-password';
import { Metadata } from '../metadata/repository';
import {
  dropMariaDb,
  MARIADB_MAPPINGS,
  mariadbRounds,
  prepareMariaDb,
  type MariaDbBenchContext,
  type MariaDbBenchResult,
} from './bench-mariadb';
import { dropWide, wideRounds } from './bench-wide';
import { freePort, startDevServer, type DevServer } from './temporal-dev';

/** The byte budget the wide rows' figures are held to (the issue's suggested default for DMS_BATCH_BYTES). */
const WIDE_BUDGET_MIB = 64;

const ROOT = path.join(__dirname, '..');
const PG_URL = (process.env.DMS_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
// CONURL carries no password: a password in DMS_BENCH_PG_URL reaches the worker and the
// pipeline without Temporal (both inherit this process's environment) as DMS_BENCH_PASSWORD.
const { url: BARE_URL, password: PASSWORD } = splitPassword(PG_URL);
if (PASSWORD) process.env.DMS_BENCH_PASSWORD = PASSWORD;
const DB = { metadata: 'dms_bench_meta', source: 'dms_bench_src', target: 'dms_bench_tgt' };
const COLUMN_NAMES = ['id', 'store_id', 'qty', 'amount', 'code', 'sold_at', 'note'];
const COLUMNS = `id bigint PRIMARY KEY, store_id int NOT NULL, qty int, amount numeric(12,2), code char(8), sold_at timestamptz, note text`;

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string' },
    large: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '10000' },
    // Keep the bench's databases (and MariaDB's user) at the end, e.g. to profile a load on them.
    keep: { type: 'boolean', default: false },
    // Only one section: 'partitions' (the partitioned loads and their baselines, e.g. at 10M rows),
    // 'mariadb' (the MariaDB rounds), or 'wide' (wide rows, scripts/bench-wide.ts).
    only: { type: 'string' },
    // With --only wide: only the loads whose "shape, pair" contains this text (e.g. "3 MB, MariaDB").
    wide: { type: 'string' },
    // Internal: run the pipeline without Temporal in a process of its own, like a worker.
    'direct-child': { type: 'string' },
    'workflow-id': { type: 'string' },
  },
});
if (flags.only !== undefined && !['partitions', 'mariadb', 'wide'].includes(flags.only))
  throw new Error(`--only takes 'partitions', 'mariadb' or 'wide', not '${flags.only}'`);
const PARTITIONS_ONLY = flags.only === 'partitions';
const MARIADB_ONLY = flags.only === 'mariadb';
const WIDE_ONLY = flags.only === 'wide';
// The wide rows bring their own tables: the fact table is made small.
const ROWS = WIDE_ONLY ? 1000 : flags.large ? 10_000_000 : Number(flags.rows ?? 1_000_000);
const RUNS = Number(flags.runs);
const BATCH = Number(flags.batch);
for (const [name, value] of Object.entries({ rows: ROWS, runs: RUNS, batch: BATCH })) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a whole number greater than 0`);
}

const url = (db: string) => `${PG_URL}/${db}`;

async function sql<R extends pg.QueryResultRow = Record<string, string>>(
  db: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url(db) });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const log = (line: string) => console.log(line);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Row count and an md5 over every column of every row, in key order (by 100,000-row groups: one string stays small). */
async function digest(db: string, table: string): Promise<string> {
  const [r] = await sql(
    db,
    `SELECT sum(n) AS n, md5(string_agg(h, '' ORDER BY g)) AS md5
       FROM (SELECT t.id / 100000 AS g, count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY t.id)) AS h FROM ${table} t GROUP BY 1) groups`,
  );
  return `${r.n}:${r.md5}`;
}

export interface Figure {
  name: string;
  seconds: number[];
  note?: string;
  failed?: number;
}

const figures: Figure[] = [];
let sourceDigest = '';

/** Where a way loads: how to empty it before a run, and whether it is exact after one. */
export interface BenchTarget {
  empty(): Promise<void>;
  /** The target's digest, and the one it must equal. */
  check(): Promise<{ got: string; expected: string }>;
}

/** A PostgreSQL table of the bench, checked against the source's digest. */
const pgTarget = (db: string, table: string): BenchTarget => ({
  async empty() {
    await sql(db, `TRUNCATE ${table}`);
    await sql(db, 'CHECKPOINT');
  },
  check: async () => ({ got: await digest(db, table), expected: sourceDigest }),
});

export interface Measured {
  name: string;
  target: BenchTarget;
  /** One run; one that returns a number reports its own time in seconds. */
  run: (i: number) => Promise<number | void>;
  note?: string;
  /**
   * A baseline that may fail a run (pgloader: its Lisp heap can run out): a failed or inexact
   * run is counted and logged, and the rounds go on. Others stop the bench.
   */
  mayFail?: boolean;
}

/**
 * Times each of `ways` RUNS times, in rounds (one run of each, in turn), so that figures
 * compared in a ratio are measured side by side and this machine's drift over minutes
 * falls on all of them alike. The target is emptied before, and checked exact after,
 * every run.
 */
async function measureRounds(ways: Measured[]): Promise<Figure[]> {
  const measured: Figure[] = ways.map((w) => ({
    name: w.name,
    seconds: [],
    note: w.note,
    ...(w.mayFail ? { failed: 0 } : {}),
  }));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, way] of ways.entries()) {
      await way.target.empty();
      const t0 = performance.now();
      try {
        const reported = await way.run(i);
        const seconds = typeof reported === 'number' ? reported : (performance.now() - t0) / 1000;
        const { got, expected } = await way.target.check();
        if (got !== expected)
          throw new Error(`${way.name}: the target is not exact after run ${i + 1} (${got} against ${expected})`);
        measured[k].seconds.push(seconds);
        log(`   ${way.name}: run ${i + 1}/${RUNS} ${seconds.toFixed(2)} s, exact`);
      } catch (err) {
        if (!way.mayFail) throw err;
        measured[k].failed! += 1;
        log(
          `   ${way.name}: run ${i + 1}/${RUNS} failed: ${String((err as Error).message)
            .split('\n')[0]
            .slice(0, 300)}`,
        );
      }
    }
  }
  // A baseline without one good run has no figure (its ratios say it did not run).
  figures.push(...measured.filter((f) => f.seconds.length > 0));
  return measured;
}

async function createData(): Promise<void> {
  log(`== databases on ${BARE_URL}: ${Object.values(DB).join(', ')} (dropped and created anew)`);
  for (const name of Object.values(DB)) {
    await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await sql('postgres', `CREATE DATABASE ${name}`);
  }
  await sql(DB.source, `CREATE TABLE fact (${COLUMNS})`);
  const chunk = 1_000_000;
  for (let from = 1; from <= ROWS; from += chunk) {
    const to = Math.min(ROWS, from + chunk - 1);
    await sql(
      DB.source,
      `INSERT INTO fact
       SELECT g, g % 500, g % 97, (g % 1000000) / 100.0, lpad((g % 99999999)::text, 8, '0'),
              timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second',
              md5(g::text) || ' ' || md5((g * 7)::text)
         FROM generate_series($1::bigint, $2::bigint) g`,
      [from, to],
    );
    log(`   source rows ${to.toLocaleString('en-US')} / ${ROWS.toLocaleString('en-US')}`);
  }
  await sql(DB.source, 'VACUUM ANALYZE fact');
  // Autovacuum of a freshly filled target would run into the next measurement.
  await sql(DB.source, `CREATE TABLE fact_copy (${COLUMNS}) WITH (autovacuum_enabled = off)`);
  await sql(DB.target, `CREATE TABLE fact (${COLUMNS}) WITH (autovacuum_enabled = off)`);
  const [size] = await sql(DB.source, `SELECT pg_size_pretty(pg_table_size('fact')) AS s`);
  sourceDigest = await digest(DB.source, 'fact');
  log(`   fact: ${ROWS.toLocaleString('en-US')} rows, ${size.s}`);
}

/** The binary COPY pipe: the source's COPY output straight into the target's COPY input. */
async function copyPipe(): Promise<void> {
  const src = new pg.Client({ connectionString: url(DB.source) });
  const tgt = new pg.Client({ connectionString: url(DB.target) });
  await Promise.all([src.connect(), tgt.connect()]);
  try {
    const out = src.query(copyTo('COPY fact TO STDOUT WITH (FORMAT binary)'));
    const into = tgt.query(copyFrom('COPY fact FROM STDIN WITH (FORMAT binary)'));
    await pipeline(out, into);
  } finally {
    await Promise.all([src.end(), tgt.end()]);
  }
}

/**
 * A reference for loads within one database: the SQL the in-database mover sends for each
 * batch (the batch's upper key, then the range's INSERT…SELECT), each batch a transaction
 * of its own that commits without waiting for the disk, and nothing else: no checkpoint, no
 * fence, no Temporal. What batching alone costs against one INSERT…SELECT.
 */
async function bareKeysetLoop(): Promise<void> {
  const client = new pg.Client({ connectionString: url(DB.source) });
  await client.connect();
  const query = 'SELECT * FROM fact';
  const list = COLUMN_NAMES.map(quotePostgresIdentifier).join(', ');
  try {
    let after: string[] = [];
    for (;;) {
      await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      const bound = await client.query<{ upto_0: string; more: boolean }>(
        nextBoundSql(query, ['id'], after.length > 0),
        [...after, BATCH - 1],
      );
      const upTo = bound.rows[0];
      if (upTo)
        await client.query(
          `INSERT INTO "public"."fact_copy" (${list})\n${rangeSql(query, ['id'], after.length > 0, list)}`,
          [...after, upTo.upto_0],
        );
      await client.query('COMMIT');
      if (!upTo?.more) return;
      after = [upTo.upto_0];
    }
  } finally {
    await client.end();
  }
}

function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * pgloader (Debian's package) on the same table, when it is installed. Its stdin is closed
 * and it is killed after `limitMs`: when its Lisp heap runs out it can stop in a debugger
 * that waits for input.
 */
async function pgloaderRun(binary: string, dir: string, limitMs: number): Promise<void> {
  const file = path.join(dir, 'bench.load');
  writeFileSync(
    file,
    `LOAD DATABASE FROM ${url(DB.source)} INTO ${url(DB.target)}
     WITH data only, batch rows = ${BATCH}
     INCLUDING ONLY TABLE NAMES MATCHING 'fact' IN SCHEMA 'public';\n`,
  );
  const child = spawn(binary, ['--quiet', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) {
    const why = /heap exhausted/i.test(output)
      ? 'heap exhausted'
      : code === null
        ? `killed after ${Math.round(limitMs / 1000)} s`
        : `exit code ${code}`;
    throw new Error(why);
  }
}

/**
 * `pgcopydb copy table-data` (Debian's package) on the same table, when it is installed; the
 * target table exists, as copy table-data expects. Its work folder is made anew each run.
 */
async function pgcopydbRun(binary: string, dir: string, i: number): Promise<void> {
  const filters = path.join(dir, 'pgcopydb.filters');
  writeFileSync(filters, '[include-only-table]\npublic.fact\n');
  const work = path.join(dir, `pgcopydb-${i}`);
  const args = [
    'copy',
    'table-data',
    '--source',
    url(DB.source),
    '--target',
    url(DB.target),
    '--dir',
    work,
    '--filters',
    filters,
    '--table-jobs',
    '4',
  ];
  const child = spawn(binary, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(PASSWORD ? { PGPASSWORD: PASSWORD } : {}) },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  rmSync(work, { recursive: true, force: true });
  if (code !== 0)
    throw new Error(
      `pgcopydb: exit code ${code}: ${output
        .split('\n')
        .filter((l) => /ERROR|FATAL/.test(l))
        .slice(0, 3)
        .join(' ')}`,
    );
}

/** Key ranges of the partitioned bench mappings (DMS_MAPR.PARTITIONS). */
const PARTITION_COUNTS = [2, 4];

async function registerMappings(): Promise<void> {
  const metadata = Metadata.open(url(DB.metadata));
  try {
    await metadata.migrate();
    const conurl = (db: string) => `${BARE_URL.replace(/\/$/, '')}/${db}`;
    await sql(
      DB.metadata,
      `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRC', 'POSTGRES', $1, $3), ('TGT', 'POSTGRES', $2, $3)`,
      [conurl(DB.source), conurl(DB.target), PASSWORD ? 'DMS_BENCH_PASSWORD' : null],
    );
    const mappings = [
      ['BENCH_KEY', 'TGT', 'FACT', 'KEY', 'ID'],
      ['BENCH_SAMEDB', 'SRC', 'FACT_COPY', 'KEY', 'ID'],
      ['BENCH_ROWCOUNT', 'TGT', 'FACT', 'ROWCOUNT', null],
      ['BENCH_DIRECT', 'TGT', 'FACT', 'KEY', 'ID'],
      ['BENCH_RESUME', 'TGT', 'FACT', 'KEY', 'ID'],
    ];
    for (const [mapref, trgconid, table, strategy, key] of mappings)
      await addMapping(metadata, mapref!, 'SRC', trgconid!, 'PUBLIC', table!, strategy!, key);
    for (const n of PARTITION_COUNTS)
      await addMapping(metadata, `BENCH_P${n}`, 'SRC', 'TGT', 'PUBLIC', 'FACT', 'KEY', 'ID', n);
  } finally {
    await metadata.close();
  }
}

async function addMapping(
  metadata: Metadata,
  mapref: string,
  srcconid: string,
  trgconid: string,
  trgschm: string,
  table: string,
  strategy: string,
  key: string | null,
  partitions = 1,
  srcquery = 'SELECT * FROM fact',
  bulklmt = BATCH,
): Promise<void> {
  await sql(
    DB.metadata,
    `INSERT INTO dms_mapr (mapref, srcconid, srcquery, trgconid, trgschm, trgtbnm, loadmode, bulklmt, chkpntstrategy, chkpntcolumn, chkpntenabled, partitions)
     VALUES ($1, $2, $10, $3, $4, $5, 'APPEND', $6, $7, $8, 'Y', $9)`,
    [mapref, srcconid, trgconid, trgschm, table, bulklmt, strategy, key, partitions, srcquery],
  );
  await metadata.syncJob(await metadata.mapping(mapref));
}

/** MariaDB's database, table and mappings (scripts/bench-mariadb.ts); false when MariaDB cannot be reached. */
async function registerMariaDb(ctx: MariaDbBenchContext): Promise<boolean> {
  try {
    await prepareMariaDb(ctx);
  } catch (err) {
    log(`   MariaDB: ${(err as Error).message.split('\n')[0]}; its figures are skipped (set DMS_BENCH_MARIADB_URL)`);
    return false;
  }
  const metadata = Metadata.open(url(DB.metadata));
  try {
    for (const [mapref, srcconid, trgconid, trgschm, table] of MARIADB_MAPPINGS)
      await addMapping(metadata, mapref, srcconid, trgconid, trgschm, table, 'KEY', 'ID');
  } finally {
    await metadata.close();
  }
  return true;
}

/** The same activities the worker runs, called directly: the pipeline without Temporal. */
class DirectPipeline {
  private readonly metadata = Metadata.open(url(DB.metadata));
  private readonly databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
  private readonly env = new MockActivityEnvironment();
  readonly acts: DmsActivities = createActivities({
    metadata: this.metadata,
    databases: this.databases,
    settings: {
      batchesPerExecution: 1000,
      sliceMs: 5000,
      batchTimeoutMs: 3_600_000,
      heartbeatTimeoutMs: 60_000,
      retry: { initialIntervalMs: 1000, maximumIntervalMs: 1000, backoffCoefficient: 1, maximumAttempts: 1 },
    },
    isWorkflowRunning: async () => false,
  });

  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.env.run(fn);
  }

  /** A whole run from the start; stops after `stopAfter` batches (ending the run 'FL') if given. */
  async load(mapref: string, workflowId: string, stopAfter?: number): Promise<BatchState> {
    const claim = await this.call(() =>
      this.acts.startRun({ mapref, workflowId, firstRunId: workflowId, fromStart: true }),
    );
    const plan = await this.call(() =>
      this.acts.prepareRun({ mapref, prcid: claim.prcid, jobid: claim.jobid, resume: false, fromStart: true }),
    );
    let state = plan.state;
    for (;;) {
      const budget = stopAfter === undefined ? 1000 : stopAfter - state.batches;
      const result = await this.call(() =>
        this.acts.runBatch({
          mapref,
          prcid: claim.prcid,
          epoch: plan.epoch,
          jobid: claim.jobid,
          expected: state,
          maxBatches: budget,
        }),
      );
      state = result.state;
      if (result.done || (stopAfter !== undefined && state.batches >= stopAfter)) break;
    }
    const stopped = stopAfter !== undefined;
    await this.call(() =>
      this.acts.finishRun({
        mapref,
        prcid: claim.prcid,
        epoch: plan.epoch,
        status: stopped ? 'FL' : 'PC',
        error: stopped ? 'bench: stopped on purpose' : null,
        state,
      }),
    );
    return state;
  }

  async close(): Promise<void> {
    await this.databases.close();
    await this.metadata.close();
  }
}

/** Runs DirectPipeline.load in a child process (as a worker would run it); its own time, in seconds. */
async function directInChild(mapref: string, workflowId: string): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', __filename, '--direct-child', mapref, '--workflow-id', workflowId],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the pipeline without Temporal failed (exit code ${code})`);
  return (JSON.parse(out.trim().split('\n').pop()!) as { seconds: number }).seconds;
}

async function directChild(mapref: string, workflowId: string): Promise<void> {
  const direct = new DirectPipeline();
  try {
    const t0 = performance.now();
    await direct.load(mapref, workflowId);
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 }));
  } finally {
    await direct.close();
  }
}

function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'dms.js'), 'worker'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('polling task queue')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`the worker stopped:\n${out}`)));
  });
}

/** CPU time in seconds so far: the whole machine's busy time, and one process's own. */
function cpuSeconds(pid: number): { machine: number; worker: number } {
  // Both in clock ticks of 1/100 s (USER_HZ on Linux).
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const machine = fields.slice(0, 8).reduce((a, b) => a + b, 0) - idle;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const after = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return { machine: machine / 100, worker: (after[11] + after[12]) / 100 };
}

export interface CpuRun {
  wall: number;
  machine: number;
  worker: number;
}

/**
 * One more run of `load` into `target`, with the machine's and the worker's CPU time read
 * from /proc before and after, logged as `label`: whether the load waits (part of the time the
 * machine idles) or the cores are full, and how much of it is the worker's own.
 */
async function cpuRun(
  workerPid: number,
  label: string,
  target: BenchTarget,
  load: () => Promise<void>,
): Promise<CpuRun> {
  await target.empty();
  const before = cpuSeconds(workerPid);
  const t0 = performance.now();
  await load();
  const wall = (performance.now() - t0) / 1000;
  const after = cpuSeconds(workerPid);
  const { got, expected } = await target.check();
  if (got !== expected) throw new Error(`${label}: the target is not exact after the CPU run`);
  const c = {
    wall: +wall.toFixed(2),
    machine: +(after.machine - before.machine).toFixed(2),
    worker: +(after.worker - before.worker).toFixed(2),
  };
  log(
    `   ${label}: ${c.wall} s, the machine busy ${c.machine} core-s (${(c.machine / c.wall).toFixed(2)} of ${os.cpus().length} cores), the worker ${c.worker} core-s, the databases and the rest ${(c.machine - c.worker).toFixed(2)} core-s`,
  );
  return c;
}

/** The largest resident set the process has had (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return line ? Math.round(Number(line.replace(/\D+/g, '')) / 1024) : NaN;
}

async function historyEvents(
  client: Client,
  workflowId: string,
): Promise<{ executions: number; events: number; largest: number }> {
  let executions = 0;
  let events = 0;
  let largest = 0;
  for await (const e of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
    const n = (await client.workflow.getHandle(workflowId, e.runId).fetchHistory()).events?.length ?? 0;
    executions += 1;
    events += n;
    largest = Math.max(largest, n);
  }
  return { executions, events, largest };
}

const secs = (f: Figure) => median(f.seconds);
const rate = (f: Figure) => Math.round(ROWS / secs(f));

/**
 * Partitioned KEY loads (PARTITIONS 1, 2, 4) in rounds with the binary COPY pipe and pgcopydb:
 * their figures, ratios, and the histories of the run and of its range 1.
 */
async function partitionRounds(
  client: Client,
  run: (mapref: string, prefix: string) => (i: number) => Promise<void>,
  tmp: string,
  cross: BenchTarget,
  workerPid: number,
) {
  log('== partitioned KEY, in rounds: the binary COPY pipe and pgcopydb copy table-data (baselines), and');
  log(`   PARTITIONS 1 (the KEY load above), ${PARTITION_COUNTS.join(' and ')} through Temporal, one worker`);
  const pgcopydb = which('pgcopydb');
  if (!pgcopydb) log('   pgcopydb: not installed (apt-get install pgcopydb), skipped');
  const partitionWays = await measureRounds([
    { name: 'binary COPY pipe (partitions round)', target: cross, run: copyPipe },
    ...(pgcopydb
      ? [{ name: 'pgcopydb copy table-data', target: cross, run: (i: number) => pgcopydbRun(pgcopydb, tmp, i) }]
      : []),
    { name: 'KEY PARTITIONS 1 through Temporal', target: cross, run: run('BENCH_KEY', 'bench-p1') },
    ...PARTITION_COUNTS.map((n) => ({
      name: `KEY PARTITIONS ${n} through Temporal`,
      target: cross,
      run: run(`BENCH_P${n}`, `bench-p${n}`),
    })),
  ]);
  const pipeP = partitionWays[0];
  const copydb = pgcopydb ? partitionWays[1] : null;
  const byPartitions = partitionWays.slice(pgcopydb ? 2 : 1);
  const rangeHistory = await historyEvents(client, `bench-p${PARTITION_COUNTS[PARTITION_COUNTS.length - 1]}-0-p1`);
  const parentHistory = await historyEvents(client, `bench-p${PARTITION_COUNTS[PARTITION_COUNTS.length - 1]}-0`);

  const ratios: Record<string, number | null> = {
    ...Object.fromEntries(
      byPartitions.map((f, i) => [
        `partitions${[1, ...PARTITION_COUNTS][i]}VsCopyPipe`,
        +(secs(pipeP) / secs(f)).toFixed(3),
      ]),
    ),
    ...Object.fromEntries(
      byPartitions.map((f, i) => [
        `partitions${[1, ...PARTITION_COUNTS][i]}VsPgcopydb`,
        copydb ? +(secs(copydb) / secs(f)).toFixed(3) : null,
      ]),
    ),
    ...Object.fromEntries(
      byPartitions
        .slice(1)
        .map((f, i) => [`partitions${PARTITION_COUNTS[i]}SpeedUp`, +(secs(byPartitions[0]) / secs(f)).toFixed(3)]),
    ),
  };
  // Where the CPU goes: one more run of each partition count, with the machine's and the
  // worker's CPU time read from /proc before and after. On this machine the databases, the
  // worker and Temporal share its cores; the model below says what more cores would give.
  log(`== where the CPU goes: one more run of each, CPU time from /proc (${os.cpus().length} cores)`);
  const cpu: Record<string, CpuRun> = {};
  for (const n of [1, ...PARTITION_COUNTS]) {
    cpu[`p${n}`] = await cpuRun(workerPid, `PARTITIONS ${n}`, cross, () =>
      run(n === 1 ? 'BENCH_KEY' : `BENCH_P${n}`, `bench-cpu-p${n}`)(0),
    );
  }
  return { ratios, histories: { run: parentHistory, range: rangeHistory }, cpu };
}

type PartitionCpu = Record<string, { wall: number; machine: number; worker: number }>;

/**
 * A measured model of more cores: N ranges on C cores take at least the CPU they used here
 * spread over C cores, and at least one range's share of the single stream (PARTITIONS 1's
 * time over N); against the COPY pipe's time, which more cores do not shorten (one stream).
 */
function modelLines(cpu: PartitionCpu, pipeSeconds: number): string[] {
  const lines: string[] = [];
  for (const n of PARTITION_COUNTS) {
    const c = cpu[`p${n}`];
    const p1 = cpu.p1;
    if (!c || !p1) continue;
    const at = (cores: number) => Math.max(c.machine / cores, p1.wall / n);
    const ratios = [2, 4, 8].map((cores) => `${cores} cores ${(pipeSeconds / at(cores)).toFixed(2)}`).join(', ');
    lines.push(
      `| model, at most: KEY PARTITIONS ${n} ÷ binary COPY pipe on more cores (from ${c.machine} core-s here, the worker's ${c.worker}) | ${ratios} | model |`,
    );
  }
  return lines;
}

/** The partitioned loads' lines of the ratio table. */
function logPartitionRatios(
  r: Record<string, number | null>,
  target: (ok: boolean) => string,
  cpu?: PartitionCpu,
  pipeSeconds?: number,
): void {
  // The targets apply to the fastest partition count on this machine.
  const fastest = PARTITION_COUNTS.reduce((a, b) =>
    (r[`partitions${b}VsCopyPipe`] ?? 0) > (r[`partitions${a}VsCopyPipe`] ?? 0) ? b : a,
  );
  for (const n of [1, ...PARTITION_COUNTS]) {
    const best = n === fastest;
    log(
      `| KEY PARTITIONS ${n} ÷ binary COPY pipe (throughput) | ${r[`partitions${n}VsCopyPipe`]} | ${best ? `≥ 1.0: ${target(r[`partitions${n}VsCopyPipe`]! >= 1)}` : 'reference'} |`,
    );
    log(
      `| KEY PARTITIONS ${n} ÷ pgcopydb copy table-data (throughput) | ${r[`partitions${n}VsPgcopydb`] ?? 'pgcopydb not run'} | ${best ? `≥ 1.2 at 10M rows: ${r[`partitions${n}VsPgcopydb`] === null ? 'n/a' : target(r[`partitions${n}VsPgcopydb`]! >= 1.2)}` : 'reference'} |`,
    );
    if (n > 1) log(`| KEY PARTITIONS ${n} ÷ PARTITIONS 1 (speed-up) | ${r[`partitions${n}SpeedUp`]} | reference |`);
  }
  if (cpu && pipeSeconds) for (const line of modelLines(cpu, pipeSeconds)) log(line);
}

async function main(): Promise<void> {
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const [{ version: pgVersion }] = await sql('postgres', 'SELECT version()');
  log(`== dms-etl bench: ${ROWS.toLocaleString('en-US')} rows, BULKLMT ${BATCH}, ${RUNS} runs each, on ${machine}`);
  log(`   ${pgVersion}`);
  await createData();
  await registerMappings();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dms-bench-'));
  const cross = pgTarget(DB.target, 'fact');
  const same = pgTarget(DB.source, 'fact_copy');
  const mariadbCtx: MariaDbBenchContext = {
    rows: ROWS,
    batch: BATCH,
    pgUrl: url,
    sql,
    db: DB,
    crossTarget: cross,
    log,
    tmp,
  };
  const withMariaDb = !PARTITIONS_ONLY && (await registerMariaDb(mariadbCtx));

  const pgloader = PARTITIONS_ONLY ? null : which('pgloader');
  if (PARTITIONS_ONLY) log('   --only partitions: pgloader, MariaDB and the other sections skipped');
  else if (!pgloader) log('   pgloader: not installed (apt-get install pgloader), skipped');

  const direct = new DirectPipeline();
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
  });
  writeFileSync(bundlePath, code);
  let server: DevServer | undefined;
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;
  const out: Record<string, unknown> = {};
  try {
    server = await startDevServer({
      port: await freePort(),
      headless: true,
      quiet: true,
      dbFilename: path.join(tmp, 'dev.db'),
    });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    worker = await startWorker({
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      DMS_METADATA_URL: url(DB.metadata),
      DMS_WORKFLOW_BUNDLE: bundlePath,
    });
    const load = (mapref: string, workflowId: string, fromStart = true) =>
      client.workflow.start('dmsJob', {
        taskQueue: 'dms-etl',
        workflowId,
        args: [{ mapref, ...(fromStart ? { fromStart: true } : {}) }],
      });
    const run = (mapref: string, prefix: string) => async (i: number) => {
      await (await load(mapref, `${prefix}-${i}`)).result();
    };
    /** What every bench's JSON starts with: its settings and the figures measured. */
    const measured = () => ({
      rows: ROWS,
      batch: BATCH,
      runs: RUNS,
      machine,
      seconds: Object.fromEntries(figures.map((f) => [f.name, +secs(f).toFixed(3)])),
      rowsPerSecond: Object.fromEntries(figures.map((f) => [f.name, rate(f)])),
    });

    if (WIDE_ONLY) {
      // Each wide load gets a worker of its own, so that its peak RSS is that load's alone.
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
      const workerEnv = {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        DMS_METADATA_URL: url(DB.metadata),
        DMS_WORKFLOW_BUNDLE: bundlePath,
      };
      const metadata = Metadata.open(url(DB.metadata));
      try {
        const wide = await wideRounds(
          {
            runs: RUNS,
            pgUrl: url,
            sql,
            db: DB,
            log,
            withMariaDb,
            addMapping: (mapref, srcconid, trgconid, trgschm, table, srcquery, bulklmt) =>
              addMapping(metadata, mapref, srcconid, trgconid, trgschm, table, 'KEY', 'ID', 1, srcquery, bulklmt),
            startWorker: () => startWorker(workerEnv),
            run: (mapref, workflowId) => run(mapref, workflowId)(0),
            peakRssMiB,
            filter: flags.wide,
          },
          WIDE_BUDGET_MIB,
        );
        Object.assign(out, { machine, wide });
      } finally {
        await metadata.close();
        await dropWide({ sql, db: DB });
      }
    } else if (MARIADB_ONLY) {
      if (!withMariaDb) throw new Error('--only mariadb: MariaDB is not reachable (set DMS_BENCH_MARIADB_URL)');
      const mdb = await mariadbRounds(mariadbCtx, measureRounds, run, pgloader, (label, target, load) =>
        cpuRun(worker!.pid!, label, target, load),
      );
      Object.assign(out, {
        ...measured(),
        workerPeakRssMiB: peakRssMiB(worker.pid!),
        mariadbCpu: mdb.cpu ?? null,
        mariadbRatios: mdb.ratios,
      });
    } else if (PARTITIONS_ONLY) {
      const partitioned = await partitionRounds(client, run, tmp, cross, worker.pid!);
      Object.assign(out, {
        ...measured(),
        workerPeakRssMiB: peakRssMiB(worker.pid!),
        partitionHistories: partitioned.histories,
        partitionCpu: partitioned.cpu,
        ratios: partitioned.ratios,
      });
    } else {
      log('== cross-database, in rounds: the binary COPY pipe (baseline), the batch pipeline without Temporal (the');
      log('   activities called directly, in a process of their own), and dms-etl through Temporal (dev server, one');
      log('   worker with a prebuilt workflow bundle)');
      const [pipe, noTemporal, key, rowcount, pgloaderFigure] = await measureRounds([
        { name: 'binary COPY pipe', target: cross, run: copyPipe },
        {
          name: 'KEY pipeline without Temporal',
          target: cross,
          run: (i) => directInChild('BENCH_DIRECT', `bench-direct-${i}`),
        },
        { name: 'KEY through Temporal, cross-database', target: cross, run: run('BENCH_KEY', 'bench-key') },
        {
          name: 'ROWCOUNT through Temporal, cross-database',
          target: cross,
          run: run('BENCH_ROWCOUNT', 'bench-rowcount'),
        },
        ...(pgloader
          ? [
              {
                name: 'pgloader',
                target: cross,
                run: () => pgloaderRun(pgloader, tmp, Math.max(120_000, ROWS / 20)),
                mayFail: true,
              },
            ]
          : []),
      ]);
      const pgl = pgloaderFigure?.seconds.length ? pgloaderFigure : null;
      const history = await historyEvents(client, 'bench-key-0');

      log('== one database, in rounds: in-server INSERT…SELECT (baseline), the bare keyset loop (batching alone, for');
      log('   reference), and dms-etl through Temporal');
      const [insertSelect, bareLoop, sameDb] = await measureRounds([
        {
          name: 'in-server INSERT…SELECT',
          target: same,
          run: () => sql(DB.source, 'INSERT INTO fact_copy SELECT * FROM fact').then(() => undefined),
        },
        { name: 'bare keyset loop, one database (no checkpoint, no Temporal)', target: same, run: bareKeysetLoop },
        { name: 'KEY through Temporal, same database', target: same, run: run('BENCH_SAMEDB', 'bench-same') },
      ]);

      const partitioned = await partitionRounds(client, run, tmp, cross, worker.pid!);

      let mdb: MariaDbBenchResult | null = null;
      if (withMariaDb) {
        mdb = await mariadbRounds(mariadbCtx, measureRounds, run, pgloader, (label, target, load) =>
          cpuRun(worker!.pid!, label, target, load),
        );
      }

      log('== resume at 90%: the first committed batch after pre-flight (the new run taking the checkpoint row over)');
      const batches = Math.ceil(ROWS / BATCH);
      const at90 = Math.floor(batches * 0.9);
      const resumes: { preflight: number; firstBatch: number; total: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        await sql(DB.target, 'TRUNCATE fact');
        await direct.load('BENCH_RESUME', `bench-resume-stop-${i}`, at90);
        const watcher = new pg.Client({ connectionString: url(DB.target) });
        await watcher.connect();
        try {
          // Pre-flight ends when the new run takes the checkpoint row over (a new owner); since
          // 0.3.0 the same activity then goes straight on with the first batch.
          const owner = async () =>
            (await watcher.query(`SELECT prcid, batchcnt FROM dms_chkpnt WHERE mapref = 'BENCH_RESUME'`)).rows[0] as {
              prcid: string;
              batchcnt: string;
            };
          const stopped = (await owner()).prcid;
          const t0 = performance.now();
          const handle = await load('BENCH_RESUME', `bench-resume-${i}`, false);
          let owned = NaN;
          let first = NaN;
          for (;;) {
            const row = await owner();
            const now = performance.now();
            if (Number.isNaN(owned) && row.prcid !== stopped) owned = now;
            if (Number(row.batchcnt) > at90) {
              first = now;
              break;
            }
            await new Promise((r) => setTimeout(r, 2));
          }
          await handle.result();
          const total = (performance.now() - t0) / 1000;
          resumes.push({ preflight: (owned - t0) / 1000, firstBatch: (first - owned) / 1000, total });
          const got = await digest(DB.target, 'fact');
          if (got !== sourceDigest) throw new Error(`resume: the target is not exact (${got})`);
          log(
            `   resume ${i + 1}/${RUNS}: pre-flight ${resumes[i].preflight.toFixed(3)} s, first batch ${resumes[i].firstBatch.toFixed(3)} s after it, whole run ${total.toFixed(2)} s, exact`,
          );
        } finally {
          await watcher.end();
        }
      }
      const rss = peakRssMiB(worker.pid!);

      const normalBatch = secs(key) / batches;
      const resumeFirst = median(resumes.map((r) => r.firstBatch));
      Object.assign(out, {
        ...measured(),
        pgloaderFailedRuns: pgloaderFigure?.failed ?? null,
        resume: {
          preflightSeconds: +median(resumes.map((r) => r.preflight)).toFixed(3),
          firstBatchSeconds: +resumeFirst.toFixed(3),
          normalBatchSeconds: +normalBatch.toFixed(3),
        },
        workerPeakRssMiB: rss,
        history: history,
        partitionHistories: partitioned.histories,
        partitionCpu: partitioned.cpu,
        ratios: {
          keyCrossVsCopyPipe: +(secs(pipe) / secs(key)).toFixed(3),
          keyCrossVsPgloader: pgl ? +(secs(pgl) / secs(key)).toFixed(3) : null,
          temporalOverhead: +(secs(key) / secs(noTemporal) - 1).toFixed(3),
          sameDbVsInsertSelect: +(secs(insertSelect) / secs(sameDb)).toFixed(3),
          bareKeysetLoopVsInsertSelect: +(secs(insertSelect) / secs(bareLoop)).toFixed(3),
          sameDbVsBareKeysetLoop: +(secs(bareLoop) / secs(sameDb)).toFixed(3),
          rowcountVsKeyTime: +(secs(rowcount) / secs(key)).toFixed(3),
          resumeFirstBatchVsNormalBatch: +(resumeFirst / normalBatch).toFixed(3),
          ...Object.fromEntries((mdb?.ratios ?? []).map((m) => [m.key, m.value])),
          ...partitioned.ratios,
        },
        mariadbCpu: mdb?.cpu ?? null,
        mariadbRatios: mdb?.ratios ?? null,
      });
    }
  } finally {
    await direct.close();
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    await connection?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
    if (!flags.keep) {
      for (const name of Object.values(DB)) await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (withMariaDb) await dropMariaDb();
      log(`== the bench's databases dropped (--keep keeps them)`);
    }
  }

  if (WIDE_ONLY) {
    log('');
    console.log(JSON.stringify(out));
    return;
  }
  const r = out.ratios as Record<string, number | null>;
  const res = out.resume as Record<string, number>;
  const hist = out.history as { executions: number; events: number; largest: number };
  log('');
  log(`dms-etl bench: ${ROWS.toLocaleString('en-US')} rows (BULKLMT ${BATCH}), median of ${RUNS} runs; ${machine}`);
  log('| what | median s | rows/s |');
  log('|---|---:|---:|');
  for (const f of figures)
    log(
      `| ${f.name}${f.failed ? ` (${f.failed} of ${RUNS} runs failed)` : ''} | ${secs(f).toFixed(2)} | ${rate(f).toLocaleString('en-US')} |`,
    );
  log('');
  const target = (ok: boolean) => (ok ? 'met' : 'MISSED');
  log('| ratio | value | target |');
  log('|---|---:|---|');
  const ph = out.partitionHistories as { run: typeof hist; range: typeof hist };
  const partitionHistoryLine = () =>
    log(
      `| history of a partitioned load: the run / its range 1 | ${ph.run.events} events in ${ph.run.executions} / ${ph.range.events} events in ${ph.range.executions} execution(s), largest ${ph.run.largest} / ${ph.range.largest} | bounded |`,
    );
  const mariadbLines = () => {
    for (const m of (out.mariadbRatios as MariaDbBenchResult['ratios'] | null) ?? []) {
      log(
        `| ${m.label} | ${m.value ?? 'not run'} | ${m.target}${m.met === null ? (m.target === 'reference' ? '' : ': n/a') : `: ${target(m.met)}`} |`,
      );
    }
  };
  if (MARIADB_ONLY) {
    mariadbLines();
    log(
      `| worker peak RSS | ${out.workerPeakRssMiB} MiB | ≤ 300 MB: ${target((out.workerPeakRssMiB as number) * 1.048576 <= 300)} |`,
    );
    log('');
    console.log(JSON.stringify(out));
    return;
  }
  if (PARTITIONS_ONLY) {
    logPartitionRatios(
      r,
      target,
      out.partitionCpu as PartitionCpu,
      (out.seconds as Record<string, number>)['binary COPY pipe (partitions round)'],
    );
    log(
      `| worker peak RSS | ${out.workerPeakRssMiB} MiB | ≤ 300 MB: ${target((out.workerPeakRssMiB as number) * 1.048576 <= 300)} |`,
    );
    partitionHistoryLine();
    log('');
    console.log(JSON.stringify(out));
    return;
  }
  log(
    `| KEY cross-database ÷ binary COPY pipe (throughput) | ${r.keyCrossVsCopyPipe} | ≥ 0.5: ${target(r.keyCrossVsCopyPipe! >= 0.5)} |`,
  );
  log(
    `| KEY cross-database ÷ pgloader (throughput) | ${r.keyCrossVsPgloader ?? 'pgloader not run'} | ≥ 3: ${r.keyCrossVsPgloader === null ? 'n/a' : target(r.keyCrossVsPgloader >= 3)} |`,
  );
  log(
    `| Temporal's overhead against the same pipeline without it | ${(r.temporalOverhead! * 100).toFixed(1)}% | ≤ 15%: ${target(r.temporalOverhead! <= 0.15)} |`,
  );
  log(
    `| same database ÷ in-server INSERT…SELECT (throughput) | ${r.sameDbVsInsertSelect} | ≥ 0.8: ${target(r.sameDbVsInsertSelect! >= 0.8)} |`,
  );
  log(
    `| the bare keyset loop ÷ in-server INSERT…SELECT (throughput: what batching alone leaves) | ${r.bareKeysetLoopVsInsertSelect} | reference |`,
  );
  log(
    `| same database ÷ the bare keyset loop (throughput: what checkpoints, fences and Temporal cost) | ${r.sameDbVsBareKeysetLoop} | reference |`,
  );
  log(`| ROWCOUNT time ÷ KEY time | ${r.rowcountVsKeyTime} | ≤ 1.5: ${target(r.rowcountVsKeyTime! <= 1.5)} |`);
  log(
    `| first batch after a resume at 90% ÷ a normal batch (after pre-flight ${res.preflightSeconds} s) | ${r.resumeFirstBatchVsNormalBatch} (${res.firstBatchSeconds} s vs ${res.normalBatchSeconds} s) | ≤ 1: ${target(r.resumeFirstBatchVsNormalBatch! <= 1)} |`,
  );
  mariadbLines();
  logPartitionRatios(
    r,
    target,
    out.partitionCpu as PartitionCpu,
    (out.seconds as Record<string, number>)['binary COPY pipe (partitions round)'],
  );
  log(
    `| worker peak RSS | ${out.workerPeakRssMiB} MiB | ≤ 300 MB: ${target((out.workerPeakRssMiB as number) * 1.048576 <= 300)} |`,
  );
  log(
    `| history of one KEY load | ${hist.events} events in ${hist.executions} execution(s), largest ${hist.largest} | bounded |`,
  );
  partitionHistoryLine();
  log('');
  console.log(JSON.stringify(out));
}

(flags['direct-child'] ? directChild(flags['direct-child'], flags['workflow-id'] ?? 'bench-direct') : main()).catch(
  (err) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(1);
  },
);
