// Where the engine scenarios (test/e2e/engine-scenarios.ts) keep their tables: one database of
// one engine, reached as the tests' own user, and named in DMS_DBCONDTLS by `conid`. Every
// engine holds the same table, with the same rows, and prints each row as the same canonical
// text, so that any two places compare value by value:
//   id|grp|region|amount|sold_at|note      NULL as <null>, '' as <empty>
// Oracle stores '' as NULL: its rows print <null> where another engine's print <empty>, and
// `arriving` turns what a place expects to receive into that form (docs/type-mapping.md).
import oracledb from 'oracledb';
import { oraclePoolSettings } from '../../dialects/oracle/oracle-connection';
import type { TestMariaDb } from './mariadb';
import { withClient } from './postgres';

/** One row of the scenarios' table, every value as the engines print it. */
export interface TestRow {
  id: number;
  /** A non-unique key: seven rows share each value, so ties straddle batch boundaries. */
  grp: number;
  region: string;
  amount: string | null;
  /** UTC, with microseconds. */
  soldAt: string | null;
  note: string | null;
}

/** Rows `from`…`to` of the scenarios' data: unicode, NULLs, empty strings, negative amounts. */
export function testRows(from: number, to: number): TestRow[] {
  const rows: TestRow[] = [];
  for (let i = from; i <= to; i++) {
    const micros = BigInt(Date.UTC(2026, 0, 1)) * 1000n + BigInt(i) * 1_001_001n;
    const date = new Date(Number(micros / 1000n)).toISOString().replace('T', ' ').slice(0, 19);
    rows.push({
      id: i * 3,
      grp: Math.floor(i / 7),
      region: ['eu', 'us', 'ap', 'ÜBER'][i % 4],
      amount:
        i % 13 === 0 ? null : `${i % 2 ? '-' : ''}${Math.floor(i / 100) % 100000}.${String(i % 100).padStart(2, '0')}`,
      soldAt: i % 17 === 0 ? null : `${date}.${String(micros % 1_000_000n).padStart(6, '0')}`,
      note: i % 10 === 0 ? null : i % 10 === 1 ? '' : `n${i} ünï 𝄞 it's`,
    });
  }
  return rows;
}

export interface Place {
  /** The engine's name, for test titles. */
  readonly engine: string;
  /** The DMS_DBCONDTLS connection that reaches it. */
  readonly conid: string;
  /** TRGSCHM for a table here. */
  readonly schema: string;
  /** A table name for SQL and metadata alike (each engine's folding respected). */
  table(label: string): string;
  /** Creates the scenarios' table (a primary key on id only when asked: crash tests need none). */
  create(table: string, options?: { primaryKey?: boolean }): Promise<void>;
  insert(table: string, rows: TestRow[]): Promise<void>;
  /** Changes the note of every row whose id is a multiple of `every` (an UPSERT then has updates to carry). */
  touch(table: string, every: number, note: string): Promise<void>;
  /** Every row's canonical text, ordered by id, then by the rest of the text. */
  rows(table: string): Promise<string[]>;
  /** The canonical texts a row of another engine's becomes here. */
  arriving(texts: string[]): string[];
  drop(table: string): Promise<void>;
  /** Runs one statement as the place's user. */
  execute(sql: string): Promise<void>;
}

const ORDER = (texts: string[]) =>
  texts.sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]) || (a < b ? -1 : a > b ? 1 : 0));

/** A PostgreSQL database of the test server. */
export function postgresPlace(database: string, conid: string): Place {
  const exec = (sql: string, values: unknown[] = []) => withClient(database, (c) => c.query(sql, values));
  return {
    engine: 'PostgreSQL',
    conid,
    schema: 'PUBLIC',
    table: (label) => `e_${label}`.toLowerCase(),
    async create(table, options = {}) {
      await exec(`CREATE TABLE ${table} (id bigint NOT NULL${options.primaryKey ? ' PRIMARY KEY' : ''}, grp int NOT NULL, region varchar(8) NOT NULL,
        amount numeric(12,2), sold_at timestamp(6), note varchar(100))`);
    },
    async insert(table, rows) {
      await exec(
        `INSERT INTO ${table} SELECT * FROM unnest($1::bigint[], $2::int[], $3::varchar[], $4::numeric[], $5::timestamp[], $6::varchar[])`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.grp),
          rows.map((r) => r.region),
          rows.map((r) => r.amount),
          rows.map((r) => r.soldAt),
          rows.map((r) => r.note),
        ],
      );
    },
    async touch(table, every, note) {
      await exec(`UPDATE ${table} SET note = $1 WHERE id % $2 = 0`, [note, every]);
    },
    async rows(table) {
      const { rows } = await exec(
        `SELECT concat_ws('|', id, grp, region, coalesce(to_char(amount, 'FM9999999990.00'), '<null>'),
                coalesce(to_char(sold_at, 'YYYY-MM-DD HH24:MI:SS.US'), '<null>'),
                CASE WHEN note IS NULL THEN '<null>' WHEN note = '' THEN '<empty>' ELSE note END) AS t FROM ${table}`,
      );
      return ORDER(rows.map((r: { t: string }) => r.t));
    },
    arriving: (texts) => texts,
    async drop(table) {
      await exec(`DROP TABLE IF EXISTS ${table}`);
    },
    execute: async (sql) => void (await exec(sql)),
  };
}

