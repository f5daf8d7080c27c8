// The fields a log line carries (common/log-fields.ts) and the JSON line it becomes
// (worker/runtime.ts), for the inputs activities and workflows receive.
import { describe, expect, it } from 'vitest';
import { logFieldsOf } from '../../common/log-fields';
import { jsonLine } from '../../worker/runtime';

describe('log fields', () => {
  it('names the mapping, the run, the key range and the first batch of a slice, where the input has them', () => {
    expect(
      logFieldsOf({ mapref: 'SALES', prcid: 7, partition: { k: 2 }, expected: { batches: 40 }, epoch: 3 }),
    ).toEqual({ mapref: 'SALES', run: 7, partition: 2, batch: 41 });
    expect(logFieldsOf({ mapref: 'SALES', prcid: 7, range: { k: 3, upTo: '["9"]' } })).toEqual({
      mapref: 'SALES',
      run: 7,
      partition: 3,
    });
    expect(logFieldsOf({ mapref: 'SALES' })).toEqual({ mapref: 'SALES' });
    expect(logFieldsOf(undefined)).toEqual({});
    expect(logFieldsOf({ mapref: 5, prcid: '7' })).toEqual({});
  });

  it('writes one entry as one JSON object: time, level, message, then its fields (errors as their message)', () => {
    const line = jsonLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_764_600_000_123_000_000n,
      meta: { mapref: 'SALES', run: 7, error: new Error('lost [SQLSTATE 08006]'), big: 5n },
    });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: '2025-12-01T14:40:00.123Z',
      level: 'warn',
      message: 'Activity failed',
      mapref: 'SALES',
      run: 7,
      error: 'lost [SQLSTATE 08006]',
      big: '5',
    });
  });
});
