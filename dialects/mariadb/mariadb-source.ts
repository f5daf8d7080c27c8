// The source side on MariaDB/MySQL: a mapping's SRCQUERY described, its keys found, and its
// rows read as text (mariadb-values.ts). Every read of rows is one consistent snapshot (START
// TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY) streamed with backpressure: memory holds one
// chunk, whatever the range's size.
import type { FieldPacket, Pool, PoolConnection, QueryOptions, RowDataPacket } from 'mysql2';
import type {
  ColumnInfo,
  TypeFamily,
  KeyCursor,
  KeyedQuery,
  KeyRange,
  KeyValue,
  QueryDescription,
  RangeSummary,
  RowBatch,
  RowCursor,
  SourceDatabase,
} from '../dialect';
import { loginError, whereAmI } from './mariadb-connection';
import { mariadbError } from './mariadb-errors';
import * as sql from './mariadb-sql';
import { typeOf } from './mariadb-types';
import { uniqueKeysOfTable, type Rows } from './mariadb-unique-keys';
import { lookbackSeconds } from '../../common/mapping';
import { CHUNK_BYTES, chunksOf, cursorOver, keyCursorOver, rowBytes } from '../chunks';
import type { RowValue } from '../row-values';
import { needsTextCast, rowReader, textTypeCast } from './mariadb-values';

/** Type families whose text never holds a tab, newline, carriage return or backslash (RowBatch.plain). */
const PLAIN_FAMILIES = new Set<TypeFamily>(['number', 'datetime', 'boolean', 'bits']);

interface Described {
  fields: FieldPacket[];
  parts: Map<string, sql.KeyPart>;
}

/** Integers, YEAR, DECIMAL, DATE, DATETIME and TIMESTAMP; and CHAR/VARCHAR (not ENUM, SET or binary). */
const CURSOR_NUMBERS_AND_DATES = new Set([1, 2, 3, 8, 9, 13, 0, 246, 10, 14, 12, 7]);
const CURSOR_STRINGS = new Set([15, 253, 254]);
const ENUM_OR_SET = 256 | 2048;

/**
 * Whether a key column may order a KEY cursor: its text, bound as the next read's lower bound,
 * must compare as ORDER BY sorts it. An ENUM sorts by its position in the type but compares
 * as text; a FLOAT's text is not its stored value; a binary key's text is its hex form. Such
 * keys read each batch's range as before.
 */
function cursorKeyType(field: FieldPacket | undefined): boolean {
  if (!field || field.columnType === undefined) return false;
  if (CURSOR_NUMBERS_AND_DATES.has(field.columnType)) return true;
  return (
    CURSOR_STRINGS.has(field.columnType) &&
    typeof field.flags === 'number' &&
    (field.flags & ENUM_OR_SET) === 0 &&
    field.characterSet !== 63
  );
}

export class MariaDbSource implements SourceDatabase {
  private readonly described = new Map<string, Promise<Described>>();

  constructor(
    readonly pool: Pool,
    private readonly passwordOffered: boolean,
  ) {}

  /** The pool's promise API, every error converted (mariadb-errors.ts). */
  private get db() {
    const promised = this.pool.promise();
    return {
      query: <T extends RowDataPacket[]>(options: string | QueryOptions, values?: unknown[]) =>
        (
          promised.query(typeof options === 'string' ? { sql: options, values } : options) as Promise<
            [T, FieldPacket[]]
          >
        ).catch((err: unknown) => {
          throw mariadbError(err);
        }),
    };
  }

  /** The server (the same text for every connection to one server) and the session's database. */
  async whereAmI(): Promise<{ server: string; database: string | null }> {
    return whereAmI(this.pool.promise());
  }

  async ping(): Promise<void> {
    await this.pool
      .promise()
      .query('SELECT 1')
      .catch((err: unknown) => {
        throw loginError(err, this.passwordOffered);
      });
  }

  /** The query's columns without reading a row (cached per query text). */
  private fieldsOf(query: string): Promise<Described> {
    let found = this.described.get(query);
    if (!found) {
      found = this.db.query({ sql: `${sql.sourceSubquery(query)}\nLIMIT 0` }).then(([, fields]) => {
        const list = fields as FieldPacket[];
        return {
          fields: list,
          parts: new Map(
            list.map((f) => {
              const { cast, key } = typeOf(f);
              return [f.name, { name: f.name, cast, key }];
            }),
          ),
        };
      });
      found.catch(() => this.described.delete(query));
      this.described.set(query, found);
    }
    return found;
  }

