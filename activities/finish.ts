// A run's end (finishRun): its ownership of the checkpoint row released, and its status and
// PARAM1 written to DMS_PRCLOG.
import { Context } from '@temporalio/activity';
import { stateOf } from '../checkpoint';
import { toFailure } from './failures';
import { classified, planFor, type RunContext } from './run-context';
import type { FinishInput } from './types';

/**
 * Ends a run: releases its ownership (a new epoch fences any attempt still running) and
 * sets DMS_PRCLOG's status; PARAM1 becomes 'COMPLETED' or keeps the checkpoint.
 */
export async function finishRun(ctx: RunContext, input: FinishInput): Promise<void> {
  return classified(ctx, async () => {
    let state = input.state;
    const run = await ctx.metadata.run(input.prcid);
    if (run?.jobid) {
      try {
        const p = await planFor(ctx, run.jobid);
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
    await ctx.metadata.endRun(input.prcid, input.status, param1, input.error, state);
  });
}
