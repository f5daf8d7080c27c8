// `npm run bench -- --only wide`: wide rows. Two shapes of documents held as bytes, 600 rows of
// 3 MB (BULKLMT 300) and 20,000 rows of 100 KB (BULKLMT 10,000), each about 1.8–2 GB, moved
// PostgreSQL → PostgreSQL, MariaDB → PostgreSQL and PostgreSQL → MariaDB by dms-etl (KEY, one
// worker process started afresh for each load, so that its peak resident memory is that
// load's) and by a pipe of the same data, in rounds. It prints seconds, MB/s, the ratio to the
// pipe and the worker's peak RSS (VmHWM) beside the byte budget the worker was given.
//
// The documents repeat one MD5 (PostgreSQL compresses them on disk, which keeps the bench's
// data small); every byte still travels, decompressed, through the worker.
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { mariadbBenchPassword, mariadbDatabase, onBenchMariaDb, shell } from './bench-mariadb';

/** What the wide rounds take from the bench (scripts/bench.ts). */
export interface WideBenchContext {
  runs: number;
  pgUrl(db: string): string;
  sql(db: string, text: string, values?: unknown[]): Promise<Record<string, string>[]>;
  db: { source: string; target: string; metadata: string };
  log(line: string): void;
  withMariaDb: boolean;
  /** Registers a KEY mapping on ID from the bench's connections (SRC, TGT, MDB). */
  addMapping(
    mapref: string,
    srcconid: string,
    trgconid: string,
    trgschm: string,
    table: string,
    srcquery: string,
    bulklmt: number,
  ): Promise<void>;
  /** A worker process of its own, polling. */
  startWorker(): Promise<ChildProcess>;
  /** Runs a mapping from the start to its end. */
  run(mapref: string, workflowId: string): Promise<void>;
  peakRssMiB(pid: number): number;
  /** Only the loads whose "shape, pair" label contains this text. */
  filter?: string;
}

interface Shape {
  label: string;
  table: string;
  rows: number;
  bytes: number;
  bulklmt: number;
}

const SHAPES: Shape[] = [
  { label: '600 × 3 MB', table: 'wide_3m', rows: 600, bytes: 3_000_000, bulklmt: 300 },
  { label: '20,000 × 100 KB', table: 'wide_100k', rows: 20_000, bytes: 100_000, bulklmt: 10_000 },
];

type Engine = 'postgres' | 'mariadb';
interface Pair {
  label: string;
  from: Engine;
  to: Engine;
}

const PAIRS: Pair[] = [
  { label: 'PostgreSQL → PostgreSQL', from: 'postgres', to: 'postgres' },
  { label: 'MariaDB → PostgreSQL', from: 'mariadb', to: 'postgres' },
  { label: 'PostgreSQL → MariaDB', from: 'postgres', to: 'mariadb' },
];

