// The glue between dms-etl and one kind of database. Activities talk only to these types;
// each database lives in its own folder (dialects/postgres, later mariadb, oracle), so a
// new database never requires touching workflows or activities.

/** How to reach a database: the connection's URL carries no password. */
export interface ConnectionSpec {
  conid: string;
  dbtyp: string;
  url: string;
  /** Read from the environment variable named by DMS_DBCONDTLS.PWDENV, never stored. */
  password?: string;
}

export interface ColumnInfo {
  /** The column's name as the database stores it (already folded). */
  name: string;
  /** The database's own name of the type, for messages and compatibility checks. */
  type: string;
}

/** The checkpoint row of one mapping, kept in the target database (DMS_CHKPNT). */
export interface CheckpointRow {
  mapref: string;
  prcid: number;
  epoch: number;
  jobid: number;
  /** The last committed key, as the database prints it; null before the first batch. */
  checkpoint: string | null;
  batches: number;
  rows: number;
}

/** A batch of rows, every value in the database's text form (or null). Never leaves the worker. */
export interface RowBatch {
  columns: string[];
  rows: (string | null)[][];
}

export interface KeyBatchRequest {
  query: string;
  keyColumn: string;
  /** Exclusive lower bound; null reads from the start. Always bound, never pasted into SQL. */
  after: string | null;
  limit: number;
}

/** A database opened for reading a mapping's source: every transaction is read-only. */
export interface SourceDatabase {
  /** The columns the query returns, without reading any row. */
  describeQuery(query: string): Promise<ColumnInfo[]>;
  /** The next `limit` rows in key order strictly after `after`. */
  readKeyBatch(request: KeyBatchRequest): Promise<RowBatch>;
}

/** Work done inside one target transaction. */
export interface TargetTransaction {
  /** Locks and returns the mapping's checkpoint row (undefined when it has none yet). */
  lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined>;
  writeCheckpoint(schema: string, row: CheckpointRow): Promise<void>;
  /** Bulk-loads rows into schema.table; returns the number of rows loaded. */
  load(schema: string, table: string, batch: RowBatch): Promise<number>;
}

export interface TargetDatabase {
  /** The table's columns, or undefined when it does not exist. */
  describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined>;
  /** Creates DMS_CHKPNT in the schema when it is missing. */
  ensureCheckpointTable(schema: string): Promise<void>;
  /** Runs fn in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T>;
}

export interface Dialect {
  /** The DMS_DBCONDTLS.DBTYP value this dialect serves. */
  readonly dbtyp: string;
  /**
   * Resolves a name written in metadata the way the database resolves it: unquoted names
   * fold (PostgreSQL: lower case), "quoted" names are taken as written. Throws
   * IdentifierError for anything that is not a plain or quoted identifier.
   */
  resolveIdentifier(raw: string): string;
  quoteIdentifier(name: string): string;
  openSource(spec: ConnectionSpec, options: SessionOptions): SourceDatabase & Closeable;
  openTarget(spec: ConnectionSpec, options: SessionOptions): TargetDatabase & Closeable;
}

export interface SessionOptions {
  /** How long a statement waits for a lock before failing (a retryable error). */
  lockTimeoutMs: number;
}

export interface Closeable {
  close(): Promise<void>;
}
