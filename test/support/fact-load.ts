// A mapping over a fact table: source and target in different databases, metadata in a
// third, as a user would set it up with plain SQL.
import { Metadata } from '../../metadata/repository';
import { conurlFor, PG_PASSWORD_ENV, urlFor, withClient, type TestDatabases } from './postgres';

export const FACT_COLUMNS = `
  sale_id bigint PRIMARY KEY,
  store_id int NOT NULL,
  amount numeric(12,2),
  sold_at timestamptz,
  note text`;

/** Creates the source table with `rows` rows (text with tabs, newlines and backslashes). */
export async function createFactSource(source: string, rows: number, table = 'sales'): Promise<void> {
  await withClient(source, async (c) => {
    await c.query(`CREATE TABLE ${table} (${FACT_COLUMNS})`);
    await c.query(
      `INSERT INTO ${table}
       SELECT g * 3, g % 97, (g % 100000) / 100.0,
              timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second',
              CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g || E'\\twith\\ttabs\\\\ and \\n newline é' END
         FROM generate_series(1, $1) g`,
      [rows],
    );
  });
}

/**
 * The fact table's columns for a target: no primary key, so a batch loaded twice shows as
 * extra rows (a key would turn it into a constraint error that an exact compare never sees).
 */
export const FACT_TARGET_COLUMNS = FACT_COLUMNS.replace('PRIMARY KEY', 'NOT NULL');

/** Creates a target for the fact table: without a primary key unless a merge needs one. */
export async function createFactTarget(
  target: string,
  table = 'sales_copy',
  opts: { primaryKey?: boolean } = {},
): Promise<void> {
  await withClient(target, (c) =>
    c.query(`CREATE TABLE ${table} (${opts.primaryKey ? FACT_COLUMNS : FACT_TARGET_COLUMNS})`),
  );
}

export interface MappingOptions {
  mapref: string;
  batchSize: number;
  srcquery?: string;
  trgtbnm?: string;
  chkpntcolumn?: string;
  /** Any other DMS_MAPR column, as a user would set it. */
  columns?: Record<string, string | number | null>;
}

/** Migrates the metadata database, registers both connections and the mapping, syncs the job. */
export async function registerMapping(dbs: TestDatabases, options: MappingOptions): Promise<void> {
  const metadata = Metadata.open(urlFor(dbs.metadata));
  try {
    await metadata.migrate();
    await withClient(dbs.metadata, async (c) => {
      await c.query(
        `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRC', 'POSTGRES', $1, $3), ('TGT', 'POSTGRES', $2, $3)
         ON CONFLICT (conid) DO NOTHING`,
        [conurlFor(dbs.source), conurlFor(dbs.target), PG_PASSWORD_ENV],
      );
      const row: Record<string, string | number | null> = {
        mapref: options.mapref,
        srcconid: 'SRC',
        srcquery: options.srcquery ?? 'SELECT * FROM sales',
        trgconid: 'TGT',
        trgschm: 'PUBLIC',
        trgtbnm: options.trgtbnm ?? 'SALES_COPY',
        loadmode: 'APPEND',
        bulklmt: options.batchSize,
        chkpntstrategy: 'KEY',
        chkpntcolumn: options.chkpntcolumn ?? 'SALE_ID',
        chkpntenabled: 'Y',
        ...options.columns,
      };
      const names = Object.keys(row);
      await c.query(
        `INSERT INTO dms_mapr (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    });
    await metadata.syncJob(await metadata.mapping(options.mapref));
  } finally {
    await metadata.close();
  }
}

export interface CheckpointView {
  prcid: number;
  epoch: number;
  chkpnt: string | null;
  batchcnt: number;
  trgrows: number;
}

export async function checkpointRow(target: string, mapref: string): Promise<CheckpointView | undefined> {
  return withClient(target, async (c) => {
    const exists = await c.query(`SELECT to_regclass('public.dms_chkpnt') AS t`);
    if (!exists.rows[0].t) return undefined;
    const { rows } = await c.query(
      `SELECT prcid, epoch, chkpnt, batchcnt, trgrows FROM public.dms_chkpnt WHERE mapref = $1`,
      [mapref],
    );
    const r = rows[0];
    return r
      ? {
          prcid: Number(r.prcid),
          epoch: Number(r.epoch),
          chkpnt: r.chkpnt,
          batchcnt: Number(r.batchcnt),
          trgrows: Number(r.trgrows),
        }
      : undefined;
  });
}

export async function runs(metadata: string, mapref: string) {
  return withClient(metadata, async (c) => {
    const { rows } = await c.query(
      `SELECT prcid, status, param1, batchcnt, trgrows, rejrows, lasterr, wfid, resumedfrom FROM dms_prclog WHERE mapref = $1 ORDER BY prcid`,
      [mapref],
    );
    return rows.map((r) => ({
      ...r,
      prcid: Number(r.prcid),
      batchcnt: Number(r.batchcnt),
      trgrows: Number(r.trgrows),
      rejrows: Number(r.rejrows),
    }));
  });
}
