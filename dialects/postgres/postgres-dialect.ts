// PostgreSQL: node-postgres pools, every value read as text (so keys and timestamps never
// pass through a JavaScript number or Date), rows loaded with COPY FROM STDIN.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type {
  CheckpointRow,
  ColumnInfo,
  ConnectionSpec,
  Dialect,
  SessionOptions,
  KeyBatchRequest,
  RowBatch,
  SourceDatabase,
  TargetDatabase,
  TargetTransaction,
} from '../dialect';
import { parseIdentifier } from '../identifiers';
import { encodeCopyText } from './postgres-copy';

/** Settings that make every value's text form exact and independent of the server's defaults. */
const SESSION_OPTIONS = [
  '-c TimeZone=UTC',
  '-c DateStyle=ISO,YMD',
  '-c IntervalStyle=postgres',
  '-c extra_float_digits=3',
  '-c bytea_output=hex',
];

const asText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export function quotePostgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Removes trailing semicolons so the query can be wrapped as a subquery. */
export function unwrapQuery(query: string): string {
  return query.replace(/[\s;]+$/, '');
}

export function sourceSubquery(query: string): string {
  // Newlines keep a trailing line comment in the user's query from swallowing our SQL.
  return `SELECT * FROM (\n${unwrapQuery(query)}\n) AS dms_src`;
}

/** The keyset query for one batch; the bound and the limit are parameters ($1, $2). */
export function postgresKeyBatchSql(query: string, keyColumn: string, hasLowerBound: boolean): string {
  const key = `dms_src.${quotePostgresIdentifier(keyColumn)}`;
  const where = hasLowerBound ? `\nWHERE ${key} > $1` : '';
  const limit = hasLowerBound ? '$2' : '$1';
  return `${sourceSubquery(query)}${where}\nORDER BY ${key}\nLIMIT ${limit}`;
}

function poolFor(spec: ConnectionSpec, session: SessionOptions, readOnly: boolean): pg.Pool {
  const options = [
    ...SESSION_OPTIONS,
    // A zombie attempt holding the checkpoint row, or a user's lock on the target, must not
    // block a batch forever: the wait ends in a retryable error.
    `-c lock_timeout=${Math.floor(session.lockTimeoutMs)}`,
    ...(readOnly ? ['-c default_transaction_read_only=on'] : []),
  ];
  const pool = new pg.Pool({
    connectionString: spec.url,
    password: spec.password,
    options: options.join(' '),
    types: asText,
    max: 4,
    idleTimeoutMillis: 30_000,
    application_name: readOnly ? 'dms-etl source' : 'dms-etl target',
  } as pg.PoolConfig);
  // An idle client that loses its connection must not crash the worker; the next query
  // on the pool gets a fresh connection and a real error if the server is gone.
  pool.on('error', () => undefined);
  return pool;
}

async function typeNames(client: pg.Pool | pg.PoolClient, oids: number[]): Promise<Map<number, string>> {
  const { rows } = await client.query<{ oid: string; name: string }>(
    'SELECT oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1::oid[])',
    [oids],
  );
  return new Map(rows.map((r) => [Number(r.oid), r.name]));
}

class PostgresSource implements SourceDatabase {
  constructor(private readonly pool: pg.Pool) {}

  async describeQuery(query: string): Promise<ColumnInfo[]> {
    // A bound parameter forces the extended protocol, which refuses several statements.
    const result = await this.pool.query({ text: `${sourceSubquery(query)}\nLIMIT $1`, values: [0], rowMode: 'array' });
    const names = await typeNames(this.pool, result.fields.map((f) => f.dataTypeID));
    return result.fields.map((f) => ({ name: f.name, type: names.get(f.dataTypeID) ?? `oid ${f.dataTypeID}` }));
  }

  async readKeyBatch(request: KeyBatchRequest): Promise<RowBatch> {
    const hasBound = request.after !== null;
    const values = hasBound ? [request.after, request.limit] : [request.limit];
    const result = await this.pool.query<(string | null)[]>({
      text: postgresKeyBatchSql(request.query, request.keyColumn, hasBound),
      values,
      rowMode: 'array',
    });
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function checkpointTable(schema: string): string {
  return `${quotePostgresIdentifier(schema)}.dms_chkpnt`;
}

class PostgresTargetTransaction implements TargetTransaction {
  constructor(private readonly client: pg.PoolClient) {}

  async lockCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    const { rows } = await this.client.query<Record<string, string | null>>(
      `SELECT mapref, prcid, epoch, jobid, chkpnt, batchcnt, trgrows FROM ${checkpointTable(schema)}
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
      checkpoint: row.chkpnt,
      batches: Number(row.batchcnt),
      rows: Number(row.trgrows),
    };
  }

  async writeCheckpoint(schema: string, row: CheckpointRow): Promise<void> {
    await this.client.query(
      `INSERT INTO ${checkpointTable(schema)} (mapref, prcid, epoch, jobid, chkpnt, batchcnt, trgrows, recupdt)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (mapref) DO UPDATE SET prcid = EXCLUDED.prcid, epoch = EXCLUDED.epoch,
         jobid = EXCLUDED.jobid, chkpnt = EXCLUDED.chkpnt, batchcnt = EXCLUDED.batchcnt,
         trgrows = EXCLUDED.trgrows, recupdt = now()`,
      [row.mapref, row.prcid, row.epoch, row.jobid, row.checkpoint, row.batches, row.rows],
    );
  }

  async load(schema: string, table: string, batch: RowBatch): Promise<number> {
    if (batch.rows.length === 0) return 0;
    const columns = batch.columns.map(quotePostgresIdentifier).join(', ');
    const sql = `COPY ${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)} (${columns}) FROM STDIN`;
    const copy = this.client.query(copyFrom(sql));
    await pipeline(Readable.from(encodeCopyText(batch.rows)), copy);
    return copy.rowCount ?? batch.rows.length;
  }
}

class PostgresTarget implements TargetDatabase {
  constructor(private readonly pool: pg.Pool) {}

  async describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    const { rows } = await this.pool.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [schema, table],
    );
    return rows.length === 0 ? undefined : rows;
  }

  async ensureCheckpointTable(schema: string): Promise<void> {
    try {
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${checkpointTable(schema)} (
           mapref varchar(128) PRIMARY KEY,
           prcid bigint NOT NULL,
           epoch bigint NOT NULL,
           jobid bigint NOT NULL,
           chkpnt text,
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
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
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
