// The metadata schema (PostgreSQL). Users edit these tables with plain SQL, so every name
// is lower case and unquoted-compatible, and every column a user does not name in an
// INSERT has a default (nullable columns default to NULL).
import { sql } from 'drizzle-orm';
import {
  bigint,
  char,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';

const created = () => timestamp('reccrdt', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('recupdt', { withTimezone: true }).notNull().defaultNow();

/** Named connections. CONURL carries no password; PWDENV names the variable that does. */
export const dmsDbcondtls = pgTable('dms_dbcondtls', {
  conid: varchar('conid', { length: 64 }).primaryKey(),
  dbtyp: varchar('dbtyp', { length: 20 }).notNull(),
  conurl: text('conurl').notNull(),
  pwdenv: varchar('pwdenv', { length: 128 }),
  reccrdt: created(),
  recupdt: updated(),
});

/** Mapping columns shared by DMS_MAPR (edited by users) and DMS_JOB (its frozen copy). */
const mappingColumns = () => ({
  srcconid: varchar('srcconid', { length: 64 }),
  srcquery: text('srcquery'),
  trgconid: varchar('trgconid', { length: 64 }),
  trgschm: varchar('trgschm', { length: 128 }),
  trgtbnm: varchar('trgtbnm', { length: 128 }),
  trgkeycols: varchar('trgkeycols', { length: 1000 }),
  loadmode: varchar('loadmode', { length: 20 }).notNull().default('APPEND'),
  bulklmt: integer('bulklmt').notNull().default(1000),
  chkpntstrategy: varchar('chkpntstrategy', { length: 20 }).notNull().default('AUTO'),
  chkpntcolumn: varchar('chkpntcolumn', { length: 1000 }),
  chkpntenabled: char('chkpntenabled', { length: 1 }).notNull().default('Y'),
  /** What to do with rows whose key is NULL: 'FAIL' the run before any row moves, or load them 'FIRST'. */
  chkpntnulls: varchar('chkpntnulls', { length: 10 }).notNull().default('FAIL'),
  /** INCREMENTAL on a date/time key: re-read this much before the high-water mark (e.g. '15 minutes'). */
  chkpntlookback: varchar('chkpntlookback', { length: 64 }),
  /** Key ranges loaded at once (a KEY load); 1 loads the mapping as one sequence of batches. */
  partitions: integer('partitions').notNull().default(1),
  /** The most rows one run may reject into the target's DMS_REJECT; 0: a bad row fails the run. */
  rejectlmt: integer('rejectlmt').notNull().default(0),
  /** The most bytes of row text one batch carries, below the worker's DMS_BATCH_BYTES; NULL: the worker's. */
  batchbytes: integer('batchbytes'),
});

/** What to load. */
export const dmsMapr = pgTable('dms_mapr', {
  mapref: varchar('mapref', { length: 128 }).primaryKey(),
  ...mappingColumns(),
  reccrdt: created(),
  recupdt: updated(),
});

/** The validated, versioned copy of a mapping that runs (`dms job sync`). */
export const dmsJob = pgTable(
  'dms_job',
  {
    jobid: bigint('jobid', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    mapref: varchar('mapref', { length: 128 }).notNull(),
    version: integer('version').notNull().default(1),
    ...mappingColumns(),
    curflg: char('curflg', { length: 1 }).notNull().default('Y'),
    reccrdt: created(),
    recupdt: updated(),
  },
  (t) => [
    uniqueIndex('dms_job_mapref_version_uq').on(t.mapref, t.version),
    uniqueIndex('dms_job_current_uq')
      .on(t.mapref)
      .where(sql`curflg = 'Y'`),
  ],
);

/** One row per run. PARAM1 mirrors the checkpoint kept in the target's DMS_CHKPNT. */
export const dmsPrclog = pgTable(
  'dms_prclog',
  {
    prcid: bigint('prcid', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sessionid: varchar('sessionid', { length: 300 }),
    jobid: bigint('jobid', { mode: 'number' }),
    mapref: varchar('mapref', { length: 128 }).notNull(),
    status: varchar('status', { length: 2 }).notNull().default('IP'),
    strtdt: timestamp('strtdt', { withTimezone: true }).notNull().defaultNow(),
    enddt: timestamp('enddt', { withTimezone: true }),
    param1: text('param1'),
    chkpntstrategy: varchar('chkpntstrategy', { length: 20 }),
    resumedfrom: bigint('resumedfrom', { mode: 'number' }),
    srcrows: bigint('srcrows', { mode: 'number' }).notNull().default(0),
    trgrows: bigint('trgrows', { mode: 'number' }).notNull().default(0),
    batchcnt: bigint('batchcnt', { mode: 'number' }).notNull().default(0),
    /** Rows the run rejected into the target's DMS_REJECT (REJECTLMT). */
    rejrows: bigint('rejrows', { mode: 'number' }).notNull().default(0),
    lasterr: text('lasterr'),
    wfid: varchar('wfid', { length: 300 }),
    wfrunid: varchar('wfrunid', { length: 64 }),
    reccrdt: created(),
    recupdt: updated(),
  },
  (t) => [
    // One active run per mapping, whatever its workflow id.
    uniqueIndex('dms_prclog_one_active_uq')
      .on(t.mapref)
      .where(sql`status = 'IP'`),
    index('dms_prclog_mapref_idx').on(t.mapref, t.prcid),
    check('dms_prclog_status_ck', sql`status IN ('IP', 'PC', 'FL', 'CN')`),
  ],
);

/**
 * One row per key range of a partitioned run (DMS_MAPR.PARTITIONS > 1): its bounds, status and
 * progress. It mirrors the range's checkpoint row in the target's DMS_CHKPNT (keyed
 * `<MAPREF>#p<k>`), which is the truth; a resume copies the ranges into its own run's rows.
 */
export const dmsPrcpart = pgTable(
  'dms_prcpart',
  {
    prcid: bigint('prcid', { mode: 'number' }).notNull(),
    partno: integer('partno').notNull(),
    /** The range runs after this key (NULL: from the start) up to and including UPTOKEY. */
    afterkey: text('afterkey'),
    /** NULL: the last range, open above. */
    uptokey: text('uptokey'),
    /** IP while the range loads, PC once it is complete. */
    status: varchar('status', { length: 2 }).notNull().default('IP'),
    param1: text('param1'),
    batchcnt: bigint('batchcnt', { mode: 'number' }).notNull().default(0),
    trgrows: bigint('trgrows', { mode: 'number' }).notNull().default(0),
    wfid: varchar('wfid', { length: 300 }),
    reccrdt: created(),
    recupdt: updated(),
  },
  (t) => [
    uniqueIndex('dms_prcpart_pk').on(t.prcid, t.partno),
    check('dms_prcpart_status_ck', sql`status IN ('IP', 'PC')`),
  ],
);

export type JobRow = typeof dmsJob.$inferSelect;
export type RunRow = typeof dmsPrclog.$inferSelect;
export type PartitionRow = typeof dmsPrcpart.$inferSelect;