  /** The key columns with the casts their bounds need. */
  async keyParts(q: Pick<KeyedQuery, 'query' | 'key'>): Promise<sql.KeyPart[]> {
    const { parts } = await this.fieldsOf(q.query);
    return q.key.map((k) => parts.get(k) ?? { name: k, cast: null });
  }

  async keyCollations(query: string, columns: string[]): Promise<(string | null)[]> {
    const { fields } = await this.fieldsOf(query);
    const ids = columns.map((c) => {
      const f = fields.find((x) => x.name === c);
      return f && typeOf(f).family === 'string' ? f.characterSet : undefined;
    });
    const known = ids.filter((id): id is number => typeof id === 'number');
    if (known.length === 0) return columns.map(() => null);
    const [rows] = await this.db.query<RowDataPacket[]>({
      sql: 'SELECT ID, COLLATION_NAME FROM information_schema.COLLATIONS WHERE ID IN (?)',
      values: [known],
    });
    const names = new Map(rows.map((r) => [Number(r.ID), String(r.COLLATION_NAME)]));
    return ids.map((id) => (id === undefined ? null : (names.get(id) ?? null)));
  }

  async describeQuery(query: string): Promise<QueryDescription> {
    const { fields } = await this.fieldsOf(query);
    const columns: ColumnInfo[] = fields.map((f) => {
      const t = typeOf(f);
      return { name: f.name, type: t.name, family: t.family };
    });
    return { columns, uniqueKeys: await this.uniqueKeysOf(query) };
  }

  /**
   * The query's columns with their origins (table and column): from a prepared statement of the
   * query itself, which runs nothing (wrapped in a subquery, each column's origin would be the
   * subquery's alias).
   */
  private async originsOf(query: string): Promise<FieldPacket[]> {
    const connection = await new Promise<PoolConnection>((resolve, reject) =>
      this.pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
    );
    try {
      return await new Promise<FieldPacket[]>((resolve) =>
        connection.prepare(query.replace(/[\s;]+$/, ''), (err, statement) => {
          if (err) return resolve([]);
          const columns = (statement as unknown as { columns?: FieldPacket[] }).columns ?? [];
          statement.close();
          resolve(columns);
        }),
      );
    } finally {
      connection.release();
    }
  }

  /**
   * Unique keys of the one table every returned column comes from (its primary key and unique
   * indexes whose columns are all NOT NULL and all returned), under the returned names.
   */
  private async uniqueKeysOf(query: string): Promise<string[][]> {
    const fields = await this.originsOf(query);
    if (fields.length === 0) return [];
    const tables = new Set(fields.map((f) => `${f.db ?? f.schema ?? ''}.${f.orgTable}`));
    if (tables.size !== 1 || fields.some((f) => !f.orgTable || !f.orgName)) return [];
    const byOrigin = new Map(fields.map((f) => [f.orgName.toLowerCase(), f.name]));
    const rows: Rows = async (text, values) => (await this.db.query<RowDataPacket[]>(text, values))[0];
    return uniqueKeysOfTable(rows, (fields[0].db ?? fields[0].schema) as string, fields[0].orgTable, (column) =>
      byOrigin.get(column.toLowerCase()),
    );
  }

  private async oneKey(text: string, values: unknown[]): Promise<KeyValue | null> {
    const [rows, fields] = await this.db.query<RowDataPacket[]>({
      sql: text,
      values,
      rowsAsArray: true,
      typeCast: textTypeCast,
    });
    const row = rows[0] as unknown as unknown[] | undefined;
    return row ? (rowReader(fields)(row) as string[]) : null;
  }

  async nthKey(
    q: KeyedQuery,
    after: KeyValue | null,
    n: number,
    upTo: KeyValue | null = null,
  ): Promise<KeyValue | null> {
    const key = await this.keyParts(q);
    return this.oneKey(sql.nthKeySql(q.query, key, after !== null, upTo !== null), [
      ...(after ? sql.expandValues(after) : []),
      ...(upTo ? sql.expandValues(upTo) : []),
      n - 1,
    ]);
  }

