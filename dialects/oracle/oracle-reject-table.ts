// Oracle's DMS_REJECT (unverified: never run against an Oracle server): the rows a target
// refused under DMS_MAPR.REJECTLMT, written in the batch's own transaction. The SQL text and
// binds are proven by unit tests only (test/unit/oracle-rejects.test.ts).
import oracledb from 'oracledb';
import type { RejectedRow, RejectListing } from '../dialect';
import { quoteOracleIdentifier as q } from './oracle-sql';

/** DMS_REJECT in `schema` (a DBA may create it from this text: docs/rejects.md). */
export function rejectTableDdl(schema: string): string {
  return `CREATE TABLE ${q(schema)}."DMS_REJECT" (
  "REJID" NUMBER(19) GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "MAPREF" VARCHAR2(128) NOT NULL,
  "PRCID" NUMBER(19) NOT NULL,
  "BATCHNO" NUMBER(19) NOT NULL,
  "KEYVALS" VARCHAR2(4000),
  "ERRCODE" VARCHAR2(16),
  "ERRMSG" VARCHAR2(4000) NOT NULL,
  "ERRCOL" VARCHAR2(128),
  "ROWVALS" CLOB NOT NULL CHECK ("ROWVALS" IS JSON),
  "RECCRDT" TIMESTAMP(6) DEFAULT SYSTIMESTAMP NOT NULL
)`;
}

export const REJECT_TABLE_EXISTS_SQL = `SELECT 1 FROM ALL_TABLES WHERE OWNER = :k1 AND TABLE_NAME = 'DMS_REJECT'`;

/** One rejected row. Values: the eight of RejectedRow, in this order. */
export function insertRejectSql(schema: string): string {
  return `INSERT INTO ${q(schema)}."DMS_REJECT" ("MAPREF", "PRCID", "BATCHNO", "KEYVALS", "ERRCODE", "ERRMSG", "ERRCOL", "ROWVALS") VALUES (:k1, :k2, :k3, :k4, :k5, :k6, :k7, :k8)`;
}

export function rejectBinds(rows: RejectedRow[]): unknown[][] {
  // Oracle's VARCHAR2(4000) holds at most 4000 bytes: a longer message or key is cut, never refused.
  const cut = (v: string | null, bytes = 4000) =>
    v === null
      ? null
      : Buffer.from(v, 'utf8')
          .subarray(0, bytes)
          .toString('utf8')
          .replace(/\uFFFD$/, '');
  return rows.map((r) => [r.mapref, r.prcid, r.batch, cut(r.key), r.code, cut(r.message), r.column, r.values]);
}

export const REJECT_BIND_DEFS = [
  { type: oracledb.DB_TYPE_VARCHAR, maxSize: 128 },
  { type: oracledb.DB_TYPE_NUMBER },
  { type: oracledb.DB_TYPE_NUMBER },
  { type: oracledb.DB_TYPE_VARCHAR, maxSize: 4000 },
  { type: oracledb.DB_TYPE_VARCHAR, maxSize: 16 },
  { type: oracledb.DB_TYPE_VARCHAR, maxSize: 4000 },
  { type: oracledb.DB_TYPE_VARCHAR, maxSize: 128 },
  { type: oracledb.DB_TYPE_CLOB },
];

/** Values: [mapref, prcid]. */
export function countRejectsSql(schema: string): string {
  return `SELECT COUNT(*) FROM ${q(schema)}."DMS_REJECT" WHERE "MAPREF" = :k1 AND "PRCID" = :k2`;
}

/** Values: [mapref, prcid or null, prcid or null, limit]. */
export function listRejectsSql(schema: string): string {
  return `SELECT "MAPREF", "PRCID", "BATCHNO", "KEYVALS", "ERRCODE", "ERRMSG", "ERRCOL", "ROWVALS", "RECCRDT" FROM ${q(schema)}."DMS_REJECT"
 WHERE "MAPREF" = :k1 AND (:k2 IS NULL OR "PRCID" = :k3) ORDER BY "REJID" FETCH FIRST :k4 ROWS ONLY`;
}

export function listingOf(r: unknown[]): RejectListing {
  const [mapref, prcid, batch, key, code, message, column, values, at] = r as [
    string,
    number,
    number,
    string | null,
    string | null,
    string,
    string | null,
    string,
    Date | string,
  ];
  return { mapref, prcid: Number(prcid), batch: Number(batch), key, code, message, column, values, at: new Date(at) };
}
