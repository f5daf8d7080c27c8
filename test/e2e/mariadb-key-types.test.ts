// KEY loads from MariaDB into PostgreSQL over every awkward key type, as rows of a table:
// each case loads a small table with a small BULKLMT, every batch reopening its read
// (DMS_ACTIVITY_SLICE_MS=1), through one worker SIGKILL, into a target without a key, and
// must end exact (compared as texts computed in each database) or be refused before a row
// moves. Adding a type is one row. A key the source cannot compare the way it sorts is
// stopped by the checkpoint's proof (activities/checkpoint-proof.ts) even where the dialect's
// own handling of the type is wrong; the rows here hold with that handling in place.
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

interface Case {
  /** The MariaDB column type of the key `k`. */
  type: string;
  /** k's value for row `seq` (1..ROWS), SQL over seq. */
  value: string;
  /** The PostgreSQL target column's type. */
  pg: string;
  /** k as text in MariaDB, and the same text of the loaded value in PostgreSQL. */
  myText?: string;
  pgText?: string;
  /** The primary key (k alone, unique by default; (k, seq) where values tie). */
  pk?: string;
  /** Refused at planning, with a message matching this. */
  refused?: RegExp;
}

const CASES: Case[] = [
  { type: 'DECIMAL(40,0)', value: `CAST(CONCAT(IF(seq % 2 = 0, '-', ''), seq, REPEAT('9', 36)) AS DECIMAL(40,0))`, pg: 'numeric(40,0)' },
  { type: 'DECIMAL(38,31)', value: `CAST(CONCAT(IF(seq % 2 = 0, '-', ''), seq, '.', LPAD(seq, 31, '3')) AS DECIMAL(38,31))`, pg: 'numeric(38,31)' },
  { type: 'DECIMAL(65,30)', value: `CAST(CONCAT(IF(seq % 3 = 0, '-', ''), seq, REPEAT('1', 31), '.', LPAD(seq, 30, '0')) AS DECIMAL(65,30))`, pg: 'numeric(65,30)' },
  { type: 'DECIMAL(20,0) UNSIGNED', value: `CAST(18446744073709551615 - seq AS DECIMAL(20,0))`, pg: 'numeric(20,0)' },
  { type: 'BIGINT UNSIGNED', value: `18446744073709551615 - seq * 1000`, pg: 'numeric(20)' },
  { type: 'BIGINT', value: `IF(seq % 2 = 0, -9223372036854775807 + CAST(seq AS SIGNED), 9223372036854775807 - CAST(seq AS SIGNED))`, pg: 'bigint' },
  { type: 'TINYINT', value: `CAST(seq AS SIGNED) % 256 - 128`, pg: 'smallint', pk: 'k, seq' },
  { type: 'BINARY(16)', value: `UNHEX(MD5(seq))`, pg: 'bytea', myText: 'LOWER(HEX(k))', pgText: `encode(k, 'hex')` },
  { type: 'VARBINARY(20)', value: `IF(seq % 3 = 0, UNHEX(HEX(seq)), UNHEX(CONCAT(MD5(seq), '00')))`, pg: 'bytea', myText: 'LOWER(HEX(k))', pgText: `encode(k, 'hex')` },
  { type: 'FLOAT', value: `IF(seq % 2 = 0, -1, 1) * CAST(seq AS SIGNED) / 10`, pg: 'real', myText: 'CAST(k AS DOUBLE)', pgText: 'k::float8::text' },
  { type: 'DOUBLE', value: `IF(seq % 2 = 0, -1, 1) * CAST(seq AS SIGNED) / 7e0`, pg: 'double precision' },
  { type: 'DATE', value: `DATE'1000-01-01' + INTERVAL seq * 97 DAY`, pg: 'date' },
  { type: 'DATETIME(6)', value: `TIMESTAMP'1000-01-01 00:00:00' + INTERVAL seq * 999999937 MICROSECOND`, pg: 'timestamp(6)', myText: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s.%f')`, pgText: `to_char(k, 'YYYY-MM-DD HH24:MI:SS.US')` },
  { type: 'DATETIME(0)', value: `TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq * 7 SECOND`, pg: 'timestamp(0)', myText: `DATE_FORMAT(k, '%Y-%m-%d %H:%i:%s')`, pgText: `to_char(k, 'YYYY-MM-DD HH24:MI:SS')` },
  { type: 'TIME(6)', value: `SEC_TO_TIME(seq * 1000.123457 - 300000)`, pg: 'text' },
  { type: 'YEAR', value: `1901 + seq % 255`, pg: 'int', pk: 'k, seq' },
  { type: 'BIT(12)', value: `seq`, pg: 'bit(12)', myText: `LPAD(BIN(k), 12, '0')` },
  { type: 'VARCHAR(20) COLLATE utf8mb4_bin', value: `CONCAT(ELT(1 + seq % 5, 'a', '𝄞', 'é', '', 'A '), seq)`, pg: 'text', myText: 'HEX(k)', pgText: `upper(encode(convert_to(k, 'UTF8'), 'hex'))` },
  {
    type: 'VARCHAR(20) COLLATE utf8mb4_general_ci',
    value: `ELT(1 + seq % 6, 'abc', 'ABC', 'àbc', 'abc ', 'Abc  ', 'abç')`,
    pg: 'text',
    myText: 'HEX(k)',
    pgText: `upper(encode(convert_to(k, 'UTF8'), 'hex'))`,
    pk: 'k, seq',
  },
  { type: `ENUM('sad', 'ok', 'happy')`, value: `ELT(1 + seq % 3, 'sad', 'ok', 'happy')`, pg: 'text', pk: 'k, seq', refused: /CHKPNTCOLUMN orders the source by "k" \(enum\): MariaDB sorts an ENUM or SET by its position/ },
  { type: `SET('a', 'b', 'c')`, value: `ELT(1 + seq % 4, '', 'a', 'a,c', 'b')`, pg: 'text', pk: 'k, seq', refused: /"k" \(set\)/ },
];

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
  m = await createMariaDb('ktypes');
  h = await openHarness('mktypes', { [PASSWORD_ENV]: m.password, DMS_ACTIVITY_SLICE_MS: '1', DMS_HEARTBEAT_TIMEOUT_MS: '3000' });
  await registerMariaDbConnection(h.dbs.metadata, m, PASSWORD_ENV);
});