  async lastKey(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue | null = null): Promise<KeyValue | null> {
    const key = await this.keyParts(q);
    return this.oneKey(sql.lastKeySql(q.query, key, after !== null, upTo !== null), [
      ...(after ? sql.expandValues(after) : []),
      ...(upTo ? sql.expandValues(upTo) : []),
    ]);
  }

  async estimateRows(q: KeyedQuery, after: KeyValue | null): Promise<number | null> {
    const key = await this.keyParts(q);
    const bounded = after !== null && key.length > 0;
    const [rows] = await this.db.query<RowDataPacket[]>(
      sql.estimateSql(q.query, key, bounded),
      bounded ? sql.expandValues(after) : [],
    );
    return sql.estimateOfExplain(rows as { id?: unknown; rows?: unknown; filtered?: unknown }[]);
  }

  async *readRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue, chunkRows: number): AsyncIterable<RowBatch> {
    const key = await this.keyParts(q);
    yield* this.stream(
      q.query,
      sql.rangeSql(q.query, key, { hasAfter: after !== null, hasUpTo: true }),
      [...(after ? sql.expandValues(after) : []), ...sql.expandValues(upTo)],
      chunkRows,
    );
  }

  async openKeyCursor(
    q: KeyedQuery,
    after: KeyValue | null,
    upTo: KeyValue | null,
    chunkRows: number,
  ): Promise<KeyCursor | null> {
    // Only keys whose text, bound again, compares as the column orders (cursorKeyType).
    const { fields } = await this.fieldsOf(q.query);
    if (!q.key.every((k) => cursorKeyType(fields.find((f) => f.name === k)))) return null;
    const key = await this.keyParts(q);
    const text = sql.keyCursorSql(q.query, key, { hasAfter: after !== null, hasUpTo: upTo !== null });
    const values = [...(after ? sql.expandValues(after) : []), ...(upTo ? sql.expandValues(upTo) : [])];
    // A key order the server sorts (filesort) would sort every row left at each slice's start.
    const [plan] = await this.db.query<RowDataPacket[]>(`EXPLAIN FORMAT=JSON ${text}`, values);
    if (/filesort/i.test(JSON.stringify(plan[0]))) return null;
    return keyCursorOver(this.stream(q.query, text, values, chunkRows)[Symbol.asyncIterator](), q.key, after);
  }

  async keyBefore(q: KeyedQuery, from: string, window: string): Promise<KeyValue | null> {
    return this.oneKey(sql.keyBeforeSql(q.query, await this.keyParts(q)), [from, lookbackSeconds(window)]);
  }

  supportsLookback(type: string): boolean {
    return sql.isLookbackType(type);
  }

  async inexactKeyColumns(query: string, key: string[]): Promise<{ column: string; type: string; why: string }[]> {
    const { fields } = await this.fieldsOf(query);
    return key.flatMap((column) => {
      const field = fields.find((f) => f.name === column);
      const t = field ? typeOf(field) : undefined;
      return t?.inexact ? [{ column, type: t.name, why: t.inexact }] : [];
    });
  }

  async unorderedColumns(query: string, columns: string[]): Promise<string[]> {
    const { fields } = await this.fieldsOf(query);
    return columns.filter((c) => fields.find((f) => f.name === c)?.columnType === 255); // GEOMETRY
  }

  async openOrdered(query: string, order: string[], offset: number): Promise<RowCursor> {
    // Ordered by every column (no unique key known): text columns then by their bytes, so that
    // rows their collation calls equal come in one order in every query.
    const { fields } = await this.fieldsOf(query);
    const bytes =
      fields.length === order.length
        ? fields.filter((f) => ['string', 'json'].includes(typeOf(f).family)).map((f) => f.name)
        : [];
    const chunks = this.stream(query, sql.orderedSql(query, order, bytes), [offset], 1000)[Symbol.asyncIterator]();
    return cursorOver(chunks);
  }

  readAll(query: string, chunkRows: number): AsyncIterable<RowBatch> {
    return this.stream(query, sql.sourceSubquery(query), [], chunkRows);
  }

  async *readNullKeys(q: KeyedQuery, chunkRows: number): AsyncIterable<RowBatch> {
    yield* this.stream(q.query, sql.nullKeysSql(q.query, await this.keyParts(q)), [], chunkRows);
  }

  /**
   * Streams the rows of `text` (a query over SRCQUERY `query`, with its columns) in chunks, in
   * one consistent read-only snapshot on a session of its own; the stream pauses while a chunk
   * is being loaded (backpressure).
   */
  private async *stream(query: string, text: string, values: unknown[], chunkRows: number): AsyncIterable<RowBatch> {
    // The cast, chosen by the columns described once per query text (fieldsOf).
    const cast = needsTextCast((await this.fieldsOf(query)).fields);
    const connection = await new Promise<PoolConnection>((resolve, reject) =>
      this.pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
    );
    let finished = false;
    try {
      await connection.promise().query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const rows = connection.query({
        sql: text,
        values,
        rowsAsArray: true,
        ...(cast ? { typeCast: textTypeCast } : {}),
      });
      let columns: string[] = [];
      let plain: boolean[] = [];
      let read: (row: unknown[]) => RowValue[] = () => [];
      rows.on('fields', (fields: FieldPacket[]) => {
        if (!cast && needsTextCast(fields)) {
          // The query's columns changed since they were described: a FLOAT read without the
          // cast would not be the server's text. Described afresh on the retry.
          this.described.delete(query);
          read = () => {
            throw new Error(
              `the columns of the source query changed while the worker ran (one is now FLOAT, DOUBLE or GEOMETRY); the batch is read again`,
            );
          };
          return;
        }
        columns = fields.map((f) => f.name);
        plain = fields.map((f) => PLAIN_FAMILIES.has(typeOf(f).family));
        read = rowReader(fields);
      });
      const stream = rows.stream({ highWaterMark: Math.max(16, chunkRows) });
      for await (const chunk of chunksOf(stream, chunkRows, (row: unknown[]) => read(row), {
        max: CHUNK_BYTES,
        of: rowBytes,
      })) {
        yield { columns, rows: chunk, plain };
      }
      await connection.promise().query('COMMIT');
      finished = true;
    } catch (err) {
      throw mariadbError(err);
    } finally {
      // A session left mid-stream (an early return, an error) is not reused.
      if (finished) connection.release();
      else connection.destroy();
    }
  }

  private async count(text: string, values: unknown[]): Promise<number> {
    const [rows] = await this.db.query<RowDataPacket[]>({ sql: text, values });
    return Number(rows[0].n);
  }

  async countNullKeys(q: KeyedQuery): Promise<number> {
    return this.count(sql.countNullKeysSql(q.query, await this.keyParts(q)), []);
  }

  async countKey(q: KeyedQuery, key: KeyValue): Promise<number> {
    return this.count(sql.countKeySql(q.query, await this.keyParts(q)), key);
  }

  async proveRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue): Promise<{ rows: number; atUpTo: number }> {
    const key = await this.keyParts(q);
    const [rows] = await this.db.query<RowDataPacket[]>({
      sql: sql.proveRangeSql(q.query, key, after !== null),
      values: [...upTo, ...(after ? sql.expandValues(after) : []), ...sql.expandValues(upTo)],
    });
    return { rows: Number(rows[0].n), atUpTo: Number(rows[0].at) };
  }

  async keyOrderUsesIndex(q: KeyedQuery): Promise<boolean> {
    const [rows] = await this.db.query<RowDataPacket[]>(sql.keyOrderProbeSql(q.query, await this.keyParts(q)));
    return !/filesort/i.test(JSON.stringify(rows[0]));
  }

  async summarize(q: KeyedQuery, range: KeyRange, columns: string[] | null): Promise<RangeSummary> {
    const key = await this.keyParts(q);
    const shape = 'nullKeys' in range ? 'nullKeys' : { hasAfter: range.after !== null, hasUpTo: range.upTo !== null };
    const values =
      'nullKeys' in range
        ? []
        : [...(range.after ? sql.expandValues(range.after) : []), ...(range.upTo ? sql.expandValues(range.upTo) : [])];
    const [rows] = await this.db.query<RowDataPacket[]>({ sql: sql.summarySql(q.query, key, shape, columns), values });
    return { rows: Number(rows[0].n), digest: rows[0].digest === null ? null : String(rows[0].digest) };
  }

  close(): Promise<void> {
    return this.pool.promise().end();
  }
}
