// The checkpoint rows of a partitioned run (DMS_MAPR.PARTITIONS > 1), in the same DMS_CHKPNT
// table as every other mapping's, so that a table a DBA created needs no change:
//   <MAPREF>      the run's own row: its ownership epoch, the NULL-key phase, and in LASTROW
//                 {"partitions":N}, the number of ranges the run was split into;
//   <MAPREF>#p<k> range k's row: its checkpoint, counters and epoch (the run's), and in
//                 LASTROW {"upTo":<key or null>,"done":<bool>}, the range's end and whether
//                 it is complete.
// Every row is written in the target transaction of the batch it belongs to, so a range's
// bounds and progress commit, or vanish, with its rows.
import type { CheckpointRow } from './row';

export { partitionWorkflowId } from '../common/partition-ids';

/** The checkpoint row key of range k (1-based) of a mapping. */
export function partitionRowKey(mapref: string, k: number): string {
  return `${mapref}#p${k}`;
}

export interface RangeMeta {
  /** The range's last key (inclusive, text form); null for the last range, open above. */
  upTo: string | null;
  done: boolean;
}

export function encodeRangeMeta(meta: RangeMeta): string {
  return JSON.stringify({ upTo: meta.upTo, done: meta.done });
}

/** A range row's LASTROW; undefined where it is not one. */
export function decodeRangeMeta(lastRow: string | null): RangeMeta | undefined {
  const parsed = parseObject(lastRow);
  if (!parsed || !('upTo' in parsed) || typeof parsed.done !== 'boolean') return undefined;
  if (parsed.upTo !== null && typeof parsed.upTo !== 'string') return undefined;
  return { upTo: parsed.upTo, done: parsed.done };
}

export function encodeSplitMeta(partitions: number): string {
  return JSON.stringify({ partitions });
}

/** How many ranges the run that owns this row split into; undefined for a run that did not split. */
export function splitOf(row: Pick<CheckpointRow, 'lastRow'> | undefined): number | undefined {
  const parsed = parseObject(row?.lastRow ?? null);
  const n = parsed?.partitions;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function parseObject(text: string | null): Record<string, unknown> | undefined {
  if (text === null || !text.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What DMS_PRCLOG.PARAM1 holds while a partitioned run loads: `PARTITIONS <complete>/<N>`. */
export function partitionsParam1(done: number, partitions: number): string {
  return `PARTITIONS ${done}/${partitions}`;
}

/** Whether PARAM1 is a partitioned run's progress rather than a checkpoint. */
export function isPartitionsParam1(param1: string | null): boolean {
  return param1 !== null && /^PARTITIONS \d+\/\d+$/.test(param1);
}