afterAll(async () => {
  await h?.close();
  await m?.drop();
});

/** Every row as `seq|k` in text, sorted: the multiset of rows, compared as texts. */
async function mariadbRows(table: string, c: Case): Promise<string[]> {
  const rows = await m.query<{ t: string }[]>(`SELECT CONCAT(seq, '|', ${c.myText ?? 'CAST(k AS CHAR)'}) AS t FROM ${table}`);
  return rows.map((r) => r.t).sort();
}

async function postgresRows(table: string, c: Case): Promise<string[]> {
  return withClient(h.dbs.target, async (client) => (await client.query<{ t: string }>(`SELECT seq || '|' || ${c.pgText ?? 'k::text'} AS t FROM ${table}`)).rows.map((r) => r.t).sort());
}

describe('KEY over MariaDB key types, into PostgreSQL, through a worker SIGKILL', () => {
  /** Each case's failure (undefined: completed), once every load has ended. */
  const outcomes = new Map<number, string | undefined>();

  beforeAll(async () => {
    // Every case loads at once, in a workflow of its own: the worker dies at the first batch 5
    // any of them reaches, with the other loads part way, and a second worker finishes them all.
    for (const [i, c] of CASES.entries()) {
      await m.query(`CREATE TABLE kt${i} (k ${c.type} NOT NULL, seq INT NOT NULL, PRIMARY KEY (${c.pk ?? 'k'})) ENGINE=InnoDB; INSERT INTO kt${i} SELECT ${c.value}, seq FROM seq_1_to_${ROWS}`);
      // No key on the target: a batch loaded twice shows as extra rows.
      await withClient(h.dbs.target, (client) => client.query(`CREATE TABLE kt${i} (k ${c.pg}, seq int)`));
      await registerMapping(h.dbs, { mapref: `MKT${i}`, batchSize: BULKLMT, srcquery: `SELECT k, seq FROM kt${i}`, trgtbnm: `KT${i}`, chkpntcolumn: 'K', columns: { srcconid: 'MDB' } });
    }
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 5, action: 'kill' }] });
    const handles = await Promise.all(CASES.map((_, i) => h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: `dms-MKT${i}`, args: [{ mapref: `MKT${i}` }] })));
    await first.waitFor(/fault: kill at beforeCommit of batch 5/);
    await first.kill();
    const second = await h.startWorker();
    try {
      for (const [i, handle] of handles.entries()) outcomes.set(i, await failureOf(handle));
    } finally {
      await second.kill();
    }
  }, 600_000);

  it.each(CASES.map((c, i) => ({ ...c, i })))('$type', async (c) => {
    const table = `kt${c.i}`;
    if (c.refused) {
      expect(outcomes.get(c.i)).toMatch(c.refused);
      expect(await postgresRows(table, c)).toEqual([]);
      return;
    }
    expect(outcomes.get(c.i)).toBeUndefined();
    const source = await mariadbRows(table, c);
    expect(source).toHaveLength(ROWS);
    expect(await postgresRows(table, c)).toEqual(source);
    expect(await runs(h.dbs.metadata, `MKT${c.i}`)).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
    // `dms verify` agrees: range by range, or, where PostgreSQL orders the key otherwise (text
    // in another collation, TIME as text), as a whole, saying why.
    const verified = await dms('verify', `MKT${c.i}`, '--ranges', '4');
    expect(verified.stdout).toMatch(new RegExp(`Mapping MKT${c.i}: (the target equals the source in all 4 ranges \\(source ${ROWS} rows, target ${ROWS} rows\\)|compared as a whole instead, the target equals the source \\(${ROWS} rows on each side\\))`));
    if (/compared as a whole/.test(verified.stdout)) expect(verified.stdout).toMatch(/the source and the target may compare the key differently \(k: .* on the source, .* on the target;/);
    expect(verified.code).toBe(0);
  });
});

