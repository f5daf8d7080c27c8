// The key type matrix: KEY loads over every awkward key type of PostgreSQL and MariaDB, each
// source type into each engine as target, as rows of a table. Each case loads a small table
// with a small BULKLMT, every batch reopening its read (DMS_ACTIVITY_SLICE_MS=1), all loads at
// once through one worker SIGKILL, into a target without a key, and must end exact (compared
// as texts computed in each database) or be refused before a row moves. Adding a type is one
// row. A key the source cannot compare the way it sorts is stopped by the checkpoint's proof
// (plan/checkpoint-proof.ts) even where the dialect's own handling of the type is wrong;
// the rows here hold with that handling in place.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { createMariaDb, registerMariaDbConnection, type TestMariaDb } from '../support/mariadb';
import { withClient } from '../support/postgres';

const PASSWORD_ENV = 'DMS_TEST_MARIADB_PASSWORD';
const ROWS = 600;
const BULKLMT = 50;

type Engine = 'mariadb' | 'postgres';

interface Case {
  /** The source's engine. */
  from: Engine;
  /** The source column type of the key `k` (a label may follow in brackets). */
  type: string;
  /** k's value for row `seq` (1..ROWS), SQL over seq in the source's dialect. */
  value: string;
  /** The target column's type, per target engine: the case loads into each one named. */
  to: Partial<Record<Engine, string>>;
  /** k as text, the same on each side, per engine (default: k cast to text). */
  text?: Partial<Record<Engine, string>>;
  /** The primary key (k alone, unique by default; (k, seq) where values tie). */
  pk?: string;
  /** Refused at planning, with a message matching this. */
  refused?: RegExp;
  /** What `dms verify` says of the key's types where it compares the table as a whole (into PostgreSQL). */
  whole?: RegExp;
}

const UTF8_HEX = { mariadb: 'HEX(k)', postgres: `upper(encode(convert_to(k, 'UTF8'), 'hex'))` };
const BYTES_HEX = { mariadb: 'LOWER(HEX(k))', postgres: `encode(k, 'hex')` };
/** A row number as a string of 0s and 1s where MariaDB gives a BIT's number. */
const BITS_12 = { mariadb: `LPAD(BIN(k), 12, '0')` };
const my = (type: string, value: string, pg: string, rest: Partial<Case> = {}): Case => ({
  from: 'mariadb',
  type,
  value,
  to: { postgres: pg, mariadb: type },
  ...rest,
});
const pg = (type: string, value: string, to: Partial<Record<Engine, string>>, rest: Partial<Case> = {}): Case => ({
  from: 'postgres',
  type,
  value,
  to,
  ...rest,
});

