// The signals and queries of dms-etl's workflows, shared by the run (dmsJob) and the key
// ranges of a partitioned run (dmsPartition). Their names are part of every history.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { RunStatus } from '../common/run-status';

/** One key range of a partitioned run, in the progress of the run's own workflow. */
export interface RangeProgress {
  k: number;
  /** The range's child workflow (query its own progress for live figures). */
  workflowId: string;
  /** The range's last key (null: the last range, open above). */
  upTo: string | null;
  checkpoint: string | null;
  rowsLoaded: number;
  batches: number;
  /** As the run last heard of it: complete, loading (or waiting to), or failed. */
  status: RunStatus;
}

export interface Progress {
  mapref: string;
  prcid: number | null;
  strategy: string | null;
  checkpoint: string | null;
  rowsLoaded: number;
  batches: number;
  rowsPerSecond: number;
  startedAt: string;
  /** Rows the run had already loaded when it started (a resume), for rates. */
  rowsAtStart?: number;
  /** Paused by signal pause, waiting for signal resume (since 0.4.0). */
  paused?: boolean;
  /** A partitioned run: its key ranges, as the run last heard of them. */
  partitions?: RangeProgress[];
  /** A key range's workflow: which range it loads. */
  partition?: number;
  /** The rows the run will have loaded when it ends, estimated from the source's statistics (since 0.7.0). */
  estimatedRows?: number;
  /** What the pre-flight warned of (a key read without an index), for `dms run --wait` to say (since 0.8.0). */
  warnings?: string[];
}

export const progressQuery = defineQuery<Progress>('progress');

/** Input of signal resetCheckpoint: the key to go on from (PARAM1's text form); absent or null for the start. */
export interface ResetCheckpointRequest {
  to?: string | number | null;
}

/**
 * Moves a running KEY load's checkpoint, between batches:
 *   temporal workflow signal --workflow-id dms-SALES --name resetCheckpoint --input '{"to":"150000"}'
 * (or --input '{}' for the start). A request that cannot apply is logged and ignored.
 */
export const resetCheckpointSignal = defineSignal<[ResetCheckpointRequest?]>('resetCheckpoint');

/**
 * Stops a running load between batch activities without ending it: the batch in flight
 * commits, the run stays 'IP' (DmsStatus PAUSED) and holds no database session until resume.
 *   temporal workflow signal --workflow-id dms-SALES --name pause
 */
export const pauseSignal = defineSignal('pause');
/** Lets a paused load go on from its checkpoint. */
export const resumeSignal = defineSignal('resume');
