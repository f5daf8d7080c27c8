// A run's end (finishRun): its ownership of the checkpoint row released, and its status and
// PARAM1 written to DMS_PRCLOG. It plans nothing: it needs the target and its schema only.
import { Context } from '@temporalio/activity';
import { decodeRangeMeta, nextEpoch, partitionsParam1, stateOf, type CheckpointRow } from '../checkpoint';
import { lockRanges } from './ranges';
import { rangeTotals } from '../common/range-totals';
import { toFailure } from './failures';
import { classified, targetFor, type RunContext } from './run-context';
import type { FinishInput } from './types';
import { RunStatus } from '../common/run-status';

/**
 * Ends a run: releases its ownership (a new epoch fences any attempt still running) and
 * sets DMS_PRCLOG's status; PARAM1 becomes 'COMPLETED' or keeps the checkpoint (a
 * partitioned run's: `PARTITIONS <complete>/<N>`).
 */
export async function finishRun(ctx: RunContext, input: FinishInput): Promise<void> {
  return classified(ctx, async () => {
    let state = input.state;
    const run = await ctx.metadata.run(input.prcid);
    // A run that split (DMS_PRCPART has its ranges), also when it failed before the workflow knew.
    const recorded = (await ctx.metadata.ranges(input.prcid)).filter((r) => r.partno > 0);
    const partitioned = input.partitioned === true || recorded.length > 0;
    let param1: string | null =
      input.status === RunStatus.completed
        ? 'COMPLETED'
        : recorded.length > 0
          ? partitionsParam1(recorded.filter((r) => r.status === RunStatus.completed).length, recorded.length)
          : state.checkpoint;
    if (run?.jobid) {
      try {
        const p = await targetFor(ctx, run.jobid);
        await ctx.deps.faults?.('beforeRelease', {
          mapref: input.mapref,
          batch: 0,
          attempt: Context.current().info.attempt,
        });
        await p.target.transaction(async (tx) => {
          const row = await tx.lockCheckpoint(p.schema, input.mapref);
          // Epoch 0: the run failed before the workflow heard of its epoch (in its first
          // activity); the row is still this run's if its prcid says so, one epoch a run.
          if (row && row.prcid === input.prcid && (row.epoch === input.epoch || input.epoch === 0)) {
            state = stateOf(row);
            let released: CheckpointRow = { ...row, epoch: nextEpoch(row) };
            // The run's own row says whether it split, also when the workflow never heard of it.
            const ranges = await lockRanges(p, tx, row);
            if (ranges.length > 0) {
              // Every range's row moves to the new epoch too: an attempt still loading a range is fenced.
              for (const range of ranges) await tx.writeCheckpoint(p.schema, { ...range, epoch: nextEpoch(row) });
              // Completed, its checkpoint is the high-water mark an INCREMENTAL run starts after:
              // the last range's last key.
              const totals = rangeTotals(stateOf(row), ranges.map(stateOf));
              if (input.status === RunStatus.completed) {
                state = totals;
                released = { ...released, ...totals };
              } else {
                state = { ...totals, checkpoint: row.checkpoint };
                const done = ranges.filter((r) => decodeRangeMeta(r.lastRow)?.done).length;
                param1 = partitionsParam1(done, ranges.length);
              }
            } else if (input.status !== RunStatus.completed) {
              param1 = state.checkpoint;
            }
            await tx.writeCheckpoint(p.schema, released);
          }
        });
      } catch (err) {
        // A partitioned run's high-water mark is written only here: it completes once written.
        if (partitioned && input.status === RunStatus.completed) throw err;
        // The target may be why the run failed; the next run's takeover fences it anyway.
        Context.current().log.warn('could not release the checkpoint row', {
          mapref: input.mapref,
          error: toFailure(err).message,
        });
      }
    }
    await ctx.metadata.endRun(input.prcid, input.status, param1, input.error, state);
  });
}
