// The MariaDB part of `npm run bench`: MariaDB → PostgreSQL and PostgreSQL → MariaDB through
// Temporal, each measured in rounds against a plain pipe of the databases' own tools, and
// MariaDB → PostgreSQL against pgloader; PostgreSQL → MariaDB also by large multi-row
// INSERTs, the way the MariaDB target does not load (LOAD DATA was measured against it).
//
// The MariaDB table holds the same values as the PostgreSQL source, so a load from it is
// checked with the PostgreSQL digest; a load into it is checked with a checksum that both
// engines compute over one canonical text of each row.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { decodeCopyTextRow } from '../dialects/postgres/postgres-copy';
import type { BenchTarget, CpuRun, Figure, Measured } from './bench';

const ADMIN = new URL(process.env.DMS_BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306');
const DATABASE = 'dms_bench_mdb';
const USER = 'dms_bench';
const PASSWORD = randomBytes(12).toString('hex');
export const MARIADB_PASSWORD_ENV = 'DMS_BENCH_MARIADB_PASSWORD';
/** The bench's MariaDB database, and its user's password (made for this run). */
export const mariadbDatabase = () => DATABASE;
export const mariadbBenchPassword = () => PASSWORD;
const HOST = ADMIN.hostname || '127.0.0.1';
const PORT = Number(ADMIN.port || 3306);
const COLUMNS =
  'id BIGINT PRIMARY KEY, store_id INT NOT NULL, qty INT, amount DECIMAL(12,2), code CHAR(8), sold_at DATETIME(6), note TEXT';
const NAMES = 'id, store_id, qty, amount, code, sold_at, note';
/** The PostgreSQL source's columns as MariaDB's LOAD DATA reads them: the timestamp in UTC, without its zone. */
const PG_SELECT = `SELECT id, store_id, qty, amount, code, sold_at AT TIME ZONE 'UTC', note FROM fact ORDER BY id`;

export interface MariaDbBenchContext {
  rows: number;
  batch: number;
  /** A PostgreSQL database's URL, with the password if the server has one. */
  pgUrl(db: string): string;
  sql(db: string, text: string, values?: unknown[]): Promise<Record<string, string>[]>;
  /** The PostgreSQL databases: the fact table's source, the cross-database target, the metadata. */
  db: { source: string; target: string; metadata: string };
  /** The cross-database PostgreSQL target (emptied and checked as the other ways are). */
  crossTarget: BenchTarget;
  log(line: string): void;
  tmp: string;
}

async function admin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({
    host: HOST,
    port: PORT,
    user: decodeURIComponent(ADMIN.username || 'root'),
    password: decodeURIComponent(ADMIN.password),
    multipleStatements: true,
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Runs `fn` on a session of the bench's MariaDB user, in its database, in UTC. */
export async function onBenchMariaDb<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({
    host: HOST,
    port: PORT,
    user: USER,
    password: PASSWORD,
    database: DATABASE,
    multipleStatements: true,
  });
  try {
    await c.query(`SET time_zone = '+00:00'`);
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops the bench's MariaDB database and its user. */
export async function dropMariaDb(): Promise<void> {
  await admin((c) =>
    c.query(
      `DROP DATABASE IF EXISTS ${DATABASE}; DROP USER IF EXISTS '${USER}'@'127.0.0.1'; DROP USER IF EXISTS '${USER}'@'localhost';`,
    ),
  );
}

/**
 * The MariaDB database, its user (a password, set in this process's environment for the
 * worker), the fact table with the source's values, and the mappings. Before the worker starts.
 */
export async function prepareMariaDb(ctx: MariaDbBenchContext): Promise<void> {
  ctx.log(`== MariaDB on ${HOST}:${PORT}: database ${DATABASE}, user ${USER} (dropped and created anew)`);
  process.env[MARIADB_PASSWORD_ENV] = PASSWORD;
  await admin((c) =>
    c.query(
      `DROP DATABASE IF EXISTS ${DATABASE}; CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
       DROP USER IF EXISTS '${USER}'@'127.0.0.1'; DROP USER IF EXISTS '${USER}'@'localhost';
       CREATE USER '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'; CREATE USER '${USER}'@'localhost' IDENTIFIED BY '${PASSWORD}';
       GRANT ALL ON ${DATABASE}.* TO '${USER}'@'127.0.0.1'; GRANT ALL ON ${DATABASE}.* TO '${USER}'@'localhost';`,
    ),
  );
  await onBenchMariaDb(async (c) => {
    await c.query(`CREATE TABLE fact (${COLUMNS}) ENGINE=InnoDB; CREATE TABLE fact_in (${COLUMNS}) ENGINE=InnoDB`);
    for (let from = 1; from <= ctx.rows; from += 1_000_000) {
      const to = Math.min(ctx.rows, from + 999_999);
      // The same values as the PostgreSQL source's (scripts/bench.ts, createData).
      await c.query(
        `INSERT INTO fact
         SELECT g, g % 500, g % 97, (g % 1000000) / 100.0, LPAD(g % 99999999, 8, '0'),
                TIMESTAMP'2026-01-01 00:00:00.123456' + INTERVAL g SECOND, CONCAT(MD5(g), ' ', MD5(g * 7))
           FROM (SELECT seq + ? AS g FROM seq_0_to_${to - from}) s`,
        [from],
      );
      ctx.log(`   MariaDB rows ${to.toLocaleString('en-US')} / ${ctx.rows.toLocaleString('en-US')}`);
    }
  });
  await ctx.sql(
    ctx.db.metadata,
    `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('MDB', 'MARIADB', $1, $2)`,
    [`mysql://${USER}@${HOST}:${PORT}/${DATABASE}`, MARIADB_PASSWORD_ENV],
  );
}

/** The mappings: [mapref, source connection, target connection, target schema, target table]. */
export const MARIADB_MAPPINGS: [string, string, string, string, string][] = [
  ['BENCH_MDB_TO_PG', 'MDB', 'TGT', 'PUBLIC', 'FACT'],
  ['BENCH_PG_TO_MDB', 'SRC', 'MDB', DATABASE, 'FACT_IN'],
];

/** A checksum of the rows' canonical text (the sum of the first 60 bits of each row's MD5), as both engines compute it. */
async function mariadbChecksum(): Promise<string> {
  return onBenchMariaDb(async (c) => {
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n, CAST(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, store_id, qty, amount, code, DATE_FORMAT(sold_at, '%Y-%m-%d %H:%i:%s.%f'), note)), 15), 16, 10) AS DECIMAL(65,0))) AS CHAR) AS s FROM fact_in`,
    );
    return `${rows[0].n}:${rows[0].s}`;
  });
}

async function postgresChecksum(ctx: MariaDbBenchContext): Promise<string> {
  const [r] = await ctx.sql(
    ctx.db.source,
    `SELECT count(*) AS n, sum(('x' || left(md5(concat_ws('|', id, store_id, qty, amount, code, to_char(sold_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), note)), 15))::bit(60)::bigint::numeric)::text AS s FROM fact`,
  );
  return `${r.n}:${r.s}`;
}

/** Runs a shell pipeline; fails with its output when it fails. */
export function shell(command: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command.split(' ')[0]} failed (${code}): ${err}`)),
    );
  });
}

