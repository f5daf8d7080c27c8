// `dms checkpoint show|reset <MAPREF>`: where a mapping's load stands, what its next run will
// do, and moving its checkpoint by hand: by signal while it runs, and while it does not, in
// the target's DMS_CHKPNT (fenced like a takeover: a new epoch) with the reset recorded in
// DMS_PRCLOG, so that the next run resumes from it.
import { WorkflowNotFoundError } from '@temporalio/client';
import { DatabaseRegistry } from '../plan/databases';
import { checkedResetKey, ResetKeyError } from '../plan/checkpoint-proof';
import { planMapping, type JobPlan } from '../plan/job-plan';
import { encodeCheckpoint, isPartitionsParam1, nextEpoch, readParam1, type CheckpointRow } from '../checkpoint';
import { CommandError, ConfigError } from '../common/errors';
import type { Metadata } from '../metadata/repository';
import type { RunRow } from '../metadata/repository';
import { resetCheckpointSignal } from '../workflows/handlers';
import { withMetadata, withTemporal } from './connections';
import { count, formatOf } from './output';
import { RunStatus } from '../common/run-status';

/** What the next run of a mapping will do, from its latest run and its checkpoint row. */
export function nextRunOf(
  latest: RunRow | undefined,
  row: CheckpointRow | undefined,
  ownerStatus: string | undefined,
  loadmode: string,
): string {
  const fresh =
    loadmode === 'TRUNCATE' ? 'starts fresh: it truncates the target and loads every row' : 'starts from the beginning';
  if (!latest) return `the first run ${fresh}`;
  if (latest.status === RunStatus.running)
    return `run ${latest.prcid} is running${latest.wfid ? ` as workflow ${latest.wfid}` : ''}`;
  if (latest.status === RunStatus.completed || !row || ownerStatus === RunStatus.completed) {
    if (loadmode === 'INCREMENTAL' && row?.checkpoint)
      return `the next run reads the rows after the high-water mark '${row.checkpoint}'`;
    return `the next run ${fresh}`;
  }
  if (isPartitionsParam1(latest.param1))
    return `the next run resumes the key ranges of run ${latest.prcid} (${latest.param1} complete), each from its own checkpoint`;
  switch (readParam1(latest, row)) {
    case 'cleared':
      return `the next run loads from the start, as a fresh start (PARAM1 of run ${latest.prcid} was cleared)${loadmode === 'TRUNCATE' ? ': it truncates the target first' : ''}`;
    case 'edited':
      return `the next run is refused: PARAM1 of run ${latest.prcid} was set by hand to '${latest.param1}' (move the checkpoint with \`dms checkpoint reset ${latest.mapref} --to …\`)`;
    default:
      return row.checkpoint === null
        ? `the next run resumes run ${latest.prcid} from the beginning of its keys`
        : `the next run resumes run ${latest.prcid} after '${row.checkpoint}'`;
  }
}

/** What moving the checkpoint means for the target, as the load mode makes it. */
function resetMeaning(
  plan: Pick<JobPlan, 'upsertKey'> & { spec: { loadmode: string } },
  to: string | null,
  running: boolean,
): string {
  const merges = plan.upsertKey !== null;
  const twice = 'rows the target already holds there will be in it twice unless you delete them first';
  if (merges)
    return to === null
      ? 'the load merges every row again: idempotent, reloaded rows replace themselves'
      : `the load merges the rows after '${to}' again: idempotent, reloaded rows replace themselves`;
  if (to !== null) {
    const truncate = plan.spec.loadmode === 'TRUNCATE' ? ' (without truncating: only a fresh start truncates)' : '';
    return `the load goes on after '${to}'${truncate}: ${twice}`;
  }
  if (plan.spec.loadmode === 'TRUNCATE' && !running)
    return 'the next run starts fresh: it truncates the target and loads every row';
  if (plan.spec.loadmode === 'INCREMENTAL')
    return `the next run reads the whole source, not only what is after the high-water mark: ${twice}`;
  return `every row is loaded again${running ? ' (without truncating)' : ''}: ${twice}`;
}

/** The key a user gave, checked as the signal checks it: its columns, the key's types, a source row's key. */
async function checkedKey(plan: JobPlan, to: string): Promise<string[]> {
  try {
    return await checkedResetKey(plan, to);
  } catch (err) {
    if (!(err instanceof ResetKeyError)) throw err;
    const fix =
      'give the key as DMS_PRCLOG.PARAM1 shows it (a JSON array for a key of several columns), or leave --to out for the start';
    throw new ConfigError(plan.spec.mapref, '--to', `got '${to}', which ${err.message}`, fix);
  }
}

async function withPlan<T>(metadata: Metadata, mapref: string, fn: (plan: JobPlan) => Promise<T>): Promise<T> {
  const databases = new DatabaseRegistry({ lockTimeoutMs: 30_000 });
  try {
    return await fn(await planMapping(metadata, databases, await metadata.mapping(mapref)));
  } finally {
    await databases.close();
  }
}