/** One pair and shape's figures: medians of its runs. */
export interface WideFigure {
  shape: string;
  pair: string;
  megabytes: number;
  dmsSeconds: number;
  pipeSeconds: number;
  ratio: number;
  workerPeakRssMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** A digest of a table's documents in id order, as either engine computes it. */
async function digestOf(ctx: WideBenchContext, engine: Engine, db: string, table: string): Promise<string> {
  if (engine === 'postgres') {
    const [r] = await ctx.sql(db, `SELECT count(*) AS n, md5(string_agg(md5(doc), '' ORDER BY id)) AS m FROM ${table}`);
    return `${r.n}:${r.m}`;
  }
  return onBenchMariaDb(async (c) => {
    await c.query('SET SESSION group_concat_max_len = 100000000');
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n, LOWER(MD5(GROUP_CONCAT(LOWER(MD5(doc)) ORDER BY id SEPARATOR ''))) AS m FROM ${table}`,
    );
    return `${rows[0].n}:${rows[0].m}`;
  });
}

async function empty(ctx: WideBenchContext, engine: Engine, table: string): Promise<void> {
  if (engine === 'postgres') await ctx.sql(ctx.db.target, `TRUNCATE ${table}`);
  else await onBenchMariaDb((c) => c.query(`TRUNCATE TABLE ${table}`));
}

async function createShape(ctx: WideBenchContext, s: Shape): Promise<void> {
  const repeats = s.bytes / 16;
  await ctx.sql(ctx.db.source, `DROP TABLE IF EXISTS ${s.table}`);
  await ctx.sql(ctx.db.source, `CREATE TABLE ${s.table} (id int PRIMARY KEY, doc bytea NOT NULL)`);
  await ctx.sql(
    ctx.db.source,
    `INSERT INTO ${s.table} SELECT g, decode(repeat(md5(g::text), ${repeats}), 'hex') FROM generate_series(1, ${s.rows}) g`,
  );
  await ctx.sql(ctx.db.target, `DROP TABLE IF EXISTS ${s.table}; CREATE TABLE ${s.table} (id int, doc bytea)`);
  if (ctx.withMariaDb) {
    await onBenchMariaDb(async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${s.table}; DROP TABLE IF EXISTS ${s.table}_in`);
      await c.query(
        `CREATE TABLE ${s.table} (id INT PRIMARY KEY, doc LONGBLOB NOT NULL) ENGINE=InnoDB; CREATE TABLE ${s.table}_in (id INT, doc LONGBLOB) ENGINE=InnoDB`,
      );
      for (let from = 1; from <= s.rows; from += 100) {
        await c.query(
          `INSERT INTO ${s.table} SELECT seq, UNHEX(REPEAT(MD5(seq), ${repeats})) FROM seq_${from}_to_${Math.min(s.rows, from + 99)}`,
        );
      }
    });
  }
  ctx.log(`   ${s.label}: ${s.table} made in the PostgreSQL source${ctx.withMariaDb ? ' and in MariaDB' : ''}`);
}

/** The pipe of the same rows, for the ratio: COPY binary between PostgreSQLs, the engines' clients otherwise. */
async function pipe(ctx: WideBenchContext, p: Pair, s: Shape): Promise<void> {
  const target = `${s.table}${p.to === 'mariadb' ? '_in' : ''}`;
  const mariadb = `mariadb --host=127.0.0.1 --user=dms_bench ${mariadbDatabase()}`;
  const env = { MYSQL_PWD: mariadbBenchPassword() };
  if (p.from === 'postgres' && p.to === 'postgres') {
    return shell(
      `psql -q "${ctx.pgUrl(ctx.db.source)}" -c "\\copy (SELECT id, doc FROM ${s.table}) TO STDOUT (FORMAT binary)" | psql -q -v ON_ERROR_STOP=1 "${ctx.pgUrl(ctx.db.target)}" -c "\\copy ${target} FROM STDIN (FORMAT binary)"`,
      env,
    );
  }
  if (p.from === 'mariadb') {
    return shell(
      `${mariadb} --batch --skip-column-names --quick -e "SELECT id, CONCAT('\\\\\\\\x', HEX(doc)) FROM ${s.table}" | psql -q -v ON_ERROR_STOP=1 "${ctx.pgUrl(ctx.db.target)}" -c "\\copy ${target} FROM STDIN"`,
      env,
    );
  }
  return shell(
    `psql -q "${ctx.pgUrl(ctx.db.source)}" -c "\\copy (SELECT id, encode(doc, 'hex') FROM ${s.table}) TO STDOUT" | ${mariadb} --local-infile=1 -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE ${target} (id, @h) SET doc = UNHEX(@h)"`,
    env,
  );
}

