// Reads and writes of the metadata database (DMS_DBCONDTLS, DMS_MAPR, DMS_JOB, DMS_PRCLOG,
// DMS_PRCPART).
import path from 'node:path';
import { and, desc, eq, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema';
import {
  dmsDbcondtls,
  dmsJob,
  dmsMapr,
  dmsPrclog,
  dmsPrcpart,
  type JobRow,
  type PartitionRow,
  type RunRow,
} from './schema';
import { partitionWorkflowId } from '../common/partition-ids';
import { didYouMean } from '../common/close-names';
import { ConfigError, MappingBusyError } from '../common/errors';
import { DEFINITION_FIELDS, parseMapping, sameDefinition, sameLoad, type MappingSpec } from '../common/mapping';
import type { ConnectionSpec } from '../dialects';
import { postgresPoolConfig } from '../dialects/postgres/postgres-connection';
import { POSTGRES_IDENTITY, quotePostgresIdentifier } from '../dialects/postgres/postgres-dialect';
import { RunStatus, type EndStatus } from '../common/run-status';

/** A run's row in DMS_PRCLOG, as the rest of the code names it: only this module reads the Drizzle schema. */
export type { RunRow };

export type MetadataDb = NodePgDatabase<typeof schema>;
type BatchCounts = { checkpoint: string | null; batches: number; rows: number };

const MIGRATIONS_FOLDER = path.join(__dirname, '..', 'migrations', 'pg');

export class Metadata {
  readonly db: MetadataDb;
  readonly pool: pg.Pool;

  private constructor(
    private readonly url: string,
    private readonly password: string | undefined,
  ) {
    this.pool = this.newPool({ max: 4, application_name: 'dms-etl metadata' });
    this.db = drizzle(this.pool, { schema });
  }

  /**
   * The metadata database at `url`. Its password is `password` (DMS_METADATA_PASSWORD) when
   * given, else the URL's, else PGPASSWORD or ~/.pgpass, as libpq would.
   */
  static open(url: string, password?: string): Metadata {
    return new Metadata(url, password);
  }

  /** Every pool is configured from the URL and password (node-postgres hides a pool's password from its options). */
  private newPool(settings: pg.PoolConfig): pg.Pool {
    const pool = new pg.Pool(postgresPoolConfig(this.url, { password: this.password, fallBack: true }, settings));
    pool.on('error', () => undefined);
    return pool;
  }

  /**
   * Mirrors of PARAM1 commit without waiting for the disk: DMS_CHKPNT is the truth, and a
   * mirror per batch would otherwise force a flush of the log per batch on this server.
   */
  private mirrors?: pg.Pool;

  private mirrorPool(): pg.Pool {
    this.mirrors ??= this.newPool({ max: 2, options: '-c synchronous_commit=off', application_name: 'dms-etl mirror' });
    return this.mirrors;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.mirrors?.end()]);
  }

  /** Creates or upgrades the metadata tables; safe to run any number of times. */
  async migrate(): Promise<void> {
    await migrate(this.db, { migrationsFolder: MIGRATIONS_FOLDER });
  }

  /** Runs fn in one transaction. */
  transaction<T>(fn: (tx: MetadataDb) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(tx as unknown as MetadataDb));
  }

  /**
   * The connection for a CONID, with its password read from the variable PWDENV names
   * (pass env = null to check only that the connection exists).
   */
  async connection(
    mapref: string,
    field: 'SRCCONID' | 'TRGCONID',
    conid: string,
    env: NodeJS.ProcessEnv | null = process.env,
  ): Promise<ConnectionSpec> {
    const [row] = await this.db.select().from(dmsDbcondtls).where(eq(dmsDbcondtls.conid, conid));
    if (!row) {
      throw new ConfigError(
        mapref,
        field,
        `is '${conid}', which is not in DMS_DBCONDTLS`,
        `add the connection (INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('${conid}', 'POSTGRES', 'postgres://user@host:5432/db', 'ENV_VAR_WITH_PASSWORD')) or point ${field} at an existing CONID`,
      );
    }
    return connectionSpecOf(mapref, field, row, env);
  }

  async mapping(mapref: string): Promise<MappingSpec> {
    const [row] = await this.db.select().from(dmsMapr).where(eq(dmsMapr.mapref, mapref));
    if (!row) {
      const known = (await this.db.select({ mapref: dmsMapr.mapref }).from(dmsMapr)).map((r) => r.mapref);
      throw new ConfigError(
        mapref,
        'MAPREF',
        'is not in DMS_MAPR',
        `${didYouMean(mapref, known)}\`dms mapping list\` lists the mappings (names are case-sensitive); add one with \`dms mapping apply <file.yaml>\``,
      );
    }
    return parseMapping(row);
  }

  /** Every mapping as DMS_MAPR holds it (unchecked: a row may not parse), by name. */
  async mappings(): Promise<(typeof dmsMapr.$inferSelect)[]> {
    return this.db.select().from(dmsMapr).orderBy(dmsMapr.mapref);
  }

  /** Upserts connections and mappings (`dms mapping apply`) in one transaction: all or nothing. */
  async applyCatalog(
    connections: { conid: string; dbtyp: string; conurl: string; pwdenv?: string | null }[],
    mappings: MappingSpec[],
  ): Promise<void> {
    await this.transaction(async (tx) => {
      for (const c of connections) {
        const values = { dbtyp: c.dbtyp, conurl: c.conurl, pwdenv: c.pwdenv ?? null };
        await tx
          .insert(dmsDbcondtls)
          .values({ conid: c.conid, ...values })
          .onConflictDoUpdate({ target: dmsDbcondtls.conid, set: { ...values, recupdt: new Date() } });
      }
      for (const m of mappings) {
        const values = Object.fromEntries(DEFINITION_FIELDS.map((f) => [f, m[f]]));
        await tx
          .insert(dmsMapr)
          .values({ mapref: m.mapref, ...values })
          .onConflictDoUpdate({ target: dmsMapr.mapref, set: { ...values, recupdt: new Date() } });
      }
    });
  }

  /** Every connection, by name (CONURL carries no password: a password in it is refused everywhere). */
  async connections(): Promise<(typeof dmsDbcondtls.$inferSelect)[]> {
    return this.db.select().from(dmsDbcondtls).orderBy(dmsDbcondtls.conid);
  }

  async currentJob(mapref: string): Promise<JobRow | undefined> {
    const [row] = await this.db
      .select()
      .from(dmsJob)
      .where(and(eq(dmsJob.mapref, mapref), eq(dmsJob.curflg, 'Y')));
    return row;
  }

  async job(jobid: number): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(dmsJob).where(eq(dmsJob.jobid, jobid));
    return row;
  }

  /**
   * Freezes a validated mapping into DMS_JOB. An unchanged definition keeps its job; a
   * changed one becomes the next version (the earlier one stays, no longer current).
   */
  async syncJob(spec: MappingSpec): Promise<{ job: JobRow; changed: boolean }> {
    return this.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'dms-job:' + spec.mapref}))`);
      const [current] = await tx
        .select()
        .from(dmsJob)
        .where(and(eq(dmsJob.mapref, spec.mapref), eq(dmsJob.curflg, 'Y')));
      if (current && sameDefinition(parseMapping(current), spec)) return { job: current, changed: false };
      if (current) {
        await tx.update(dmsJob).set({ curflg: 'N', recupdt: new Date() }).where(eq(dmsJob.jobid, current.jobid));
      }
      const definition = Object.fromEntries(DEFINITION_FIELDS.map((f) => [f, spec[f]]));
      const [job] = await tx
        .insert(dmsJob)
        .values({ mapref: spec.mapref, version: (current?.version ?? 0) + 1, ...definition, curflg: 'Y' })
        .returning();
      return { job, changed: true };
    });
  }

  /**
   * Claims a mapping for a run: opens its DMS_PRCLOG row ('IP'), resuming the latest run when
   * it did not complete. A start that finds another active run writes nothing and fails
   * naming its workflow; an active run whose workflow no longer runs is marked abandoned
   * ('FL') and taken over. Idempotent: a retry of the same workflow's start finds its own run.
   */
  async claimRun(
    input: { mapref: string; workflowId: string; firstRunId: string; fromStart: boolean },
    isWorkflowRunning: (workflowId: string, firstRunId: string | null) => Promise<boolean>,
  ): Promise<{ prcid: number; jobid: number; resumesRun: number | null; abandonedRun: number | null }> {
    return this.transaction(async (tx) => {
      const { mapref } = input;
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'dms-run:' + mapref}))`);
      const job = await this.currentJob(mapref);
      if (!job) {
        throw new ConfigError(
          mapref,
          'MAPREF',
          'has no job in DMS_JOB',
          `run \`dms job sync ${mapref}\` to validate the mapping and create its job`,
        );
      }
      const [active] = await tx
        .select()
        .from(dmsPrclog)
        .where(and(eq(dmsPrclog.mapref, mapref), eq(dmsPrclog.status, RunStatus.running)));
      if (active && active.wfid === input.workflowId && active.wfrunid === input.firstRunId) {
        return {
          prcid: active.prcid,
          jobid: active.jobid ?? job.jobid,
          resumesRun: active.resumedfrom,
          abandonedRun: null,
        };
      }
      let abandonedRun: number | null = null;
      if (active) {
        // One workflow id runs once at a time, so an active row of our own id is stale.
        const otherRuns =
          active.wfid !== null &&
          active.wfid !== input.workflowId &&
          (await isWorkflowRunning(active.wfid, active.wfrunid));
        if (otherRuns) throw new MappingBusyError(mapref, active.prcid, active.wfid!);
        await tx
          .update(dmsPrclog)
          .set({
            status: RunStatus.failed,
            enddt: new Date(),
            recupdt: new Date(),
            lasterr: `abandoned: workflow ${active.wfid ?? '?'} no longer runs; taken over by workflow ${input.workflowId}`,
          })
          .where(eq(dmsPrclog.prcid, active.prcid));
        abandonedRun = active.prcid;
      }
      const [latest] = await tx
        .select()
        .from(dmsPrclog)
        .where(eq(dmsPrclog.mapref, mapref))
        .orderBy(desc(dmsPrclog.prcid))
        .limit(1);
      const resume = !input.fromStart && latest !== undefined && latest.status !== RunStatus.completed;
      // A new job version that changes only how bad rows are handled (REJECTLMT) or how many bytes
      // a batch carries (BATCHBYTES) may resume.
      const [then] =
        resume && latest.jobid !== job.jobid && latest.jobid !== null
          ? await tx.select().from(dmsJob).where(eq(dmsJob.jobid, latest.jobid))
          : [];
      if (resume && latest.jobid !== job.jobid && !(then && sameLoad(parseMapping(then), parseMapping(job)))) {
        throw new ConfigError(
          mapref,
          'DMS_JOB',
          `changed since run ${latest.prcid} stopped unfinished (job ${latest.jobid} then, job ${job.jobid} version ${job.version} now); resuming would mix two definitions`,
          `restore the mapping and sync it again to resume, or load from the start with \`dms run ${mapref} --from-start\` (input {"mapref":"${mapref}","fromStart":true}) after emptying the target table`,
        );
      }
      const [run] = await tx
        .insert(dmsPrclog)
        .values({
          mapref,
          jobid: job.jobid,
          status: RunStatus.running,
          sessionid: input.workflowId,
          wfid: input.workflowId,
          wfrunid: input.firstRunId,
          resumedfrom: resume ? latest.prcid : null,
          // The state resumed from, as the run it resumes left it (PARAM1 with its batch count).
          param1: resume ? latest.param1 : null,
          ...(resume ? { batchcnt: latest.batchcnt, srcrows: latest.srcrows, trgrows: latest.trgrows } : {}),
        })
        .returning();
      return { prcid: run.prcid, jobid: job.jobid, resumesRun: run.resumedfrom, abandonedRun };
    });
  }

  async run(prcid: number): Promise<RunRow | undefined> {
    const [row] = await this.db.select().from(dmsPrclog).where(eq(dmsPrclog.prcid, prcid));
    return row;
  }

  /**
   * Per mapping with runs: how many are active (status IP, one at most) and when the last
   * completed one ended; for the worker's gauges (worker/metrics.ts).
   */
  async runGauges(): Promise<{ mapref: string; active: number; lastCompleted: Date | null }[]> {
    return this.db
      .select({
        mapref: dmsPrclog.mapref,
        active: sql<number>`count(*) FILTER (WHERE ${dmsPrclog.status} = 'IP')`.mapWith(Number),
        lastCompleted: sql<Date | null>`max(${dmsPrclog.enddt}) FILTER (WHERE ${dmsPrclog.status} = 'PC')`.mapWith(
          (v: string | Date | null) => (v === null ? null : new Date(v)),
        ),
      })
      .from(dmsPrclog)
      .groupBy(dmsPrclog.mapref);
  }

  async latestRuns(mapref: string, limit: number): Promise<RunRow[]> {
    return this.db
      .select()
      .from(dmsPrclog)
      .where(eq(dmsPrclog.mapref, mapref))
      .orderBy(desc(dmsPrclog.prcid))
      .limit(limit);
  }

  private identityCache?: Promise<{ id: string; schema: string }>;

  /** This database's identity (compared with a target's) and the schema of its tables. */
  identity(): Promise<{ id: string; schema: string }> {
    this.identityCache ??= this.pool
      .query<{ id: string; schema: string }>(`SELECT ${POSTGRES_IDENTITY} AS id, current_schema() AS schema`)
      .then((r) => r.rows[0]);
    // A failed look-up must not stick: the next call asks again.
    this.identityCache.catch(() => (this.identityCache = undefined));
    return this.identityCache;
  }

  /**
   * The statement that mirrors a committed checkpoint into PARAM1 (never moving a run's
   * counters backwards): run here after the batch commits, or inside the batch's own
   * transaction where the target is this database.
   */
  async mirrorStatement(
    prcid: number,
    state: { checkpoint: string | null; batches: number; rows: number },
  ): Promise<{ sql: string; values: unknown[] }> {
    const { schema } = await this.identity();
    return {
      sql: `UPDATE ${quotePostgresIdentifier(schema)}.dms_prclog
               SET param1 = $2, batchcnt = $3, srcrows = $4, trgrows = $4, lasterr = NULL, recupdt = now()
             WHERE prcid = $1 AND status = 'IP' AND batchcnt <= $3`,
      values: [prcid, state.checkpoint, state.batches, state.rows],
    };
  }

  async mirrorCheckpoint(
    prcid: number,
    state: { checkpoint: string | null; batches: number; rows: number },
  ): Promise<void> {
    const { sql: text, values } = await this.mirrorStatement(prcid, state);
    await this.mirrorPool().query(text, values);
  }

  /**
   * Records a checkpoint reset made while the mapping does not run (`dms checkpoint reset`):
   * a run row 'CN' that loaded nothing, whose PARAM1 is the new checkpoint (NULL: the start)
   * with the counters the checkpoint had, for the next run to resume from. `move` takes the
   * target's checkpoint row over for that run inside this transaction: both commit, or
   * neither. Returns the active run instead when there is one.
   */
  async recordCheckpointReset(
    reset: { mapref: string; jobid: number; param1: string | null; batches: number; rows: number; note: string },
    move: (prcid: number) => Promise<void>,
  ): Promise<{ prcid: number } | { active: RunRow }> {
    return this.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'dms-run:' + reset.mapref}))`);
      const [active] = await tx
        .select()
        .from(dmsPrclog)
        .where(and(eq(dmsPrclog.mapref, reset.mapref), eq(dmsPrclog.status, RunStatus.running)));
      if (active) return { active };
      const [row] = await tx
        .insert(dmsPrclog)
        .values({
          mapref: reset.mapref,
          jobid: reset.jobid,
          status: RunStatus.cancelled,
          sessionid: 'dms checkpoint reset',
          enddt: new Date(),
          param1: reset.param1,
          batchcnt: reset.batches,
          srcrows: reset.rows,
          trgrows: reset.rows,
          lasterr: reset.note,
        })
        .returning({ prcid: dmsPrclog.prcid });
      await move(row.prcid);
      return { prcid: row.prcid };
    });
  }

  /**
   * Records a partitioned run's key ranges in DMS_PRCPART (rows 1..N; row 0 holds what the
   * run loaded before its ranges, the NULL-key phase) and sums them into DMS_PRCLOG.
   * Idempotent: a retried pre-flight writes the same rows again.
   */
  async recordRanges(
    prcid: number,
    own: BatchCounts,
    ranges: { k: number; after: string | null; upTo: string | null; state: BatchCounts; done: boolean }[],
  ): Promise<void> {
    const run = await this.run(prcid);
    const rows = [
      {
        prcid,
        partno: 0,
        afterkey: null,
        uptokey: null,
        status: RunStatus.completed,
        param1: own.checkpoint,
        batchcnt: own.batches,
        trgrows: own.rows,
        wfid: run?.wfid ?? null,
      },
      ...ranges.map((r) => ({
        prcid,
        partno: r.k,
        afterkey: r.after,
        uptokey: r.upTo,
        status: r.done ? RunStatus.completed : RunStatus.running,
        param1: r.state.checkpoint,
        batchcnt: r.state.batches,
        trgrows: r.state.rows,
        wfid: run?.wfid ? partitionWorkflowId(run.wfid, r.k) : null,
      })),
    ];
    await this.transaction(async (tx) => {
      await tx.delete(dmsPrcpart).where(eq(dmsPrcpart.prcid, prcid));
      await tx.insert(dmsPrcpart).values(rows);
    });
    await this.sumRanges(prcid);
  }

  /**
   * Mirrors a range's committed state into DMS_PRCPART (never backwards), and with `done`
   * marks it complete and sums the ranges into the run's DMS_PRCLOG row.
   */
  async mirrorRange(prcid: number, k: number, state: BatchCounts, done: boolean): Promise<void> {
    const { schema } = await this.identity();
    await this.mirrorPool().query(
      `UPDATE ${quotePostgresIdentifier(schema)}.dms_prcpart
          SET param1 = $3, batchcnt = $4, trgrows = $5, status = CASE WHEN $6 THEN 'PC' ELSE status END, recupdt = now()
        WHERE prcid = $1 AND partno = $2 AND batchcnt <= $4`,
      [prcid, k, state.checkpoint, state.batches, state.rows, done],
    );
    if (done) await this.sumRanges(prcid);
  }

  /** DMS_PRCLOG of a partitioned run: PARAM1 'PARTITIONS <complete>/<N>', counters summed over its ranges. */
  async sumRanges(prcid: number): Promise<void> {
    const { schema } = await this.identity();
    const s = quotePostgresIdentifier(schema);
    await this.mirrorPool().query(
      `UPDATE ${s}.dms_prclog l
          SET param1 = 'PARTITIONS ' || t.done || '/' || t.n, batchcnt = t.batches, srcrows = t.rows, trgrows = t.rows, lasterr = NULL, recupdt = now()
         FROM (SELECT count(*) FILTER (WHERE partno > 0 AND status = 'PC') AS done, count(*) FILTER (WHERE partno > 0) AS n,
                      sum(batchcnt) AS batches, sum(trgrows) AS rows
                 FROM ${s}.dms_prcpart WHERE prcid = $1) t
        WHERE l.prcid = $1 AND l.status = 'IP' AND t.n > 0`,
      [prcid],
    );
  }

  /** A partitioned run's key ranges (row 0: what it loaded before them), in order; empty for any other run. */
  async ranges(prcid: number): Promise<PartitionRow[]> {
    return this.db.select().from(dmsPrcpart).where(eq(dmsPrcpart.prcid, prcid)).orderBy(dmsPrcpart.partno);
  }

  /** A run that was claimed as a resume but starts over: PARAM1 and its counters from zero. */
  async restartRun(prcid: number): Promise<void> {
    await this.db
      .update(dmsPrclog)
      .set({ param1: null, batchcnt: 0, srcrows: 0, trgrows: 0, recupdt: new Date() })
      .where(eq(dmsPrclog.prcid, prcid));
  }

  /** Records the strategy a run uses once AUTO is decided. */
  async recordStrategy(prcid: number, strategy: string): Promise<void> {
    await this.db
      .update(dmsPrclog)
      .set({ chkpntstrategy: strategy, recupdt: new Date() })
      .where(eq(dmsPrclog.prcid, prcid));
  }

  /** Shows the error a run is retrying after. */
  /** Sets how many rows the run has rejected (counted in the target's DMS_REJECT: setting it twice is harmless). */
  async recordRejects(prcid: number, rows: number): Promise<void> {
    await this.db.update(dmsPrclog).set({ rejrows: rows, recupdt: new Date() }).where(eq(dmsPrclog.prcid, prcid));
  }

  async recordError(prcid: number, message: string): Promise<void> {
    await this.db
      .update(dmsPrclog)
      .set({ lasterr: message, recupdt: new Date() })
      .where(and(eq(dmsPrclog.prcid, prcid), eq(dmsPrclog.status, RunStatus.running)));
  }

  /** Ends a run that is still active; a run already ended (or taken over) is left alone. */
  async endRun(
    prcid: number,
    status: EndStatus,
    param1: string | null,
    error: string | null,
    counters: { batches: number; rows: number },
  ): Promise<boolean> {
    const rows = await this.db
      .update(dmsPrclog)
      .set({
        status,
        param1,
        lasterr: error,
        batchcnt: counters.batches,
        srcrows: counters.rows,
        trgrows: counters.rows,
        enddt: new Date(),
        recupdt: new Date(),
      })
      .where(and(eq(dmsPrclog.prcid, prcid), eq(dmsPrclog.status, RunStatus.running)))
      .returning({ prcid: dmsPrclog.prcid });
    return rows.length > 0;
  }
}

/**
 * A DMS_DBCONDTLS row as a connection to open: its password read from the variable PWDENV
 * names (unless env is null), which must then be set.
 */
export function connectionSpecOf(
  mapref: string,
  field: 'SRCCONID' | 'TRGCONID',
  row: { conid: string; dbtyp: string; conurl: string; pwdenv?: string | null },
  env: NodeJS.ProcessEnv | null = process.env,
  where: { here: string; fix: string } = { here: 'on the worker', fix: "in the worker's environment and restart it" },
): ConnectionSpec {
  let password: string | undefined;
  const passwordEnv = row.pwdenv?.trim() || undefined;
  if (passwordEnv && env) {
    password = env[passwordEnv];
    if (!password) {
      const state = `which is ${password === undefined ? 'not set' : 'empty'} ${where.here}`;
      throw new ConfigError(
        mapref,
        field,
        `uses connection '${row.conid}', whose PWDENV names the environment variable ${passwordEnv}, ${state}`,
        `export ${passwordEnv} with the password of connection '${row.conid}' ${where.fix}`,
      );
    }
  }
  return { conid: row.conid, dbtyp: row.dbtyp, url: row.conurl, password, passwordEnv };
}