const CASES: Case[] = [
  // MariaDB sources, into PostgreSQL and into MariaDB.
  my('DECIMAL(40,0)', `CAST(CONCAT(IF(seq % 2 = 0, '-', ''), seq, REPEAT('9', 36)) AS DECIMAL(40,0))`, 'numeric(40,0)'),
  my(
    'DECIMAL(38,31)',
    `CAST(CONCAT(IF(seq % 2 = 0, '-', ''), seq, '.', LPAD(seq, 31, '3')) AS DECIMAL(38,31))`,
    'numeric(38,31)',
  ),
  my(
    'DECIMAL(65,30)',
    `CAST(CONCAT(IF(seq % 3 = 0, '-', ''), seq, REPEAT('1', 31), '.', LPAD(seq, 30, '0')) AS DECIMAL(65,30))`,
    'numeric(65,30)',
  ),
  my('DECIMAL(20,0) UNSIGNED', `CAST(18446744073709551615 - seq AS DECIMAL(20,0))`, 'numeric(20,0)'),
  my('BIGINT UNSIGNED', `18446744073709551615 - seq * 1000`, 'numeric(20)'),
  my(
    'BIGINT',
    `IF(seq % 2 = 0, -9223372036854775807 + CAST(seq AS SIGNED), 9223372036854775807 - CAST(seq AS SIGNED))`,
    'bigint',
  ),
  my('TINYINT', `CAST(seq AS SIGNED) % 256 - 128`, 'smallint', { pk: 'k, seq' }),
  my('TINYINT UNSIGNED', `seq % 256`, 'smallint', { pk: 'k, seq' }),
  my('SMALLINT UNSIGNED', `65535 - seq`, 'int'),
  my('MEDIUMINT', `CASE seq WHEN 1 THEN -8388608 WHEN 2 THEN 8388607 ELSE CAST(seq AS SIGNED) * 13 - 4000 END`, 'int'),
  my('INT UNSIGNED', `4294967295 - seq`, 'bigint'),
  my('BINARY(16)', `UNHEX(MD5(seq))`, 'bytea', { text: BYTES_HEX }),
  my('VARBINARY(20)', `IF(seq % 3 = 0, UNHEX(HEX(seq)), UNHEX(CONCAT(MD5(seq), '00')))`, 'bytea', { text: BYTES_HEX }),
  my('FLOAT', `IF(seq % 2 = 0, -1, 1) * CAST(seq AS SIGNED) / 10`, 'real', {
    text: { mariadb: 'CAST(k AS DOUBLE)', postgres: 'k::float8::text' },
  }),
  my('DOUBLE', `IF(seq % 2 = 0, -1, 1) * CAST(seq AS SIGNED) / 7e0`, 'double precision'),
  my('DATE', `DATE'1000-01-01' + INTERVAL seq * 97 DAY`, 'date'),
  my('DATETIME(6)', `TIMESTAMP'1000-01-01 00:00:00' + INTERVAL seq * 999999937 MICROSECOND`, 'timestamp(6)', {
    text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s.%f')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS.US')` },
  }),
  my('DATETIME(0)', `TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq * 7 SECOND`, 'timestamp(0)', {
    text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS')` },
  }),
  my('DATETIME(3)', `TIMESTAMP'1970-01-01 00:00:00' + INTERVAL seq * 86400123 MICROSECOND`, 'timestamp(3)', {
    text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s.%f')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS.US')` },
  }),
  my('TIMESTAMP(6)', `TIMESTAMP'2000-01-01 00:00:00' + INTERVAL seq * 1000001 MICROSECOND`, 'timestamp(6)', {
    text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s.%f')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS.US')` },
  }),
  my('TIME(6)', `SEC_TO_TIME(seq * 1000.123457 - 300000)`, 'text'),
  my('YEAR', `1901 + seq % 255`, 'int', { pk: 'k, seq' }),
  my('BIT(12)', `seq`, 'bit(12)', { text: BITS_12 }),
  my('VARCHAR(20) COLLATE utf8mb4_bin', `CONCAT(ELT(1 + seq % 5, 'a', '𝄞', 'é', '', 'A '), seq)`, 'text', {
    text: UTF8_HEX,
  }),
  my(
    'VARCHAR(20) COLLATE utf8mb4_general_ci',
    `ELT(1 + seq % 6, 'abc', 'ABC', 'àbc', 'abc ', 'Abc  ', 'abç')`,
    'text',
    { text: UTF8_HEX, pk: 'k, seq' },
  ),
  my('VARCHAR(300) COLLATE utf8mb4_bin', `CONCAT(REPEAT('𝄞x', 100 + seq % 40), seq)`, 'text', { text: UTF8_HEX }),
  my('CHAR(10) COLLATE utf8mb4_bin', `CONCAT(ELT(1 + seq % 3, 'c', 'C', 'ç'), seq)`, 'char(10)', { text: UTF8_HEX }),
  my('TEXT COLLATE utf8mb4_bin', `CONCAT(REPEAT('t', seq % 30), seq)`, 'text', { text: UTF8_HEX, pk: 'k(40)' }),
  my(
    'UUID',
    `CAST(CONCAT(LPAD(HEX(seq * 2654435761 % 4294967296), 8, '0'), '-', LPAD(HEX(seq % 65536), 4, '0'), '-1', LPAD(HEX(seq % 4096), 3, '0'), '-8000-', LPAD(HEX(seq), 12, '0')) AS UUID)`,
    'uuid',
  ),
  my(
    'INET6',
    `CAST(IF(seq % 2 = 0, CONCAT('::ffff:10.0.', seq DIV 256, '.', seq % 256), CONCAT('2001:db8::', HEX(seq))) AS INET6)`,
    'inet',
    { text: { postgres: 'host(k)' } },
  ),
  {
    ...my(`ENUM('sad', 'ok', 'happy')`, `ELT(1 + seq % 3, 'sad', 'ok', 'happy')`, 'text', {
      pk: 'k, seq',
      refused: /CHKPNTCOLUMN orders the source by "k" \(enum\): MariaDB sorts an ENUM or SET by its position/,
    }),
    to: { postgres: 'text' },
  },
  {
    ...my(`SET('a', 'b', 'c')`, `ELT(1 + seq % 4, '', 'a', 'a,c', 'b')`, 'text', {
      pk: 'k, seq',
      refused: /"k" \(set\)/,
    }),
    to: { postgres: 'text' },
  },
  // PostgreSQL sources, into PostgreSQL and, where MariaDB has the type, into MariaDB.
  pg('smallint', `(CASE seq WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE seq - 300 END)::smallint`, {
    postgres: 'smallint',
    mariadb: 'SMALLINT',
  }),
  pg(
    'bigint',
    `CASE seq WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE seq::bigint * 1000000007 END`,
    { postgres: 'bigint', mariadb: 'BIGINT' },
  ),
  pg(
    'numeric',
    `((CASE WHEN seq % 2 = 0 THEN '-' ELSE '' END) || seq || repeat('9', 38) || '.' || lpad(seq::text, 35, '7'))::numeric`,
    { postgres: 'numeric' },
  ),
  pg('numeric (with NaN)', `CASE WHEN seq = 7 THEN 'NaN'::numeric ELSE seq / 3.0 END`, { postgres: 'numeric' }),
  pg(
    'numeric(65,30)',
    `((CASE WHEN seq % 3 = 0 THEN '-' ELSE '' END) || seq || repeat('1', 31) || '.' || lpad(seq::text, 30, '0'))::numeric(65,30)`,
    { postgres: 'numeric(65,30)', mariadb: 'DECIMAL(65,30)' },
  ),
  pg(
    'real',
    `CASE seq WHEN 1 THEN '-0'::real WHEN 2 THEN 'NaN'::real WHEN 3 THEN '-Infinity'::real ELSE seq / 10.0 END::real`,
    { postgres: 'real' },
    { pk: 'k, seq' },
  ),
  pg(
    'double precision',
    `CASE seq WHEN 1 THEN '-0'::float8 WHEN 2 THEN 0 WHEN 3 THEN 'Infinity' ELSE (seq - 300) / 7.0 END::float8`,
    { postgres: 'double precision' },
    { pk: 'k, seq' },
  ),
  pg(
    'double precision (finite, no -0)',
    `CASE seq WHEN 1 THEN 1e300 / 3 WHEN 2 THEN -5e-300 / 3 ELSE (seq - 300) / 7.0 END::float8`,
    { postgres: 'double precision', mariadb: 'DOUBLE' },
    { text: { postgres: `replace(k::text, 'e+', 'e')` } },
  ),
  pg('char(5)', `to_hex(seq)`, { postgres: 'char(5)', mariadb: 'CHAR(5)' }),
  pg(
    'text COLLATE "C"',
    `(ARRAY['a', '𝄞', 'é', '', 'A ', 'b  '])[seq % 6 + 1] || CASE WHEN seq % 6 = 3 THEN '' ELSE seq::text END`,
    { postgres: 'text', mariadb: 'VARCHAR(40)' },
    { text: UTF8_HEX, pk: 'k, seq' },
  ),
  pg(
    'text COLLATE "und-x-icu"',
    `(ARRAY['a', 'B', '_', 'é', 'E', 'e'])[seq % 6 + 1] || seq`,
    { postgres: 'text', mariadb: 'VARCHAR(40)' },
    { text: UTF8_HEX, whole: /k: text COLLATE "und-x-icu" on the source, text COLLATE "default" \(.+\) on the target/ },
  ),
  pg(
    'text COLLATE case_insensitive (nondeterministic)',
    `(ARRAY['abc', 'ABC', 'Abc', 'abd', 'ABD'])[seq % 5 + 1]`,
    { postgres: 'text' },
    {
      text: UTF8_HEX,
      pk: 'k, seq',
      whole: /k: text COLLATE case_insensitive on the source, text COLLATE "default" \(.+\) on the target/,
    },
  ),
  pg(
    'varchar(300)',
    `repeat('𝄞x', 100 + seq % 40) || seq`,
    { postgres: 'varchar(300)', mariadb: 'VARCHAR(300)' },
    { text: UTF8_HEX },
  ),
  pg(
    'bytea',
    `CASE WHEN seq % 3 = 0 THEN ''::bytea ELSE decode(md5(seq::text) || '00', 'hex') END || int4send(seq)`,
    { postgres: 'bytea', mariadb: 'VARBINARY(40)' },
    { text: BYTES_HEX },
  ),
  pg('uuid', `md5(seq::text)::uuid`, { postgres: 'uuid' }),
  // MariaDB's UUID takes only versions it knows: version 4, variant 8 here.
  pg('uuid (version 4)', `overlay(overlay(md5(seq::text) placing '4' from 13) placing '8' from 17)::uuid`, {
    postgres: 'uuid',
    mariadb: 'UUID',
  }),
  pg('date', `CASE WHEN seq = 1 THEN date '4713-01-01 BC' ELSE date '1000-01-01' + seq * 97 END`, { postgres: 'date' }),
  pg('date (AD)', `date '1000-01-01' + seq * 97`, { postgres: 'date', mariadb: 'DATE' }),
  pg(
    'timestamp(6)',
    `timestamp '1000-01-01' + seq * interval '999999.937 second'`,
    { postgres: 'timestamp(6)', mariadb: 'DATETIME(6)' },
    { text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s.%f')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS.US')` } },
  ),
  pg(
    'timestamp(0)',
    `timestamp '2026-01-01' + seq * interval '7 second'`,
    { postgres: 'timestamp(0)', mariadb: 'DATETIME' },
    { text: { mariadb: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s')`, postgres: `to_char(k, 'YYYY-MM-DD HH24:MI:SS')` } },
  ),
  pg(
    'timestamptz',
    `timestamptz '2026-03-29 00:59:00+00' + seq * interval '1.000001 second'`,
    { postgres: 'timestamptz' },
    { text: { postgres: 'extract(epoch FROM k)::text' } },
  ),
  pg(
    'time(6)',
    `time '00:00' + seq * interval '143.999999 second'`,
    { postgres: 'time(6)', mariadb: 'TIME(6)' },
    { text: { mariadb: `DATE_FORMAT(k, '%H:%i:%s.%f')`, postgres: `to_char(k, 'HH24:MI:SS.US')` } },
  ),
  pg(
    'interval',
    `(ARRAY[interval '1 day', interval '24 hours', interval '1 mon', interval '30 days'])[seq % 4 + 1] * (seq % 7)`,
    { postgres: 'interval' },
    { pk: 'k, seq' },
  ),
  pg('boolean', `seq % 3 = 0`, { postgres: 'boolean' }, { pk: 'k, seq' }),
  pg(
    'mood (an enum)',
    `(ARRAY['sad', 'ok', 'happy'])[seq % 3 + 1]::mood`,
    { postgres: 'mood', mariadb: `ENUM('sad', 'ok', 'happy')` },
    { pk: 'k, seq' },
  ),
  pg('short_code (a domain)', `to_hex(seq)::short_code`, { postgres: 'short_code', mariadb: 'CHAR(3)' }),
  pg('int[]', `ARRAY[seq % 7, seq]`, { postgres: 'int[]' }),
  pg('inet', `('10.' || seq % 256 || '.' || seq / 256 || '.1/' || (8 + seq % 25))::inet`, { postgres: 'inet' }),
  pg(
    'inet (IPv6 hosts)',
    `('2001:db8::' || to_hex(seq * 7919 / 65536) || ':' || to_hex(seq * 7919 % 65536))::inet`,
    { postgres: 'inet', mariadb: 'INET6' },
    { text: { postgres: 'host(k)' } },
  ),
  pg('cidr', `('10.' || seq % 256 || '.' || seq / 256 || '.0/24')::cidr`, { postgres: 'cidr' }),
  pg(
    'macaddr',
    `('08:00:2b:01:' || lpad(to_hex(seq / 256), 2, '0') || ':' || lpad(to_hex(seq % 256), 2, '0'))::macaddr`,
    { postgres: 'macaddr' },
  ),
  pg('bit(12)', `seq::bit(12)`, { postgres: 'bit(12)', mariadb: 'BIT(12)' }, { text: BITS_12 }),
  pg('varbit', `substring(seq::bit(12)::text from 1 + seq % 5)::varbit`, { postgres: 'varbit' }),
];

