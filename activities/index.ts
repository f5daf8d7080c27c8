// The activities of a dms-etl run, built by a factory from their dependencies so that the
// workflow bundle never imports a driver (it imports only the type of createActivities).
//
//   const activities = createActivities({ metadata, databases, isWorkflowRunning, settings });
//   await Worker.create({ taskQueue: 'dms-etl', workflowsPath, activities });
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { and, desc, eq, sql } from 'drizzle-orm';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint } from '../common/checkpoint';
import { BatchCountError, ConfigError, DuplicateKeyInBatchError, MappingBusyError, OwnershipLostError } from '../common/errors';
import { parseMapping } from '../common/mapping';
import { dmsPrclog } from '../migrations/schema';
import type { Metadata } from '../metadata/repository';
import type { CheckpointRow, OrderedRows, RowBatch, TargetTransaction } from '../dialects';
import type { DatabaseRegistry } from './databases';
import { redactedMessage, toFailure } from './failures';
import { checkNullKeys, describeKey, inOrder, planMapping, type JobPlan } from './job-plan';
import type {
  BatchInput,
  BatchResult,
  BatchState,
  FinishInput,
  PrepareInput,
  ResetInput,
  RunClaim,
  RunPlan,
  RunSettings,
  StartRunInput,
} from './types';

export type * from './types';

/** Places where a test may stall or kill an attempt. Only test workers pass an implementation. */
export type FaultPoint = 'beforeLock' | 'beforeEndCheck' | 'beforeCommit' | 'afterCommit';
export type FaultHook = (point: FaultPoint, at: { mapref: string; batch: number; attempt: number }) => Promise<void>;

export interface ActivityDeps {
  metadata: Metadata;
  databases: DatabaseRegistry;
  settings: RunSettings;
  /** Whether a workflow (of the chain that began with firstRunId) is still running. */
  isWorkflowRunning(workflowId: string, firstRunId: string | null): Promise<boolean>;
  faults?: FaultHook;
}

function isRetryable(failure: Error): boolean {
  return !(failure as { nonRetryable?: boolean }).nonRetryable && !(failure instanceof CancelledFailure);
}

function sameState(row: CheckpointRow, expected: BatchState): boolean {
  return row.batches === expected.batches && row.checkpoint === expected.checkpoint && row.rows === expected.rows;
}

/** How long one batch activity keeps committing batches when the settings do not say. */
const DEFAULT_SLICE_MS = 5_000;
/** ROWCOUNT slices are this many times longer: each one skips the committed rows again. */
const ROWCOUNT_SLICES = 20;

/** A digest of a row's text values: kept in DMS_CHKPNT only, never in Temporal. */
function digestRow(row: (string | null)[]): string {
  return createHash('md5').update(JSON.stringify(row)).digest('hex');
}

/** The fence of every batch: the locked checkpoint row must still belong to this run and epoch. */
function ownedRow(row: CheckpointRow | undefined, input: Pick<BatchInput, 'mapref' | 'prcid' | 'epoch'>): CheckpointRow {
  if (!row || row.prcid !== input.prcid || row.epoch !== input.epoch) {
    const holder = row ? `the checkpoint row now belongs to run ${row.prcid}, epoch ${row.epoch}` : 'the checkpoint row is gone';
    throw new OwnershipLostError(input.mapref, input.prcid, holder);
  }
  return row;
}

/** A run's first slice, committed by its pre-flight activity. */
interface FirstSlice {
  /** The run's rows when it began, for the rates `dms status` shows meanwhile. */
  rowsAtStart: number;
}