const mariadbClient = `mariadb -h ${HOST} -P ${PORT} -u ${USER} -D ${DATABASE}`;

/** Baseline: `mariadb --batch` piped into `psql \copy`. */
function mariadbToPsql(ctx: MariaDbBenchContext): Promise<void> {
  return shell(
    `${mariadbClient} --batch --skip-column-names --quick -e "SELECT ${NAMES} FROM fact" | psql -q -v ON_ERROR_STOP=1 "${ctx.pgUrl(ctx.db.target)}" -c "\\copy fact (${NAMES}) FROM STDIN"`,
    { MYSQL_PWD: PASSWORD, PGTZ: 'UTC' },
  );
}

/** Baseline: `psql \copy` into a file, then `mariadb` loading it (LOAD DATA LOCAL INFILE). */
function psqlFileToMariadb(ctx: MariaDbBenchContext): Promise<void> {
  const file = path.join(ctx.tmp, 'fact.tsv');
  return shell(
    `psql -q -v ON_ERROR_STOP=1 "${ctx.pgUrl(ctx.db.source)}" -c "\\copy (${PG_SELECT}) TO '${file}'" && ` +
      `${mariadbClient} --local-infile=1 -e "SET time_zone = '+00:00'; LOAD DATA LOCAL INFILE '${file}' INTO TABLE fact_in (${NAMES}); SHOW WARNINGS" && rm -f '${file}'`,
    { MYSQL_PWD: PASSWORD },
  );
}