/** A MariaDB database of the test server (createMariaDb), registered as `conid`. */
export function mariadbPlace(m: TestMariaDb, conid: string): Place {
  return {
    engine: 'MariaDB',
    conid,
    schema: m.database,
    table: (label) => `e_${label}`.toLowerCase(),
    async create(table, options = {}) {
      await m.query(`CREATE TABLE ${table} (id BIGINT NOT NULL${options.primaryKey ? ' PRIMARY KEY' : ''}, grp INT NOT NULL, region VARCHAR(8) NOT NULL,
        amount DECIMAL(12,2), sold_at DATETIME(6), note VARCHAR(100)) ENGINE=InnoDB`);
    },
    async insert(table, rows) {
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await m.query(
          `INSERT INTO ${table} VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          chunk.flatMap((r) => [r.id, r.grp, r.region, r.amount, r.soldAt, r.note]),
        );
      }
    },
    async touch(table, every, note) {
      await m.query(`UPDATE ${table} SET note = ? WHERE id % ? = 0`, [note, every]);
    },
    async rows(table) {
      const rows = await m.query<{ t: string }[]>(
        `SELECT CONCAT_WS('|', id, grp, region, IFNULL(amount, '<null>'), IFNULL(DATE_FORMAT(sold_at, '%Y-%m-%d %H:%i:%s.%f'), '<null>'),
                CASE WHEN note IS NULL THEN '<null>' WHEN note = '' THEN '<empty>' ELSE note END) AS t FROM ${table}`,
      );
      return ORDER(rows.map((r) => r.t));
    },
    arriving: (texts) => texts,
    async drop(table) {
      await m.query(`DROP TABLE IF EXISTS ${table}`);
    },
    execute: async (sql) => void (await m.query(sql)),
  };
}

/** The Oracle schema of `url`'s user (ORACLE_URL), registered as `conid`; table names carry `suffix`. */
export function oraclePlace(url: string, password: string, conid: string, suffix: string): Place {
  const settings = oraclePoolSettings(url, password);
  async function exec<T = unknown[]>(sql: string, binds: unknown[] | unknown[][] = [], many = false): Promise<T[]> {
    const c = await oracledb.getConnection({ user: settings.user, password, connectString: settings.connectString });
    try {
      if (many) {
        await c.executeMany(sql, binds as oracledb.BindParameters[], {
          autoCommit: true,
          bindDefs: [
            { type: oracledb.DB_TYPE_NUMBER },
            { type: oracledb.DB_TYPE_NUMBER },
            { type: oracledb.DB_TYPE_VARCHAR, maxSize: 32 },
            { type: oracledb.DB_TYPE_VARCHAR, maxSize: 32 },
            { type: oracledb.DB_TYPE_VARCHAR, maxSize: 32 },
            { type: oracledb.DB_TYPE_VARCHAR, maxSize: 400 },
          ],
        });
        return [];
      }
      const result = await c.execute<T>(sql, binds as oracledb.BindParameters, {
        outFormat: oracledb.OUT_FORMAT_ARRAY,
        autoCommit: true,
      });
      return result.rows ?? [];
    } finally {
      await c.close();
    }
  }
  return {
    engine: 'Oracle',
    conid,
    schema: settings.user.toUpperCase(),
    table: (label) => `DMST_${label}_${suffix}`.toUpperCase(),
    async create(table, options = {}) {
      await exec(`CREATE TABLE ${table} (id NUMBER(18) NOT NULL${options.primaryKey ? ' PRIMARY KEY' : ''}, grp NUMBER(9) NOT NULL, region VARCHAR2(8 CHAR) NOT NULL,
        amount NUMBER(12,2), sold_at TIMESTAMP(6), note VARCHAR2(100 CHAR))`);
    },
    async insert(table, rows) {
      await exec(
        `INSERT INTO ${table} VALUES (:1, :2, :3, TO_NUMBER(:4, '9999999990.99'), TO_TIMESTAMP(:5, 'YYYY-MM-DD HH24:MI:SS.FF6'), :6)`,
        rows.map((r) => [r.id, r.grp, r.region, r.amount, r.soldAt, r.note]),
        true,
      );
    },
    async touch(table, every, note) {
      await exec(`UPDATE ${table} SET note = :1 WHERE MOD(id, :2) = 0`, [note, every]);
    },
    async rows(table) {
      const rows = await exec<[string]>(
        `SELECT TO_CHAR(id, 'TM9') || '|' || TO_CHAR(grp, 'TM9') || '|' || region || '|' || NVL(TO_CHAR(amount, 'FM9999999990.00'), '<null>') || '|' ||
                NVL(TO_CHAR(sold_at, 'YYYY-MM-DD HH24:MI:SS.FF6'), '<null>') || '|' || NVL(note, '<null>') FROM ${table}`,
      );
      return ORDER(rows.map((r) => r[0]));
    },
    // Oracle keeps '' as NULL.
    arriving: (texts) => texts.map((t) => t.replace(/\|<empty>$/, '|<null>')),
    async drop(table) {
      await exec(`DROP TABLE ${table} PURGE`).catch((err: { errorNum?: number }) => {
        if (err.errorNum !== 942) throw err;
      });
    },
    execute: async (sql) => void (await exec(sql)),
  };
}
