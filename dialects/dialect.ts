// The glue between dms-etl and one kind of database. Activities talk only to these types;
// each database lives in its own folder (dialects/postgres, dialects/mariadb, dialects/oracle).
// A new database never requires touching workflows or activities: types meet in a neutral
// family (TypeFamily), values in one text form (RowBatch), and errors in one shape (ErrorReading)
// that each dialect reads its driver's errors into (Dialect.readError): a kind the core decides
// on, a message without row values, and what only the driver's own message forms tell (a GRANT
// to suggest, a line of bulk input).

import type { RowValue } from './row-values';

/**
 * A mapping's checkpoint row, DMS_CHKPNT in the target schema (checkpoint/row.ts): which run owns
 * the mapping (prcid, epoch) and where its load stands. Each target keeps the table and writes
 * the row in the batch's own transaction.
 */
export interface CheckpointRow {
  mapref: string;
  prcid: number;
  epoch: number;
  jobid: number;
  /** The key columns the checkpoint is over (JSON array), null before the first batch. */
  keyColumns: string | null;
  /** The last committed key (see codec.ts), null before the first batch. */
  checkpoint: string | null;
  /** ROWCOUNT: a digest of the last loaded row, to see on resume that the source kept its order. */
  lastRow: string | null;
  batches: number;
  rows: number;
}

/** How to reach a database: the connection's URL carries no password. */
export interface ConnectionSpec {
  conid: string;
  dbtyp: string;
  url: string;
  /** Read from the environment variable named by DMS_DBCONDTLS.PWDENV, never stored. */
  password?: string;
  /** That variable's name (PWDENV), for messages. */
  passwordEnv?: string;
}

/**
 * Thrown by a dialect when the server asks for a password and the connection has none
 * (no PWDENV): a dialect never offers a password from anywhere else.
 */
export class PasswordRequiredError extends Error {
  constructor() {
    super('the server asks for a password, and the connection has none');
    this.name = 'PasswordRequiredError';
  }
}

/**
 * A CONURL (or DMS_METADATA_URL) setting a dialect cannot use as written: what is wrong, naming
 * the parameter, and what to write instead. Thrown before any connection is made; the caller
 * adds which connection it is.
 */
