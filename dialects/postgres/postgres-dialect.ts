// PostgreSQL: node-postgres pools, every value read as text (so keys and timestamps never
// pass through a JavaScript number or Date), batches streamed through a cursor into
// COPY FROM STDIN.
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type {
  CheckpointRow,
  ColumnInfo,
  ConnectionSpec,
  Dialect,
  KeyedQuery,
  KeyRange,
  KeyValue,
  OrderedMover,
  QueryDescription,
  RangeMover,
  RangeSummary,
  RowBatch,
  RowCursor,
  SessionOptions,
  SourceDatabase,
  TargetDatabase,
  TargetTransaction,
  TransactionOptions,
} from '../dialect';
import { DuplicateKeyInBatchError } from '../../common/errors';
import { parseIdentifier } from '../identifiers';
import { postgresPoolConfig } from './postgres-connection';
import { decodeCopyTextRow, encodeCopyText } from './postgres-copy';
import {
  boundSetting,
  copyRangeSql,
  countKeySql,
  countNullKeysSql,
  keyBeforeSql,
  keyOrderProbeSql,
  isLookbackType,
  nextBoundSql,
  OFFSET_SETTING,
  orderedCopySql,
  orderedSql,
  orderProbeSql,
  lastKeySql,
  nthKeySql,
  nullKeysSql,
  quotePostgresIdentifier,
  rangeSql,
  sourceSubquery,
  summarySql,
} from './postgres-sql';
import { uniqueIndexes, uniqueKeysOf } from './postgres-unique-keys';

export { quotePostgresIdentifier } from './postgres-sql';

/** One database of one server instance, whatever the session's settings or the URL's host. */
export const POSTGRES_IDENTITY = `current_database() || '@' || current_setting('port') || '@' || extract(epoch FROM pg_postmaster_start_time())::text`;

/** PostgreSQL's FirstNormalObjectId: every oid below it is a built-in object, the same in every database. */
const FIRST_NORMAL_OID = 16384;

/** Settings that make every value's text form exact and independent of the server's defaults. */
const SESSION_OPTIONS = [
  '-c TimeZone=UTC',
  '-c DateStyle=ISO,YMD',
  '-c IntervalStyle=postgres',
  '-c extra_float_digits=3',
  '-c bytea_output=hex',
];

/**
 * Every statement that carries the user's SRCQUERY goes through the extended protocol,
 * which refuses several statements in one string: SRCQUERY can never smuggle a SET or a
 * write past the read-only session. (Cursors always use the extended protocol.)
 */
function extended<T extends pg.QueryConfig>(config: T): T {
  return { ...config, queryMode: 'extended' };
}

const asText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

function poolFor(spec: ConnectionSpec, session: SessionOptions, readOnly: boolean): pg.Pool {
  const options = [
    ...SESSION_OPTIONS,
    // A zombie attempt holding the checkpoint row, or a user's lock on the target, must not
    // block a batch forever: the wait ends in a retryable error.
    `-c lock_timeout=${Math.floor(session.lockTimeoutMs)}`,
    ...(readOnly ? ['-c default_transaction_read_only=on'] : []),
  ];
  const pool = new pg.Pool(
    postgresPoolConfig(spec.url, { password: spec.password, fallBack: false }, {
      options: options.join(' '),
      types: asText,
      max: 4,
      idleTimeoutMillis: 30_000,
      application_name: readOnly ? 'dms-etl source' : 'dms-etl target',
    }),
  );
  // An idle client that loses its connection must not crash the worker; the next query
  // on the pool gets a fresh connection and a real error if the server is gone.
  pool.on('error', () => undefined);
  return pool;
}

async function identityOf(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`SELECT ${POSTGRES_IDENTITY} AS id`);
  return rows[0].id;
}

/**
 * The printed type of each result column, modifier included: format_type(oid, typmod) with
 * the column's own typmod (-1 when it has none). Never format_type(oid, NULL), which names
 * the SQL standard's default: `character` (that is, char(1)) for char(n), `bit` for bit(n),
 * and a range bound cast to it would be cut to its first character.
 */
async function typesOf(client: pg.Pool | pg.PoolClient, fields: pg.FieldDef[]): Promise<{ name: string; category: string }[]> {
  const { rows } = await client.query<{ name: string; category: string }>(
    `SELECT format_type(f.oid, f.typmod) AS name, t.typcategory AS category
       FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS f(oid, typmod, i)
       JOIN pg_type t ON t.oid = f.oid
      ORDER BY f.i`,
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  );
  return rows;
}