/** One load: a case into one target engine. */
interface Load {
  c: Case;
  i: number;
  to: Engine;
  mapref: string;
  /** The source's table and the target's. */
  source: string;
  target: string;
}

const LOADS: Load[] = CASES.flatMap((c, i) =>
  (Object.keys(c.to) as Engine[]).map((to) => ({
    c,
    i,
    to,
    mapref: `KM${i}${to === 'mariadb' ? 'M' : 'P'}`,
    source: `km${i}`,
    target: `km${i}_${to === 'mariadb' ? 'm' : 'p'}`,
  })),
);

let h: Harness;
let m: TestMariaDb;

const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');

/** `dms …` as a user runs it: its exit code and output, whether it succeeds or not. */
function dms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  m = await createMariaDb('kmatrix');
  h = await openHarness('kmatrix', {
    [PASSWORD_ENV]: m.password,
    DMS_ACTIVITY_SLICE_MS: '1',
    DMS_HEARTBEAT_TIMEOUT_MS: '3000',
  });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

/** Every row of a table as `seq|k` in text, sorted: the multiset of rows, compared as texts. */
async function rowsOf(engine: Engine, database: string, table: string, c: Case): Promise<string[]> {
  const text = c.text?.[engine];
  if (engine === 'mariadb')
    return (await m.query<{ t: string }[]>(`SELECT CONCAT(seq, '|', ${text ?? 'CAST(k AS CHAR)'}) AS t FROM ${table}`))
      .map((r) => r.t)
      .sort();
  return withClient(database, async (client) =>
    (await client.query<{ t: string }>(`SELECT seq || '|' || ${text ?? 'k::text'} AS t FROM ${table}`)).rows
      .map((r) => r.t)
      .sort(),
  );
}