/** Every pair and shape: dms-etl and the pipe in rounds, each load checked exact. */
export async function wideRounds(ctx: WideBenchContext, budgetMiB: number): Promise<WideFigure[]> {
  ctx.log(
    `== wide rows: documents as bytes, a fresh worker per load (DMS_BATCH_BYTES ${budgetMiB} MiB where the worker reads it)`,
  );
  const pairs = (s: Shape) =>
    PAIRS.filter(
      (p) =>
        (ctx.withMariaDb || (p.from === 'postgres' && p.to === 'postgres')) &&
        (ctx.filter === undefined || `${s.label}, ${p.label}`.includes(ctx.filter)),
    );
  const shapes = SHAPES.filter((s) => pairs(s).length > 0);
  if (shapes.length === 0)
    throw new Error(
      `--wide ${ctx.filter}: no load's "shape, pair" contains it (for example "${SHAPES[0].label}, ${PAIRS[1].label}")`,
    );
  for (const s of shapes) await createShape(ctx, s);
  const figures: WideFigure[] = [];
  for (const s of shapes) {
    for (const p of pairs(s)) {
      const mapref = `BENCH_WIDE_${s.table}_${p.from[0]}${p.to[0]}`.toUpperCase();
      const target = `${s.table}${p.to === 'mariadb' ? '_in' : ''}`;
      await ctx.addMapping(
        mapref,
        p.from === 'mariadb' ? 'MDB' : 'SRC',
        p.to === 'mariadb' ? 'MDB' : 'TGT',
        p.to === 'mariadb' ? mariadbDatabase() : 'PUBLIC',
        target.toUpperCase(),
        `SELECT id, doc FROM ${s.table}`,
        s.bulklmt,
      );
      const expected = await digestOf(ctx, p.from, p.from === 'postgres' ? ctx.db.source : '', s.table);
      const checked = async (what: string) => {
        const got = await digestOf(ctx, p.to, ctx.db.target, target);
        if (got !== expected)
          throw new Error(`${s.label}, ${p.label}, ${what}: the target is not exact (${got} against ${expected})`);
      };
      const dms: number[] = [];
      const pipes: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        await empty(ctx, p.to, target);
        let t0 = performance.now();
        await pipe(ctx, p, s);
        pipes.push((performance.now() - t0) / 1000);
        await checked('pipe');
        await empty(ctx, p.to, target);
        const worker = await ctx.startWorker();
        try {
          t0 = performance.now();
          await ctx.run(mapref, `bench-wide-${mapref}-${i}`);
          dms.push((performance.now() - t0) / 1000);
          rss.push(ctx.peakRssMiB(worker.pid!));
        } finally {
          worker.kill('SIGTERM');
          await new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once('exit', resolve)));
        }
        await checked('dms-etl');
        ctx.log(
          `   ${s.label}, ${p.label}: run ${i + 1}/${ctx.runs}: pipe ${pipes[i].toFixed(2)} s, dms-etl ${dms[i].toFixed(2)} s, worker peak RSS ${rss[i]} MiB, exact`,
        );
      }
      const megabytes = (s.rows * s.bytes) / 1e6;
      const f: WideFigure = {
        shape: s.label,
        pair: p.label,
        megabytes,
        dmsSeconds: +median(dms).toFixed(2),
        pipeSeconds: +median(pipes).toFixed(2),
        ratio: +(median(pipes) / median(dms)).toFixed(3),
        workerPeakRssMiB: Math.max(...rss),
      };
      figures.push(f);
    }
  }
  ctx.log('');
  ctx.log('| shape | pair | dms-etl | pipe | ÷ pipe (≥ 0.7) | worker peak RSS | ≤ 2 × budget + 250 MiB |');
  ctx.log('|---|---|---:|---:|---:|---:|---|');
  for (const f of figures) {
    const mbps = (secs: number) => `${(f.megabytes / secs).toFixed(0)} MB/s`;
    ctx.log(
      `| ${f.shape} | ${f.pair} | ${f.dmsSeconds} s (${mbps(f.dmsSeconds)}) | ${f.pipeSeconds} s (${mbps(f.pipeSeconds)}) | ${f.ratio} | ${f.workerPeakRssMiB} MiB | ${f.workerPeakRssMiB <= 2 * budgetMiB + 250 ? 'met' : 'NOT met'} |`,
    );
  }
  return figures;
}

/** Drops the wide tables (the MariaDB ones go with the bench's MariaDB database). */
export async function dropWide(ctx: Pick<WideBenchContext, 'sql' | 'db'>): Promise<void> {
  for (const s of SHAPES) {
    await ctx.sql(ctx.db.source, `DROP TABLE IF EXISTS ${s.table}`);
    await ctx.sql(ctx.db.target, `DROP TABLE IF EXISTS ${s.table}`);
  }
}
