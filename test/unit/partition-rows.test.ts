// A partitioned run's rows in DMS_CHKPNT (checkpoint/partition.ts): what LASTROW holds for
// the run and for each range, read back strictly; and PARAM1 while the run loads.
import { describe, expect, it } from 'vitest';
import {
  decodeRangeMeta,
  encodeRangeMeta,
  encodeSplitMeta,
  isPartitionsParam1,
  partitionRowKey,
  partitionsParam1,
  partitionWorkflowId,
  splitOf,
} from '../../checkpoint';
import { handEdit } from '../../activities/prepare-run';
import { nextRunOf } from '../../client/checkpoint';
import type { RunRow } from '../../metadata/schema';
import { rangeTotals } from '../../common/range-totals';

describe('range rows', () => {
  it('keep their end and whether they are complete, an open end included', () => {
    for (const meta of [
      { upTo: '150', done: false },
      { upTo: '["EU","100765"]', done: true },
      { upTo: null, done: false },
    ]) {
      expect(decodeRangeMeta(encodeRangeMeta(meta))).toEqual(meta);
    }
  });

  it('are told apart from a ROWCOUNT digest or a changed LASTROW', () => {
    for (const lastRow of [null, 'a1b2c3', '{"upTo":150,"done":false}', '{"upTo":"1"}', '[1]', '{not json']) {
      expect(decodeRangeMeta(lastRow)).toBeUndefined();
    }
  });

  it("are keyed by the mapping and range, and their workflows by the run's", () => {
    expect(partitionRowKey('SALES', 3)).toBe('SALES#p3');
    expect(partitionWorkflowId('dms-SALES', 3)).toBe('dms-SALES-p3');
  });
});

describe("the run's own row", () => {
  it('says how many ranges the run split into; a run that did not split says nothing', () => {
    expect(splitOf({ lastRow: encodeSplitMeta(4) })).toBe(4);
    for (const lastRow of [
      null,
      'a1b2c3',
      '{"partitions":0}',
      '{"partitions":"4"}',
      encodeRangeMeta({ upTo: null, done: true }),
    ]) {
      expect(splitOf({ lastRow })).toBeUndefined();
    }
  });
});

describe('PARAM1 of a partitioned run', () => {
  it('reads PARTITIONS <complete>/<N>, which no checkpoint looks like', () => {
    expect(partitionsParam1(2, 4)).toBe('PARTITIONS 2/4');
    expect(isPartitionsParam1('PARTITIONS 2/4')).toBe(true);
    for (const param1 of [null, '150', 'COMPLETED', 'PARTITIONS', 'PARTITIONS 2/4 ', '["PARTITIONS 2/4"]'])
      expect(isPartitionsParam1(param1)).toBe(false);
  });

  it('makes `dms checkpoint show` say the next run resumes the ranges, not that PARAM1 was edited', () => {
    const latest = { prcid: 7, mapref: 'SALES', status: 'CN', param1: 'PARTITIONS 2/4', batchcnt: 30 } as RunRow;
    const row = {
      mapref: 'SALES',
      prcid: 7,
      epoch: 3,
      jobid: 1,
      keyColumns: '["id"]',
      checkpoint: null,
      lastRow: encodeSplitMeta(4),
      batches: 0,
      rows: 0,
    };
    expect(nextRunOf(latest, row, 'CN', 'APPEND')).toBe(
      'the next run resumes the key ranges of run 7 (PARTITIONS 2/4 complete), each from its own checkpoint',
    );
  });
});

describe('a resume of a partitioned run, by its PARAM1', () => {
  const row = {
    mapref: 'SALES',
    prcid: 7,
    epoch: 3,
    jobid: 1,
    keyColumns: '["id"]',
    checkpoint: null,
    lastRow: encodeSplitMeta(4),
    batches: 1,
    rows: 200,
  };
  const run = (param1: string | null, batchcnt: number) =>
    ({ prcid: 7, resumedfrom: null, param1, batchcnt }) as RunRow;

  it('goes on per range from PARTITIONS <complete>/<N>', () => {
    expect(handEdit('SALES', 'public', run('PARTITIONS 2/4', 30), row, true)).toBe('none');
  });

  it('takes NULL for "load from the start" only once the ranges had loaded; before, it is a mirror not caught up', () => {
    expect(handEdit('SALES', 'public', run(null, 30), row, true)).toBe('cleared');
    // Only the NULL-key phase (the run's own batch) had committed: resumed, never loaded twice.
    expect(handEdit('SALES', 'public', run(null, 1), row, true)).toBe('none');
  });

  it('refuses any other PARAM1, naming what to set', () => {
    expect(() => handEdit('SALES', 'public', run('150', 30), row, true)).toThrow(
      /PARAM1 of run 7 was set by hand to '150', but the mapping loads in key ranges/,
    );
  });
});

describe("a partitioned run's totals", () => {
  const state = (checkpoint: string | null, batches: number, rows: number) => ({ checkpoint, batches, rows });
  it.each([
    ['no range yet: the run alone', state('5', 2, 10), [], state('5', 2, 10)],
    [
      'the NULL-key phase plus every range',
      state(null, 1, 3),
      [state('150', 2, 20), state('300', 4, 40)],
      state('300', 7, 63),
    ],
    [
      "a last range with no key yet: the run's own checkpoint",
      state('9', 0, 0),
      [state('150', 1, 5), state(null, 0, 0)],
      state('9', 1, 5),
    ],
  ])('%s', (_, own, ranges, expected) => {
    expect(rangeTotals(own, ranges)).toEqual(expected);
  });
});