const sourceRows = (l: Load) => rowsOf(l.c.from, h.dbs.source, l.source, l.c);
const targetRows = (l: Load) => rowsOf(l.to, h.dbs.target, l.target, l.c);

describe('KEY over every key type, PostgreSQL and MariaDB each way, through a worker SIGKILL', () => {
  /** Each load's failure (undefined: completed), once every load has ended. */
  const outcomes = new Map<string, string | undefined>();
  /** What `dms verify` said of each load that completed. */
  const verified = new Map<string, Awaited<ReturnType<typeof dms>>>();

  beforeAll(async () => {
    const types = `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE DOMAIN short_code AS char(3) CHECK (VALUE <> 'zzz')`;
    await withClient(h.dbs.source, (c) =>
      c.query(
        `${types}; CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
      ),
    );
    await withClient(h.dbs.target, (c) => c.query(types));
    for (const [i, c] of CASES.entries()) {
      const pk = `PRIMARY KEY (${c.pk ?? 'k'})`;
      if (c.from === 'mariadb')
        await m.query(
          `CREATE TABLE km${i} (k ${c.type} NOT NULL, seq INT NOT NULL, ${pk}) ENGINE=InnoDB; INSERT INTO km${i} SELECT ${c.value}, seq FROM seq_1_to_${ROWS}`,
        );
      else {
        const type = c.type.replace(/ \(.*\)$/, ''); // a label in brackets is not part of the type
        await withClient(h.dbs.source, (client) =>
          client.query(
            `CREATE TABLE km${i} (k ${type} NOT NULL, seq int NOT NULL, ${pk}); INSERT INTO km${i} SELECT ${c.value}, seq FROM generate_series(1, ${ROWS}) seq`,
          ),
        );
      }
    }
    for (const l of LOADS) {
      // No key on the target: a batch loaded twice shows as extra rows.
      const columns = `k ${l.c.to[l.to]}, seq int`;
      if (l.to === 'mariadb') await m.query(`CREATE TABLE ${l.target} (${columns}) ENGINE=InnoDB`);
      else await withClient(h.dbs.target, (client) => client.query(`CREATE TABLE ${l.target} (${columns})`));
      const target: Record<string, string> = l.to === 'mariadb' ? { trgconid: 'MDB', trgschm: m.database } : {};
      const source: Record<string, string> = l.c.from === 'mariadb' ? { srcconid: 'MDB' } : {};
      await registerMapping(h.dbs, {
        mapref: l.mapref,
        batchSize: BULKLMT,
        srcquery: `SELECT k, seq FROM ${l.source}`,
        trgtbnm: l.to === 'mariadb' ? l.target : l.target.toUpperCase(),
        chkpntcolumn: 'K',
        columns: { ...source, ...target },
      });
    }
    // Every load runs at once, in a workflow of its own: the worker dies at the first batch 5
    // any of them reaches, with the other loads part way, and a second worker finishes them all.
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 5, action: 'kill' }] });
    const handles = await Promise.all(
      LOADS.map((l) =>
        h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: `dms-${l.mapref}`,
          args: [{ mapref: l.mapref }],
        }),
      ),
    );
    // All 115 loads share the worker's activity slots, each load's next batch queued behind the
    // others' (a few hundred activities before the first batch 5): minutes where cores are busy.
    await first.waitFor(/fault: kill at beforeCommit of batch 5/, 600_000).finally(() => first.kill());
    const second = await h.startWorker();
    try {
      for (const [n, handle] of handles.entries()) outcomes.set(LOADS[n].mapref, await failureOf(handle));
    } finally {
      await second.kill();
    }
    // `dms verify` of each load that completed, four at a time (each is a process of its own,
    // most of whose time is its start and its connections).
    const queue = LOADS.filter((l) => outcomes.get(l.mapref) === undefined);
    const verifying = async () => {
      for (let l = queue.shift(); l; l = queue.shift())
        verified.set(l.mapref, await dms('verify', l.mapref, '--ranges', '4'));
    };
    await Promise.all([verifying(), verifying(), verifying(), verifying()]);
  }, 900_000);

  it.each(LOADS.map((l) => ({ ...l, name: `${l.c.from} ${l.c.type} into ${l.to} ${l.c.to[l.to]}` })))(
    '$name',
    async (l) => {
      if (l.c.refused) {
        expect(outcomes.get(l.mapref)).toMatch(l.c.refused);
        expect(await targetRows(l)).toEqual([]);
        return;
      }
      expect(outcomes.get(l.mapref)).toBeUndefined();
      const source = await sourceRows(l);
      expect(source).toHaveLength(ROWS);
      expect(await targetRows(l)).toEqual(source);
      expect(await runs(h.dbs.metadata, l.mapref)).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
      // `dms verify` agrees: range by range, or, where the target orders the key otherwise (text
      // in another collation, TIME as text), as a whole, saying why.
      const verify = verified.get(l.mapref)!;
      expect(verify.stdout).toMatch(
        new RegExp(
          `Mapping ${l.mapref}: (the target equals the source in all 4 ranges \\(source ${ROWS} rows, target ${ROWS} rows\\)|compared as a whole instead, the target equals the source \\(${ROWS} rows on each side\\))`,
        ),
      );
      if (/compared as a whole/.test(verify.stdout))
        expect(verify.stdout).toMatch(
          /the source and the target may compare the key differently \(k: .* on the source, .* on the target;/,
        );
      if (l.c.whole && l.to === 'postgres') expect(verify.stdout).toMatch(l.c.whole);
      expect(verify.code).toBe(0);
    },
  );
});

describe('UPSERT into a MariaDB key that calls different source keys equal', () => {
  /** Runs `mapref` on a worker of its own and returns its failure. */
  async function failure(mapref: string): Promise<string | undefined> {
    const worker = await h.startWorker();
    try {
      return await failureOf(
        await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: `dms-${mapref}`,
          args: [{ mapref }],
        }),
      );
    } finally {
      await worker.kill();
    }
  }

  /**
   * A PostgreSQL source table of text keys in the C collation, `rows` (SQL of k, v), a MariaDB
   * target keyed in `collation`, and an UPSERT mapping between them; the load's failure.
   */
  async function upsertFailure(
    mapref: string,
    source: string,
    rows: string,
    target: string,
    collation: string,
    batchSize: number,
  ): Promise<string | undefined> {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ${source} (k text COLLATE "C" PRIMARY KEY, v int NOT NULL)`);
      await c.query(`INSERT INTO ${source} ${rows}`);
    });
    await m.query(
      `CREATE TABLE ${target} (k VARCHAR(20) COLLATE ${collation} NOT NULL PRIMARY KEY, v INT NOT NULL) CHARACTER SET utf8mb4`,
    );
    await registerMapping(h.dbs, {
      mapref,
      batchSize,
      srcquery: `SELECT k, v FROM ${source}`,
      trgtbnm: target,
      chkpntcolumn: 'K',
      columns: { trgconid: 'MDB', trgschm: m.database, loadmode: 'UPSERT', trgkeycols: 'K' },
    });
    return failure(mapref);
  }

  /** Every target row is a source row, value for value. */
  async function expectEveryRowFromTheSource(target: string, source: string): Promise<void> {
    const rows = await m.query<{ k: string; v: number }[]>(`SELECT k, v FROM ${target}`);
    const inSource = new Set(
      (
        await withClient(
          h.dbs.source,
          async (c) => (await c.query<{ k: string; v: number }>(`SELECT k, v FROM ${source}`)).rows,
        )
      ).map((r) => `${r.k}|${r.v}`),
    );
    for (const r of rows) expect(inSource.has(`${r.k}|${r.v}`)).toBe(true);
  }

  it('refuses a case-insensitive target key at planning, naming both collations, before any row moves', async () => {
    // PostgreSQL keeps 'key7' and 'KEY7' apart; the target's utf8mb4_general_ci key does not.
    const rows = `SELECT 'key' || g, g FROM generate_series(1, 20) g UNION ALL SELECT 'KEY7', 700`;
    expect(await upsertFailure('MKTUP', 'up_src', rows, 'up_ci', 'utf8mb4_general_ci', 5)).toMatch(
      /^Mapping MKTUP: TRGKEYCOLS matches rows on "k", which the target compares by utf8mb4_general_ci \(varchar\(20\)\), calling keys equal that differ in case or accents; the source compares it by "C", .* No row was moved\. Fix: give the target's key column a collation that compares characters exactly \(ALTER TABLE `[^`]+`\.`up_ci` MODIFY `k` varchar\(20\) COLLATE utf8mb4_nopad_bin\)/,
    );
    expect(await m.query<unknown[]>(`SELECT k FROM up_ci`)).toEqual([]);
  });

  it('fails the batch naming both keys where only trailing spaces differ, and never leaves a target row that is in no source row', async () => {
    // utf8mb4_bin compares characters, but pads spaces: 'k7' and 'k7 ' are one key there.
    // BULKLMT 1: the two keys arrive in two batches, the second meeting the first's row.
    const rows = `SELECT 'k' || g, g FROM generate_series(1, 12) g UNION ALL SELECT 'k7 ', 700`;
    expect(await upsertFailure('MKTPAD', 'up_pad', rows, 'up_bin', 'utf8mb4_bin', 1)).toMatch(
      /Mapping MKTPAD: TRGKEYCOLS \(k\): the source row with key \["k7 "\] would overwrite the target row with key \["k7"\].*Fix: give the target's key columns a collation that compares bytes \(e\.g\. ALTER TABLE up_bin MODIFY k <its type> COLLATE utf8mb4_nopad_bin\)/,
    );
    expect((await m.query<unknown[]>(`SELECT k FROM up_bin`)).length).toBeGreaterThan(0);
    await expectEveryRowFromTheSource('up_bin', 'up_pad');
  });
});
