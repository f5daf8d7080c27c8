// The source side on Oracle: a mapping's SRCQUERY described, its keys found, and its rows read
// in RowBatch's text form (oracle-types.ts, in SQL: never a JavaScript number or Date). Every
// read of rows is one read-only transaction (SET TRANSACTION READ ONLY: one consistent view)
// fetched through a result set a chunk at a time, whatever the range's size.
import { randomUUID } from 'node:crypto';
import oracledb from 'oracledb';
import { lookbackSeconds } from '../../common/mapping';
import type {
  ColumnInfo,
  KeyedQuery,
  KeyRange,
  KeyValue,
  QueryDescription,
  RangeSummary,
  RowBatch,
  RowCursor,
  SourceDatabase,
} from '../dialect';
import { CHUNK_BYTES, ChunkSizer, cursorOver } from '../chunks';
import { expandValues } from '../expanded-key';
import { memoized } from '../memoized';
import { bytesValue, type RowValue } from '../row-values';
import { oracleError } from './oracle-errors';
import type { OraclePool } from './oracle-pool';
import * as sql from './oracle-sql';
import { driverFetched, inexactKeyType, isOrderable, isPlain, oracleFamily } from './oracle-types';
import { singleTable } from './oracle-single-table';
import { whereAmI } from './oracle-where';

type Bind = string | number;

/** The binds of a key range: the lower bound's expanded values, then the upper's. */
function rangeValues(after: KeyValue | null, upTo: KeyValue | null): string[] {
  return [...(after ? expandValues(after) : []), ...(upTo ? expandValues(upTo) : [])];
}

/**
 * Rows a round trip brings where the query has LOB columns: the driver holds each round trip's
 * rows whole, and a LOB may be megabytes (a thousand of them would be gigabytes).
 */
export const LOB_FETCH_ROWS = 8;

/** LOB columns fetched by the driver as text or bytes, bytes passed as RowBatch carries them (row-values.ts); the rows a round trip brings. */
export function lobFetch(
  columns: sql.Column[],
  chunkRows = 1000,
): {
  fetchInfo: Record<string, { type: oracledb.DbType | number }>;
  toText: ((v: unknown) => RowValue)[];
  fetchArraySize: number;
} {
  const fetchInfo: Record<string, { type: oracledb.DbType | number }> = {};
  const toText = columns.map((c) => {
    const how = driverFetched(c.type);
    if (how) fetchInfo[c.name] = { type: how === 'buffer' ? oracledb.BUFFER : oracledb.STRING };
    if (how === 'buffer') return (v: unknown) => (v === null || v === undefined ? null : bytesValue(v as Buffer));
    return (v: unknown) => (v === null || v === undefined ? null : String(v));
  });
  const lobs = Object.keys(fetchInfo).length > 0;
  return { fetchInfo, toText, fetchArraySize: Math.min(chunkRows, lobs ? LOB_FETCH_ROWS : 1000) };
}

export class OracleSource implements SourceDatabase {
  private readonly described = new Map<string, Promise<sql.Column[]>>();

  constructor(private readonly pool: OraclePool) {}

  /** The database (its unique name and container) and the session's current schema. */
  whereAmI(): Promise<{ database: string; schema: string }> {
    return this.pool.with((c) => whereAmI(c));
  }

  async ping(): Promise<void> {
    await this.pool.with((c) => c.execute('SELECT 1 FROM DUAL'));
  }

  /** The query's columns and their types, without reading a row (cached per query text). */
  private columnsOf(query: string): Promise<sql.Column[]> {
    return memoized(this.described, query, () =>
      this.pool.with(async (c) => {
        const result = await c.execute(sql.describeSql(query), [], { outFormat: oracledb.OUT_FORMAT_ARRAY });
        return (result.metaData ?? []).map((m) => ({ name: m.name, type: m.dbTypeName ?? 'UNKNOWN' }));
      }),
    );
  }

  /** The key's columns with their types (the in-database mover binds its bounds with them). */
  async keyParts(q: Pick<KeyedQuery, 'query' | 'key'>): Promise<sql.KeyPart[]> {
    const columns = await this.columnsOf(q.query);
    return q.key.map((k) => ({ name: k, type: columns.find((c) => c.name === k)?.type ?? 'VARCHAR2' }));
  }

  async describeQuery(query: string): Promise<QueryDescription> {
    const columns: ColumnInfo[] = (await this.columnsOf(query)).map((c) => ({
      name: c.name,
      type: c.type,
      family: oracleFamily(c.type),
    }));
    return {
      columns,
      uniqueKeys: await this.uniqueKeysOf(
        query,
        columns.map((c) => c.name),
      ),
    };
  }