/** Runs fn with a heartbeat every second: long source queries (a sort, a count) must not look like a dead worker. */
async function heartbeating<T>(beat: () => void, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(beat, 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** What a batch activity has committed so far, sent with each heartbeat. */
interface Live {
  state: BatchState;
  beat(): void;
  /** Heartbeats, then stops the batch in flight (its transaction rolls back) if the run was cancelled. */
  beatOrStop(): void;
  /** Mirrors a committed state into DMS_PRCLOG (see mirrorQueue). */
  mirror(state: BatchState): void;
}

/**
 * Mirrors committed states into DMS_PRCLOG right after each commit, without holding up the
 * next batch: one update at a time, the newest state waiting (an older one it replaces is
 * never written), so PARAM1 never moves backwards. flush() waits for the last one and
 * reports the first failure (the activity then fails and its retry mirrors again).
 */
function mirrorQueue(write: (state: BatchState) => Promise<void>) {
  let waiting: BatchState | null = null;
  let running: Promise<void> | null = null;
  let failure: unknown;
  const drain = async () => {
    while (waiting) {
      const state = waiting;
      waiting = null;
      try {
        await write(state);
      } catch (err) {
        failure ??= err;
      }
    }
    running = null;
  };
  return {
    push(state: BatchState) {
      waiting = state;
      running ??= drain();
    },
    async flush() {
      await running;
      if (failure) throw failure;
    },
  };
}

/** Loads streamed rows as LOADMODE says: appended (COPY) or merged on TRGKEYCOLS. */
function writeRows(p: JobPlan, tx: TargetTransaction, rows: AsyncIterable<RowBatch>, live: Live): Promise<number> {
  return p.upsertKey
    ? tx.upsert(p.schema, p.table, p.columns, p.upsertKey, rows, live.beatOrStop)
    : tx.load(p.schema, p.table, p.columns, rows, live.beatOrStop);
}

/** A merge that met two rows with one key in its batch, as the mapping's error; others as they are. */
function mappingErrorOf(p: JobPlan, err: unknown): unknown {
  if ((err as { code?: string })?.code === '25006') {
    // read_only_sql_transaction: SRCQUERY always reads in a read-only session.
    return new ConfigError(
      p.spec.mapref,
      'SRCQUERY',
      `tried to change data (${redactedMessage(err as Error)}): SRCQUERY always runs read-only, also when source and target are one database, so a function it calls may not write; or the target connection is a read-only server`,
      'call only functions that read (STABLE or IMMUTABLE) in SRCQUERY and do any writing outside the load; or point TRGCONID at a server that accepts writes',
    );
  }
  if (!(err instanceof DuplicateKeyInBatchError)) return err;
  const key = err.key.join(', ');
  return new ConfigError(
    p.spec.mapref,
    'SRCQUERY',
    `returns more than one row with the same TRGKEYCOLS (${key}) within one batch, and a merge on TRGKEYCOLS cannot take two source rows into one target row at once; the batch was rolled back`,
    `make SRCQUERY return one row per (${key}), e.g. SELECT DISTINCT ON (${key}) … ORDER BY ${key}, <the column that picks the row to keep>; or set TRGKEYCOLS to columns that are unique in the source`,
  );
}

/**
 * The batches of a slice commit without waiting for the disk, and the slice's end makes them
 * all durable at once (flushCommits) before the workflow hears of them. A crash of the target
 * database in between takes back whole batches, rows and checkpoint together; the next
 * attempt finds the checkpoint there and goes on from it, so nothing is lost or doubled.
 */
const INSIDE_SLICE = { flushLater: true };

/** Rows a streamed read holds in memory at once. */
function chunkRowsOf(p: JobPlan): number {
  return Math.min(p.spec.bulklmt, 2000);
}

/** ROWCOUNT's ordered rows read and loaded decoded, where the dialect has no mover for them. */
async function decodedRows(p: JobPlan, offset: number, live: Live): Promise<OrderedRows> {
  const cursor = await p.source.openOrdered(p.spec.srcquery, p.keyed.key, offset);
  const chunkRows = chunkRowsOf(p);
  return {
    next: async () => (await cursor.read(1))[0] ?? null,
    async moveInto(tx, limit) {
      let taken = 0;
      let last: (string | null)[] | null = null;
      /** The batch's rows, read from the cursor a chunk at a time (memory holds one chunk). */
      async function* batchRows(): AsyncIterable<RowBatch> {
        while (taken < limit) {
          const wanted = Math.min(chunkRows, limit - taken);
          const rows = await cursor.read(wanted);
          taken += rows.length;
          if (rows.length > 0) {
            last = rows[rows.length - 1];
            yield { columns: p.columns, rows };
          }
          if (rows.length < wanted) return;
        }
      }
      await writeRows(p, tx, batchRows(), live);
      return { rows: taken, last };
    },
    close: () => cursor.close(),
  };
}

function stateOf(row: CheckpointRow): BatchState {
  return { checkpoint: row.checkpoint, batches: row.batches, rows: row.rows };
}

export function createActivities(deps: ActivityDeps) {
  const { metadata, databases } = deps;
  // A slice ends well inside the activity's start-to-close timeout, which covers all of it.
  const sliceMs = Math.min(deps.settings.sliceMs ?? DEFAULT_SLICE_MS, deps.settings.batchTimeoutMs / 2);
  const plans = new Map<number, JobPlan>();

  /**
   * Runs an activity body, turning every error into a classified, redacted failure; a
   * retryable one of a run is shown in DMS_PRCLOG.LASTERR while Temporal retries it.
   */
  async function classified<T>(fn: () => Promise<T>, retrying?: { prcid: number; what: string }): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const failure = toFailure(err);
      if (retrying && isRetryable(failure)) {
        // Best effort: the metadata database may be what is failing.
        await metadata.recordError(retrying.prcid, `retrying ${retrying.what}: ${failure.message}`).catch(() => undefined);
      }
      throw failure;
    }
  }

  /** Advances the checkpoint, and PARAM1 with it where the target is the metadata database. */
  async function saveCheckpoint(p: JobPlan, prcid: number, tx: TargetTransaction, next: CheckpointRow): Promise<void> {
    await tx.writeCheckpoint(p.schema, next);
    if (p.sharesMetadata) {
      const mirror = await metadata.mirrorStatement(prcid, stateOf(next));
      await tx.execute(mirror.sql, mirror.values);
    }
  }

  /** A job's plan, checked against both databases once per worker (and at every run start). */
  async function plan(jobid: number, fresh = false): Promise<JobPlan> {
    const cached = fresh ? undefined : plans.get(jobid);
    if (cached) return cached;
    const job = await metadata.job(jobid);
    if (!job) throw new Error(`job ${jobid} does not exist`);
    const p = await planMapping(metadata, databases, parseMapping(job));
    plans.set(jobid, p);
    return p;
  }

  /**
   * Takes the mapping over in the metadata database and opens a DMS_PRCLOG run ('IP').
   * A start that finds another active run writes nothing and fails naming its workflow.
   * Idempotent: a retry of the same workflow's start finds and returns its own run.
   */
  async function startRun(input: StartRunInput): Promise<RunClaim> {
    return classified(() =>
      metadata.transaction(async (tx) => {
        const { mapref } = input;
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'dms-run:' + mapref}))`);
        const job = await metadata.currentJob(mapref);
        if (!job) {
          throw new ConfigError(mapref, 'MAPREF', 'has no job in DMS_JOB', `run \`dms job sync ${mapref}\` to validate the mapping and create its job`);
        }
        const [active] = await tx
          .select()
          .from(dmsPrclog)
          .where(and(eq(dmsPrclog.mapref, mapref), eq(dmsPrclog.status, 'IP')));
        if (active && active.wfid === input.workflowId && active.wfrunid === input.firstRunId) {
          return claimOf(active.prcid, active.jobid ?? job.jobid, job.version, active.resumedfrom, null);
        }
        let abandonedRun: number | null = null;
        if (active) {
          // One workflow id runs once at a time, so an active row of our own id is stale.
          const otherRuns =
            active.wfid !== null && active.wfid !== input.workflowId && (await deps.isWorkflowRunning(active.wfid, active.wfrunid));
          if (otherRuns) throw new MappingBusyError(mapref, active.prcid, active.wfid!);
          await tx
            .update(dmsPrclog)
            .set({
              status: 'FL',
              enddt: new Date(),
              recupdt: new Date(),
              lasterr: `abandoned: workflow ${active.wfid ?? '?'} no longer runs; taken over by workflow ${input.workflowId}`,
            })
            .where(eq(dmsPrclog.prcid, active.prcid));
          abandonedRun = active.prcid;
        }
        const [latest] = await tx.select().from(dmsPrclog).where(eq(dmsPrclog.mapref, mapref)).orderBy(desc(dmsPrclog.prcid)).limit(1);
        const resume = !input.fromStart && latest !== undefined && latest.status !== 'PC';
        if (resume && latest.jobid !== job.jobid) {
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
            status: 'IP',
            sessionid: input.workflowId,
            wfid: input.workflowId,
            wfrunid: input.firstRunId,
            resumedfrom: resume ? latest.prcid : null,
            param1: resume ? latest.param1 : null,
          })
          .returning();
        return claimOf(run.prcid, job.jobid, job.version, run.resumedfrom, abandonedRun);
      }),
    );

    function claimOf(prcid: number, jobid: number, jobVersion: number, resumesRun: number | null, abandonedRun: number | null): RunClaim {
      return { prcid, jobid, jobVersion, resumesRun, abandonedRun, settings: deps.settings };
    }
  }

  /**
   * Validates the job against both databases, then makes this run the owner of the
   * mapping's checkpoint row in the target (a new ownership epoch), keeping the checkpoint
   * on a resume and clearing it on a fresh start. With input.firstSlice (workflows since
   * 0.3.0) it then commits the run's first slice of batches, as runBatch would.
   */
  async function prepareRun(input: PrepareInput): Promise<RunPlan> {
    const { firstSlice } = input;
    if (!firstSlice) return classified(() => prepare(input), { prcid: input.prcid, what: 'the start of the run' });
    // The first slice of batches follows in the same activity, with no workflow task between.
    const ctx = Context.current();
    const prepared = await classified(() => heartbeating(() => ctx.heartbeat(), () => prepare(input)), { prcid: input.prcid, what: 'the start of the run' });
    const batchInput = { mapref: input.mapref, prcid: input.prcid, epoch: prepared.epoch, jobid: input.jobid, expected: prepared.state, maxBatches: firstSlice.maxBatches };
    return { ...prepared, firstSlice: await slice(batchInput, { rowsAtStart: prepared.state.rows }) };
  }

  async function prepare(input: PrepareInput): Promise<RunPlan> {
    const p = await plan(input.jobid, true);
    const { mapref } = input;
    // Independent checks on both databases, at once.
    const [nulls, { summary, warnings }, resumedRun] = await inOrder([checkNullKeys(p), describeKey(p), input.resume ? metadata.run(input.prcid) : Promise.resolve(undefined)]);
    const resumedCheckpoint = resumedRun?.param1 ?? null;
    const keyColumns = JSON.stringify(p.keyed.key);
    await metadata.recordStrategy(input.prcid, p.strategy);
    await p.target.ensureCheckpointTable(p.schema);
    let incrementalFrom: RunPlan['incrementalFrom'] = null;
    let retried = false;
    const row = await p.target.transaction(async (tx) => {
      const current = await tx.lockCheckpoint(p.schema, mapref);
      if (current && current.prcid === input.prcid) {
        retried = true; // a retry of this activity: the run owns the row already
        return current;
      }
      if (current && current.prcid > input.prcid) {
        // A late attempt of an older run must never reset a newer run's checkpoint.
        throw new OwnershipLostError(mapref, input.prcid, `run ${current.prcid} took the mapping over since`);
      }
      if (input.resume && !current && resumedCheckpoint !== null) {
        throw new ConfigError(mapref, 'DMS_CHKPNT', `has no row for this mapping in "${p.schema}", though the run being resumed stopped at checkpoint ${resumedCheckpoint}; resuming would load everything again`, `restore the row, or empty the target table and load from the start with \`dms run ${mapref} --from-start\``);
      }
      // Resume only a checkpoint its unfinished owner left: a row whose owner completed
      // (a later run failed before taking it over) belongs to a finished load.
      const ownerCompleted = current ? (await metadata.run(current.prcid))?.status === 'PC' : false;
      const keep = input.resume && current !== undefined && !ownerCompleted;
      // TRUNCATE empties the target with the same commit that resets the checkpoint, so a
      // retry of this activity (same run) or any resume never truncates again.
      if (!keep && p.spec.loadmode === 'TRUNCATE') await tx.truncate(p.schema, p.table);
      if (keep && current.jobid !== input.jobid) {
        throw new ConfigError(mapref, 'DMS_CHKPNT', `in the target belongs to job ${current.jobid}, not to job ${input.jobid} that this run resumes`, `load from the start with \`dms run ${mapref} --from-start\``);
      }
      if (keep && current.checkpoint !== null && current.keyColumns !== keyColumns) {
        throw new ConfigError(mapref, 'CHKPNTCOLUMN', `now orders the source by ${keyColumns}, but the checkpoint to resume from is over ${current.keyColumns ?? 'another key'} (a unique index of the source may have changed)`, `restore the source's key, or load from the start with \`dms run ${mapref} --from-start\``);
      }
      // INCREMENTAL: a fresh start begins after the last completed run's high-water mark,
      // which DMS_CHKPNT keeps (PARAM1 says 'COMPLETED'), less the look-back window.
      let start: string | null = keep ? current.checkpoint : null;
      if (!keep && !input.fromStart && p.spec.loadmode === 'INCREMENTAL' && current?.checkpoint) {
        if (current.keyColumns !== keyColumns) {
          throw new ConfigError(mapref, 'CHKPNTCOLUMN', `now orders the source by ${keyColumns}, but the high-water mark of the last completed run is over ${current.keyColumns}; reading from the start would load everything again`, `restore the key, or empty the target and load from the start with \`dms run ${mapref} --from-start\``);
        }
        let after: string[] | null = decodeCheckpoint(current.checkpoint, p.keyed.key.length);
        if (p.lookback) after = await p.source.keyBefore(p.keyed, after[0], p.lookback.window, p.lookback.type);
        start = after === null ? null : encodeCheckpoint(after);
        incrementalFrom = { mark: current.checkpoint, startsAfter: start };
      }
      const next: CheckpointRow = {
        mapref,
        prcid: input.prcid,
        epoch: (current?.epoch ?? 0) + 1,
        jobid: input.jobid,
        keyColumns,
        checkpoint: start,
        lastRow: keep ? current.lastRow : null,
        batches: keep ? current.batches : 0,
        rows: keep ? current.rows : 0,
      };
      await tx.writeCheckpoint(p.schema, next);
      // Mirrored before the takeover commits (the values are the ones it commits), so that
      // a first slice's first batch follows the commit with nothing in between.
      await metadata.mirrorCheckpoint(input.prcid, stateOf(next));
      return next;
    });
    const state = stateOf(row);
    if (retried) await metadata.mirrorCheckpoint(input.prcid, state);
    return {
      epoch: row.epoch,
      strategy: p.strategy,
      batchSize: p.spec.bulklmt,
      state,
      keySummary: summary,
      nullRows: p.spec.chkpntnulls === 'FIRST' && state.batches === 0 ? nulls : 0,
      mirroredInBatch: p.sharesMetadata,
      incrementalFrom,
      warnings,
      ...(retried ? { retried } : {}),
    };
  }

  /**
   * ROWCOUNT: one ordered cursor serves many batches. The attempt skips the committed rows
   * once, in the database, checks that the last loaded row is still the one before them,
   * then commits batch after batch (each with its count and the digest of its last row)
   * until the source ends or the time slice is used up.
   */
  async function rowcountSlice(
    input: BatchInput,
    p: JobPlan,
    first: { mapref: string; batch: number; attempt: number },
    live: Live,
  ): Promise<BatchResult> {
    const fence = async (tx: TargetTransaction, expected: BatchState) => {
      const row = ownedRow(await tx.lockCheckpoint(p.schema, input.mapref), input);
      return { row, current: sameState(row, expected) };
    };
    const start = await p.target.transaction((tx) => fence(tx, input.expected));
    if (!start.current) return { state: stateOf(start.row), rowsInBatch: 0, done: false, alreadyCommitted: true, tieRun: 0 };
    let row = start.row;
    const offset = Math.max(0, row.rows - 1);
    const source = p.orderedMover ? await p.orderedMover.open(offset) : await decodedRows(p, offset, live);
    try {
      if (row.rows > 0) {
        const previous = await source.next();
        if (!previous || digestRow(previous) !== row.lastRow) {
          throw new ConfigError(input.mapref, 'SRCQUERY', `returned different rows since this run began: row ${row.rows}, the last one loaded, is no longer in its place, so counting rows would skip or repeat some`, `load from the start with \`dms run ${input.mapref} --from-start\` after emptying the target, or use KEY with a key column`);
        }
      }
      // Each slice skips the committed rows once more, so ROWCOUNT's slices are longer.
      const deadline = Date.now() + Math.min(sliceMs * ROWCOUNT_SLICES, deps.settings.batchTimeoutMs / 2);
      const limit = input.maxBatches ?? 1;
      let loaded = 0;
      let committed = 0;
      for (;;) {
        const at = { ...first, batch: row.batches + 1 };
        const expected = stateOf(row);
        let moved = 0;
        const next = await p.target.transaction(async (tx) => {
          const f = await fence(tx, expected);
          if (!f.current) return undefined; // another attempt of this run moved on: stop here
          const batch = await source.moveInto(tx, p.spec.bulklmt, live.beatOrStop);
          moved = batch.rows;
          if (batch.rows === 0) return null; // the source ended with the last batch
          const n = batch.rows;
          const advanced: CheckpointRow = { ...f.row, checkpoint: String(f.row.rows + n), lastRow: digestRow(batch.last!), batches: f.row.batches + 1, rows: f.row.rows + n };
          await saveCheckpoint(p, input.prcid, tx, advanced);
          await deps.faults?.('beforeCommit', at);
          live.beatOrStop();
          return advanced;
        }, INSIDE_SLICE);
        if (next === undefined) return { state: expected, rowsInBatch: loaded, done: false, alreadyCommitted: true, tieRun: 0 };
        if (next === null) return { state: expected, rowsInBatch: loaded, done: true, alreadyCommitted: false, tieRun: 0 };
        await deps.faults?.('afterCommit', at);
        if (!p.sharesMetadata) live.mirror(stateOf(next));
        row = next;
        live.state = stateOf(next);
        loaded += moved;
        committed += 1;
        live.beat();
        const ended = moved < p.spec.bulklmt;
        if (ended || committed >= limit || Date.now() >= deadline) return { state: stateOf(row), rowsInBatch: loaded, done: ended, alreadyCommitted: false, tieRun: 0 };
      }
    } finally {
      await source.close();
    }
  }

  /**
   * One KEY (or NONE, or NULL-key phase) batch, fenced: in one target transaction, lock the
   * checkpoint row, check that this run still owns it and that it holds the expected state,
   * read the next rows after the checkpoint, load them, advance the checkpoint; then mirror
   * it into DMS_PRCLOG.
   */
  async function keyBatch(
    input: BatchInput,
    p: JobPlan,
    expected: BatchState,
    at: { mapref: string; batch: number; attempt: number },
    live: Live,
  ): Promise<BatchResult> {
    await deps.faults?.('beforeLock', at);
    const result = await p.target.transaction(async (tx): Promise<BatchResult> => {
      const row = ownedRow(await tx.lockCheckpoint(p.schema, input.mapref), input);
      if (!sameState(row, expected)) {
        // An earlier attempt committed this batch before its completion reached Temporal.
        return { state: stateOf(row), rowsInBatch: 0, done: false, alreadyCommitted: true, tieRun: 0 };
      }
      if (row.keyColumns !== JSON.stringify(p.keyed.key)) {
        // The checkpoint was taken over another key (the source's unique keys changed since).
        plans.delete(input.jobid);
        throw new ConfigError(input.mapref, 'CHKPNTCOLUMN', `now orders the source by ${JSON.stringify(p.keyed.key)}, but the run's checkpoint is over ${row.keyColumns}`, `restore the source's unique key, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``);
      }
      const chunkRows = chunkRowsOf(p);
      if (p.strategy === 'NONE') {
        // The whole load in this one transaction: a retry after a crash starts clean.
        if (row.batches > 0) return { state: stateOf(row), rowsInBatch: 0, done: true, alreadyCommitted: false, tieRun: 0 };
        const n = await writeRows(p, tx, p.source.readAll(p.spec.srcquery, chunkRows), live);
        const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
        await saveCheckpoint(p, input.prcid, tx, next);
        await deps.faults?.('beforeCommit', at);
        live.beatOrStop();
        return { state: stateOf(next), rowsInBatch: n, done: true, alreadyCommitted: false, tieRun: 0 };
      }
      if (p.spec.chkpntnulls === 'FIRST' && row.batches === 0) {
        // Phase one: the rows no keyset can select, all in this one transaction.
        const n = await writeRows(p, tx, p.source.readNullKeys({ query: p.spec.srcquery, key: p.userKey }, chunkRows), live);
        const next: CheckpointRow = { ...row, batches: 1, rows: row.rows + n };
        await saveCheckpoint(p, input.prcid, tx, next);
        live.beatOrStop();
        return { state: stateOf(next), rowsInBatch: n, done: false, alreadyCommitted: false, tieRun: 0 };
      }
      let after: string[] | null = null;
      try {
        after = row.checkpoint === null ? null : decodeCheckpoint(row.checkpoint, p.keyed.key.length);
      } catch (err) {
        if (!(err instanceof CheckpointFormatError)) throw err;
        throw new ConfigError(input.mapref, 'DMS_CHKPNT', err.message, `correct the checkpoint, or empty the target and load from the start with \`dms run ${input.mapref} --from-start\``);
      }
      // The batch ends at the key of its BULKLMT-th row, inclusive: rows sharing that key
      // travel together, so a non-unique key never splits (and never loses) a run of ties.
      let upTo: string[] | null;
      let last: boolean;
      let n: number;
      if (p.mover?.moveNext) {
        // The mover finds the upper key itself, on the target's own connection.
        const moved = await p.mover.moveNext(tx, after, p.spec.bulklmt);
        if (moved === null) return { state: stateOf(row), rowsInBatch: 0, done: true, alreadyCommitted: false, tieRun: 0 };
        ({ upTo, rows: n } = moved);
        last = !moved.more;
      } else {
        upTo = await p.source.nthKey(p.keyed, after, p.spec.bulklmt);
        last = upTo === null;
        upTo ??= await p.source.lastKey(p.keyed, after);
        if (upTo === null) return { state: stateOf(row), rowsInBatch: 0, done: true, alreadyCommitted: false, tieRun: 0 };
        live.beatOrStop();
        n = p.mover ? await p.mover.move(tx, after, upTo, live.beatOrStop) : await writeRows(p, tx, p.source.readRange(p.keyed, after, upTo, chunkRows), live);
      }
      // A range up to the BULKLMT-th key holds at least BULKLMT rows; the last range holds at
      // least its upper key's row. A batch that moved fewer rolls back.
      const least = last ? 1 : p.spec.bulklmt;
      if (n < least) throw new BatchCountError(input.mapref, row.batches + 1, n, least, row.checkpoint, encodeCheckpoint(upTo));
      // The run's end: one indexed look for rows after the final key (they arrived during the
      // run); found, the run goes on and loads them before it completes.
      if (last) await deps.faults?.('beforeEndCheck', at);
      if (last && (await p.source.nthKey(p.keyed, upTo, 1)) !== null) {
        last = false;
        Context.current().log.info(`Mapping ${input.mapref}: rows arrived after key ${encodeCheckpoint(upTo)} during the run; loading them before the run completes`);
      }
      const tieRun = n > p.spec.bulklmt ? await p.source.countKey(p.keyed, upTo) : 0;
      const next: CheckpointRow = { ...row, checkpoint: encodeCheckpoint(upTo), batches: row.batches + 1, rows: row.rows + n };
      await saveCheckpoint(p, input.prcid, tx, next);
      await deps.faults?.('beforeCommit', at);
      live.beatOrStop();
      return { state: stateOf(next), rowsInBatch: n, done: last, alreadyCommitted: false, tieRun };
    }, INSIDE_SLICE);
    live.state = result.state;
    await deps.faults?.('afterCommit', at);
    // Also after an already committed batch: its attempt may have died before mirroring it.
    if (!p.sharesMetadata) live.mirror(result.state);
    return result;
  }

  /**
   * Commits batches in a row, from the state the workflow expects: KEY batches (and NONE's
   * single one) through keyBatch, ROWCOUNT through one ordered read; at most input.maxBatches of
   * them, for at most the settings' slice of time, heartbeating between them.
   */
  async function runBatch(input: BatchInput): Promise<BatchResult> {
    return slice(input);
  }

  /**
   * The body of a batch activity (runBatch, or prepareRun's first slice): batches in a row
   * from input.expected, then one flush that makes them durable, and the mirror into
   * DMS_PRCLOG brought up to date.
   */
  function slice(input: BatchInput, first?: FirstSlice): Promise<BatchResult> {
    return classified(() => sliceBody(input, first), { prcid: input.prcid, what: `batch ${input.expected.batches + 1}` });
  }

  async function sliceBody(input: BatchInput, first?: FirstSlice): Promise<BatchResult> {
    const ctx = Context.current();
    const p = await plan(input.jobid);
    // Heartbeats carry the last committed state: `dms status` and the Web UI's pending
    // activity show it live, while the workflow hears of it when the slice ends.
    const mirrors = mirrorQueue((state) => metadata.mirrorCheckpoint(input.prcid, state));
    const live: Live = {
      state: input.expected,
      beat: () => ctx.heartbeat(first ? { ...live.state, rowsAtStart: first.rowsAtStart } : live.state),
      beatOrStop: () => {
        live.beat();
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('batch cancelled; rolled back');
      },
      mirror: (state) => mirrors.push(state),
    };
    const at = { mapref: input.mapref, batch: input.expected.batches + 1, attempt: ctx.info.attempt };
    const result = await heartbeating(
      () => live.beat(),
      async () => {
        live.beat();
        if (p.strategy === 'ROWCOUNT') {
          await deps.faults?.('beforeLock', at);
          return rowcountSlice(input, p, at, live);
        }
        return keySlice(input, p, at, live);
      },
    ).catch((err: unknown) => {
      throw mappingErrorOf(p, err);
    });
    // The state the workflow hears of must survive a crash of the target database.
    await p.target.flushCommits(p.schema, input.mapref);
    await mirrors.flush();
    return result;
  }

  /**
   * KEY (and NONE) batch after batch, each in its own fenced transaction, until the source
   * ends, the slice's time is up or the workflow's budget of batches is spent.
   */
  async function keySlice(input: BatchInput, p: JobPlan, at: { mapref: string; batch: number; attempt: number }, live: Live): Promise<BatchResult> {
    const deadline = Date.now() + sliceMs;
    const limit = input.maxBatches ?? 1;
    let result = await keyBatch(input, p, input.expected, at, live);
    let loaded = result.rowsInBatch;
    let tie = { rows: result.tieRun, batch: result.state.batches };
    for (let n = 1; !result.done && !result.alreadyCommitted && n < limit && Date.now() < deadline; n++) {
      live.beatOrStop();
      const next = await keyBatch(input, p, result.state, { ...at, batch: result.state.batches + 1 }, live);
      // Another attempt of this run moved the checkpoint on: report where it is now.
      if (next.alreadyCommitted) return { ...next, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
      result = next;
      loaded += next.rowsInBatch;
      if (next.tieRun > tie.rows) tie = { rows: next.tieRun, batch: next.state.batches };
    }
    return { ...result, rowsInBatch: loaded, tieRun: tie.rows, tieBatch: tie.batch };
  }

  /**
   * Moves a running KEY load's checkpoint (signal resetCheckpoint): to the start, or to a
   * key the user gives, checked against the key's columns and types on the source. The
   * counts of batches and rows go on counting what the run loads, reloads included.
   */
  async function resetCheckpoint(input: ResetInput): Promise<BatchState> {
    return classified(async () => {
      const { mapref } = input;
      const p = await plan(input.jobid);
      const fix = `send {"to": "<key>"} with the key as DMS_PRCLOG.PARAM1 shows it (a JSON array for a key of several columns), or {} for the start`;
      if (p.strategy !== 'KEY') {
        throw new ConfigError(mapref, 'resetCheckpoint', `cannot move the checkpoint of a ${p.strategy} run: only KEY runs have a key to go on from`, `cancel the run and load from the start with \`dms run ${mapref} --from-start\``);
      }
      let key: string[] | null = null;
      if (input.to !== null) {
        try {
          key = decodeCheckpoint(input.to, p.keyed.key.length);
          await p.source.nthKey(p.keyed, key, 1); // the database parses the values as the key's types
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (!(err instanceof CheckpointFormatError) && !code?.startsWith('22')) throw err;
          const why = err instanceof CheckpointFormatError ? err.message : `is not a value of the key (${p.keyed.key.join(', ')}): ${redactedMessage(err as Error)}`;
          throw new ConfigError(mapref, 'resetCheckpoint', `got "to": ${JSON.stringify(input.to)}, which ${why}`, fix);
        }
      }
      const state = await p.target.transaction(async (tx) => {
        const row = ownedRow(await tx.lockCheckpoint(p.schema, mapref), input);
        const next: CheckpointRow = { ...row, checkpoint: key === null ? null : encodeCheckpoint(key) };
        await saveCheckpoint(p, input.prcid, tx, next);
        return stateOf(next);
      });
      if (!p.sharesMetadata) await metadata.mirrorCheckpoint(input.prcid, state);
      return state;
    }, { prcid: input.prcid, what: 'the checkpoint reset' });
  }

  /**
   * Ends a run: releases its ownership (a new epoch fences any attempt still running) and
   * sets DMS_PRCLOG's status; PARAM1 becomes 'COMPLETED' or keeps the checkpoint.
   */
  async function finishRun(input: FinishInput): Promise<void> {
    return classified(async () => {
      let state = input.state;
      const run = await metadata.run(input.prcid);
      if (run?.jobid) {
        try {
          const p = await plan(run.jobid);
          await p.target.transaction(async (tx) => {
            const row = await tx.lockCheckpoint(p.schema, input.mapref);
            // Epoch 0: the run failed before the workflow heard of its epoch (in its first
            // activity); the row is still this run's if its prcid says so, one epoch a run.
            if (row && row.prcid === input.prcid && (row.epoch === input.epoch || input.epoch === 0)) {
              state = stateOf(row);
              await tx.writeCheckpoint(p.schema, { ...row, epoch: row.epoch + 1 });
            }
          });
        } catch (err) {
          // The target may be why the run failed; the next run's takeover fences it anyway.
          Context.current().log.warn('could not release the checkpoint row', { mapref: input.mapref, error: toFailure(err).message });
        }
      }
      const param1 = input.status === 'PC' ? 'COMPLETED' : state.checkpoint;
      await metadata.endRun(input.prcid, input.status, param1, input.error, state);
    });
  }

  return { startRun, prepareRun, runBatch, resetCheckpoint, finishRun };
}

export type DmsActivities = ReturnType<typeof createActivities>;
