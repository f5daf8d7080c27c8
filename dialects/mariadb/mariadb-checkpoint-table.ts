// MariaDB's table for the checkpoint: DMS_CHKPNT in the target database (InnoDB), and the
// statements that lock and write a mapping's row. The checkpoint itself lives in checkpoint/
// at the repo root; this file holds only MariaDB's table for it.
//
// TRUNCATE TABLE commits on its own in MariaDB, so it cannot share the transaction that resets
// the checkpoint. The reset commits first, with the table it owes a truncate in TRNCPEND; the
// truncate follows, then clears TRNCPEND. Whatever crashes in between, the next transaction
// that locks the row finds the debt and pays it before any row loads (settleTruncate), and a
// resume never truncates a table that has loaded a batch since its reset.
import { createHash } from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { CheckpointRow } from '../dialect';
import { quoteMariaDbIdentifier } from './mariadb-sql';
import { MariaDbError } from './mariadb-errors';

export function checkpointTable(schema: string): string {
  return `${quoteMariaDbIdentifier(schema)}.dms_chkpnt`;
}

/** A table of the target database: which table a truncate is owed to. */
export interface OwedTruncate {
  schema: string;
  table: string;
}

/** Creates DMS_CHKPNT in the database if it is missing. */
export async function createCheckpointTable(pool: Pool, schema: string): Promise<void> {
  // Most runs find it there: a catalog read, and no DDL (which commits and locks).
  const [found] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dms_chkpnt'`,
    [schema],
  );
  if (found.length > 0) return;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${checkpointTable(schema)} (
       mapref VARCHAR(128) NOT NULL PRIMARY KEY,
       prcid BIGINT NOT NULL,
       epoch BIGINT NOT NULL,
       jobid BIGINT NOT NULL,
       keycols TEXT,
       chkpnt TEXT,
       lastrow TEXT,
       batchcnt BIGINT NOT NULL DEFAULT 0,
       trgrows BIGINT NOT NULL DEFAULT 0,
       trncpend TEXT,
       recupdt TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  );
}

type Queryable = Pick<Pool, 'query'> | Pick<PoolConnection, 'query'>;

interface Read {
  row: CheckpointRow;
  owed: OwedTruncate | null;
}

/** Reads a mapping's row (locked with `lock`); undefined if it has none. */
export async function readCheckpointRow(
  db: Queryable,
  schema: string,
  mapref: string,
  lock = '',
): Promise<Read | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT mapref, CAST(prcid AS CHAR) AS prcid, CAST(epoch AS CHAR) AS epoch, CAST(jobid AS CHAR) AS jobid, keycols, chkpnt, lastrow,
            CAST(batchcnt AS CHAR) AS batchcnt, CAST(trgrows AS CHAR) AS trgrows, trncpend
       FROM ${checkpointTable(schema)} WHERE mapref = ?${lock}`,
    [mapref],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    row: {
      mapref: r.mapref,
      prcid: Number(r.prcid),
      epoch: Number(r.epoch),
      jobid: Number(r.jobid),
      keyColumns: r.keycols,
      checkpoint: r.chkpnt,
      lastRow: r.lastrow,
      batches: Number(r.batchcnt),
      rows: Number(r.trgrows),
    },
    owed: r.trncpend ? (JSON.parse(r.trncpend) as OwedTruncate) : null,
  };
}

/** Inserts or replaces a mapping's row, with the truncate it owes (null: none). */
export async function writeCheckpointRow(
  db: Queryable,
  schema: string,
  row: CheckpointRow,
  owed: OwedTruncate | null,
): Promise<void> {
  await db.query(
    `INSERT INTO ${checkpointTable(schema)} (mapref, prcid, epoch, jobid, keycols, chkpnt, lastrow, batchcnt, trgrows, trncpend, recupdt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(6))
     ON DUPLICATE KEY UPDATE prcid = VALUES(prcid), epoch = VALUES(epoch), jobid = VALUES(jobid), keycols = VALUES(keycols),
       chkpnt = VALUES(chkpnt), lastrow = VALUES(lastrow), batchcnt = VALUES(batchcnt), trgrows = VALUES(trgrows),
       trncpend = VALUES(trncpend), recupdt = CURRENT_TIMESTAMP(6)`,
    [
      row.mapref,
      row.prcid,
      row.epoch,
      row.jobid,
      row.keyColumns,
      row.checkpoint,
      row.lastRow,
      row.batches,
      row.rows,
      owed ? JSON.stringify(owed) : null,
    ],
  );
}

/** The named lock (GET_LOCK, at most 64 characters) under which a mapping's truncate is paid. */
export function truncateLockName(schema: string, mapref: string): string {
  return `dms_trunc_${createHash('sha256').update(`${schema}\u0000${mapref}`).digest('hex').slice(0, 40)}`;
}

/**
 * Pays a truncate the mapping's row owes, outside any transaction (TRUNCATE commits): under a
 * named lock, so that of two attempts that both saw the debt only the first truncates, and the
 * second, reading the row again, finds it paid (the first may have loaded a batch since).
 */
export async function settleTruncate(
  connection: PoolConnection,
  schema: string,
  mapref: string,
  lockTimeoutMs: number,
): Promise<void> {
  const name = truncateLockName(schema, mapref);
  const [got] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [
    name,
    Math.max(1, Math.ceil(lockTimeoutMs / 1000)),
  ]);
  if (Number(got[0].got) !== 1)
    throw new MariaDbError(
      `another session holds the truncate lock of mapping ${mapref}`,
      undefined,
      undefined,
      undefined,
      'transient',
    );
  try {
    const read = await readCheckpointRow(connection, schema, mapref);
    if (!read?.owed) return;
    await connection.query(
      `TRUNCATE TABLE ${quoteMariaDbIdentifier(read.owed.schema)}.${quoteMariaDbIdentifier(read.owed.table)}`,
    );
    // Only the debt that was paid: a newer run's reset, committed meanwhile, owes its own.
    await connection.query(
      `UPDATE ${checkpointTable(schema)} SET trncpend = NULL WHERE mapref = ? AND prcid = ? AND epoch = ?`,
      [mapref, read.row.prcid, read.row.epoch],
    );
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [name]);
  }
}