  /**
   * Unique keys of the one table a query of the form SELECT * | columns FROM table [WHERE …]
   * reads (its primary key and unique constraints or indexes, every column NOT NULL and
   * returned); none for any other query, whose rows' origin Oracle does not describe.
   */
  private async uniqueKeysOf(query: string, returned: string[]): Promise<string[][]> {
    const table = singleTable(query);
    if (!table) return [];
    const rows = await this.pool.with(async (c) => {
      const owner =
        table.owner ??
        String(
          ((await c.execute<[string]>(`SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL`)).rows ??
            [])[0]?.[0] ?? '',
        );
      const result = await c.execute<[string, string, number, string]>(
        sql.UNIQUE_KEYS_SQL,
        [owner, table.name, owner, table.name, owner, table.name],
        { outFormat: oracledb.OUT_FORMAT_ARRAY },
      );
      return result.rows ?? [];
    });
    const keys = new Map<string, { columns: string[]; ok: boolean }>();
    for (const [keyName, column, , nullable] of rows) {
      const entry = keys.get(keyName) ?? { columns: [], ok: true };
      const name = table.columns ? table.columns.get(column) : column;
      if (!name || !returned.includes(name) || nullable !== 'N') entry.ok = false;
      else entry.columns.push(name);
      keys.set(keyName, entry);
    }
    return [...keys.values()].filter((k) => k.ok && k.columns.length > 0).map((k) => k.columns);
  }

  private async oneKey(text: string, values: Bind[]): Promise<KeyValue | null> {
    const rows = await this.pool.with(
      async (c) => (await c.execute<string[]>(text, values, { outFormat: oracledb.OUT_FORMAT_ARRAY })).rows ?? [],
    );
    return rows[0] ? rows[0].map((v) => String(v)) : null;
  }

  async nthKey(
    q: KeyedQuery,
    after: KeyValue | null,
    n: number,
    upTo: KeyValue | null = null,
  ): Promise<KeyValue | null> {
    const key = await this.keyParts(q);
    return this.oneKey(sql.nthKeySql(q.query, key, after !== null, upTo !== null), [
      ...rangeValues(after, upTo),
      n - 1,
    ]);
  }

  async lastKey(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue | null = null): Promise<KeyValue | null> {
    const key = await this.keyParts(q);
    return this.oneKey(sql.lastKeySql(q.query, key, after !== null, upTo !== null), rangeValues(after, upTo));
  }

