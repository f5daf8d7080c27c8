import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors';
import { lookbackSeconds, parseMapping, sameDefinition, sameLoad } from '../../common/mapping';

const good = {
  mapref: 'SALES',
  srcconid: 'SRC',
  srcquery: 'SELECT * FROM sales',
  trgconid: 'TGT',
  trgschm: 'PUBLIC',
  trgtbnm: 'SALES_COPY',
  trgkeycols: null,
  loadmode: 'append',
  bulklmt: '1000',
  chkpntstrategy: 'key',
  chkpntcolumn: 'SALE_ID',
  chkpntenabled: 'Y',
};

function problem(change: Record<string, unknown>): ConfigError {
  try {
    parseMapping({ ...good, ...change });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('mapping validation', () => {
  it('normalizes a good mapping', () => {
    expect(parseMapping(good)).toMatchObject({ loadmode: 'APPEND', bulklmt: 1000, chkpntstrategy: 'KEY' });
  });

  it('takes PARTITIONS as 1 when unset, and a KEY or AUTO mapping with more', () => {
    expect(parseMapping(good).partitions).toBe(1);
    expect(parseMapping({ ...good, partitions: null }).partitions).toBe(1);
    expect(parseMapping({ ...good, partitions: '8' }).partitions).toBe(8);
    expect(parseMapping({ ...good, chkpntstrategy: 'AUTO', chkpntcolumn: null, partitions: 4 }).partitions).toBe(4);
  });

  it.each([
    [{ partitions: 0 }, /^PARTITIONS must be a number of key ranges from 1 to 64/],
    [{ partitions: 65 }, /^PARTITIONS must be a number of key ranges from 1 to 64/],
    [{ partitions: 2.5 }, /^PARTITIONS must be a number of key ranges from 1 to 64/],
    [
      { partitions: 4, chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
      /^PARTITIONS is 4, but CHKPNTSTRATEGY is 'ROWCOUNT': only a KEY load splits into key ranges/,
    ],
    [{ partitions: 2, chkpntstrategy: 'NONE', chkpntcolumn: null }, /^PARTITIONS is 2, but CHKPNTSTRATEGY is 'NONE'/],
  ])('refuses PARTITIONS %o', (change, message) => {
    const err = problem(change);
    expect(err.field).toBe('PARTITIONS');
    expect(`${err.field} ${err.problem}`).toMatch(message);
  });

  it('reads a look-back window in seconds, for sources that take it as a number', () => {
    expect(lookbackSeconds('15 minutes')).toBe(900);
    expect(lookbackSeconds('1 day 2 hours')).toBe(93_600);
    expect(lookbackSeconds('1 week 30 seconds')).toBe(604_830);
    expect(lookbackSeconds('2Hours')).toBe(7200);
  });

  it('accepts PYTHON, the earlier name of ROWCOUNT', () => {
    expect(parseMapping({ ...good, chkpntstrategy: 'PYTHON', chkpntcolumn: null }).chkpntstrategy).toBe('PYTHON');
  });

  it.each([
    [{ srcquery: '  ' }, 'SRCQUERY', /is empty; it must be a SELECT statement/],
    [{ srcconid: null }, 'SRCCONID', /is empty/],
    [{ trgtbnm: '' }, 'TRGTBNM', /is empty/],
    [{ loadmode: 'MERGE' }, 'LOADMODE', /is 'MERGE'; it must be APPEND, UPSERT, TRUNCATE, INCREMENTAL/],
    [{ bulklmt: 0 }, 'BULKLMT', /must be a batch size from 1 to 1000000/],
    [{ bulklmt: 'lots' }, 'BULKLMT', /must be a batch size/],
    [{ bulklmt: 2.5 }, 'BULKLMT', /must be a batch size/],
    [{ chkpntstrategy: 'SMART' }, 'CHKPNTSTRATEGY', /is 'SMART'/],
    [{ chkpntenabled: 'yes' }, 'CHKPNTENABLED', /is 'YES'; it must be 'Y' or 'N'/],
    [{ chkpntcolumn: null }, 'CHKPNTCOLUMN', /is empty but CHKPNTSTRATEGY is 'KEY'/],
    [{ chkpntcolumn: 'id; DROP TABLE x' }, 'CHKPNTCOLUMN', /is refused: "id; DROP TABLE x" is not a valid identifier/],
    [{ trgtbnm: 'x; DELETE' }, 'TRGTBNM', /is refused/],
    [{ trgschm: 'a.b' }, 'TRGSCHM', /is refused/],
    [{ trgkeycols: 'a, b c' }, 'TRGKEYCOLS', /is refused/],
    [{ loadmode: 'UPSERT' }, 'TRGKEYCOLS', /is empty but LOADMODE is 'UPSERT'/],
    [{ chkpntlookback: '15 minutes' }, 'CHKPNTLOOKBACK', /is set but LOADMODE is not 'INCREMENTAL'/],
    [
      { loadmode: 'INCREMENTAL', chkpntlookback: "1 hour'; DROP" },
      'CHKPNTLOOKBACK',
      /is not a window such as '15 minutes'/,
    ],
    [{ loadmode: 'INCREMENTAL', chkpntlookback: '1 hour' }, 'TRGKEYCOLS', /is empty but CHKPNTLOOKBACK re-reads rows/],
    [{ chkpntnulls: 'SKIP' }, 'CHKPNTNULLS', /is 'SKIP'; it must be 'FAIL' or 'FIRST'/],
  ])('refuses %j, naming %s and the fix', (change, field, text) => {
    const err = problem(change);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(new RegExp(`^Mapping SALES: ${field} `));
    expect(err.message).toMatch(text);
    expect(err.message).toMatch(/Fix: .*then run `dms job sync SALES`$/);
  });

  it('tells definitions apart by their config columns only', () => {
    const a = parseMapping(good);
    expect(sameDefinition(a, parseMapping({ ...good, loadmode: 'APPEND' }))).toBe(true);
    expect(sameDefinition(a, parseMapping({ ...good, bulklmt: 10 }))).toBe(false);
  });

  it('takes REJECTLMT as a whole number from 0 (0 when unset), a change a resumed run may carry', () => {
    expect(parseMapping(good).rejectlmt).toBe(0);
    expect(parseMapping({ ...good, rejectlmt: '25' }).rejectlmt).toBe(25);
    expect(problem({ rejectlmt: -1 }).message).toMatch(
      /^Mapping SALES: REJECTLMT must be a whole number of rows from 0\. Fix: set REJECTLMT to the most rows a run may reject/,
    );
    const a = parseMapping(good);
    const raised = parseMapping({ ...good, rejectlmt: 100 });
    expect(sameDefinition(a, raised)).toBe(false);
    expect(sameLoad(a, raised)).toBe(true);
    expect(sameLoad(a, parseMapping({ ...good, rejectlmt: 100, bulklmt: 10 }))).toBe(false);
  });

  it.each([
    ['unset', undefined, null],
    ['empty', ' ', null],
    ['a number as text', '16777216', 16_777_216],
    ['the least', 1, 1],
  ])('takes BATCHBYTES %s', (_, batchbytes, expected) => {
    expect(parseMapping({ ...good, batchbytes }).batchbytes).toBe(expected);
  });

  it.each([
    ['too small', 0],
    ['too large', 2 ** 31],
    ['not whole', 70_000.5],
    ['not a number', '64 MiB'],
  ])('refuses BATCHBYTES %s, naming the range and the fix', (_, batchbytes) => {
    expect(problem({ batchbytes }).message).toMatch(
      /^Mapping SALES: BATCHBYTES must be a number of bytes from 1 to 2147483647, or empty\. Fix: set BATCHBYTES to the most bytes of row text one batch may carry/,
    );
  });

  it('lets a resumed run carry a change of BATCHBYTES, which changes where batches end, not which rows load', () => {
    const a = parseMapping(good);
    const capped = parseMapping({ ...good, batchbytes: 1_048_576 });
    expect(sameDefinition(a, capped)).toBe(false);
    expect(sameLoad(a, capped)).toBe(true);
  });
});
