// SQL text for Oracle as a target: DMS_CHKPNT's
// DDL and its reads and writes, the fenced lock, and the statements that load a batch's text
// values into typed columns (one executeMany per chunk, every bind a string but a LOB's). Every value is a
// bind; names are resolved identifiers, quoted.
import oracledb from 'oracledb';
import { rowText, textRows, type RowValue } from '../row-values';
import { OracleError } from './oracle-errors';
import { quoteOracleIdentifier as q } from './oracle-sql';
import { keyBind } from './oracle-types';

/** DMS_CHKPNT in `schema` (a DBA may create it from this text: docs/oracle.md). */
export function checkpointTableDdl(schema: string): string {
  return `CREATE TABLE ${q(schema)}."DMS_CHKPNT" (
  "MAPREF" VARCHAR2(128) NOT NULL PRIMARY KEY,
  "PRCID" NUMBER(19) NOT NULL,
  "EPOCH" NUMBER(19) NOT NULL,
  "JOBID" NUMBER(19) NOT NULL,
  "KEYCOLS" VARCHAR2(4000),
  "CHKPNT" VARCHAR2(4000),
  "LASTROW" VARCHAR2(4000),
  "BATCHCNT" NUMBER(19) DEFAULT 0 NOT NULL,
  "TRGROWS" NUMBER(19) DEFAULT 0 NOT NULL,
  "TRNCPEND" VARCHAR2(4000),
  "RECUPDT" TIMESTAMP(6) DEFAULT SYSTIMESTAMP NOT NULL
)`;
}

const COLUMNS = `"MAPREF", "PRCID", "EPOCH", "JOBID", "KEYCOLS", "CHKPNT", "LASTROW", "BATCHCNT", "TRGROWS", "TRNCPEND"`;

/**
 * A mapping's checkpoint row, locked for the batch's transaction: a lock held elsewhere (a
 * zombie attempt, a user) is waited for at most `waitSeconds`, then ORA-30006 (retried).
 * Values: [mapref].
 */
export function lockCheckpointSql(schema: string, waitSeconds: number): string {
  return `${readCheckpointSql(schema)} FOR UPDATE WAIT ${Math.max(1, Math.ceil(waitSeconds))}`;
}

/** A mapping's checkpoint row as it stands, unlocked. Values: [mapref]. */
export function readCheckpointSql(schema: string): string {
  return `SELECT ${COLUMNS} FROM ${q(schema)}."DMS_CHKPNT" WHERE "MAPREF" = :k1`;
}

/** Inserts or replaces a mapping's row. Values: the ten columns, in COLUMNS' order. */
export function writeCheckpointSql(schema: string): string {
  const source = COLUMNS.split(', ')
    .map((c, i) => `:k${i + 1} AS ${c}`)
    .join(', ');
  const set = COLUMNS.split(', ')
    .filter((c) => c !== '"MAPREF"')
    .map((c) => `t.${c} = s.${c}`)
    .join(', ');
  return `MERGE INTO ${q(schema)}."DMS_CHKPNT" t USING (SELECT ${source} FROM DUAL) s ON (t."MAPREF" = s."MAPREF")
WHEN MATCHED THEN UPDATE SET ${set}, t."RECUPDT" = SYSTIMESTAMP
WHEN NOT MATCHED THEN INSERT (${COLUMNS}) VALUES (${COLUMNS.split(', ')
    .map((c) => `s.${c}`)
    .join(', ')})`;
}

/** A target column and its type's name (node-oracledb's dbTypeName, or ALL_TAB_COLUMNS.DATA_TYPE). */
export interface TargetColumn {
  name: string;
  type: string;
}

/** A date and time, then a fraction and an offset a DATE has no room for (replaced by the first group). */
const DATE_PART = '^([0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9:]{8})?)[.0-9]*([+-][0-9:]+)?';

/**
 * A bind (text in RowBatch's form) as the target column's type: numbers through TO_NUMBER,
 * dates and timestamps through their ISO formats (a zoned value's +00 read as its zone), RAW
 * from \x hex, LOBs bound as LOBs (lobBind), the rest as they are.
 */
export function valueBind(type: string, bind: string): string {
  const bare = type.replace(/\(\d+\)/g, '');
  switch (bare) {
    case 'DATE':
      // A timestamp's fraction and offset dropped; anything after them (' BC') kept, so
      // that the conversion refuses it rather than load the year as AD.
      return `TO_DATE(REGEXP_REPLACE(${bind}, '${DATE_PART}', '\\1'), 'YYYY-MM-DD HH24:MI:SS')`;
    case 'TIMESTAMP':
      return `TO_TIMESTAMP(${bind}, 'YYYY-MM-DD HH24:MI:SS.FF9')`;
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP WITH LOCAL TIME ZONE':
      return `TO_TIMESTAMP_TZ(${bind}, 'YYYY-MM-DD HH24:MI:SS.FF9TZH')`;
    case 'RAW':
      return `HEXTORAW(SUBSTR(${bind}, 3))`;
    default:
      // As a key's text is bound back: numbers, timestamps (a zoned one by its +00), text.
      return keyBind(bare, bind);
  }
}

