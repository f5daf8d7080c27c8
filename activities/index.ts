// The activities of a dms-etl run, built by a factory from their dependencies so that the
// workflow bundle never imports a driver (it imports only the type of createActivities).
//
//   const activities = createActivities({ metadata, databases, isWorkflowRunning, settings });
//   await Worker.create({ taskQueue: 'dms-etl', workflowsPath, activities });
//
// One file a step of a run, named for its activity: start-run.ts, prepare-run.ts, run-batch.ts
// (with key-slice.ts and rowcount-slice.ts), reset.ts (resetCheckpoint) and finish-run.ts. The
// checkpoint and its fence live in ../checkpoint.
import { startRun } from './start-run';
import { finishRun } from './finish-run';
import { resetCheckpoint } from './reset';
import { createRunContext, type ActivityDeps } from './run-context';
import { runBatch } from './run-batch';
import { prepareRun } from './prepare-run';
import type { BatchInput, FinishInput, PrepareInput, ResetInput, StartRunInput } from './types';

export type * from './types';
export type { ActivityDeps, FaultHook, FaultPoint } from './run-context';

export function createActivities(deps: ActivityDeps) {
  const ctx = createRunContext(deps);
  // Activity type names are part of every history: they keep their first names.
  return {
    startRun: (input: StartRunInput) => startRun(ctx, input),
    prepareRun: (input: PrepareInput) => prepareRun(ctx, input),
    runBatch: (input: BatchInput) => runBatch(ctx, input),
    resetCheckpoint: (input: ResetInput) => resetCheckpoint(ctx, input),
    finishRun: (input: FinishInput) => finishRun(ctx, input),
  };
}

export type DmsActivities = ReturnType<typeof createActivities>;
