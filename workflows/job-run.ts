// One execution of dmsJob (workflows/index.ts), step by step: what it listens to (the progress
// query, signals resetCheckpoint, pause and resume), the claim and pre-flight of a new run, and
// the run's load, in key ranges (child workflows) or in batch activities, each ending the run.
// Deterministic code only: the calls below happen in the order the recorded histories hold.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DmsActivities } from '../activities';
import type { BatchResult, BatchState, RangeState, RunClaim, RunPlan, RunSettings } from '../activities/types';
// Pure data, no I/O: safe in the workflow bundle.
import { innermostMessage } from '../common/errors';
import { RunStatus } from '../common/run-status';
import { unknownKeys, unknownKeyText } from '../common/unknown-keys';
import { currentDetails, grouped, HANDLER_DESCRIPTIONS, progressText, sliceSummary, type RunView } from './details';
import {
  pauseSignal,
  progressQuery,
  resetCheckpointSignal,
  resumeSignal,
  type Progress,
  type RangeProgress,
} from './handlers';
import { batchActivities, control, CONTROL_RETRY, summarized } from './proxies';
import { loadSlices } from './slice-loop';
import { loadRanges, rangeProgress, sumOf } from './ranges';
import { DMS_MAPREF, DMS_ROWS_LOADED, DMS_STATUS } from './search-attributes';
import { explainedFailure } from './worker-loss';
import { ACTIVITY_SUMMARIES_PATCH, FIRST_SLICE_IN_PREFLIGHT, PAUSE_RESUME } from './patches';

export interface DmsJobInput {
  mapref: string;
  /** Load from the start even when the last run of the mapping is unfinished. */
  fromStart?: boolean;
  /** Set by the workflow itself when it continues as new: the run it carries on. */
  carried?: CarriedRun;
}

export interface CarriedRun {
  prcid: number;
  strategy: string;
  jobid: number;
  epoch: number;
  settings: RunSettings;
  state: BatchState;
  startedAtMs: number;
  rowsAtStart: number;
  /** The largest run of equal keys a batch had to keep whole, and where. */
  largestTieRun: { rows: number; batch: number };
  /** resetCheckpoint signals received but not yet applied when the execution handed over. */
  pendingResets?: (string | null)[];
  /** Paused by signal when the execution handed over (since 0.4.0). */
  paused?: boolean;
  /** DMS_MAPR.LOADMODE and where a resumed run went on from, for the Web UI (since 0.6.0). */
  loadMode?: string;
  resumedFrom?: { run: number; checkpoint: string | null };
  /** The rows the run will have loaded when it ends, estimated by the pre-flight (since 0.7.0). */
  estimatedRows?: number;
  /** What the pre-flight warned of, for the progress query (since 0.8.0). */
  warnings?: string[];
}

export interface DmsJobResult {
  mapref: string;
  prcid: number;
  status: typeof RunStatus.completed;
  rows: number;
  batches: number;
}

/** What a new run's pre-flight committed: its first slice of batches, or its key ranges. */
export interface Prepared {
  /** What the pre-flight activity committed after preparing the run (since 0.3.0). */
  firstSlice?: BatchResult;
  /** A partitioned run's key ranges, as the pre-flight split (or took them over). */
  ranges?: RangeState[];
}

function refusedReset(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'ConfigError';
}

export class JobRun {
  readonly mapref: string;
  private readonly info = workflowInfo();
  /** The run this execution carries on (absent until a new run is claimed and prepared). */
  private run: CarriedRun | undefined;
  private strategy: string | null;
  /** A partitioned run's key ranges, as the run last heard of them. */
  private ranged: RangeProgress[] | undefined;
  private paused: boolean;
  /** Signals wait here until the loop is between two batch activities. */
  private readonly pendingResets: (string | null)[];
  /** Batch activities carry a summary of where their slice starts (since 0.6.0). */
  private summaries = false;

  constructor(private readonly input: DmsJobInput) {
    this.mapref = input.mapref;
    this.run = input.carried;
    this.strategy = this.run?.strategy ?? null;
    this.pendingResets = [...(this.run?.pendingResets ?? [])];
    this.paused = this.run?.paused ?? false;
  }