/** The other way to load MariaDB: COPY out of PostgreSQL, into MariaDB by INSERTs of 2,000 rows, a transaction per BULKLMT rows. */
async function multiRowInserts(ctx: MariaDbBenchContext): Promise<void> {
  const source = new pg.Client({ connectionString: ctx.pgUrl(ctx.db.source) });
  await source.connect();
  try {
    await onBenchMariaDb(async (c) => {
      const copy = source.query(copyTo(`COPY (${PG_SELECT}) TO STDOUT`));
      let rest = '';
      let rows: (string | null)[][] = [];
      let inTransaction = 0;
      const flush = async () => {
        if (rows.length === 0) return;
        if (inTransaction === 0) await c.query('START TRANSACTION');
        await c.query(`INSERT INTO fact_in (${NAMES}) VALUES ?`, [rows]);
        inTransaction += rows.length;
        rows = [];
        if (inTransaction >= ctx.batch) {
          await c.query('COMMIT');
          inTransaction = 0;
        }
      };
      for await (const chunk of copy as AsyncIterable<Buffer>) {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          rows.push(decodeCopyTextRow(line));
          if (rows.length >= 2000) await flush();
        }
      }
      await flush();
      if (inTransaction > 0) await c.query('COMMIT');
    });
  } finally {
    await source.end();
  }
}

/** pgloader's MySQL → PostgreSQL load of the fact table; throws when it fails. */
function pgloaderFromMariaDb(ctx: MariaDbBenchContext, binary: string, limitMs: number): Promise<void> {
  const file = path.join(ctx.tmp, 'mariadb.load');
  writeFileSync(
    file,
    `LOAD DATABASE FROM mysql://${USER}:${PASSWORD}@${HOST}:${PORT}/${DATABASE} INTO ${ctx.pgUrl(ctx.db.target)}
     WITH data only, batch rows = ${ctx.batch}
     SET timezone to 'UTC'
     INCLUDING ONLY TABLE NAMES MATCHING 'fact'
     ALTER SCHEMA '${DATABASE}' RENAME TO 'public';\n`,
  );
  return shell(
    `timeout -s KILL ${Math.ceil(limitMs / 1000)} ${binary} --quiet '${file}' < /dev/null; code=$?; rm -f '${file}'; exit $code`,
    {},
  );
}

export interface MariaDbBenchResult {
  /** One more KEY run MariaDB → PostgreSQL with CPU time read from /proc (absent: not measured). */
  cpu?: CpuRun;
  ratios: { label: string; key: string; value: number | null; target: string; met: boolean | null }[];
}

/**
 * The MariaDB rounds, on the worker that serves `run(mapref, prefix)`: each direction in
 * rounds with its baselines, pgloader (`pgloader`, its path; null: not installed) among them.
 */
