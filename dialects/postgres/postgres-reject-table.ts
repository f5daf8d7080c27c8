// PostgreSQL's DMS_REJECT: the rows a target refused under DMS_MAPR.REJECTLMT, one row each,
// kept in the target schema beside DMS_CHKPNT and written in the batch's own transaction.
import type pg from 'pg';
import type { RejectedRow, RejectListing } from '../dialect';
import { quotePostgresIdentifier } from './postgres-sql';

export function rejectTable(schema: string): string {
  return `${quotePostgresIdentifier(schema)}.dms_reject`;
}

/** DMS_REJECT's DDL in `schema` (a DBA may create it from this text: docs/rejects.md). */
export function rejectTableDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${rejectTable(schema)} (
  rejid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mapref varchar(128) NOT NULL,
  prcid bigint NOT NULL,
  batchno bigint NOT NULL,
  keyvals text,
  errcode varchar(16),
  errmsg text NOT NULL,
  errcol varchar(128),
  rowvals jsonb NOT NULL,
  reccrdt timestamptz NOT NULL DEFAULT now()
)`;
}

export async function createRejectTable(pool: pg.Pool, schema: string): Promise<void> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
    rejectTable(schema),
  ]);
  if (rows[0].found) return;
  try {
    await pool.query(rejectTableDdl(schema));
    await pool.query(`CREATE INDEX IF NOT EXISTS dms_reject_run_idx ON ${rejectTable(schema)} (mapref, prcid)`);
  } catch (err) {
    // Two sessions creating it at once: the loser sees a duplicate (of the table's name, or of
    // its row type: 42710, "type … already exists"); the table exists.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P07' && code !== '42710') throw err;
  }
}

export async function insertRejects(client: pg.PoolClient, schema: string, rows: RejectedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof RejectedRow>(k: K) => rows.map((r) => r[k]);
  await client.query(
    `INSERT INTO ${rejectTable(schema)} (mapref, prcid, batchno, keyvals, errcode, errmsg, errcol, rowvals)
     SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::bigint[], $4::text[], $5::varchar[], $6::text[], $7::varchar[], $8::jsonb[])`,
    [
      column('mapref'),
      column('prcid'),
      column('batch'),
      column('key'),
      column('code'),
      column('message'),
      column('column'),
      column('values'),
    ],
  );
}

export async function countRejectRows(
  client: pg.Pool | pg.PoolClient,
  schema: string,
  mapref: string,
  prcid: number,
): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${rejectTable(schema)} WHERE mapref = $1 AND prcid = $2`,
    [mapref, prcid],
  );
  return Number(rows[0].n);
}

export async function listRejectRows(
  pool: pg.Pool,
  schema: string,
  mapref: string,
  prcid: number | null,
  limit: number,
): Promise<RejectListing[]> {
  const { rows } = await pool.query<{
    mapref: string;
    prcid: string;
    batchno: string;
    keyvals: string | null;
    errcode: string | null;
    errmsg: string;
    errcol: string | null;
    rowvals: string;
    reccrdt: string | Date;
  }>(
    `SELECT mapref, prcid, batchno, keyvals, errcode, errmsg, errcol, rowvals::text AS rowvals, reccrdt FROM ${rejectTable(schema)}
      WHERE mapref = $1 AND ($2::bigint IS NULL OR prcid = $2) ORDER BY rejid LIMIT $3`,
    [mapref, prcid, limit],
  );
  return rows.map((r) => ({
    mapref: r.mapref,
    prcid: Number(r.prcid),
    batch: Number(r.batchno),
    key: r.keyvals,
    code: r.errcode,
    message: r.errmsg,
    column: r.errcol,
    values: r.rowvals,
    at: new Date(r.reccrdt),
  }));
}
