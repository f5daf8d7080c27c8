// The dmsJob workflow: deterministic code only. It claims the mapping, loops over batch
// activities until the source is exhausted and ends the run; the database holds the truth
// (checkpoint and ownership), the workflow only carries it from one batch to the next.
//
//   temporal workflow start --type dmsJob --task-queue dms-etl \
//     --workflow-id dms-SALES --input '{"mapref":"SALES"}'
import { ApplicationFailure } from '@temporalio/workflow';
// Pure data, no I/O: safe in the workflow bundle.
import { unknownKeys, unknownKeyText } from '../common/unknown-keys';
import { JobRun, type DmsJobInput, type DmsJobResult } from './job-run';

export { dmsPartition } from './partition';
export * from './handlers';
export type { DmsJobInput, DmsJobResult } from './job-run';

/** The keys of dmsJob's input a user may give (`carried` is the workflow's own, at continue-as-new). */
const INPUT_KEYS = ['mapref', 'fromStart'];

function checkInput(input: unknown): DmsJobInput {
  const candidate = input as Partial<DmsJobInput> | undefined;
  if (!candidate || typeof candidate.mapref !== 'string' || candidate.mapref.trim() === '') {
    throw ApplicationFailure.nonRetryable(
      'dmsJob input must be {"mapref": "<MAPREF>"}, e.g. --input \'{"mapref":"SALES_FACT_LOAD"}\'',
      'ConfigError',
    );
  }
  // A misspelt key ("fromstart") would otherwise be ignored: the load would not do what was asked.
  const unknown = unknownKeys(candidate, [...INPUT_KEYS, 'carried']).map((u) =>
    unknownKeyText({ ...u, nearest: u.nearest === 'carried' ? undefined : u.nearest }, INPUT_KEYS),
  );
  if (unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `dmsJob input has ${unknown.join('; ')}; it takes {"mapref": "<MAPREF>", "fromStart": true}, fromStart optional`,
      'ConfigError',
    );
  }
  if (candidate.fromStart !== undefined && typeof candidate.fromStart !== 'boolean') {
    throw ApplicationFailure.nonRetryable('dmsJob input field fromStart must be true or false', 'ConfigError');
  }
  return candidate as DmsJobInput;
}

export async function dmsJob(rawInput: DmsJobInput): Promise<DmsJobResult> {
  const job = new JobRun(checkInput(rawInput));
  job.listen();
  // An execution that continues a run carries it; a new one claims the mapping and prepares the run.
  const prepared = job.carried ? {} : await job.claimAndPrepare();
  return prepared.ranges ? job.loadInRanges(prepared.ranges) : job.loadInBatches(prepared.firstSlice);
}
