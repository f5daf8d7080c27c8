// What the Web UI shows of a run (workflows/details.ts): its current details, summaries and
// handler descriptions. Pure text; the details of real runs are read back in
// test/e2e/pause.test.ts and test/e2e/web-ui.test.ts.
import { describe, expect, it } from 'vitest';
import {
  currentDetails,
  grouped,
  HANDLER_DESCRIPTIONS,
  keyText,
  progressText,
  runSummary,
  sliceSummary,
  type RunView,
} from '../../workflows/details';

const view = (over: Partial<RunView> = {}): RunView => ({
  mapref: 'SALES_FACT_LOAD',
  strategy: 'KEY',
  loadMode: 'APPEND',
  prcid: 7,
  rowsLoaded: 45_000,
  batches: 45,
  rowsPerSecond: 12_345,
  checkpoint: '135000',
  paused: false,
  ...over,
});

describe("a run's current details", () => {
  it('name the mapping, strategy, load mode and run, then rows, batches, rate and checkpoint', () => {
    expect(currentDetails(view())).toBe(
      [
        '**SALES_FACT_LOAD** · KEY · APPEND · run 7 (DMS_PRCLOG)',
        '',
        '- 45,000 rows in 45 batches, 12,345 rows/s',
        '- checkpoint `135000`',
      ].join('\n'),
    );
  });

  it('say where a resumed run went on from, that a run is paused, and how it ended', () => {
    const resumed = currentDetails(view({ resumedFrom: { run: 6, checkpoint: '90000' }, paused: true }));
    expect(resumed).toContain('- resumed from checkpoint `90000` of run 6');
    expect(resumed).toContain('- **paused**: signal `resume` (or `dms resume`) to go on');
    const ended = currentDetails(view({ paused: true, outcome: 'completed: 60,000 rows in 60 batches' }));
    expect(ended).toMatch(/- \*\*completed: 60,000 rows in 60 batches\*\*$/);
    expect(ended).not.toContain('paused');
  });

  it("give a partitioned run's parent one line per range, and no checkpoint of its own", () => {
    const text = currentDetails(
      view({
        checkpoint: null,
        partitions: [
          {
            k: 1,
            workflowId: 'dms-S-p1',
            upTo: '50000',
            checkpoint: '50000',
            rowsLoaded: 10_000,
            batches: 10,
            status: 'PC',
          },
          {
            k: 2,
            workflowId: 'dms-S-p2',
            upTo: null,
            checkpoint: '57000',
            rowsLoaded: 2_000,
            batches: 2,
            status: 'IP',
          },
        ],
      }),
    );
    expect(text).toContain('- range 1: complete, 10,000 rows, checkpoint `50000`, up to `50000`');
    expect(text).toContain('- range 2: loading, 2,000 rows, checkpoint `57000`, up to (the end)');
    expect(text).not.toContain('- checkpoint');
  });

  it('show a key range as such, and a composite key cut short, without backticks inside', () => {
    expect(currentDetails(view({ partition: 3, loadMode: null }))).toMatch(
      /^\*\*SALES_FACT_LOAD\*\*, key range 3 · KEY · run 7/,
    );
    const long = JSON.stringify(['x'.repeat(200), '`tick`']);
    const text = keyText(long);
    expect(text.length).toBeLessThanOrEqual(122);
    expect(text.slice(1, -1)).not.toContain('`');
    expect(keyText(null)).toBe('(the start)');
  });

  it('carry only what the run state holds: no row value has a way in', () => {
    // The view's fields are the whole input; a row value could only arrive through one of
    // them, and none is a row's: the details of a real run are checked for row values in
    // test/e2e/pause.test.ts.
    expect(Object.keys(view()).sort()).toEqual([
      'batches',
      'checkpoint',
      'loadMode',
      'mapref',
      'paused',
      'prcid',
      'rowsLoaded',
      'rowsPerSecond',
      'strategy',
    ]);
  });
});

describe('summaries and descriptions', () => {
  it("say what a run loads, in the Web UI's list", () => {
    const m = {
      mapref: 'SALES_FACT_LOAD',
      srcconid: 'SALES_SRC',
      trgschm: 'DWH',
      trgtbnm: 'SALES_FACT',
      chkpntstrategy: 'KEY',
      chkpntcolumn: 'TRANSACTION_ID',
    };
    expect(runSummary(m)).toBe('SALES_FACT_LOAD: SALES_SRC → DWH.SALES_FACT (KEY on TRANSACTION_ID)');
    expect(runSummary({ ...m, chkpntstrategy: 'NONE' })).toBe('SALES_FACT_LOAD: SALES_SRC → DWH.SALES_FACT (NONE)');
  });

  it("say where a batch activity's slice starts", () => {
    expect(sliceSummary(40, '410000')).toBe('batches from 41, after key 410000');
    expect(sliceSummary(0, null)).toBe('batches from 1, after key (the start)');
  });

  it.each([
    ['no estimate: rows and rate', { rowsLoaded: 400_000, rowsPerSecond: 80_000 }, '400,000 rows · 80,000 rows/s'],
    [
      'an estimate: its share and the time left',
      { rowsLoaded: 400_000, rowsPerSecond: 80_000, estimatedRows: 1_000_000 },
      '400,000 rows · 80,000 rows/s · ~40% of ~1,000,000 · ETA 0:08',
    ],
    [
      'no rate yet',
      { rowsLoaded: 0, rowsPerSecond: 0, estimatedRows: 1_000_000 },
      '0 rows · 0 rows/s · ~0% of ~1,000,000 · ETA unknown',
    ],
    [
      'an estimate short of the rows loaded',
      { rowsLoaded: 1_200, rowsPerSecond: 100, estimatedRows: 1_000 },
      '1,200 rows · 100 rows/s · ~99% of ~1,200 · ETA 0:00',
    ],
  ])("give the event history's summary where the run stands: %s", (_, v, text) => {
    expect(progressText(v)).toBe(text);
    expect(sliceSummary(40, '410000', progressText(v))).toBe(`${text} · batches from 41, after key 410000`);
  });

  it('give the share and ETA in the details while the run goes on, not once it ended', () => {
    expect(currentDetails(view({ estimatedRows: 90_000 }))).toContain('- ~50% of an estimated 90,000 rows, ETA 0:04');
    expect(currentDetails(view({ estimatedRows: 90_000, outcome: 'completed' }))).not.toContain('estimated');
  });

  it('describe every signal and query with its input', () => {
    expect(HANDLER_DESCRIPTIONS.resetCheckpoint).toContain('{"to": "150000"}');
    expect(Object.keys(HANDLER_DESCRIPTIONS).sort()).toEqual(['pause', 'progress', 'resetCheckpoint', 'resume']);
    expect(grouped(1234567)).toBe('1,234,567');
  });
});
