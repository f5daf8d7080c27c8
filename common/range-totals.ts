// What a partitioned run has loaded: its own rows (loaded before its ranges: the NULL-key phase)
// and every range's, its checkpoint the last range's. Pure: the workflow sums the ranges' states
// it holds, finishRun the ranges' checkpoint rows, the same way. (DMS_PRCLOG sums DMS_PRCPART in
// one statement, metadata/repository.ts sumRanges; `dms watch` adds the ranges' live progress
// to what the run last heard, client/progress.ts withRanges.)

export interface CountedState {
  checkpoint: string | null;
  batches: number;
  rows: number;
}

/** The run's own state plus its ranges' (in key order), with the last range's checkpoint where it has one. */
export function rangeTotals(own: CountedState, ranges: CountedState[]): CountedState {
  const last = ranges[ranges.length - 1];
  return {
    checkpoint: last?.checkpoint ?? own.checkpoint,
    batches: ranges.reduce((n, r) => n + r.batches, own.batches),
    rows: ranges.reduce((n, r) => n + r.rows, own.rows),
  };
}
