// The target side on Oracle (unverified: never run against an Oracle server; see README and
// docs/oracle.md). Each batch runs in one transaction with an explicit commit (autoCommit is
// never on): DMS_CHKPNT locked with a bounded wait and written in it, rows inserted (or merged
// on TRGKEYCOLS) one chunk per executeMany, every value bound as text and converted in SQL to
// its column's type (oracle-target-sql.ts). TRUNCATE commits on its own in Oracle, as on
// MariaDB: a takeover records it as owed on the run's checkpoint row and pays it after the
// commit, under the row's lock, so that it happens once and before any batch loads.
import oracledb from 'oracledb';
import type { CheckpointRow } from '../dialect';
import { DuplicateKeyInBatchError } from '../../common/errors';
import type {
  ColumnInfo,
  KeyedQuery,
  RangeMover,
  RejectedRow,
  RejectListing,
  RowBatch,
  SourceDatabase,
  TargetDatabase,
  TargetTransaction,
  TransactionOptions,
} from '../dialect';
import {
  countRejectsSql,
  insertRejectSql,
  listingOf,
  listRejectsSql,
  REJECT_BIND_DEFS,
  REJECT_TABLE_EXISTS_SQL,
  rejectBinds,
  rejectTableDdl,
} from './oracle-reject-table';
import { memoized } from '../memoized';
import { oracleError } from './oracle-errors';
import type { OraclePool } from './oracle-pool';
import { quoteOracleIdentifier as q, sourceSubquery, UNIQUE_KEYS_SQL } from './oracle-sql';
import {
  bindRows,
  checkpointOf,
  checkpointTableDdl,
  insertSql,
  lobBind,
  lockCheckpointSql,
  mergeSql,
  readCheckpointSql,
  storedCheckpoint,
  TABLE_COLUMNS_SQL,
  writeCheckpointSql,
  type TargetColumn,
} from './oracle-target-sql';
import { oracleFamily } from './oracle-types';
import { singleTable } from './oracle-single-table';
import { OracleSource } from './oracle-source';
import { whereAmI } from './oracle-where';
import {
  inDatabaseMover,
  movableInDatabase,
  schemaSwitch,
  type InsertSelectTransaction,
  type ReadAs,
} from './oracle-in-database';

/** A truncate a takeover owes the table, paid after its commit. */
interface OwedTruncate {
  schema: string;
  table: string;
}

type Row = [
  string,
  string | number,
  string | number,
  string | number,
  string | null,
  string | null,
  string | null,
  string | number,
  string | number,
  string | null,
];

function rowOf(r: Row): { row: CheckpointRow; owed: OwedTruncate | null } {
  return {
    row: {
      mapref: r[0],
      prcid: Number(r[1]),
      epoch: Number(r[2]),
      jobid: Number(r[3]),
      keyColumns: r[4],
      checkpoint: checkpointOf(r[5]),
      lastRow: r[6],
      batches: Number(r[7]),
      rows: Number(r[8]),
    },
    owed: r[9] ? (JSON.parse(r[9]) as OwedTruncate) : null,
  };
}

const ARRAY = { outFormat: oracledb.OUT_FORMAT_ARRAY };

async function readRow(
  connection: oracledb.Connection,
  schema: string,
  mapref: string,
  waitSeconds: number | null,
): Promise<{ row: CheckpointRow; owed: OwedTruncate | null } | undefined> {
  const text = waitSeconds === null ? readCheckpointSql(schema) : lockCheckpointSql(schema, waitSeconds);
  const rows = (await connection.execute<Row>(text, [mapref], ARRAY)).rows ?? [];
  return rows[0] ? rowOf(rows[0]) : undefined;
}

async function writeRow(
  connection: oracledb.Connection,
  schema: string,
  row: CheckpointRow,
  owed: OwedTruncate | null,
): Promise<void> {
  await connection.execute(writeCheckpointSql(schema), [
    row.mapref,
    row.prcid,
    row.epoch,
    row.jobid,
    row.keyColumns,
    storedCheckpoint(row.checkpoint),
    row.lastRow,
    row.batches,
    row.rows,
    owed ? JSON.stringify(owed) : null,
  ]);
}

/**
 * Pays the truncate the mapping's row owes, in transactions of its own (TRUNCATE commits): the
 * row locked first, so that of two attempts that both saw the debt the second, reading the row
 * again after the first's truncate, finds it paid or truncates a table nothing has loaded since.
 */