class PostgresSource implements SourceDatabase {
  constructor(readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  identity(): Promise<string> {
    return identityOf(this.pool);
  }

  /** The query's result columns and their types, without reading a row. */
  private async fieldsOf(query: string) {
    const result = await this.pool.query(extended({ text: `${sourceSubquery(query)}\nLIMIT $1`, values: [0], rowMode: 'array' }));
    return { fields: result.fields, types: await typesOf(this.pool, result.fields) };
  }

  /** The type (oid and printed name, modifier included) of each returned column, without reading a row. */
  async columnTypes(query: string): Promise<Map<string, { oid: number; name: string }>> {
    const { fields, types } = await this.fieldsOf(query);
    return new Map(fields.map((f, i) => [f.name, { oid: f.dataTypeID, name: types[i].name }]));
  }

  async describeQuery(query: string): Promise<QueryDescription> {
    const { fields, types } = await this.fieldsOf(query);
    const columns: ColumnInfo[] = fields.map((f, i) => ({ name: f.name, type: types[i].name, category: types[i].category }));
    const uniqueKeys = await uniqueKeysOf(this.pool, query, fields);
    return { columns, uniqueKeys };
  }

  private async oneKey(text: string, values: unknown[]): Promise<KeyValue | null> {
    const result = await this.pool.query<(string | null)[]>(extended({ text, values, rowMode: 'array' }));
    const row = result.rows[0];
    return row ? (row as string[]) : null;
  }

  nthKey(q: KeyedQuery, after: KeyValue | null, n: number): Promise<KeyValue | null> {
    return this.oneKey(nthKeySql(q.query, q.key, after !== null), [...(after ?? []), n - 1]);
  }

  lastKey(q: KeyedQuery, after: KeyValue | null): Promise<KeyValue | null> {
    return this.oneKey(lastKeySql(q.query, q.key, after !== null), after ?? []);
  }

  readRange(q: KeyedQuery, after: KeyValue | null, upTo: KeyValue, chunkRows: number): AsyncIterable<RowBatch> {
    return this.stream(rangeSql(q.query, q.key, after !== null), [...(after ?? []), ...upTo], chunkRows);
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
    const client = await this.pool.connect();
    const cursor = client.query(new Cursor<(string | null)[]>(orderedSql(query, order), [offset], { rowMode: 'array', types: asText }));
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
    const read = () =>
      new Promise<RowBatch>((resolve, reject) =>
        cursor.read(chunkRows, (err, rows, result) => (err ? reject(err) : resolve({ columns: (result?.fields ?? []).map((f) => f.name), rows }))),
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

  async summarize(q: KeyedQuery, range: KeyRange, columns: string[] | null): Promise<RangeSummary> {
    const shape = 'nullKeys' in range ? 'nullKeys' : { hasAfter: range.after !== null, hasUpTo: range.upTo !== null };
    const values = 'nullKeys' in range ? [] : [...(range.after ?? []), ...(range.upTo ?? [])];
    const { rows } = await this.pool.query<{ n: string; digest: string | null }>(extended({ text: summarySql(q.query, q.key, shape, columns), values }));
    return { rows: Number(rows[0].n), digest: rows[0].digest };
  }

  async keyOrderUsesIndex(q: KeyedQuery): Promise<boolean> {
    const { rows } = await this.pool.query<{ 'QUERY PLAN': string }>(extended({ text: `EXPLAIN (FORMAT JSON) ${keyOrderProbeSql(q.query, q.key)}` }));
    const plan = JSON.stringify(JSON.parse(rows[0]['QUERY PLAN']));
    return !/"Node Type":"(Sort|Incremental Sort)"/.test(plan);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** DMS_CHKPNT's columns added since the table was first created (text, nullable). */
const ADDED_CHECKPOINT_COLUMNS = ['keycols', 'lastrow'];

function checkpointTable(schema: string): string {
  return `${quotePostgresIdentifier(schema)}.dms_chkpnt`;
}

class PostgresTargetTransaction implements TargetTransaction {
  constructor(readonly client: pg.PoolClient) {}

  async lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    const { rows } = await this.client.query<Record<string, string | null>>(
      `SELECT mapref, prcid, epoch, jobid, keycols, chkpnt, lastrow, batchcnt, trgrows FROM ${checkpointTable(schema)}
        WHERE mapref = $1 FOR UPDATE`,
      [mapref],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      mapref: row.mapref as string,
      prcid: Number(row.prcid),
      epoch: Number(row.epoch),
      jobid: Number(row.jobid),
      keyColumns: row.keycols,
      checkpoint: row.chkpnt,
      lastRow: row.lastrow,
      batches: Number(row.batchcnt),
      rows: Number(row.trgrows),
    };
  }

  async writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    await this.client.query(
      `INSERT INTO ${checkpointTable(schema)} (mapref, prcid, epoch, jobid, keycols, chkpnt, lastrow, batchcnt, trgrows, recupdt)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
       ON CONFLICT (mapref) DO UPDATE SET prcid = EXCLUDED.prcid, epoch = EXCLUDED.epoch,
         jobid = EXCLUDED.jobid, keycols = EXCLUDED.keycols, chkpnt = EXCLUDED.chkpnt, lastrow = EXCLUDED.lastrow,
         batchcnt = EXCLUDED.batchcnt, trgrows = EXCLUDED.trgrows, recupdt = now()`,
      [row.mapref, row.prcid, row.epoch, row.jobid, row.keyColumns, row.checkpoint, row.lastRow, row.batches, row.rows],
    );
  }

  async load(schema: string, table: string, columns: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    return this.copyInto(`${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`, columns, chunks, onChunk);
  }

  async upsert(schema: string, table: string, columns: string[], key: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    const target = `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`;
    // Rows go to a stage first (COPY cannot resolve conflicts), then merge in one statement.
    await createStage(this.client, target, columns);
    const staged = await this.copyInto(STAGE, columns, chunks, onChunk);
    await mergeStage(this.client, target, columns, key);
    return staged;
  }

  private async copyInto(relation: string, columns: string[], chunks: AsyncIterable<RowBatch>, onChunk?: () => void): Promise<number> {
    const list = columns.map(quotePostgresIdentifier).join(', ');
    const copy = this.client.query(copyFrom(`COPY ${relation} (${list}) FROM STDIN`));
    async function* text(): AsyncGenerator<string> {
      for await (const chunk of chunks) {
        yield* encodeCopyText(chunk.rows);
        onChunk?.();
      }
    }
    await pipeline(Readable.from(text()), copy);
    return copy.rowCount ?? 0;
  }

  async truncate(schema: string, table: string): Promise<void> {
    await this.client.query(`TRUNCATE ${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`);
  }

  async execute(sql: string, values: unknown[]): Promise<void> {
    await this.client.query(sql, values);
  }
}

/** The stage an UPSERT batch loads before it merges (COPY cannot resolve conflicts). */
const STAGE = 'dms_stage';

/**
 * One stage per transaction, of the mapped columns only, with the target's types (modifiers
 * included) and nothing else: no NOT NULL, default, identity or generated column of the
 * target's that the source does not fill. Pooled sessions serve many mappings, so it is
 * dropped at commit or rollback.
 */
async function createStage(client: pg.PoolClient, relation: string, columns: string[]): Promise<void> {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  await client.query(`CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${list} FROM ${relation} WITH NO DATA`);
}

/** Merges the stage into the target on `key`: its other columns updated, new keys inserted. */
async function mergeStage(client: pg.PoolClient, relation: string, columns: string[], key: string[]): Promise<void> {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const others = columns.filter((c) => !key.includes(c)).map(quotePostgresIdentifier);
  const action = others.length ? `DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
  try {
    // OVERRIDING SYSTEM VALUE: a key the source gives lands in a GENERATED ALWAYS identity
    // column as it does with COPY.
    await client.query(`INSERT INTO ${relation} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${STAGE} ON CONFLICT (${key.map(quotePostgresIdentifier).join(', ')}) ${action}`);
  } catch (err) {
    // 21000 from ON CONFLICT DO UPDATE itself (not, say, from a trigger's subquery): two
    // staged rows share a key, so it would update one target row twice.
    const e = err as { code?: string; routine?: string };
    if (e.code === '21000' && e.routine === 'ExecOnConflictUpdate') throw new DuplicateKeyInBatchError(key);
    throw err;
  }
}

/** Calls onChunk about once a MiB of COPY data passing through. */
function progressEvery(bytes: number, onChunk?: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen >= bytes) {
        seen = 0;
        try {
          onChunk?.();
        } catch (err) {
          done(err as Error);
          return;
        }
      }
      done(null, chunk);
    },
  });
}

function clientOf(tx: TargetTransaction): pg.PoolClient {
  if (!(tx instanceof PostgresTargetTransaction)) throw new Error('a PostgreSQL range mover needs a PostgreSQL target transaction');
  return tx.client;
}

/**
 * What a query's plan reads and calls, from EXPLAIN (VERBOSE): the tables it scans (through
 * views, subqueries and partitions alike) and the names of the functions its expressions call.
 */
async function planOf(pool: pg.Pool, query: string): Promise<{ relations: { schema: string; table: string }[]; functions: string[] }> {
  const { rows } = await pool.query<{ 'QUERY PLAN': unknown }>(extended({ text: `EXPLAIN (VERBOSE, FORMAT JSON) ${sourceSubquery(query)}` }));
  const relations = new Map<string, { schema: string; table: string }>();
  const functions = new Set<string>();
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      // Names before an opening parenthesis, plain or quoted, schema-qualified or not.
      for (const m of node.matchAll(/(?:^|[^\w$".])(?:(?:[a-z_][\w$]*|"(?:[^"]|"")+")\.)?([a-z_][\w$]*|"(?:[^"]|"")+")\(/gi)) {
        const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1].toLowerCase();
        functions.add(name);
      }
      return;
    }
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n['Relation Name'] === 'string' && typeof n.Schema === 'string') relations.set(`${n.Schema}.${n['Relation Name']}`, { schema: n.Schema, table: n['Relation Name'] });
    Object.values(n).forEach(walk);
  };
  const plan = rows[0]['QUERY PLAN'];
  walk(typeof plan === 'string' ? JSON.parse(plan) : plan);
  return { relations: [...relations.values()], functions: [...functions] };
}

/**
 * Source and target are one database: each range is one INSERT ... SELECT inside it, its
 * upper key found on the same connection just before (a RETURNING that reported it from the
 * INSERT itself cost more than the second round trip). Merging on `upsertKey`, the range
 * goes through the stage, which also counts the rows read.
 */
function inDatabaseMover(q: KeyedQuery, relation: string, columns: string[], upsertKey: string[] | null): RangeMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const move: RangeMover['move'] = async (tx, after, upTo, onChunk) => {
    const client = clientOf(tx);
    if (upsertKey) await createStage(client, relation, columns);
    // Bound values only; SRCQUERY stays a subquery, where PostgreSQL refuses data-modifying WITH.
    const text = `INSERT INTO ${upsertKey ? STAGE : relation} (${list})\n${rangeSql(q.query, q.key, after !== null, list)}`;
    const result = await client.query(extended({ text, values: [...(after ?? []), ...upTo] }));
    if (upsertKey) await mergeStage(client, relation, columns, upsertKey);
    onChunk?.();
    return result.rowCount ?? 0;
  };
  return {
    method: `INSERT ... SELECT inside the database (source and target are one database)${mergedOn(upsertKey)}`,
    move,
    async moveNext(tx, after, limit) {
      const text = nextBoundSql(q.query, q.key, after !== null);
      const { rows } = await clientOf(tx).query<Record<string, string>>(extended({ text, values: [...(after ?? []), limit - 1] }));
      const [bound] = rows;
      if (!bound) return null;
      const upTo = q.key.map((_, i) => bound[`upto_${i}`]);
      // Values come back as text (the pool parses no type): a boolean reads 't' or 'f'.
      return { rows: await move(tx, after, upTo), upTo, more: bound.more === 't' };
    },
  };
}

/** The mover's method, merging: for the run's log. */
function mergedOn(upsertKey: string[] | null): string {
  return upsertKey ? `, staged and merged on (${upsertKey.join(', ')})` : '';
}

/**
 * Another PostgreSQL database: the source's COPY output streams straight into the target's
 * COPY input (binary when every column has the same type on both sides, else text), never
 * decoded in the worker. COPY takes no bind parameters, so the range's bounds travel as
 * settings of the source's read-only session, set with bound values just before.
 */
function copyPipeMover(source: PostgresSource, q: KeyedQuery, keyTypes: string[], relation: string, columns: string[], binary: boolean, upsertKey: string[] | null): RangeMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const format = binary ? 'binary' : 'text';
  return {
    method: `${format} COPY from the source piped into COPY on the target${mergedOn(upsertKey)}`,
    async move(tx, after, upTo, onChunk) {
      // Merging, the stage has the target's columns and types, so the format holds for it too.
      if (upsertKey) await createStage(clientOf(tx), relation, columns);
      const client = await source.pool.connect();
      let broken: Error | undefined;
      let rows: number;
      try {
        // Session settings (the session is read-only): each COPY sets every bound it reads,
        // in one round trip, and no transaction of its own is needed.
        const names = [...(after ?? []).map((_, i) => boundSetting('after', i)), ...upTo.map((_, i) => boundSetting('upto', i))];
        const values = [...(after ?? []), ...upTo];
        const calls = names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ');
        await client.query(extended({ text: `SELECT ${calls}`, values: names.flatMap((n, i) => [n, values[i]]) }));
        // SRCQUERY is checked to be one statement (extended protocol) by every run's pre-flight.
        const out = client.query(copyTo(`COPY (${copyRangeSql(q.query, q.key, keyTypes, after !== null, columns)}) TO STDOUT WITH (FORMAT ${format})`));
        const into = clientOf(tx).query(copyFrom(`COPY ${upsertKey ? STAGE : relation} (${list}) FROM STDIN WITH (FORMAT ${format})`));
        await pipeline(out, progressEvery(1 << 20, onChunk), into);
        rows = into.rowCount ?? 0;
      } catch (err) {
        broken = err as Error; // the connection may be mid-COPY: never reuse it
        throw err;
      } finally {
        client.release(broken);
      }
      // The source's session is back in its pool before the merge, whatever the merge meets.
      if (upsertKey) await mergeStage(clientOf(tx), relation, columns, upsertKey);
      return rows;
    },
  };
}

/**
 * Splits a COPY text stream into whole rows: a raw newline byte only ever ends a row (one
 * inside a value is escaped as \n, and no UTF-8 sequence holds the byte).
 */
class CopyTextRows {
  private readonly chunks: AsyncIterator<Buffer>;
  /** Bytes read but not yet handed on: they begin a row. */
  private pending: Buffer | null = null;
  /** The start of a row whose end is in a chunk not yet read. */
  private carry: Buffer[] = [];

  constructor(stream: AsyncIterable<Buffer>) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  private async chunk(): Promise<Buffer | null> {
    if (this.pending) {
      const chunk = this.pending;
      this.pending = null;
      return chunk;
    }
    const next = await this.chunks.next();
    if (!next.done) return next.value;
    if (this.carry.length > 0) throw new Error('COPY output ended inside a row');
    return null;
  }

  /**
   * Yields the bytes of the next `limit` rows (fewer at the end), in chunks; `taken` then
   * holds how many, and `last` the last one's line.
   */
  async *take(limit: number, counts: { taken: number; last: Buffer | null }): AsyncGenerator<Buffer> {
    while (counts.taken < limit) {
      const chunk = await this.chunk();
      if (!chunk) return;
      let pos = 0;
      let lastStart = -1;
      let lastEnd = -1;
      while (counts.taken < limit) {
        const nl = chunk.indexOf(10, pos);
        if (nl < 0) break;
        counts.taken++;
        lastStart = pos;
        lastEnd = nl;
        pos = nl + 1;
      }
      if (lastEnd >= 0) {
        // The first row of a chunk may have begun in the chunks before it.
        counts.last = lastStart === 0 && this.carry.length > 0 ? Buffer.concat([...this.carry, chunk.subarray(0, lastEnd)]) : chunk.subarray(lastStart, lastEnd);
        this.carry = [];
      }
      if (counts.taken === limit) {
        // The rest begins the next batch's first row.
        if (pos < chunk.length) this.pending = chunk.subarray(pos);
        yield chunk.subarray(0, pos);
        return;
      }
      const rest = lastEnd >= 0 ? chunk.subarray(lastEnd + 1) : chunk;
      if (rest.length > 0) this.carry.push(rest);
      yield chunk;
    }
  }

  /** Closes the read early (the stream stops; its connection must not be reused). */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

/**
 * ROWCOUNT from another PostgreSQL database: one COPY of the ordered rows in text format
 * (the last row of each batch is read back for its digest; binary would need every type's
 * decoder), split into batches of whole rows, each piped into COPY on the target.
 */
function orderedCopyMover(source: PostgresSource, q: KeyedQuery, relation: string, columns: string[]): OrderedMover {
  const list = columns.map(quotePostgresIdentifier).join(', ');
  const valuesOf = (line: Buffer | null) => line && decodeCopyTextRow(line.toString('utf8'));
  return {
    method: 'text COPY from the source, split into batches of whole rows, piped into COPY on the target',
    async open(offset) {
      const client = await source.pool.connect();
      try {
        await client.query(extended({ text: 'SELECT set_config($1, $2, false)', values: [OFFSET_SETTING, String(offset)] }));
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
      // SRCQUERY is checked to be one statement (extended protocol) by every run's pre-flight.
      const out = client.query(copyTo(`COPY (${orderedCopySql(q.query, q.key)}) TO STDOUT`));
      const rows = new CopyTextRows(out);
      let finished = false;
      return {
        async next() {
          const counts = { taken: 0, last: null as Buffer | null };
          for await (const _ of rows.take(1, counts));
          finished = counts.taken === 0;
          return valuesOf(counts.last);
        },
        async moveInto(tx, limit, onChunk) {
          const counts = { taken: 0, last: null as Buffer | null };
          const into = clientOf(tx).query(copyFrom(`COPY ${relation} (${list}) FROM STDIN`));
          // Bytes, not objects: the stream holds one chunk ahead, not sixteen.
          await pipeline(Readable.from(rows.take(limit, counts), { objectMode: false }), progressEvery(1 << 20, onChunk), into);
          if (into.rowCount !== counts.taken) throw new Error(`COPY took ${into.rowCount} rows where ${counts.taken} were sent`);
          finished = counts.taken < limit;
          return { rows: counts.taken, last: valuesOf(counts.last) };
        },
        async close() {
          // A COPY stopped before its end leaves the connection mid-stream: never reuse it.
          const broken = finished ? undefined : new Error('COPY closed before its end');
          await rows.close().catch(() => undefined);
          client.release(broken);
        },
      };
    },
  };
}

class PostgresTarget implements TargetDatabase {
  constructor(private readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async orderedMover(source: SourceDatabase, q: KeyedQuery, schema: string, table: string, columns: string[]): Promise<OrderedMover | null> {
    if (!(source instanceof PostgresSource)) return null;
    return orderedCopyMover(source, q, `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`, columns);
  }

  async rangeMover(source: SourceDatabase, q: KeyedQuery, schema: string, table: string, columns: string[], upsertKey: string[] | null = null): Promise<RangeMover | null> {
    if (!(source instanceof PostgresSource)) return null;
    const relation = `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`;
    const [sourceId, targetId] = await Promise.all([source.identity(), this.identity()]);
    let sameDatabase = '';
    if (sourceId === targetId && (await this.canRead(q.query))) {
      // Inside the target's read-write transaction, SRCQUERY could write: only a query that
      // calls no volatile function runs there; any other reads in a read-only session.
      const volatile = await this.volatileFunctions(q.query);
      if (volatile.length === 0) return inDatabaseMover(q, relation, columns, upsertKey);
      sameDatabase = ` (source and target are one database, but SRCQUERY calls the volatile function${volatile.length > 1 ? 's' : ''} ${volatile.join(', ')}, so it runs in a read-only session, as from another database)`;
    }
    const sourceTypes = await source.columnTypes(q.query);
    const { rows } = await this.pool.query<{ name: string; oid: string }>(
      `SELECT a.attname AS name, a.atttypid AS oid FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [relation],
    );
    const targetTypes = new Map(rows.map((r) => [r.name, Number(r.oid)]));
    // Binary COPY only where both sides are provably one type: the same built-in type (oids
    // below FirstNormalObjectId are fixed; a user type's oid differs between databases, and
    // an equal one may name another type).
    const binary = columns.every((c) => {
      const oid = sourceTypes.get(c)?.oid;
      return oid !== undefined && oid < FIRST_NORMAL_OID && oid === targetTypes.get(c);
    });
    const keyTypes = q.key.map((k) => sourceTypes.get(k)?.name ?? 'text');
    const mover = copyPipeMover(source, q, keyTypes, relation, columns, binary, upsertKey);
    return sameDatabase ? { ...mover, method: mover.method + sameDatabase } : mover;
  }

  async sameDatabaseReads(source: SourceDatabase, query: string): Promise<{ schema: string; table: string }[] | undefined> {
    if (!(source instanceof PostgresSource)) return undefined;
    const [sourceId, targetId] = await Promise.all([source.identity(), this.identity()]);
    if (sourceId !== targetId) return undefined;
    return (await planOf(source.pool, query)).relations;
  }

  /**
   * The volatile functions SRCQUERY may call, views and inlined functions followed: every
   * name called in its plan's expressions that names a volatile function (an overloaded name
   * counts if any of its functions is volatile: a wrong guess only costs speed).
   */
  private async volatileFunctions(query: string): Promise<string[]> {
    const { functions } = await planOf(this.pool, query);
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT DISTINCT p.oid::regprocedure::text AS name FROM pg_proc p WHERE p.proname = ANY($1::text[]) AND p.provolatile = 'v' ORDER BY 1`,
      [functions],
    );
    return rows.map((r) => r.name);
  }

  /** Whether this connection may read what SRCQUERY reads (planning checks privileges). */
  private async canRead(query: string): Promise<boolean> {
    try {
      await this.pool.query(extended({ text: `EXPLAIN ${sourceSubquery(query)}` }));
      return true;
    } catch {
      return false;
    }
  }

  async describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    const { rows } = await this.pool.query<ColumnInfo>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [schema, table],
    );
    return rows.length === 0 ? undefined : rows;
  }

  async uniqueKeys(schema: string, table: string): Promise<string[][]> {
    const { rows } = await this.pool.query<{ oid: string }>(
      `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    if (!rows[0]) return [];
    const { rows: cols } = await this.pool.query<{ attnum: string; name: string }>(
      'SELECT attnum, attname AS name FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped',
      [rows[0].oid],
    );
    const byNum = new Map(cols.map((c) => [Number(c.attnum), c.name]));
    // NOT NULL only: rows with a NULL key never conflict, so they would be inserted again.
    return (await uniqueIndexes(this.pool, rows[0].oid, true)).map((nums) => nums.map((n) => byNum.get(n) ?? `#${n}`));
  }

  async ensureCheckpointTable(schema: string): Promise<void> {
    // Most runs find it complete: a catalog read, and no DDL, whose lock would queue behind
    // (and then hold up) the open batch transactions of other mappings on this schema.
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = ANY($2) AND NOT attisdropped',
      [checkpointTable(schema), ADDED_CHECKPOINT_COLUMNS],
    );
    if (Number(rows[0].n) === ADDED_CHECKPOINT_COLUMNS.length) return;
    try {
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${checkpointTable(schema)} (
           mapref varchar(128) PRIMARY KEY,
           prcid bigint NOT NULL,
           epoch bigint NOT NULL,
           jobid bigint NOT NULL,
           keycols text,
           chkpnt text,
           lastrow text,
           batchcnt bigint NOT NULL DEFAULT 0,
           trgrows bigint NOT NULL DEFAULT 0,
           recupdt timestamptz NOT NULL DEFAULT now()
         )`,
      );
    } catch (err) {
      // Two workers creating it at once: the loser sees a duplicate; the table exists.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw err;
    }
    // Columns added since the table was first created.
    await this.pool.query(`ALTER TABLE ${checkpointTable(schema)} ${ADDED_CHECKPOINT_COLUMNS.map((c) => `ADD COLUMN IF NOT EXISTS ${c} text`).join(', ')}`);
  }

  identity(): Promise<string | null> {
    return identityOf(this.pool);
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // One round trip: a simple-protocol query may hold two statements.
      await client.query(options.flushLater ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
      const result = await fn(new PostgresTargetTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * A synchronous commit flushes the log up to its own commit record, and so every commit
   * before it. It needs a write (a transaction that wrote no log commits without a flush):
   * the checkpoint row's time of update, the least there is to write.
   */
  async flushCommits(schema: string, mapref: string): Promise<void> {
    await this.pool.query(`UPDATE ${checkpointTable(schema)} SET recupdt = now() WHERE mapref = $1`, [mapref]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export const postgresDialect: Dialect = {
  dbtyp: 'POSTGRES',
  resolveIdentifier: (raw) => parseIdentifier(raw, (n) => n.toLowerCase(), 63),
  quoteIdentifier: quotePostgresIdentifier,
  openSource: (spec, session) => new PostgresSource(poolFor(spec, session, true)),
  openTarget: (spec, session) => new PostgresTarget(poolFor(spec, session, false)),
};
