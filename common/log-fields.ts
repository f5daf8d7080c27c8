// The fields a log line of dms-etl carries, from the input of the activity or workflow that
// logs it: the mapping, the run (DMS_PRCLOG.PRCID), the key range of a partitioned run, and the
// first batch of an activity's slice. Names and numbers only, never a value of a row. Pure:
// the workflow bundle imports it too.

export type LogFields = Record<string, string | number>;

export function logFieldsOf(input: unknown): LogFields {
  const i = (input ?? {}) as {
    mapref?: unknown;
    prcid?: unknown;
    partition?: { k?: unknown };
    range?: { k?: unknown };
    expected?: { batches?: unknown };
  };
  const fields: LogFields = {};
  if (typeof i.mapref === 'string') fields.mapref = i.mapref;
  if (typeof i.prcid === 'number') fields.run = i.prcid;
  const partition = i.partition?.k ?? i.range?.k;
  if (typeof partition === 'number') fields.partition = partition;
  if (typeof i.expected?.batches === 'number') fields.batch = i.expected.batches + 1;
  return fields;
}
