// A run's claim on its mapping (startRun): one active run a mapping, kept in DMS_PRCLOG by
// the metadata module (Metadata.claimRun).
import { classified, type RunContext } from './run-context';
import type { RunClaim, StartRunInput } from './types';

/**
 * Takes the mapping over in the metadata database and opens a DMS_PRCLOG run ('IP').
 * A start that finds another active run writes nothing and fails naming its workflow.
 * Idempotent: a retry of the same workflow's start finds and returns its own run.
 */
export async function startRun(ctx: RunContext, input: StartRunInput): Promise<RunClaim> {
  return classified(ctx, async () => ({
    ...(await ctx.metadata.claimRun(input, ctx.deps.isWorkflowRunning)),
    settings: ctx.deps.settings,
  }));
}
