// MariaDB's DMS_REJECT: the rows a target refused under DMS_MAPR.REJECTLMT, one row each, kept
// in the target database beside DMS_CHKPNT and written in the batch's own transaction.
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { RejectedRow, RejectListing } from '../dialect';
import { quoteMariaDbIdentifier } from './mariadb-sql';

type Queryable = Pick<Pool, 'query'> | Pick<PoolConnection, 'query'>;

export function rejectTable(schema: string): string {
  return `${quoteMariaDbIdentifier(schema)}.dms_reject`;
}

/** DMS_REJECT's DDL in `schema` (a DBA may create it from this text: docs/rejects.md). */
export function rejectTableDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${rejectTable(schema)} (
  rejid BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mapref VARCHAR(128) NOT NULL,
  prcid BIGINT NOT NULL,
  batchno BIGINT NOT NULL,
  keyvals TEXT,
  errcode VARCHAR(16),
  errmsg TEXT NOT NULL,
  errcol VARCHAR(128),
  rowvals JSON NOT NULL,
  reccrdt TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY dms_reject_run_idx (mapref, prcid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

async function exists(db: Queryable, schema: string): Promise<boolean> {
  const [found] = await db.query<RowDataPacket[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dms_reject'`,
    [schema],
  );
  return found.length > 0;
}

/** Creates it when missing (a DDL commits: never inside a batch's transaction). */
export async function createRejectTable(pool: Pool, schema: string): Promise<void> {
  if (!(await exists(pool, schema))) await pool.query(rejectTableDdl(schema));
}

export async function insertRejects(db: Queryable, schema: string, rows: RejectedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO ${rejectTable(schema)} (mapref, prcid, batchno, keyvals, errcode, errmsg, errcol, rowvals) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    rows.flatMap((r) => [r.mapref, r.prcid, r.batch, r.key, r.code, r.message, r.column, r.values]),
  );
}

export async function countRejectRows(db: Queryable, schema: string, mapref: string, prcid: number): Promise<number> {
  if (!(await exists(db, schema))) return 0;
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ${rejectTable(schema)} WHERE mapref = ? AND prcid = ?`,
    [mapref, prcid],
  );
  return Number(rows[0].n);
}

export async function listRejectRows(
  db: Queryable,
  schema: string,
  mapref: string,
  prcid: number | null,
  limit: number,
): Promise<RejectListing[]> {
  if (!(await exists(db, schema))) return [];
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT mapref, prcid, batchno, keyvals, errcode, errmsg, errcol, CAST(rowvals AS CHAR) AS rowvals, reccrdt FROM ${rejectTable(schema)}
      WHERE mapref = ? AND (? IS NULL OR prcid = ?) ORDER BY rejid LIMIT ?`,
    [mapref, prcid, prcid, limit],
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