  async *readRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue, chunkRows: number): AsyncIterable<RowBatch> {
    const [key, columns] = await Promise.all([this.keyParts(q), this.columnsOf(q.query)]);
    yield* this.stream(
      sql.rangeSql(q.query, key, { hasAfter: after !== null, hasUpTo: true }, sql.rowSelect(columns)),
      rangeValues(after, upTo),
      columns,
      chunkRows,
    );
  }

  async keyBefore(q: KeyedQuery, from: string, window: string): Promise<KeyValue | null> {
    return this.oneKey(sql.keyBeforeSql(q.query, await this.keyParts(q)), [from, lookbackSeconds(window)]);
  }

  supportsLookback(type: string): boolean {
    return /^(DATE|TIMESTAMP)$/.test(type);
  }

  async inexactKeyColumns(query: string, key: string[]): Promise<{ column: string; type: string; why: string }[]> {
    const described = await this.columnsOf(query);
    return key.flatMap((column) => {
      const type = described.find((d) => d.name === column)?.type ?? 'UNKNOWN';
      const why = inexactKeyType(type);
      return why ? [{ column, type, why }] : [];
    });
  }

  async unorderedColumns(query: string, columns: string[]): Promise<string[]> {
    const described = await this.columnsOf(query);
    return columns.filter((c) => !isOrderable(described.find((d) => d.name === c)?.type ?? 'UNKNOWN'));
  }

  async openOrdered(query: string, order: string[], offset: number): Promise<RowCursor> {
    const columns = await this.columnsOf(query);
    const text = sql.orderedSql(query, order, offset, sql.rowSelect(columns));
    const chunks = this.stream(text, offset > 0 ? [offset] : [], columns, 1000)[Symbol.asyncIterator]();
    return cursorOver(chunks);
  }

  async *readAll(query: string, chunkRows: number): AsyncIterable<RowBatch> {
    const columns = await this.columnsOf(query);
    yield* this.stream(sql.sourceSubquery(query, sql.rowSelect(columns)), [], columns, chunkRows);
  }

  async *readNullKeys(q: KeyedQuery, chunkRows: number): AsyncIterable<RowBatch> {
    const [key, columns] = await Promise.all([this.keyParts(q), this.columnsOf(q.query)]);
    yield* this.stream(sql.nullKeysSql(q.query, key, sql.rowSelect(columns)), [], columns, chunkRows);
  }

  /**
   * Streams a query's rows in chunks, in one read-only transaction on a session of its own,
   * through a result set: the driver holds one chunk, whatever the rows' number.
   */
  private async *stream(
    text: string,
    values: Bind[],
    columns: sql.Column[],
    chunkRows: number,
  ): AsyncIterable<RowBatch> {
    const connection = await this.pool.connection();
    let finished = false;
    try {
      await connection.execute('SET TRANSACTION READ ONLY');
      const { fetchInfo, toText, fetchArraySize } = lobFetch(columns, chunkRows);
      const result = await connection.execute<unknown[]>(text, values, {
        outFormat: oracledb.OUT_FORMAT_ARRAY,
        resultSet: true,
        fetchArraySize,
        fetchInfo,
      });
      const rs = result.resultSet!;
      const names = columns.map((c) => c.name);
      const plain = columns.map((c) => isPlain(c.type));
      // Fewer rows a chunk where they are wide (LOBs): a chunk holds about CHUNK_BYTES.
      const sizer = new ChunkSizer(chunkRows, CHUNK_BYTES);
      try {
        for (;;) {
          const rows = (await rs.getRows(sizer.next())).map((row) => row.map((v, i) => toText[i](v)));
          if (rows.length === 0) break;
          sizer.saw(rows);
          yield { columns: names, rows, plain };
        }
      } finally {
        await rs.close();
      }
      await connection.commit();
      finished = true;
    } catch (err) {
      throw oracleError(err);
    } finally {
      // A session left mid-read (an early return, an error) is not reused.
      await connection.close({ drop: !finished }).catch(() => undefined);
    }
  }

  private async count(text: string, values: Bind[]): Promise<number> {
    const rows = await this.pool.with(
      async (c) =>
        (await c.execute<[string | number]>(text, values, { outFormat: oracledb.OUT_FORMAT_ARRAY })).rows ?? [],
    );
    return Number(rows[0][0]);
  }

  async countNullKeys(q: KeyedQuery): Promise<number> {
    return this.count(sql.countSql(q.query, await this.keyParts(q), 'nullKeys'), []);
  }

  async countKey(q: KeyedQuery, key: KeyValue): Promise<number> {
    return this.count(sql.countKeySql(q.query, await this.keyParts(q)), key);
  }

  async keyOrderUsesIndex(q: KeyedQuery): Promise<boolean> {
    const key = await this.keyParts(q);
    const sorts = await this.explained((id) => sql.keyOrderProbeSql(id, q.query, key), sql.PLAN_SORTS_SQL);
    return Number(sorts[0]?.[0] ?? 0) === 0;
  }

  /**
   * Only a whole query's estimate: a bound would have to be explained with bind variables,
   * which has not been tried on a server yet, so a run with a checkpoint gets none.
   */
  async estimateRows(q: KeyedQuery, after: KeyValue | null): Promise<number | null> {
    if (after !== null && q.key.length > 0) return null;
    const rows = await this.explained((id) => sql.estimateProbeSql(id, q.query), sql.PLAN_ROWS_SQL);
    const n = Number(rows[0]?.[0]);
    return rows.length > 0 && rows[0][0] !== null && Number.isFinite(n) ? n : null;
  }

  /** Explains a statement under a statement id of its own, reads its plan with `read`, then removes the plan. */
  private explained(probe: (statementId: string) => string, read: string): Promise<unknown[][]> {
    const id = `dms-${randomUUID()}`.slice(0, 30);
    return this.pool.with(async (c) => {
      await c.execute(probe(id));
      const rows = (await c.execute<unknown[]>(read, [id], { outFormat: oracledb.OUT_FORMAT_ARRAY })).rows ?? [];
      // PLAN_TABLE keeps a session's plans until it ends: this one goes now.
      await c.execute(`DELETE FROM PLAN_TABLE WHERE STATEMENT_ID = :k1`, [id]);
      await c.commit();
      return rows;
    });
  }

  async proveRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue): Promise<{ rows: number; atUpTo: number }> {
    const key = await this.keyParts(q);
    const rows = await this.pool.with(
      async (c) =>
        (
          await c.execute<[string | number, string | number | null]>(
            sql.proveRangeSql(q.query, key, after !== null),
            [...upTo, ...rangeValues(after, upTo)],
            { outFormat: oracledb.OUT_FORMAT_ARRAY },
          )
        ).rows ?? [],
    );
    return { rows: Number(rows[0][0]), atUpTo: Number(rows[0][1] ?? 0) };
  }

  /** `dms verify`'s count of a range; Oracle gives no digest comparable with another database's. */
  async summarize(q: KeyedQuery, range: KeyRange, _columns: string[] | null): Promise<RangeSummary> {
    const key = await this.keyParts(q);
    if ('nullKeys' in range)
      return { rows: await this.count(sql.countSql(q.query, key, 'nullKeys'), []), digest: null };
    const shape = { hasAfter: range.after !== null, hasUpTo: range.upTo !== null };
    return {
      rows: await this.count(sql.countSql(q.query, key, shape), rangeValues(range.after, range.upTo)),
      digest: null,
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
