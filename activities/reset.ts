// Signal resetCheckpoint's activity: moves a running KEY load's checkpoint, under the same
// fence as a batch.
import { encodeCheckpoint, ownedRow, stateOf, type CheckpointRow } from '../checkpoint';
import { saveCheckpoint } from './target-writes';
import { ConfigError } from '../common/errors';
import { checkedResetKey, ResetKeyError } from '../plan/checkpoint-proof';
import { classified, planFor, type RunContext } from './run-context';
import type { BatchState, ResetInput } from './types';

/**
 * Moves a running KEY load's checkpoint (signal resetCheckpoint): to the start, or to a
 * key the user gives, checked against the key's columns and types on the source and proven
 * to select its own row (plan/checkpoint-proof.ts). The counts of batches and rows go on counting
 * what the run loads, reloads included.
 */
export async function resetCheckpoint(ctx: RunContext, input: ResetInput): Promise<BatchState> {
  return classified(
    ctx,
    async () => {
      const { mapref } = input;
      const p = await planFor(ctx, input.jobid);
      const fix = `send {"to": "<key>"} with the key as DMS_PRCLOG.PARAM1 shows it (a JSON array for a key of several columns), or {} for the start`;
      if (p.strategy !== 'KEY') {
        throw new ConfigError(
          mapref,
          'resetCheckpoint',
          `cannot move the checkpoint of a ${p.strategy} run: only KEY runs have a key to go on from`,
          `cancel the run and load from the start with \`dms run ${mapref} --from-start\``,
        );
      }
      let key: string[] | null = null;
      if (input.to !== null) {
        try {
          key = await checkedResetKey(p, input.to);
        } catch (err) {
          if (!(err instanceof ResetKeyError)) throw err;
          throw new ConfigError(
            mapref,
            'resetCheckpoint',
            `got "to": ${JSON.stringify(input.to)}, which ${err.message}`,
            fix,
          );
        }
      }
      const state = await p.target.transaction(async (tx) => {
        const row = ownedRow(await tx.lockCheckpoint(p.schema, mapref), input);
        const next: CheckpointRow = { ...row, checkpoint: key === null ? null : encodeCheckpoint(key) };
        await saveCheckpoint(ctx.metadata, p, input.prcid, tx, next);
        return stateOf(next);
      });
      if (!p.sharesMetadata) await ctx.metadata.mirrorCheckpoint(input.prcid, state);
      return state;
    },
    { prcid: input.prcid, mapref: input.mapref, what: 'the checkpoint reset' },
  );
}