export function show(mapref: string, opts: { output?: string; json?: boolean }): Promise<void> {
  const format = formatOf(opts);
  return withMetadata((metadata) =>
    withPlan(metadata, mapref, async (plan) => {
      const row = await plan.target.readCheckpoint(plan.schema, mapref);
      const [latest] = await metadata.latestRuns(mapref, 1);
      const owner = row ? await metadata.run(row.prcid) : undefined;
      const next = nextRunOf(latest, row, owner?.status, plan.spec.loadmode);
      if (format !== 'text') {
        const record = {
          mapref,
          checkpoint: row?.checkpoint ?? null,
          keyColumns: row?.keyColumns ? (JSON.parse(row.keyColumns) as string[]) : null,
          batches: row?.batches ?? 0,
          rows: row?.rows ?? 0,
          owner: row ? { prcid: row.prcid, status: owner?.status ?? null, epoch: row.epoch } : null,
          latestRun: latest
            ? { prcid: latest.prcid, status: latest.status, param1: latest.param1, lasterr: latest.lasterr }
            : null,
          next,
        };
        console.log(format === 'json' ? JSON.stringify(record, null, 2) : JSON.stringify(record));
        return;
      }
      if (!row) console.log(`Mapping ${mapref}: no checkpoint in "${plan.schema}".dms_chkpnt yet`);
      else {
        const at = row.checkpoint === null ? 'at the start' : `'${row.checkpoint}'`;
        const over = row.keyColumns ? ` over ${(JSON.parse(row.keyColumns) as string[]).join(', ')}` : '';
        console.log(
          `Mapping ${mapref}: checkpoint ${at}${over}, after ${count(row.batches)} batches and ${count(row.rows)} rows; owned by run ${row.prcid}${owner ? ` (${owner.status})` : ''}, epoch ${row.epoch}`,
        );
      }
      if (latest)
        console.log(
          `latest run ${latest.prcid}: ${latest.status}, PARAM1 ${latest.param1 === null ? 'NULL' : `'${latest.param1}'`}${latest.lasterr ? `, ${latest.lasterr}` : ''}`,
        );
      console.log(next);
    }),
  );
}

export function reset(mapref: string, opts: { to?: string }): Promise<void> {
  return withMetadata((metadata) =>
    withPlan(metadata, mapref, async (plan) => {
      if (plan.strategy !== 'KEY') {
        throw new ConfigError(
          mapref,
          'CHKPNTSTRATEGY',
          `is ${plan.strategy} for this mapping: only KEY loads have a key to go on from`,
          `load from the start with \`dms run ${mapref} --from-start\``,
        );
      }
      if (plan.spec.partitions > 1) {
        throw new ConfigError(
          mapref,
          'PARTITIONS',
          `is ${plan.spec.partitions}: the mapping loads in key ranges, each with its own checkpoint, so there is no one checkpoint to move`,
          `load from the start with \`dms run ${mapref} --from-start\` (empty the target first unless LOADMODE is TRUNCATE or UPSERT)`,
        );
      }
      const to = opts.to === undefined ? null : encodeCheckpoint(await checkedKey(plan, opts.to));
      const [latest] = await metadata.latestRuns(mapref, 1);
      if (latest?.status === RunStatus.running) {
        await withTemporal(async (client) => {
          const handle = client.workflow.getHandle(latest.wfid ?? '');
          // Only a workflow Temporal does not know is gone; any other error is shown as it is.
          const described = latest.wfid
            ? await handle.describe().catch((err: unknown) => {
                if (err instanceof WorkflowNotFoundError) return undefined;
                throw new CommandError(
                  `${mapref}: could not ask Temporal whether workflow ${latest.wfid} runs: ${(err as Error).message.split('\n')[0]}`,
                );
              })
            : undefined;
          const running = described?.status.name === 'RUNNING';
          if (!running) {
            throw new CommandError(
              `${mapref}: run ${latest.prcid} is marked running, but its workflow ${latest.wfid ?? '?'} no longer runs; start the mapping (\`dms run ${mapref}\` takes that run over and resumes it) and reset it while it runs`,
            );
          }
          await handle.signal(resetCheckpointSignal, to === null ? {} : { to });
          console.log(
            `sent resetCheckpoint to workflow ${latest.wfid} (run ${latest.prcid}): it moves the checkpoint ${to === null ? 'to the start' : `to '${to}'`} between two batch activities`,
          );
          console.log(resetMeaning(plan, to, true));
        });
        return;
      }
      const row = await plan.target.readCheckpoint(plan.schema, mapref);
      if (!row || (row.batches === 0 && row.checkpoint === null && to === null)) {
        console.log(
          `Mapping ${mapref}: nothing to reset, no batch has committed; the next run starts from the beginning`,
        );
        return;
      }
      const job = await metadata.currentJob(mapref);
      if (!job) throw new CommandError(`${mapref} has no job in DMS_JOB; create it with \`dms job sync ${mapref}\``);
      const note =
        to === null
          ? 'checkpoint reset to the start with dms checkpoint reset: the next run loads from the start'
          : `checkpoint reset to '${to}' with dms checkpoint reset: the next run resumes after it`;
      const result = await metadata.recordCheckpointReset(
        { mapref, jobid: job.jobid, param1: to, batches: row.batches, rows: row.rows, note },
        (prcid) =>
          plan.target.transaction(async (tx) => {
            const locked = await tx.lockCheckpoint(plan.schema, mapref);
            if (!locked)
              throw new CommandError(
                `${mapref}: the checkpoint row vanished from "${plan.schema}".dms_chkpnt meanwhile; nothing was reset`,
              );
            // A new epoch, as a takeover makes: an attempt of an earlier run still in flight is fenced out.
            await tx.writeCheckpoint(plan.schema, {
              ...locked,
              prcid,
              epoch: nextEpoch(locked),
              jobid: job.jobid,
              checkpoint: to ?? locked.checkpoint,
            });
          }),
      );
      if ('active' in result) {
        throw new CommandError(
          `${mapref}: run ${result.active.prcid} started meanwhile; run \`dms checkpoint reset ${mapref}\` again to reset it by signal`,
        );
      }
      console.log(
        `Mapping ${mapref}: checkpoint reset ${to === null ? 'to the start' : `to '${to}'`}, recorded as run ${result.prcid} ('CN') in DMS_PRCLOG`,
      );
      console.log(resetMeaning(plan, to, false));
    }),
  );
}