  /** Where the run stands now: the progress query's answer, and the Web UI's details. */
  progressNow(): Progress {
    const { run, ranged, paused } = this;
    const elapsed = run ? (Date.now() - run.startedAtMs) / 1000 : 0;
    const extras = {
      ...(paused ? { paused } : {}),
      ...(run?.estimatedRows !== undefined ? { estimatedRows: run.estimatedRows } : {}),
      ...(run?.warnings ? { warnings: run.warnings } : {}),
    };
    if (run && ranged) {
      const sum = sumOf(run.state, ranged);
      return {
        mapref: this.mapref,
        prcid: run.prcid,
        strategy: this.strategy,
        checkpoint: null,
        rowsLoaded: sum.rows,
        batches: sum.batches,
        rowsPerSecond: elapsed > 0 ? Math.round((sum.rows - run.rowsAtStart) / elapsed) : 0,
        startedAt: new Date(run.startedAtMs).toISOString(),
        rowsAtStart: run.rowsAtStart,
        partitions: ranged,
        ...extras,
      };
    }
    const rowsThisRun = run ? run.state.rows - run.rowsAtStart : 0;
    return {
      mapref: this.mapref,
      prcid: run?.prcid ?? null,
      strategy: this.strategy,
      checkpoint: run?.state.checkpoint ?? null,
      rowsLoaded: run?.state.rows ?? 0,
      batches: run?.state.batches ?? 0,
      rowsPerSecond: elapsed > 0 ? Math.round(rowsThisRun / elapsed) : 0,
      startedAt: new Date(run?.startedAtMs ?? this.info.startTime.getTime()).toISOString(),
      rowsAtStart: run?.rowsAtStart ?? 0,
      ...extras,
    };
  }

  /** The run's page in the Web UI: its current details, set as the run moves (no command, no history). */
  showDetails(outcome?: string): void {
    const p = this.progressNow();
    const run = this.run;
    const view: RunView = {
      ...p,
      paused: p.paused ?? false,
      loadMode: run?.loadMode ?? null,
      ...(run?.resumedFrom ? { resumedFrom: run.resumedFrom } : {}),
      ...(outcome ? { outcome } : {}),
    };
    setCurrentDetails(currentDetails(view));
  }

  /** The query and signals, the Web UI's details and the run's search attribute, before any activity. */
  listen(): void {
    const mapref = this.mapref;
    setHandler(progressQuery, () => this.progressNow(), { description: HANDLER_DESCRIPTIONS.progress });
    setHandler(
      resetCheckpointSignal,
      (request) => {
        const to = request?.to;
        // A misspelt "to" ({"too": "5"}) must not move the checkpoint to the start.
        const unknown = request && typeof request === 'object' ? unknownKeys(request, ['to']) : [];
        if (unknown.length > 0) {
          log.warn(
            `Signal resetCheckpoint ignored: its input has ${unknown.map((u) => unknownKeyText(u, ['to'])).join('; ')}; it takes {"to": "<key>"}, or {} for the start`,
          );
        } else if (this.ranged) {
          log.warn(
            `Signal resetCheckpoint refused: mapping ${mapref} loads in key ranges (PARTITIONS > 1), each with its own checkpoint; cancel the run and load from the start instead`,
          );
        } else if (to === undefined || to === null || typeof to === 'string' || typeof to === 'number') {
          this.pendingResets.push(to === undefined || to === null ? null : String(to));
        } else {
          log.warn(
            `Signal resetCheckpoint ignored: "to" must be a key (text) or absent for the start, got ${JSON.stringify(to)}`,
          );
        }
      },
      { description: HANDLER_DESCRIPTIONS.resetCheckpoint },
    );
    // Since 0.4.0: an execution recorded before it replays without these handlers (a run
    // started before the upgrade takes the signals from its next execution on).
    if (patched(PAUSE_RESUME)) {
      setHandler(pauseSignal, () => void ((this.paused = true), this.showDetails()), {
        description: HANDLER_DESCRIPTIONS.pause,
      });
      setHandler(resumeSignal, () => void ((this.paused = false), this.showDetails()), {
        description: HANDLER_DESCRIPTIONS.resume,
      });
    }
    this.showDetails();
    this.summaries = patched(ACTIVITY_SUMMARIES_PATCH);
    // The Web UI lists and filters runs by these (registered by the dev-server script).
    upsertSearchAttributes([{ key: DMS_MAPREF, value: mapref }]);
  }

  /** Whether this execution carries a run on (continue-as-new), rather than starting one. */
  get carried(): boolean {
    return this.run !== undefined;
  }