export class ConnectionUrlError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}. Fix: ${fix}`);
    this.name = 'ConnectionUrlError';
  }
}

/** Why a TLS handshake failed: a certificate not signed by a trusted CA, one for another host, out of its dates, or a server without TLS. */
export type TlsProblem = 'untrusted' | 'hostname' | 'expired' | 'no-tls';

/** Node's (OpenSSL's) codes for a server certificate that does not chain to a trusted CA. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_REJECTED',
]);

/** The TLS problem behind a driver's connection error, if it is one. */
export function tlsProblemOf(err: unknown): TlsProblem | undefined {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (UNTRUSTED_CODES.has(code)) return 'untrusted';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'hostname';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'expired';
  // node-postgres (a message only) and mysql2, when the client asks for TLS and the server has none.
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || e?.message === 'The server does not support SSL connections')
    return 'no-tls';
  return undefined;
}

/**
 * What kind of failure a database error is, as the dialect of the database that raised it reads
 * it: the core decides retry, reject and message from this alone (activities/failures.ts).
 *   transient:  retried: a connection lost or refused, a deadlock, a serialization failure, a
 *               lock wait that timed out, a server out of resources or shutting down
 *   data:       a value the database refuses (too long, out of range, malformed): a row can be rejected
 *   constraint: a row that breaks a CHECK, NOT NULL, unique or foreign key: a row can be rejected
 *   privilege:  a grant is missing: never retried, said with the GRANT where the dialect reads one
 *   read-only:  a write in a read-only transaction or on a read-only server
 *   statement:  any other refusal of the statement (bad SQL, a missing object): never retried
 *   unknown:    the database raised it and its dialect cannot say more: retried within the bounded policy
 */
export type ErrorKind = 'transient' | 'data' | 'constraint' | 'privilege' | 'read-only' | 'statement' | 'unknown';

/** A database error in the neutral shape every dialect reads its driver's errors into (Dialect.readError). */
export interface ErrorReading {
  kind: ErrorKind;
  /** The database's code as messages and DMS_REJECT show it (a SQLSTATE, or the driver's code). */
  code?: string;
  /** The message without row values, with where the database placed the error and its code. */
  message: string;
  /** The column the error names, where it names one. */
  column?: string;
  /**
   * The GRANT that would let the refused statement run, to `grantee` where the database did
   * not name the account itself; `reading`: the statement only read. Null where the message
   * names no object.
   */
  grant?(grantee: string, reading: boolean): string | null;
}

/**
 * An error a dialect made from its driver's (or raised itself): it carries the dialect that
 * reads it, so that no other dialect is asked (dialects/index.ts, readDatabaseError).
 */
export abstract class DialectError extends Error {
  /** DMS_DBCONDTLS.DBTYP of the dialect that raised it. */
  abstract readonly dbtyp: string;
}

/**
 * An engine-neutral family of types, for the check that a target column can take a source
 * column's values (plan/job-plan.ts): each dialect sorts its own types into these.
 */
export type TypeFamily =
  'number' | 'string' | 'datetime' | 'timespan' | 'boolean' | 'bits' | 'bytes' | 'json' | 'uuid' | 'network' | 'other';

export interface ColumnInfo {
  /** The column's name as the database stores it (already folded). */
  name: string;
  /** The database's own name of the type, for messages. */
  type: string;
  /** The type's family: columns of one family (but 'other') are compatible whatever their names. */
  family: TypeFamily;
  /** The collation it compares by, where asked (SourceDatabase.keyCollations, describeTable). */
  collation?: string | null;
  /**
   * A target column's text comparison calls two strings equal only when their characters are
   * (a binary or deterministic collation, not citext; trailing spaces aside): false where it
   * calls case or accent variants equal, undefined where the dialect cannot tell.
   */
  exactText?: boolean;
}

export interface QueryDescription {
  columns: ColumnInfo[];
  /**
   * Sets of returned columns known to be unique and NOT NULL: found only when the query
   * reads exactly one table (from the database's own plan and column origins), else empty.
   */
  uniqueKeys: string[][];
}

/** A key value: one text value per key column, as the database prints it. */
export type KeyValue = string[];

/**
 * A chunk of rows, every value a text (or null), in the form every dialect writes and reads
 * (docs/type-mapping.md): integers and decimals with every digit, floating point in the
 * shortest text that reads back the same; dates YYYY-MM-DD; times and
 * timestamps with their microseconds, in UTC, a zoned one ending in +00; bytes as \x and
 * lower-case hex; bits as a string of 0 and 1; booleans as t/f or 1/0; JSON as its text;
 * '' apart from null. Bytes of WIDE_BYTES or more that a source reads as bytes are the bytes
 * themselves, which a target writes in the hex form without making it whole (row-values.ts).
 * Never leaves the worker.
 */
export interface RowBatch {
  columns: string[];
  rows: RowValue[][];
  /**
   * Per column: true where no value can hold a tab, newline, carriage return or backslash
   * (numbers, dates and times, bits), so that a text encoder need not look into it. Absent:
   * every value is looked into.
   */
  plain?: boolean[];
}

/** An open, ordered read of the source; close it in finally. */
export interface RowCursor {
  /** The next rows (fewer only at the end); values as RowBatch's. */
  read(rows: number): Promise<RowValue[][]>;
  close(): Promise<void>;
}

/**
 * The rows after a key in key order, read in one snapshot and taken batch by batch (KEY on a
 * unique key): a batch takes the next BULKLMT rows and ends at the last one's key, without
 * asking the source where that is or starting a query of its own.
 */
export interface KeyCursor {
  /** Whether a row is left in the cursor's snapshot (it reads ahead one chunk to know). */
  ready(): Promise<boolean>;
  /**
   * The next `rows` rows (fewer only at the end, or where they reach `maxBytes` of text; more
   * where rows share the last one's key), in chunks.
   */
  take(rows: number, maxBytes?: number): AsyncIterable<RowBatch>;
  /** The key of the last row taken, and how many rows the last take yielded. */
  readonly at: KeyValue | null;
  readonly taken: number;
  /** The last take ended at its byte budget (a batch that is full with fewer rows). */
  readonly full: boolean;
  close(): Promise<void>;
}

/** The source query and the columns that order it. */
export interface KeyedQuery {
  query: string;
  key: string[];
}

/** A database opened for reading a mapping's source: every transaction is read-only. */
export interface SourceDatabase {
  /** Logs in (or takes a pooled session) and runs the least query: fails as connecting fails. */
  ping(): Promise<void>;
  /** The columns the query returns, without reading any row. */
  describeQuery(query: string): Promise<QueryDescription>;
  /**
   * The collation each of `columns` compares by, as the database names it (a database's
   * default resolved to its name), null for a column without one or where the dialect cannot
   * tell: two sides whose text keys differ in it may order and compare them differently.
   */
  keyCollations?(query: string, columns: string[]): Promise<(string | null)[]>;
  /**
   * The key of the n-th row (1-based) after `after` in key order, or null when fewer remain;
   * with `upTo` (a partition's end), among the keys up to and including it only.
   */
  nthKey(q: KeyedQuery, after: KeyValue | null, n: number, upTo?: KeyValue | null): Promise<KeyValue | null>;
  /** The greatest key after `after` (and up to `upTo` when given), or null when no row remains. */
  lastKey(q: KeyedQuery, after: KeyValue | null, upTo?: KeyValue | null): Promise<KeyValue | null>;
  /** Streams the rows with after < key <= upTo, in chunks of at most chunkRows. */
  readRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue, chunkRows: number): AsyncIterable<RowBatch>;
  /**
   * A cursor over the rows with after < key (<= upTo, if given) in key order, for a key thought
   * unique; null when the database would sort the rows for it rather than read an index, or
   * when a key column's text would not compare as the column sorts. Optional: without it, each batch asks for its upper key and reads its range.
   */
  openKeyCursor?(
    q: KeyedQuery,
    after: KeyValue | null,
    upTo: KeyValue | null,
    chunkRows: number,
  ): Promise<KeyCursor | null>;
  /**
   * The greatest key whose first column lies at or before `from` minus `window` (an
   * interval such as '15 minutes'); null when none. Only for date/time first columns.
   */
  keyBefore(q: KeyedQuery, from: string, window: string, type: string): Promise<KeyValue | null>;
  /** Whether keyBefore can work on a first key column of this type. */
  supportsLookback(type: string): boolean;
  /**
   * The key columns whose type the database does not compare the way it sorts (MariaDB's ENUM
   * and SET sort by position, compare as text), each with why: a KEY load over them is refused
   * at planning. Absent where every orderable type compares as it sorts.
   */
  inexactKeyColumns?(query: string, key: string[]): Promise<{ column: string; type: string; why: string }[]>;
  /** The returned columns whose type has no total order (ROWCOUNT cannot sort by them). */
  unorderedColumns(query: string, columns: string[]): Promise<string[]>;
  /** A cursor over every row in `order`, after skipping `offset` rows in the database. */
  openOrdered(query: string, order: string[], offset: number): Promise<RowCursor>;
  /** Streams every row of the query (strategy NONE). */
  readAll(query: string, chunkRows: number): AsyncIterable<RowBatch>;
  /** Streams the rows with a NULL in any key column. */
  readNullKeys(q: KeyedQuery, chunkRows: number): AsyncIterable<RowBatch>;
  countNullKeys(q: KeyedQuery): Promise<number>;
  /** How many rows share one key value. */
  countKey(q: KeyedQuery, key: KeyValue): Promise<number>;
  /**
   * A KEY checkpoint's proof (plan/checkpoint-proof.ts), in one query with every bound
   * bound as the batch reads bind it: the rows with after < key <= upTo, and how many of those
   * have key = upTo.
   */
  proveRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue): Promise<{ rows: number; atUpTo: number }>;
  /** Whether the database reads the key order from an index rather than sorting the source. */
  keyOrderUsesIndex(q: KeyedQuery): Promise<boolean>;
  /**
   * The database's own estimate, from its statistics and without reading the rows, of how
   * many rows the query returns after `after` in key order (every row when q.key is empty or
   * `after` is null); null where the dialect cannot tell. For progress bars only.
   */
  estimateRows(q: KeyedQuery, after: KeyValue | null): Promise<number | null>;
  /**
   * For `dms verify`: the rows of one key range (or of the whole query when q.key is empty)
   * and, given `columns`, an order-free digest of their values, comparable between two
   * databases of this dialect (null where the dialect has none). Reads in the database only.
   */
  summarize(q: KeyedQuery, range: KeyRange, columns: string[] | null): Promise<RangeSummary>;
}

/** Keys after `after` up to and including `upTo` (a null bound is open), or the rows with a NULL key. */
export type KeyRange = { after: KeyValue | null; upTo: KeyValue | null } | { nullKeys: true };

export interface RangeSummary {
  rows: number;
  /** An order-free digest of the rows' values; never a value itself. */
  digest: string | null;
}

/** Work done inside one target transaction. */
export interface TargetTransaction {
  /** Locks and returns the mapping's checkpoint row (undefined when it has none yet). */
  lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined>;
  writeCheckpoint(schema: string, row: CheckpointRow): Promise<void>;
  /**
   * Bulk-loads streamed chunks into schema.table (columns by name); calls onChunk after
   * each chunk (for heartbeats); returns the number of rows loaded.
   */
  load(
    schema: string,
    table: string,
    columns: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number>;
  /**
   * Like load, but rows whose `key` matches a target row replace it (LOADMODE UPSERT);
   * returns the number of source rows taken.
   */
  upsert(
    schema: string,
    table: string,
    columns: string[],
    key: string[],
    chunks: AsyncIterable<RowBatch>,
    onChunk?: () => void,
  ): Promise<number>;
  /** Empties schema.table inside this transaction (LOADMODE TRUNCATE, on a fresh start only). */
  truncate(schema: string, table: string): Promise<void>;
  /** Runs one statement with bound values (the DMS_PRCLOG mirror, where it shares the database). */
  execute(sql: string, values: unknown[]): Promise<void>;
  /**
   * Runs fn inside a savepoint: when fn throws, the transaction is back where it was before
   * fn, and the error is rethrown (REJECTLMT isolates bad rows this way). Absent where the
   * dialect cannot quarantine rows yet.
   */
  withSavepoint?<T>(fn: () => Promise<T>): Promise<T>;
  /** Writes rows the target refused into the schema's DMS_REJECT, inside this transaction. */
  reject?(schema: string, rows: RejectedRow[]): Promise<void>;
  /** How many rows run `prcid` of `mapref` has rejected so far (DMS_REJECT, as this transaction sees it). */
  countRejects?(schema: string, mapref: string, prcid: number): Promise<number>;
}

/**
 * A row the target refused (DMS_MAPR.REJECTLMT), kept in the target's DMS_REJECT: it never
 * leaves the worker for Temporal or a log.
 */
export interface RejectedRow {
  mapref: string;
  prcid: number;
  batch: number;
  /** The row's key values, as a JSON array of texts (null: the mapping has no key). */
  key: string | null;
  /** The database's error code (SQLSTATE). */
  code: string | null;
  /** The database's message, with any value it quoted removed. */
  message: string;
  /** The column the database named, where it named one. */
  column: string | null;
  /** The row's values: one JSON object of column name → text (RowBatch's form), null as null. */
  values: string;
}

/** A rejected row as `dms rejects` lists it. */
export interface RejectListing extends RejectedRow {
  at: Date;
}

/**
 * A way to move a key range from a source into the target without decoding rows in the
 * worker, which a dialect offers for a source it knows (PostgreSQL: COPY output piped into
 * COPY input, or one INSERT ... SELECT when both are one database).
 */
export interface RangeMover {
  /** How rows move, for the run's log. */
  readonly method: string;
  /**
   * Moves the rows with after < key <= upTo into the table inside tx (so they commit or roll
   * back with the checkpoint); calls onChunk as data flows (heartbeats); returns the count.
   */
  move(tx: TargetTransaction, after: KeyValue | null, upTo: KeyValue, onChunk?: () => void): Promise<number>;
  /**
   * Where the mover can also find the upper key itself, inside tx (the key of the `limit`-th
   * row after `after`, or the last key when fewer rows remain), the whole batch in one call:
   * moves the rows up to and including that key and returns their count, the key, and
   * whether rows remain after it; null when no row is left.
   */
  moveNext?(
    tx: TargetTransaction,
    after: KeyValue | null,
    limit: number,
  ): Promise<{ rows: number; upTo: KeyValue; more: boolean } | null>;
}

/**
 * ROWCOUNT's rows in their total order, from an offset on: one read of the source that
 * serves batch after batch, each taking the next whole rows.
 */
export interface OrderedRows {
  /** Takes the next row and returns its values as RowBatch carries them (to check it), or null at the end. */
  next(): Promise<RowValue[] | null>;
  /**
   * Moves the next `rows` rows (fewer only at the end, or where their text reaches `maxBytes`:
   * the row that reaches it is the last, and `full` says so) into the table inside tx; calls
   * onChunk as data flows; returns how many moved and the values of the last one (null when none).
   */
  moveInto(
    tx: TargetTransaction,
    rows: number,
    onChunk?: () => void,
    maxBytes?: number,
  ): Promise<{ rows: number; last: RowValue[] | null; full?: boolean }>;
  close(): Promise<void>;
}

/** A way to move ROWCOUNT's rows without decoding them in the worker (see RangeMover). */
export interface OrderedMover {
  /** How rows move, for the run's log. */
  readonly method: string;
  /** The rows of `q` ordered by q.key, skipping the first `offset`; close it in finally. */
  open(offset: number): Promise<OrderedRows>;
}

/** What a load does on the target, for the privileges it needs there. */
export interface TargetNeeds {
  /** LOADMODE UPSERT, or INCREMENTAL with a look-back: rows merge through a temporary stage. */
  merge: boolean;
  /** LOADMODE TRUNCATE: a fresh start empties the table. */
  truncate: boolean;
  /** REJECTLMT > 0: refused rows go to DMS_REJECT. */
  rejects: boolean;
}

/** A privilege a load needs on the target that the target's user lacks. */
export interface MissingPrivilege {
  /** The privilege and its object, as the database names them: `INSERT on table "public"."sales"`. */
  what: string;
  /** What the load needs it for: `to load rows`. */
  why: string;
  /** The statement a DBA runs to grant it. */
  grant: string;
}

export interface TargetDatabase {
  /** Logs in (or takes a pooled session) and runs the least query: fails as connecting fails. */
  ping(): Promise<void>;
  /**
   * The privileges a load into schema.table needs that this connection's user lacks (none:
   * []), checked before any row moves; absent where the dialect cannot tell, so that a
   * missing one shows only as the database's own error when it is used.
   */
  missingPrivileges?(
    schema: string,
    table: string,
    needs: TargetNeeds,
  ): Promise<{ user: string; missing: MissingPrivilege[] }>;
  /**
   * A mover of ROWCOUNT's ordered rows of `q` from `source` into schema.table (columns by
   * name), or null when this dialect has no faster path than decoded rows for that source.
   */
  orderedMover?(
    source: SourceDatabase,
    q: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
  ): Promise<OrderedMover | null>;
  /**
   * A mover of key ranges of `q` from `source` into schema.table (columns by name; merged on
   * upsertKey when given), or null when this dialect has no faster path than decoded rows
   * for that source.
   */
  rangeMover?(
    source: SourceDatabase,
    q: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
    upsertKey?: string[] | null,
  ): Promise<RangeMover | null>;
  /**
   * When `source` is this very database: the tables SRCQUERY reads (views followed), so a
   * mapping that would read its own target is refused; undefined when it is another database.
   */
  sameDatabaseReads?(source: SourceDatabase, query: string): Promise<{ schema: string; table: string }[] | undefined>;
  /** The table's columns, or undefined when it does not exist. */
  describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined>;
  /** The column sets of the table's unique indexes (the keys an UPSERT can match on). */
  uniqueKeys(schema: string, table: string): Promise<string[][]>;
  /** The mapping's checkpoint row as it stands, without a lock (undefined: none, or no DMS_CHKPNT). */
  readCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined>;
  /** Creates DMS_CHKPNT in the schema when it is missing. */
  ensureCheckpointTable(schema: string): Promise<void>;
  /** Creates DMS_REJECT in the schema when it is missing (absent: the dialect cannot quarantine rows yet). */
  ensureRejectTable?(schema: string): Promise<void>;
  /** Rows run `prcid` (every run: null) of `mapref` rejected, oldest first, at most `limit`; none without DMS_REJECT. */
  rejects?(schema: string, mapref: string, prcid: number | null, limit: number): Promise<RejectListing[]>;
  /** How many rows run `prcid` of `mapref` has rejected (0 without DMS_REJECT). */
  countRejects?(schema: string, mapref: string, prcid: number): Promise<number>;
  /**
   * A text equal to the metadata database's identity exactly when both are the same
   * PostgreSQL database (see metadata/repository.ts); null where that cannot be.
   */
  identity(): Promise<string | null>;
  /** Runs fn in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: TargetTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Makes every commit made so far durable, those with flushLater included: on return, a
   * crash of the database can no longer take any of them back.
   */
  flushCommits(schema: string, mapref: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * The commit may return before it is durable (its rows and checkpoint still commit, or
   * vanish, together). Only for batches inside a slice, whose state nobody outside the
   * activity relies on until flushCommits has run.
   */
  flushLater?: boolean;
}

export interface Dialect {
  /** The DMS_DBCONDTLS.DBTYP value this dialect serves. */
  readonly dbtyp: string;
  /** Other DBTYP values that name the same database (MYSQL for MARIADB). */
  readonly aliases?: string[];
  /**
   * Resolves a name written in metadata the way the database resolves it: unquoted names
   * fold (PostgreSQL: lower case), "quoted" names are taken as written. Throws
   * IdentifierError for anything that is not a plain or quoted identifier.
   */
  resolveIdentifier(raw: string): string;
  quoteIdentifier(name: string): string;
  /** Fix hints in this database's SQL, for a user to write into SRCQUERY. */
  readonly hints: SqlHints;
  /** The database stores '' as NULL (Oracle): a '' loaded into it arrives as NULL. */
  readonly emptyStringIsNull?: boolean;
  /**
   * What to change in CONURL when a login fails on TLS (`problem`), in this database's
   * parameter names, as a clause that follows "in CONURL of connection 'X', ".
   */
  tlsFix?(problem: TlsProblem): string;
  /** A CONURL of this database, for messages: postgres://user@host:5432/database. */
  readonly urlExample: string;
  /**
   * An error of this dialect (a DialectError it raised) or of its driver in the neutral shape;
   * undefined for an error it does not recognise (dialects/index.ts asks the dialect an error
   * carries, else every dialect, and each knows only its own driver's forms).
   */
  readError(err: unknown): ErrorReading | undefined;
  /**
   * The npm packages of its driver: an error no code was waiting for whose stack passes
   * through one is a database session's, and the worker goes on (worker/stray-errors.ts).
   */
  readonly driverPackages: readonly string[];
  openSource(spec: ConnectionSpec, options: SessionOptions): SourceDatabase & Closeable;
  /** Absent where the dialect cannot be loaded into yet: such a TRGCONID is refused. */
  openTarget?(spec: ConnectionSpec, options: SessionOptions): TargetDatabase & Closeable;
}

export interface SqlHints {
  /** `expr` cast to `type` ('text': this database's text type). */
  cast(expr: string, type: string): string;
  /** A query that keeps one row per value of `key` (a column list). */
  oneRowPerKey(key: string): string;
  /** What a source's user needs to read SRCQUERY, in this database's terms. */
  readonly sourceGrants: string;
  /**
   * Why a target table that exists may look missing, as a clause a fix can end with: the
   * database hides a table from a user who holds no privilege on it (MariaDB). Absent where
   * a table is seen whatever its grants.
   */
  hiddenTable?(user: string): string;
  /** A statement that gives a text column of `type` a collation comparing characters exactly. */
  exactCollation(table: string, column: string, type: string): string;
}

export interface SessionOptions {
  /** How long a statement waits for a lock before failing (a retryable error). */
  lockTimeoutMs: number;
  /**
   * Sessions a pool may open to one database (4 when absent): a worker's batches at once
   * (DMS_MAX_CONCURRENT_BATCHES) each take a session of the target and one or two of the source.
   */
  poolSize?: number;
}

export interface Closeable {
  close(): Promise<void>;
}
