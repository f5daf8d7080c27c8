// What crosses the workflow/activity boundary, and so lands in Temporal's history: names,
// ids, checkpoints (key values) and counts. Never row data, never a secret.

import type { BatchState } from '../checkpoint/row';
import type { EndStatus } from '../common/run-status';

/** The committed position of a run, as the target's DMS_CHKPNT holds it (checkpoint/row.ts). */
export type { BatchState };

/** Retry and timeout settings of batch activities, read from the worker's environment. */
export interface RunSettings {
  /** Continue as new after this many committed batches (history stays small). */
  batchesPerExecution: number;
  /**
   * How long one batch activity keeps committing batches (each in its own transaction)
   * before it hands back to the workflow; absent in runs started by 0.1.0.
   */
  sliceMs?: number;
  batchTimeoutMs: number;
  heartbeatTimeoutMs: number;
  retry: {
    initialIntervalMs: number;
    maximumIntervalMs: number;
    backoffCoefficient: number;
    maximumAttempts: number;
  };
}

export interface StartRunInput {
  mapref: string;
  workflowId: string;
  /** The first run id of the workflow's continue-as-new chain. */
  firstRunId: string;
  /** Ignore an unfinished earlier run and load from the start. */
  fromStart: boolean;
}

export interface RunClaim {
  prcid: number;
  jobid: number;
  /** The unfinished run this one resumes, or null for a fresh start. */
  resumesRun: number | null;
  /** A run left 'IP' by a workflow that no longer runs, marked 'FL' by this start. */
  abandonedRun: number | null;
  settings: RunSettings;
}

export interface PrepareInput {
  mapref: string;
  prcid: number;
  jobid: number;
  resume: boolean;
  /** Ignore an INCREMENTAL mapping's high-water mark too. */
  fromStart: boolean;
  /**
   * Go straight on with the run's first slice of batches (as runBatch would, with this
   * budget), so that no workflow task stands between the pre-flight and the first batch.
   */
  firstSlice?: { maxBatches: number };
}

export interface RunPlan {
  /** The ownership epoch every batch of this run must find in DMS_CHKPNT. */
  epoch: number;
  /** The effective strategy (AUTO decided); DMS_PRCLOG.CHKPNTSTRATEGY records it. */
  strategy: 'KEY' | 'NONE' | 'ROWCOUNT';
  /** DMS_MAPR.LOADMODE, for the run's details in the Web UI (since 0.6.0). */
  loadMode?: string;
  state: BatchState;
  /** The key the run orders by, and whether it is unique (for the run's log). */
  keySummary: string;
  /** Rows with a NULL key that the first batch loads (CHKPNTNULLS = 'FIRST'). */
  nullRows: number;
  /** The target is the metadata database: PARAM1 moves in the same transaction as each batch. */
  mirroredInBatch: boolean;
  /** INCREMENTAL: the high-water mark of the last completed run this run starts after (less any look-back). */
  incrementalFrom: { mark: string; startsAfter: string | null } | null;
  warnings: string[];
  /**
   * The rows the run will have loaded when it ends, estimated from the source's statistics,
   * for the Web UI's % and ETA (since 0.7.0); null where the source gives no estimate.
   */
  estimatedRows?: number | null;
  /** This is a retry: the run had taken the checkpoint row over (and may have loaded) before. */
  retried?: boolean;
  /** What the first slice committed, when PrepareInput.firstSlice asked for one. */
  firstSlice?: BatchResult;
  /**
   * A partitioned run (DMS_MAPR.PARTITIONS > 1): its key ranges, complete ones included. The
   * run's own state is then what its NULL-key phase loaded; the ranges load the rest.
   */
  partitions?: RangeState[];
}

/** One key range of a partitioned run, as its checkpoint row in the target holds it. */
export interface RangeState {
  /** 1-based. */
  k: number;
  /** The range's first key is after this one (null: from the start). */
  after: string | null;
  /** The range's last key, inclusive (null: the last range, open above). */
  upTo: string | null;
  state: BatchState;
  done: boolean;
}

/** Which key range a batch of a partitioned run loads. */
export interface RangeRef {
  k: number;
  upTo: string | null;
}

export interface BatchInput {
  mapref: string;
  prcid: number;
  epoch: number;
  jobid: number;
  /** The state the batch must find; anything else means the batch already committed. */
  expected: BatchState;
  /** How many batches this activity may commit in a row (1 when absent). */
  maxBatches?: number;
  /** A partitioned run: the range whose checkpoint row this batch advances. */
  partition?: RangeRef;
}

export interface BatchResult {
  state: BatchState;
  rowsInBatch: number;
  /** The source is exhausted. */
  done: boolean;
  /** An earlier attempt had already committed this batch: nothing was loaded now. */
  alreadyCommitted: boolean;
  /** Rows sharing the batch's last key, when the batch grew past BULKLMT to keep them whole. */
  tieRun: number;
  /** The batch with that run of ties (the last batch when absent). */
  tieBatch?: number;
}

/** Signal resetCheckpoint, applied between batches: the run goes on from `to`. */
export interface ResetInput {
  mapref: string;
  prcid: number;
  epoch: number;
  jobid: number;
  /** The checkpoint to go on from, in PARAM1's text form; null for the start. */
  to: string | null;
}

export interface FinishInput {
  mapref: string;
  prcid: number;
  /** The run's ownership epoch; 0 when the run ended before the workflow learnt it. */
  epoch: number;
  status: EndStatus;
  error: string | null;
  state: BatchState;
  /** A partitioned run: its ranges' rows are fenced and summed too. */
  partitioned?: boolean;
}