async function settleTruncate(
  connection: oracledb.Connection,
  schema: string,
  mapref: string,
  waitSeconds: number,
): Promise<void> {
  const read = await readRow(connection, schema, mapref, waitSeconds);
  if (!read?.owed) {
    await connection.commit();
    return;
  }
  await connection.execute(`TRUNCATE TABLE ${q(read.owed.schema)}.${q(read.owed.table)}`);
  // Only the debt that was paid: a newer run's reset, committed meanwhile, owes its own.
  await connection.execute(
    `UPDATE ${q(schema)}."DMS_CHKPNT" SET "TRNCPEND" = NULL WHERE "MAPREF" = :k1 AND "PRCID" = :k2 AND "EPOCH" = :k3`,
    [mapref, read.row.prcid, read.row.epoch],
  );
  await connection.commit();
}

/** Source keys met twice in one batch: a MERGE would take both into one row, as no other engine does. */
function keyGuard(columns: string[], key: string[]) {
  const at = key.map((k) => columns.indexOf(k));
  const seen = new Set<string>();
  return (row: unknown[]) => {
    const value = JSON.stringify(at.map((i) => row[i]));
    if (seen.has(value)) throw new DuplicateKeyInBatchError(key);
    seen.add(value);
  };
}

class OracleTransaction implements InsertSelectTransaction {
  /** A statement that writes has run: a truncate owed can no longer be paid in here. */
  private wrote = false;
  private owed: OwedTruncate | null = null;
  /** The checkpoint row written here owes a truncate, paid after the commit. */
  owes: { schema: string; mapref: string } | null = null;

  constructor(
    readonly connection: oracledb.Connection,
    private readonly columnsOf: (schema: string, table: string) => Promise<TargetColumn[]>,
    private readonly waitSeconds: number,
  ) {}

  async lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    for (let round = 0; ; round++) {
      const read = await readRow(this.connection, schema, mapref, this.waitSeconds);
      if (!read?.owed) return read?.row;
      // A reset committed and its truncate did not follow (a crash between): paid now, before
      // any row of this transaction loads (nothing is written here yet: the commit ends nothing).
      if (this.wrote || round >= 3)
        throw new Error(
          `the checkpoint row of mapping ${mapref} still owes a truncate of ${read.owed.schema}.${read.owed.table}`,
        );
      await this.connection.commit();
      await settleTruncate(this.connection, schema, mapref, this.waitSeconds);
    }
  }

  async writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    this.wrote = true;
    await writeRow(this.connection, schema, row, this.owed);
    this.owes = this.owed ? { schema, mapref: row.mapref } : null;
  }

  private async columns(schema: string, table: string, names: string[]): Promise<TargetColumn[]> {
    const all = await this.columnsOf(schema, table);
    return names.map((n) => all.find((c) => c.name === n) ?? { name: n, type: 'VARCHAR2' });
  }

  /** Each chunk in one executeMany of `text`: LOBs bound as LOBs, every other bind a string of at most its longest value. */
  private async many(
    text: string,
    columns: TargetColumn[],
    chunks: AsyncIterable<RowBatch>,
    each: ((row: unknown[]) => void) | null,
    onChunk?: () => void,
  ): Promise<number> {
    let n = 0;
    for await (const chunk of chunks) {
      if (chunk.rows.length === 0) continue;
      this.wrote = true;
      const rows = bindRows(chunk.rows, columns);
      if (each) rows.forEach(each);
      const bindDefs = columns.map((c, i) => {
        const lob = lobBind(c.type);
        return lob
          ? { type: lob }
          : {
              type: oracledb.STRING,
              maxSize: Math.max(1, ...rows.map((r) => Buffer.byteLength((r[i] as string | null) ?? '', 'utf8'))),
            };
      });
      await this.connection.executeMany(text, rows, { bindDefs, autoCommit: false });
      n += chunk.rows.length;
      onChunk?.();
    }
    return n;
  }

  async load(
    schema: string,
    table: string,
    columns: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const described = await this.columns(schema, table, columns);
    return this.many(insertSql(schema, table, described), described, chunks, null, onChunk);
  }

  async upsert(
    schema: string,
    table: string,
    columns: string[],
    key: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number> {
    const described = await this.columns(schema, table, columns);
    return this.many(mergeSql(schema, table, described, key), described, chunks, keyGuard(columns, key), onChunk);
  }

  async truncate(schema: string, table: string): Promise<void> {
    // Paid after the commit that resets the checkpoint (see settleTruncate).
    this.wrote = true;
    this.owed = { schema, table };
  }

  async execute(sql: string, values: unknown[]): Promise<void> {
    this.wrote = true;
    await this.connection.execute(sql, values as oracledb.BindParameters);
  }

  private savepoints = 0;

  /** Oracle has no RELEASE SAVEPOINT: a savepoint that served stays until the transaction ends. */
  async withSavepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `DMS_SP_${++this.savepoints}`;
    await this.connection.execute(`SAVEPOINT ${name}`);
    try {
      return await fn();
    } catch (err) {
      await this.connection.execute(`ROLLBACK TO SAVEPOINT ${name}`);
      // With its SQLSTATE, so that a refused row is told from any other error (activities/rejects.ts).
      throw oracleError(err);
    }
  }

  async reject(schema: string, rows: RejectedRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.wrote = true;
    await this.connection.executeMany(insertRejectSql(schema), rejectBinds(rows) as oracledb.BindParameters[], {
      bindDefs: REJECT_BIND_DEFS,
      autoCommit: false,
    });
  }

  async countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    const rows = (await this.connection.execute<[number]>(countRejectsSql(schema), [mapref, prcid], ARRAY)).rows ?? [];
    return Number(rows[0]?.[0] ?? 0);
  }

  /** One INSERT … SELECT (oracle-in-database.ts), reading as the source's schema when `as` says so. */
  async insertSelect(text: string, binds: string[], as: ReadAs | null): Promise<number> {
    this.wrote = true;
    if (as) await this.connection.execute(schemaSwitch(as.readAs));
    // A failed statement fails the transaction, whose session is then dropped (OracleTarget.transaction).
    const result = await this.connection.execute(text, binds);
    if (as) await this.connection.execute(schemaSwitch(as.home));
    return result.rowsAffected ?? 0;
  }
}