describe('UPSERT into a MariaDB key that calls different source keys equal', () => {
  it('fails the batch naming both keys, and never leaves a target row that is in no source row', async () => {
    // PostgreSQL keeps 'key7' and 'KEY7' apart; the target's utf8mb4_general_ci key does not.
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE up_src (k text COLLATE "C" PRIMARY KEY, v int NOT NULL)`);
      await c.query(`INSERT INTO up_src SELECT 'key' || g, g FROM generate_series(1, 20) g UNION ALL SELECT 'KEY7', 700`);
    });
    await m.query(`CREATE TABLE up_ci (k VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, v INT NOT NULL) CHARACTER SET utf8mb4`);
    // In the C collation KEY7 sorts before every lower-case key: the first batch of 5 holds it, a later one key7.
    await registerMapping(h.dbs, { mapref: 'MKTUP', batchSize: 5, srcquery: `SELECT k, v FROM up_src`, trgtbnm: 'up_ci', chkpntcolumn: 'K', columns: { trgconid: 'MDB', trgschm: m.database, loadmode: 'UPSERT', trgkeycols: 'K' } });
    const worker = await h.startWorker();
    try {
      const handle = await h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId: 'dms-MKTUP', args: [{ mapref: 'MKTUP' }] });
      expect(await failureOf(handle)).toMatch(/Mapping MKTUP: TRGKEYCOLS \(k\): the source row with key \["(key7|KEY7)"\] would overwrite the target row with key \["(KEY7|key7)"\].*Fix: give the target's key columns a collation that compares bytes/);
    } finally {
      await worker.kill();
    }
    // Every target row is a source row, value for value.
    const target = await m.query<{ k: string; v: number }[]>(`SELECT k, v FROM up_ci`);
    const source = await withClient(h.dbs.source, async (c) => (await c.query<{ k: string; v: number }>(`SELECT k, v FROM up_src`)).rows);
    const inSource = new Set(source.map((r) => `${r.k}|${r.v}`));
    expect(target.length).toBeGreaterThan(0);
    for (const r of target) expect(inSource.has(`${r.k}|${r.v}`)).toBe(true);
  });
});
