// The sessions of both sides: node-postgres pools whose settings make every value's text form
// exact and which read every value as text (so keys and timestamps never pass through a
// JavaScript number or Date), and what either side asks of its session (identity, types).
import pg from 'pg';
import type { ConnectionSpec, SessionOptions, TypeFamily } from '../dialect';
import { postgresPoolConfig } from './postgres-connection';

/** A PostgreSQL type's TypeFamily, from pg_type `t` (its typcategory, and the types that need a family of their own). */
export const FAMILY = `CASE WHEN t.typname = 'bytea' THEN 'bytes' WHEN t.typname IN ('json', 'jsonb') THEN 'json' WHEN t.typname = 'bool' THEN 'boolean' WHEN t.typname = 'uuid' THEN 'uuid'
   ELSE CASE t.typcategory WHEN 'N' THEN 'number' WHEN 'S' THEN 'string' WHEN 'D' THEN 'datetime' WHEN 'T' THEN 'timespan' WHEN 'V' THEN 'bits' WHEN 'I' THEN 'network' ELSE 'other' END END AS family`;

/** One database of one server instance, whatever the session's settings or the URL's host. */
export const POSTGRES_IDENTITY = `current_database() || '@' || current_setting('port') || '@' || extract(epoch FROM pg_postmaster_start_time())::text`;

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
export function extended<T extends pg.QueryConfig>(config: T): T {
  return { ...config, queryMode: 'extended' };
}

export const asText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export function poolFor(spec: ConnectionSpec, session: SessionOptions, readOnly: boolean): pg.Pool {
  const options = [
    ...SESSION_OPTIONS,
    // A zombie attempt holding the checkpoint row, or a user's lock on the target, must not
    // block a batch forever: the wait ends in a retryable error.
    `-c lock_timeout=${Math.floor(session.lockTimeoutMs)}`,
    ...(readOnly ? ['-c default_transaction_read_only=on'] : []),
  ];
  const pool = new pg.Pool(
    postgresPoolConfig(
      spec.url,
      { password: spec.password, fallBack: false },
      {
        options: options.join(' '),
        types: asText,
        max: session.poolSize ?? 4,
        idleTimeoutMillis: 30_000,
        application_name: readOnly ? 'dms-etl source' : 'dms-etl target',
      },
    ),
  );
  // An idle client that loses its connection must not crash the worker; the next query
  // on the pool gets a fresh connection and a real error if the server is gone.
  pool.on('error', () => undefined);
  return pool;
}

export async function identityOf(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`SELECT ${POSTGRES_IDENTITY} AS id`);
  return rows[0].id;
}

/**
 * The printed type of each result column, modifier included: format_type(oid, typmod) with
 * the column's own typmod (-1 when it has none). Never format_type(oid, NULL), which names
 * the SQL standard's default: `character` (that is, char(1)) for char(n), `bit` for bit(n),
 * and a range bound cast to it would be cut to its first character.
 */
export async function typesOf(
  client: pg.Pool | pg.PoolClient,
  fields: pg.FieldDef[],
): Promise<{ name: string; family: TypeFamily }[]> {
  const { rows } = await client.query<{ name: string; family: TypeFamily }>(
    `SELECT format_type(f.oid, f.typmod) AS name, ${FAMILY}
       FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS f(oid, typmod, i)
       JOIN pg_type t ON t.oid = f.oid
      ORDER BY f.i`,
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  );
  return rows;
}