export class OracleTarget implements TargetDatabase {
  private readonly tables = new Map<string, Promise<TargetColumn[]>>();

  constructor(
    private readonly pool: OraclePool,
    private readonly lockTimeoutMs: number,
  ) {}

  private get waitSeconds(): number {
    return Math.max(1, Math.ceil(this.lockTimeoutMs / 1000));
  }

  async ping(): Promise<void> {
    await this.pool.with((c) => c.execute('SELECT 1 FROM DUAL'));
  }

  private columnsOf(schema: string, table: string): Promise<TargetColumn[]> {
    return memoized(this.tables, JSON.stringify([schema, table]), () =>
      this.pool.with(async (c) =>
        ((await c.execute<[string, string]>(TABLE_COLUMNS_SQL, [schema, table], ARRAY)).rows ?? []).map(
          ([name, type]) => ({ name, type }),
        ),
      ),
    );
  }

  async describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    this.tables.delete(JSON.stringify([schema, table]));
    const columns = await this.columnsOf(schema, table);
    return columns.length === 0
      ? undefined
      : columns.map((c) => ({ name: c.name, type: c.type, family: oracleFamily(c.type.replace(/\(\d+\)/g, '')) }));
  }

  async uniqueKeys(schema: string, table: string): Promise<string[][]> {
    const rows = await this.pool.with(
      async (c) =>
        (
          await c.execute<[string, string, number, string]>(
            UNIQUE_KEYS_SQL,
            [schema, table, schema, table, schema, table],
            ARRAY,
          )
        ).rows ?? [],
    );
    const keys = new Map<string, { columns: string[]; ok: boolean }>();
    for (const [name, column, , nullable] of rows) {
      const entry = keys.get(name) ?? { columns: [], ok: true };
      if (nullable !== 'N') entry.ok = false;
      entry.columns.push(column);
      keys.set(name, entry);
    }
    return [...keys.values()].filter((k) => k.ok).map((k) => k.columns);
  }

  private async hasCheckpointTable(c: oracledb.Connection, schema: string): Promise<boolean> {
    const rows =
      (await c.execute(`SELECT 1 FROM ALL_TABLES WHERE OWNER = :k1 AND TABLE_NAME = 'DMS_CHKPNT'`, [schema], ARRAY))
        .rows ?? [];
    return rows.length > 0;
  }

  async readCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    return this.pool.with(async (c) =>
      (await this.hasCheckpointTable(c, schema)) ? (await readRow(c, schema, mapref, null))?.row : undefined,
    );
  }

  async ensureRejectTable(schema: string): Promise<void> {
    await this.pool.with(async (c) => {
      if (((await c.execute(REJECT_TABLE_EXISTS_SQL, [schema], ARRAY)).rows ?? []).length > 0) return;
      // Two runs may race to create it: ORA-00955 (name already used) means the other won.
      await c.execute(rejectTableDdl(schema)).catch((err: { errorNum?: number }) => {
        if (err.errorNum !== 955) throw err;
      });
    });
  }

  async rejects(schema: string, mapref: string, prcid: number | null, limit: number): Promise<RejectListing[]> {
    return this.pool.with(async (c) => {
      if (((await c.execute(REJECT_TABLE_EXISTS_SQL, [schema], ARRAY)).rows ?? []).length === 0) return [];
      const result = await c.execute<unknown[]>(listRejectsSql(schema), [mapref, prcid, prcid, limit], {
        ...ARRAY,
        fetchInfo: { ROWVALS: { type: oracledb.STRING } },
      });
      return (result.rows ?? []).map(listingOf);
    });
  }

  async countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    return this.pool.with(async (c) => {
      if (((await c.execute(REJECT_TABLE_EXISTS_SQL, [schema], ARRAY)).rows ?? []).length === 0) return 0;
      return Number(
        ((await c.execute<[number]>(countRejectsSql(schema), [mapref, prcid], ARRAY)).rows ?? [])[0]?.[0] ?? 0,
      );
    });
  }

  async ensureCheckpointTable(schema: string): Promise<void> {
    await this.pool.with(async (c) => {
      if (await this.hasCheckpointTable(c, schema)) return;
      // Two runs may race to create it: ORA-00955 (name already used) means the other won.
      await c.execute(checkpointTableDdl(schema)).catch((err: { errorNum?: number }) => {
        if (err.errorNum !== 955) throw err;
      });
    });
  }

  /**
   * When `source` is this very database: the table SRCQUERY reads, where it is a plain
   * single-table query (oracle-single-table.ts); views and other queries are not followed
   * (docs/oracle.md). Undefined for another database.
   */
  async sameDatabaseReads(
    source: SourceDatabase,
    query: string,
  ): Promise<{ schema: string; table: string }[] | undefined> {
    if (!(source instanceof OracleSource)) return undefined;
    const [from, into] = await Promise.all([source.whereAmI(), this.pool.with((c) => whereAmI(c))]);
    if (from.database !== into.database) return undefined;
    const table = singleTable(query);
    return table ? [{ schema: table.owner ?? from.schema, table: table.name }] : [];
  }

  /**
   * From an Oracle source in this very database, into a table not merged on a key: one
   * INSERT … SELECT per range (oracle-in-database.ts), when SRCQUERY is plain enough to run
   * inside a transaction that writes and the target's user may run it. Otherwise null: rows
   * travel through the worker.
   */
  async rangeMover(
    source: SourceDatabase,
    query: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
    upsertKey: string[] | null = null,
  ): Promise<RangeMover | null> {
    if (!(source instanceof OracleSource) || upsertKey || !movableInDatabase(query.query)) return null;
    const [from, into] = await Promise.all([source.whereAmI(), this.pool.with((c) => whereAmI(c))]);
    if (from.database !== into.database) return null;
    const as: ReadAs | null = from.schema === into.schema ? null : { readAs: from.schema, home: into.schema };
    if (!(await this.canRun(query.query, as))) return null;
    return inDatabaseMover(source, query, `${q(schema)}.${q(table)}`, columns, as);
  }

  /** Whether the target's user may run SRCQUERY as the source reads it (a session that fails is dropped). */
  private async canRun(query: string, as: ReadAs | null): Promise<boolean> {
    try {
      await this.pool.with(async (c) => {
        if (as) await c.execute(schemaSwitch(as.readAs));
        await c.execute(`${sourceSubquery(query)}\nWHERE 1 = 0`);
        if (as) await c.execute(schemaSwitch(as.home));
      });
      return true;
    } catch {
      return false;
    }
  }

  /** Never the metadata database (a PostgreSQL one). */
  async identity(): Promise<string | null> {
    return null;
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>, _options: TransactionOptions = {}): Promise<T> {
    // A failed transaction's session is dropped, not reused (OraclePool.with).
    return this.pool.with(async (connection) => {
      const tx = new OracleTransaction(connection, (schema, table) => this.columnsOf(schema, table), this.waitSeconds);
      let result: T;
      try {
        result = await fn(tx);
        await connection.commit();
      } catch (err) {
        await connection.rollback().catch(() => undefined);
        throw err;
      }
      // The reset has committed: the truncate it owes follows (TRUNCATE commits on its own).
      if (tx.owes) await settleTruncate(connection, tx.owes.schema, tx.owes.mapref, this.waitSeconds);
      return result;
    });
  }

  /** Each commit is durable when it returns (Oracle's COMMIT waits for the redo by default). */
  async flushCommits(): Promise<void> {}

  close(): Promise<void> {
    return this.pool.close();
  }
}