  /** Claims the mapping and runs the pre-flight (which commits the first slice, or splits the key ranges). */
  async claimAndPrepare(): Promise<Prepared> {
    const { mapref, info, input } = this;
    const claim = await control
      .startRun({
        mapref,
        workflowId: info.workflowId,
        firstRunId: info.firstExecutionRunId,
        fromStart: input.fromStart ?? false,
      })
      .catch((err: unknown) => {
        upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.failed }]);
        throw err;
      });
    upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.running }]);
    if (claim.abandonedRun !== null)
      log.warn(`Took over mapping ${mapref} from run ${claim.abandonedRun}, whose workflow no longer runs`);
    try {
      // Since 0.3.0 the pre-flight goes straight on with the first slice of batches, so it runs
      // as a batch activity (heartbeats, cancel that waits for the rollback, batch retries).
      const folded = patched(FIRST_SLICE_IN_PREFLIGHT);
      // Pre-flight reads the whole source once (the NULL-key count): it gets a batch's time.
      const preflight = folded
        ? batchActivities(claim.settings)
        : proxyActivities<DmsActivities>({ startToCloseTimeout: claim.settings.batchTimeoutMs, retry: CONTROL_RETRY });
      // The run's clock starts before the pre-flight, whose first slice loads rows too.
      const startedAtMs = Date.now();
      const prepareInput = {
        mapref,
        prcid: claim.prcid,
        jobid: claim.jobid,
        resume: claim.resumesRun !== null,
        fromStart: input.fromStart ?? false,
        ...(folded ? { firstSlice: { maxBatches: claim.settings.batchesPerExecution } } : {}),
      };
      const summary =
        folded && this.summaries
          ? `checks the mapping, then ${claim.resumesRun === null ? 'the first batches' : `goes on with run ${claim.resumesRun}`}`
          : null;
      const plan = await summarized(preflight.prepareRun, claim.settings, summary, prepareInput);
      this.strategy = plan.strategy;
      this.run = {
        prcid: claim.prcid,
        strategy: plan.strategy,
        jobid: claim.jobid,
        epoch: plan.epoch,
        settings: claim.settings,
        state: plan.state,
        startedAtMs,
        rowsAtStart: plan.state.rows,
        largestTieRun: { rows: 0, batch: 0 },
        ...(plan.loadMode ? { loadMode: plan.loadMode } : {}),
        ...(typeof plan.estimatedRows === 'number' ? { estimatedRows: plan.estimatedRows } : {}),
        ...(plan.warnings.length > 0 ? { warnings: plan.warnings } : {}),
        ...(claim.resumesRun !== null && !plan.partitions
          ? { resumedFrom: { run: claim.resumesRun, checkpoint: plan.state.checkpoint } }
          : {}),
      };
      this.logPlan(claim, plan, folded);
      return { firstSlice: plan.firstSlice, ranges: plan.partitions };
    } catch (caught) {
      const err = explainedFailure(caught, mapref);
      this.showDetails(outcomeOf(err));
      await endRun(mapref, claim.prcid, 0, err, { checkpoint: null, batches: 0, rows: 0 });
      throw err;
    }
  }

  /** What the pre-flight decided, in the run's log. */
  private logPlan(claim: RunClaim, plan: RunPlan, folded: boolean): void {
    const { mapref } = this;
    log.info(`Mapping ${mapref}: ${plan.keySummary}`);
    for (const warning of plan.warnings) log.warn(warning);
    if (plan.incrementalFrom) {
      log.info(
        `Incremental: the last completed run ended at ${plan.incrementalFrom.mark}; reading after ${plan.incrementalFrom.startsAfter ?? '(the start)'}`,
      );
    }
    if (plan.mirroredInBatch)
      log.info(`Mapping ${mapref}: the target is the metadata database; DMS_PRCLOG moves in each batch's transaction`);
    if (plan.nullRows > 0) log.info(`Loading ${plan.nullRows} rows with a NULL key first (CHKPNTNULLS = 'FIRST')`);
    if (plan.retried && plan.state.batches > 0 && folded) {
      log.info(
        `The pre-flight activity ran again (an earlier attempt failed or timed out); the checkpoint stands at batch ${plan.state.batches}, and the run goes on from there`,
      );
    }
    const ranges = plan.partitions;
    if (ranges) {
      const left = ranges.filter((r) => !r.done).length;
      const resumed =
        claim.resumesRun !== null
          ? ` (resuming run ${claim.resumesRun}: ${ranges.length - left} complete, not read again)`
          : '';
      log.info(
        `Mapping ${mapref}: ${ranges.length} key ranges, ${left} to load at once${resumed}: ${ranges.map((r) => `${r.k}: after ${r.after ?? '(the start)'} up to ${r.upTo ?? '(the end)'}`).join('; ')}`,
      );
    } else if (claim.resumesRun !== null && plan.state.checkpoint !== null) {
      log.info(
        `Resuming from checkpoint ${plan.state.checkpoint} (run ${claim.resumesRun}, ${plan.state.rows} rows loaded)`,
      );
    } else {
      log.info(`Starting mapping ${mapref} from the beginning (run ${claim.prcid}, strategy ${plan.strategy})`);
    }
  }

  /** A partitioned run: its ranges load in child workflows (signal resetCheckpoint does not apply to them); then the run ends. */
  async loadInRanges(ranges: RangeState[]): Promise<DmsJobResult> {
    const { mapref, info } = this;
    const current = this.run!;
    const ranged = rangeProgress(info.workflowId, ranges);
    this.ranged = ranged;
    this.showDetails();
    for (const to of this.pendingResets.splice(0)) {
      log.warn(
        `Signal resetCheckpoint (to ${to ?? 'the start'}) refused: mapping ${mapref} loads in key ranges (PARTITIONS > 1), each with its own checkpoint; cancel the run and load from the start instead`,
      );
    }
    try {
      const run = {
        mapref,
        prcid: current.prcid,
        jobid: current.jobid,
        epoch: current.epoch,
        settings: current.settings,
        workflowId: info.workflowId,
      };
      const outcome = await loadRanges(
        run,
        ranges,
        ranged,
        () => this.paused,
        () => this.showDetails(),
      );
      const state = sumOf(current.state, ranged);
      await control.finishRun({
        mapref,
        prcid: current.prcid,
        epoch: current.epoch,
        status: RunStatus.completed,
        error: null,
        state,
        partitioned: true,
      });
      upsertSearchAttributes([
        { key: DMS_STATUS, value: RunStatus.completed },
        { key: DMS_ROWS_LOADED, value: state.rows },
      ]);
      log.info(
        `Mapping ${mapref} completed: ${state.rows} rows in ${state.batches} batches over ${ranges.length} key ranges`,
      );
      this.showDetails(
        `completed: ${grouped(state.rows)} rows in ${grouped(state.batches)} batches over ${ranges.length} key ranges`,
      );
      if (outcome.largestTieRun.rows > 0) {
        log.info(
          `Largest run of equal keys kept in one batch: ${outcome.largestTieRun.rows} rows (range ${outcome.largestTieRun.k}, batch ${outcome.largestTieRun.batch})`,
        );
      }
      return { mapref, prcid: current.prcid, status: RunStatus.completed, rows: state.rows, batches: state.batches };
    } catch (err) {
      this.showDetails(outcomeOf(err));
      await endRun(mapref, current.prcid, current.epoch, err, sumOf(current.state, ranged), true);
      throw err;
    }
  }

  /**
   * The batch loop: batch activities (each commits several batches) until the source is
   * exhausted, pausing and applying resets between two of them; continues as new after
   * BATCHESPEREXECUTION batches, so that the history stays bounded; then the run ends.
   */
  async loadInBatches(firstSlice: BatchResult | undefined): Promise<DmsJobResult> {
    const { mapref } = this;
    const current = this.run!;
    try {
      await loadSlices(
        {
          settings: current.settings,
          state: () => current.state,
          isPaused: () => this.paused,
          whilePaused: () => this.whilePaused(),
          beforeSlice: () => this.applyResets(),
          continueAsNew: () =>
            continueAsNew<(input: DmsJobInput) => Promise<DmsJobResult>>({
              mapref,
              carried: { ...current, pendingResets: [...this.pendingResets], paused: this.paused || undefined },
            }),
          batchInput: () => ({ mapref, prcid: current.prcid, epoch: current.epoch, jobid: current.jobid }),
          summary: () =>
            this.summaries
              ? sliceSummary(current.state.batches, current.state.checkpoint, progressText(this.progressNow()))
              : null,
          committedBy: (result) => this.committedBy(result),
        },
        firstSlice,
      );
      await control.finishRun({
        mapref,
        prcid: current.prcid,
        epoch: current.epoch,
        status: RunStatus.completed,
        error: null,
        state: current.state,
      });
      upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.completed }]);
      log.info(`Mapping ${mapref} completed: ${current.state.rows} rows in ${current.state.batches} batches`);
      this.showDetails(`completed: ${grouped(current.state.rows)} rows in ${grouped(current.state.batches)} batches`);
      if (current.largestTieRun.rows > 0) {
        log.info(
          `Largest run of equal keys kept in one batch: ${current.largestTieRun.rows} rows (batch ${current.largestTieRun.batch})`,
        );
      }
      return {
        mapref,
        prcid: current.prcid,
        status: RunStatus.completed,
        rows: current.state.rows,
        batches: current.state.batches,
      };
    } catch (caught) {
      if (caught instanceof ContinueAsNew) throw caught;
      const err = explainedFailure(caught, mapref);
      this.showDetails(outcomeOf(err));
      await endRun(mapref, current.prcid, current.epoch, err, current.state);
      throw err;
    }
  }

  /** Applies the resetCheckpoint signals received so far, in order. */
  private async applyResets(): Promise<void> {
    const current = this.run!;
    while (this.pendingResets.length > 0) {
      const to = this.pendingResets.shift()!;
      try {
        current.state = await control.resetCheckpoint({
          mapref: this.mapref,
          prcid: current.prcid,
          epoch: current.epoch,
          jobid: current.jobid,
          to,
        });
        log.info(`Checkpoint reset to ${to ?? '(the start)'} by signal resetCheckpoint; loading goes on from there`);
      } catch (err) {
        if (!refusedReset(err)) throw err;
        log.warn(`Signal resetCheckpoint refused: ${innermostMessage(err)}`);
      }
    }
  }

  /** Waits while paused, between two batch activities; resetCheckpoint signals still apply. */
  private async whilePaused(): Promise<void> {
    const { mapref } = this;
    const current = this.run!;
    log.info(
      `Mapping ${mapref}: paused after batch ${current.state.batches} (checkpoint ${current.state.checkpoint ?? '(the start)'}); signal resume to go on`,
    );
    upsertSearchAttributes([{ key: DMS_STATUS, value: 'PAUSED' }]);
    this.showDetails();
    while (this.paused) {
      await condition(() => !this.paused || this.pendingResets.length > 0);
      await this.applyResets();
    }
    upsertSearchAttributes([{ key: DMS_STATUS, value: RunStatus.running }]);
    this.showDetails();
    log.info(`Mapping ${mapref}: resumed after batch ${current.state.batches}`);
  }

  /** Takes in what a batch activity committed; whether the run is done. */
  private committedBy(result: BatchResult): boolean {
    const current = this.run!;
    current.state = result.state;
    if (result.rowsInBatch > 0) upsertSearchAttributes([{ key: DMS_ROWS_LOADED, value: current.state.rows }]);
    if (result.tieRun > current.largestTieRun.rows)
      current.largestTieRun = { rows: result.tieRun, batch: result.tieBatch ?? result.state.batches };
    if (result.alreadyCommitted)
      log.info(`Batch ${result.state.batches} was already committed by an earlier attempt; continuing after it`);
    this.showDetails();
    // A reset that arrived during the last slice goes on loading from its checkpoint.
    return result.done && this.pendingResets.length === 0;
  }
}

/** How a run that stops on err ends, in its details: the error is the one its history holds. */
function outcomeOf(err: unknown): string {
  return isCancellation(err) ? 'cancelled' : `failed: ${innermostMessage(err).split('\n')[0]}`;
}

/** Marks the run 'CN' or 'FL', even while the workflow itself is being cancelled. */
async function endRun(
  mapref: string,
  prcid: number,
  epoch: number,
  err: unknown,
  state: BatchState,
  partitioned?: boolean,
): Promise<void> {
  const cancelled = isCancellation(err);
  upsertSearchAttributes([{ key: DMS_STATUS, value: cancelled ? RunStatus.cancelled : RunStatus.failed }]);
  await CancellationScope.nonCancellable(() =>
    control.finishRun({
      mapref,
      prcid,
      epoch,
      status: cancelled ? RunStatus.cancelled : RunStatus.failed,
      error: cancelled ? 'cancelled' : innermostMessage(err),
      state,
      ...(partitioned ? { partitioned } : {}),
    }),
  );
}