/**
 * The columns whose values are bound as the driver's LOBs, of any size (it makes each a
 * temporary LOB): a text bind is capped at 32,767 bytes, and a BLOB through HEXTORAW of its hex
 * text at 2,000 bytes. A BLOB's value is bound as its bytes.
 */
const LOB_BINDS: Record<string, oracledb.DbType> = {
  BLOB: oracledb.DB_TYPE_BLOB,
  CLOB: oracledb.DB_TYPE_CLOB,
  NCLOB: oracledb.DB_TYPE_NCLOB,
};

/** The driver's LOB type a column's values are bound as, or undefined: bound as text. */
export function lobBind(type: string): oracledb.DbType | undefined {
  return LOB_BINDS[type];
}

const HEX_BYTES = /^\\x(?:[0-9a-fA-F]{2})*$/;

/**
 * A chunk's rows as executeMany binds them: a BLOB column's values as bytes (RowBatch's bytes as
 * they are, its \x hex text decoded), every other value as its text. A BLOB's text that is not
 * \x hex fails as Oracle's HEXTORAW would, naming the column, and loads nothing.
 */
export function bindRows(rows: RowValue[][], columns: TargetColumn[]): unknown[][] {
  const blobs = columns.flatMap((c, i) => (LOB_BINDS[c.type] === oracledb.DB_TYPE_BLOB ? [i] : []));
  if (blobs.length === 0) return textRows(rows);
  return rows.map((row) => {
    const out: unknown[] = rowText(row.map((v, i) => (blobs.includes(i) ? null : v)));
    for (const i of blobs) {
      const v = row[i];
      if (v === null || Buffer.isBuffer(v)) out[i] = v;
      else if (HEX_BYTES.test(v)) out[i] = Buffer.from(v.slice(2), 'hex');
      else
        throw new OracleError(
          `invalid hex number: the value for BLOB column ${columns[i].name} is not bytes in \\x hex form [ORA-01465]`,
          '22P02',
          'ORA-01465',
        );
    }
    return out;
  });
}

/** One row's INSERT, for executeMany over a chunk. Values: one string per column, in order. */
export function insertSql(schema: string, table: string, columns: TargetColumn[]): string {
  const names = columns.map((c) => q(c.name)).join(', ');
  const values = columns.map((c, i) => valueBind(c.type, `:k${i + 1}`)).join(', ');
  return `INSERT INTO ${q(schema)}.${q(table)} (${names}) VALUES (${values})`;
}

/**
 * One row's MERGE on `key` (LOADMODE UPSERT), for executeMany over a chunk: a row whose key
 * matches replaces it, any other is inserted. Two rows with one key in a batch are found in
 * the worker before this runs (as on the other engines). Values: one string per column.
 */
export function mergeSql(schema: string, table: string, columns: TargetColumn[], key: string[]): string {
  const source = columns.map((c, i) => `${valueBind(c.type, `:k${i + 1}`)} AS ${q(c.name)}`).join(', ');
  const on = key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  const rest = columns.filter((c) => !key.includes(c.name));
  const update = rest.length
    ? `\nWHEN MATCHED THEN UPDATE SET ${rest.map((c) => `t.${q(c.name)} = s.${q(c.name)}`).join(', ')}`
    : '';
  return `MERGE INTO ${q(schema)}.${q(table)} t USING (SELECT ${source} FROM DUAL) s ON (${on})${update}
WHEN NOT MATCHED THEN INSERT (${columns.map((c) => q(c.name)).join(', ')}) VALUES (${columns.map((c) => `s.${q(c.name)}`).join(', ')})`;
}

/** The target table's columns and types. Values: [owner, table]. */
export const TABLE_COLUMNS_SQL = `SELECT "COLUMN_NAME", "DATA_TYPE" FROM ALL_TAB_COLUMNS WHERE "OWNER" = :k1 AND "TABLE_NAME" = :k2 ORDER BY "COLUMN_ID"`;

/**
 * A checkpoint as DMS_CHKPNT.CHKPNT keeps it on Oracle, which stores '' as NULL: a key whose one
 * value is '' (from a PostgreSQL or MariaDB source) would read back as "no checkpoint", and the
 * next batch would find the row changed and then start over. A text that is empty or begins
 * with the marker (U+001E, which no key text begins with in practice) is kept with the marker in
 * front; every other text as it is, so rows written before keep their meaning.
 */
const MARKER = '\u001e';

export function storedCheckpoint(checkpoint: string | null): string | null {
  if (checkpoint === null) return null;
  return checkpoint === '' || checkpoint.startsWith(MARKER) ? `${MARKER}${checkpoint}` : checkpoint;
}

/** The checkpoint a stored DMS_CHKPNT.CHKPNT holds (storedCheckpoint undone). */
export function checkpointOf(stored: string | null): string | null {
  if (stored === null) return null;
  return stored.startsWith(MARKER) ? stored.slice(1) : stored;
}
