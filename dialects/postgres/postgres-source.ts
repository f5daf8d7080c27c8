// The source side: SRCQUERY described (columns, types, unique keys) without reading a row,
// probed for keys and summaries, and read by key range, in order or whole through cursors.
import type pg from 'pg';
import Cursor from 'pg-cursor';
import type {
  ColumnInfo,
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
import { asText, extended, identityOf, typesOf } from './postgres-session';
import {
  countKeySql,
  keyCollationsSql,
  countNullKeysSql,
  estimateSql,
  keyBeforeSql,
  keyCursorSql,
  keyOrderProbeSql,
  isLookbackType,
  orderedSql,
  orderProbeSql,
  proveRangeSql,
  lastKeySql,
  nthKeySql,
  nullKeysSql,
  rangeSql,
  sourceSubquery,
  summarySql,
} from './postgres-sql';
import { uniqueKeysOf } from './postgres-unique-keys';
import { expandValues } from '../expanded-key';
import { CHUNK_BYTES, ChunkSizer, keyCursorOver } from '../chunks';

export class PostgresSource implements SourceDatabase {
  constructor(readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  identity(): Promise<string> {
    return identityOf(this.pool);
  }

  /** The query's result columns and their types, without reading a row. */
  private async fieldsOf(query: string) {
    const result = await this.pool.query(
      extended({ text: `${sourceSubquery(query)}\nLIMIT $1`, values: [0], rowMode: 'array' }),
    );
    return { fields: result.fields, types: await typesOf(this.pool, result.fields) };
  }

  /** The type (oid and printed name, modifier included) of each returned column, without reading a row. */
  async columnTypes(query: string): Promise<Map<string, { oid: number; name: string }>> {
    const { fields, types } = await this.fieldsOf(query);
    return new Map(fields.map((f, i) => [f.name, { oid: f.dataTypeID, name: types[i].name }]));
  }

  async describeQuery(query: string): Promise<QueryDescription> {
    const { fields, types } = await this.fieldsOf(query);
    const columns: ColumnInfo[] = fields.map((f, i) => ({
      name: f.name,
      type: types[i].name,
      family: types[i].family,
    }));
    const uniqueKeys = await uniqueKeysOf(this.pool, query, fields);
    return { columns, uniqueKeys };
  }

  async keyCollations(query: string, columns: string[]): Promise<(string | null)[]> {
    const { fields, types } = await this.fieldsOf(query);
    const strings = columns.filter((c) => types[fields.findIndex((f) => f.name === c)]?.family === 'string');
    if (strings.length === 0) return columns.map(() => null);
    const { rows } = await this.pool.query<Record<string, string | null>>(
      extended({ text: keyCollationsSql(query, strings) }),
    );
    return columns.map((c) => (strings.includes(c) ? rows[0][`c${strings.indexOf(c)}`] : null));
  }

  private async oneKey(text: string, values: unknown[]): Promise<KeyValue | null> {
    const result = await this.pool.query<(string | null)[]>(extended({ text, values, rowMode: 'array' }));
    const row = result.rows[0];
    return row ? (row as string[]) : null;
  }

  nthKey(q: KeyedQuery, after: KeyValue | null, n: number, upTo: KeyValue | null = null): Promise<KeyValue | null> {
    return this.oneKey(nthKeySql(q.query, q.key, after !== null, upTo !== null), [
      ...(after ?? []),
      ...(upTo ?? []),
      n - 1,
    ]);
  }

  lastKey(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue | null = null): Promise<KeyValue | null> {
    return this.oneKey(lastKeySql(q.query, q.key, after !== null, upTo !== null), [...(after ?? []), ...(upTo ?? [])]);
  }

  readRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue, chunkRows: number): AsyncIterable<RowBatch> {
    return this.stream(rangeSql(q.query, q.key, after !== null), [...(after ?? []), ...upTo], chunkRows);
  }

  async openKeyCursor(
    q: KeyedQuery,
    after: KeyValue | null,
    upTo: KeyValue | null,
    chunkRows: number,
  ): Promise<KeyCursor | null> {
    // A key order the server sorts would sort every row left at each slice's start.
    if (!(await this.keyOrderUsesIndex(q))) return null;
    const text = keyCursorSql(q.query, q.key, after !== null, upTo !== null);
    return keyCursorOver(
      this.stream(text, [...(after ?? []), ...(upTo ?? [])], chunkRows)[Symbol.asyncIterator](),
      q.key,
      after,
    );
  }

  keyBefore(q: KeyedQuery, from: string, window: string, type: string): Promise<KeyValue | null> {
    return this.oneKey(keyBeforeSql(q.query, q.key, type), [from, window]);
  }

  supportsLookback(type: string): boolean {
    return isLookbackType(type);
  }

  async unorderedColumns(query: string, columns: string[]): Promise<string[]> {
    const unordered: string[] = [];
    for (const column of columns) {
      try {
        await this.pool.query(extended({ text: orderProbeSql(query, column) }));
      } catch (err) {
        if ((err as { code?: string }).code !== '42883') throw err; // undefined_function: no ordering operator
        unordered.push(column);
      }
    }
    return unordered;
  }

  async openOrdered(query: string, order: string[], offset: number): Promise<RowCursor> {
    const everyColumn = (await this.fieldsOf(query)).fields.length === order.length;
    const client = await this.pool.connect();
    const cursor = client.query(
      new Cursor<(string | null)[]>(orderedSql(query, order, everyColumn), [offset], {
        rowMode: 'array',
        types: asText,
      }),
    );
    let broken: Error | undefined;
    return {
      read: (rows) =>
        new Promise((resolve, reject) =>
          cursor.read(rows, (err, result) => {
            if (err) {
              broken = err;
              reject(err);
            } else resolve(result);
          }),
        ),
      close: async () => {
        await cursor.close().catch((err: Error) => (broken ??= err));
        client.release(broken);
      },
    };
  }

  readAll(query: string, chunkRows: number): AsyncIterable<RowBatch> {
    return this.stream(sourceSubquery(query), [], chunkRows);
  }

  readNullKeys(q: KeyedQuery, chunkRows: number): AsyncIterable<RowBatch> {
    return this.stream(nullKeysSql(q.query, q.key), [], chunkRows);
  }

  /** Reads through a server-side cursor: memory holds one chunk, whatever the range's size. */
  private async *stream(text: string, values: unknown[], chunkRows: number): AsyncIterable<RowBatch> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const cursor = client.query(new Cursor<(string | null)[]>(text, values, { rowMode: 'array', types: asText }));
    // Fewer rows a fetch where they are wide: a chunk holds about CHUNK_BYTES.
    const sizer = new ChunkSizer(chunkRows, CHUNK_BYTES);
    const read = () =>
      new Promise<RowBatch>((resolve, reject) =>
        cursor.read(sizer.next(), (err, rows, result) => {
          if (err) return reject(err);
          sizer.saw(rows);
          resolve({ columns: (result?.fields ?? []).map((f) => f.name), rows });
        }),
      );
    try {
      for (;;) {
        const chunk = await read();
        if (chunk.rows.length === 0) break;
        yield chunk;
      }
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      // A cursor ends in finally: a lost connection mid-stream is an error, never an end of data.
      await cursor.close().catch((err: Error) => (broken ??= err));
      client.release(broken);
    }
  }

  async countNullKeys(q: KeyedQuery): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(extended({ text: countNullKeysSql(q.query, q.key) }));
    return Number(rows[0].n);
  }

  async countKey(q: KeyedQuery, key: KeyValue): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(extended({ text: countKeySql(q.query, q.key), values: key }));
    return Number(rows[0].n);
  }

  async proveRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue): Promise<{ rows: number; atUpTo: number }> {
    const { rows } = await this.pool.query<{ n: string; at: string }>(
      extended({ text: proveRangeSql(q.query, q.key, after !== null), values: [...(after ?? []), ...upTo] }),
    );
    return { rows: Number(rows[0].n), atUpTo: Number(rows[0].at) };
  }

  async summarize(q: KeyedQuery, range: KeyRange, columns: string[] | null): Promise<RangeSummary> {
    const shape = 'nullKeys' in range ? 'nullKeys' : { hasAfter: range.after !== null, hasUpTo: range.upTo !== null };
    const values = 'nullKeys' in range ? [] : [...(range.after ?? []), ...(range.upTo ?? [])];
    const { rows } = await this.pool.query<{ n: string; digest: string | null }>(
      extended({ text: summarySql(q.query, q.key, shape, columns), values }),
    );
    return { rows: Number(rows[0].n), digest: rows[0].digest };
  }

  async keyOrderUsesIndex(q: KeyedQuery): Promise<boolean> {
    const { rows } = await this.pool.query<{ 'QUERY PLAN': string }>(
      extended({ text: `EXPLAIN (FORMAT JSON) ${keyOrderProbeSql(q.query, q.key)}` }),
    );
    const plan = JSON.stringify(JSON.parse(rows[0]['QUERY PLAN']));
    return !/"Node Type":"(Sort|Incremental Sort)"/.test(plan);
  }

  async estimateRows(q: KeyedQuery, after: KeyValue | null): Promise<number | null> {
    const bounded = after !== null && q.key.length > 0;
    const { rows } = await this.pool.query<{ 'QUERY PLAN': unknown }>(
      extended({ text: estimateSql(q.query, q.key, bounded), values: bounded ? expandValues(after) : [] }),
    );
    const raw = rows[0]['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Plan Rows'?: unknown } }[];
    const estimate = plan[0]?.Plan?.['Plan Rows'];
    return typeof estimate === 'number' && Number.isFinite(estimate) ? estimate : null;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
