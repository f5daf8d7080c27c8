// PostgreSQL's table for the checkpoint: DMS_CHKPNT's DDL and the statements that lock and
// write a mapping's row. The checkpoint itself (what its row means, how its key is written)
// lives in checkpoint/ at the repo root; this file holds only PostgreSQL's table for it.
import type pg from 'pg';
import type { CheckpointRow } from '../dialect';
import { quotePostgresIdentifier } from './postgres-sql';

/** DMS_CHKPNT's columns added since the table was first created (text, nullable). */
const ADDED_CHECKPOINT_COLUMNS = ['keycols', 'lastrow'];

export function checkpointTable(schema: string): string {
  return `${quotePostgresIdentifier(schema)}.dms_chkpnt`;
}

/** Creates DMS_CHKPNT in the schema if it is missing, and adds the columns it lacks. */
export async function createOrUpgradeCheckpointTable(pool: pg.Pool, schema: string): Promise<void> {
  // Most runs find it complete: a catalog read, and no DDL, whose lock would queue behind
  // (and then hold up) the open batch transactions of other mappings on this schema.
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = ANY($2) AND NOT attisdropped',
    [checkpointTable(schema), ADDED_CHECKPOINT_COLUMNS],
  );
  if (Number(rows[0].n) === ADDED_CHECKPOINT_COLUMNS.length) return;
  try {
    await pool.query(
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
    // Two sessions creating it at once: the loser sees a duplicate (of the table's name, or of
    // its row type: 42710, "type … already exists"); the table exists.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P07' && code !== '42710') throw err;
  }
  // Columns added since the table was first created.
  await pool.query(
    `ALTER TABLE ${checkpointTable(schema)} ${ADDED_CHECKPOINT_COLUMNS.map((c) => `ADD COLUMN IF NOT EXISTS ${c} text`).join(', ')}`,
  );
}

/** Reads a mapping's checkpoint row, locked until the transaction ends; undefined if it has none. */
export function lockCheckpointRow(
  client: pg.PoolClient,
  schema: string,
  mapref: string,
): Promise<CheckpointRow | undefined> {
  return readCheckpointRow(client, schema, mapref, ' FOR UPDATE');
}

/** Reads a mapping's checkpoint row (locked with `lock`); undefined if it has none or the table is missing. */
export async function readCheckpointRow(
  client: pg.PoolClient | pg.Pool,
  schema: string,
  mapref: string,
  lock = '',
): Promise<CheckpointRow | undefined> {
  if (!lock) {
    const { rows: exists } = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
      checkpointTable(schema),
    ]);
    if (!exists[0].t) return undefined;
  }
  const { rows } = await client.query<Record<string, string | null>>(
    `SELECT mapref, prcid, epoch, jobid, keycols, chkpnt, lastrow, batchcnt, trgrows FROM ${checkpointTable(schema)}
      WHERE mapref = $1${lock}`,
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

/** Inserts or replaces a mapping's checkpoint row. */
export async function writeCheckpointRow(client: pg.PoolClient, schema: string, row: CheckpointRow): Promise<void> {
  await client.query(
    `INSERT INTO ${checkpointTable(schema)} (mapref, prcid, epoch, jobid, keycols, chkpnt, lastrow, batchcnt, trgrows, recupdt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (mapref) DO UPDATE SET prcid = EXCLUDED.prcid, epoch = EXCLUDED.epoch,
       jobid = EXCLUDED.jobid, keycols = EXCLUDED.keycols, chkpnt = EXCLUDED.chkpnt, lastrow = EXCLUDED.lastrow,
       batchcnt = EXCLUDED.batchcnt, trgrows = EXCLUDED.trgrows, recupdt = now()`,
    [row.mapref, row.prcid, row.epoch, row.jobid, row.keyColumns, row.checkpoint, row.lastRow, row.batches, row.rows],
  );
}
