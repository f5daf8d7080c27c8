import { describe, expect, it } from 'vitest';
import { readParam1 } from '../../checkpoint';

describe("what an unfinished run's PARAM1 says about the checkpoint row", () => {
  const row = { checkpoint: '15000', batches: 5 };

  it('mirrors the row, or lags it after a crash between a commit and its mirror', () => {
    expect(readParam1({ param1: '15000', batchcnt: 5 }, row)).toBe('mirror');
    expect(readParam1({ param1: '12000', batchcnt: 4 }, row)).toBe('mirror');
    // Before the first batch's mirror: NULL with no batch counted.
    expect(readParam1({ param1: null, batchcnt: 0 }, row)).toBe('mirror');
  });

  it('was cleared: NULL where the row has a key, counted batches', () => {
    expect(readParam1({ param1: null, batchcnt: 5 }, row)).toBe('cleared');
    // A row at the start (a reset to the start by signal) has nothing to clear.
    expect(readParam1({ param1: null, batchcnt: 5 }, { checkpoint: null, batches: 5 })).toBe('mirror');
  });

  it('was set by hand: another value with the same batch count', () => {
    expect(readParam1({ param1: '999', batchcnt: 5 }, row)).toBe('edited');
  });
});