export async function mariadbRounds(
  ctx: MariaDbBenchContext,
  measureRounds: (ways: Measured[]) => Promise<Figure[]>,
  run: (mapref: string, prefix: string) => (i: number) => Promise<void>,
  pgloader: string | null,
  /** One more run of a load with its CPU time measured (bench.ts's cpuRun). */
  cpuRun?: (label: string, target: BenchTarget, load: () => Promise<void>) => Promise<CpuRun>,
): Promise<MariaDbBenchResult> {
  ctx.log(
    '== MariaDB → PostgreSQL, in rounds: `mariadb --batch | psql \\copy` and pgloader (baselines), and KEY through Temporal',
  );
  const [pipeIn, keyIn, pgloaderFigure] = await measureRounds([
    { name: 'mariadb --batch piped into psql \\copy', target: ctx.crossTarget, run: () => mariadbToPsql(ctx) },
    {
      name: 'KEY through Temporal, MariaDB → PostgreSQL',
      target: ctx.crossTarget,
      run: run('BENCH_MDB_TO_PG', 'bench-mdb-to-pg'),
    },
    ...(pgloader
      ? [
          {
            name: 'pgloader MariaDB → PostgreSQL',
            target: ctx.crossTarget,
            run: () => pgloaderFromMariaDb(ctx, pgloader, Math.max(120_000, ctx.rows / 20)),
            mayFail: true,
          },
        ]
      : []),
  ]);
  const pgl = pgloaderFigure?.seconds.length ? pgloaderFigure : null;
  const cpu = await cpuRun?.('where the CPU goes, one more KEY run', ctx.crossTarget, () =>
    run('BENCH_MDB_TO_PG', 'bench-mdb-to-pg-cpu')(0),
  );

  ctx.log(
    '== PostgreSQL → MariaDB, in rounds: `psql \\copy` to a file then `mariadb` LOAD DATA (baseline), multi-row INSERTs',
  );
  ctx.log(
    '   (the load the MariaDB target does not use, for reference), and KEY through Temporal (LOAD DATA from a stream)',
  );
  const expected = await postgresChecksum(ctx);
  const intoMariaDb: BenchTarget = {
    empty: () => onBenchMariaDb((c) => c.query('TRUNCATE TABLE fact_in')).then(() => undefined),
    check: async () => ({ got: await mariadbChecksum(), expected }),
  };
  const [pipeOut, inserts, keyOut] = await measureRounds([
    { name: 'psql \\copy to a file, then mariadb LOAD DATA', target: intoMariaDb, run: () => psqlFileToMariadb(ctx) },
    { name: 'multi-row INSERTs into MariaDB (reference)', target: intoMariaDb, run: () => multiRowInserts(ctx) },
    {
      name: 'KEY through Temporal, PostgreSQL → MariaDB',
      target: intoMariaDb,
      run: run('BENCH_PG_TO_MDB', 'bench-pg-to-mdb'),
    },
  ]);

  const med = (f: Figure) => {
    const s = [...f.seconds].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const ratio = (a: Figure, b: Figure) => +(med(a) / med(b)).toFixed(3);
  const byPgloader = pgl ? ratio(pgl, keyIn) : null;
  return {
    cpu,
    ratios: [
      {
        key: 'mariadbToPgVsPgloader',
        label: 'KEY MariaDB → PostgreSQL ÷ pgloader (throughput)',
        value: byPgloader,
        target: '≥ 3',
        met: byPgloader === null ? null : byPgloader >= 3,
      },
      {
        key: 'mariadbToPgVsPipe',
        label: 'KEY MariaDB → PostgreSQL ÷ mariadb --batch piped into psql (throughput)',
        value: ratio(pipeIn, keyIn),
        target: '≥ 0.6',
        met: ratio(pipeIn, keyIn) >= 0.6,
      },
      {
        key: 'pgToMariadbVsPipe',
        label: 'KEY PostgreSQL → MariaDB ÷ psql file + mariadb LOAD DATA (throughput)',
        value: ratio(pipeOut, keyOut),
        target: '≥ 0.6',
        met: ratio(pipeOut, keyOut) >= 0.6,
      },
      {
        key: 'insertsVsLoadData',
        label: 'multi-row INSERTs ÷ psql file + mariadb LOAD DATA (throughput: why the target loads by LOAD DATA)',
        value: ratio(pipeOut, inserts),
        target: 'reference',
        met: null,
      },
    ],
  };
}
