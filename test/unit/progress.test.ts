// The progress display of `dms run --wait`: pure formatting and throttling.
import { describe, expect, it } from 'vitest';
import {
  estimatedShare,
  formatElapsed,
  formatProgress,
  nextPlainLine,
  ProgressDisplay,
  renderProgressLine,
  withHeartbeat,
  withRanges,
} from '../../client/progress';
import type { Progress, RangeProgress } from '../../workflows';

const START = Date.parse('2026-03-01T10:00:00.000Z');

function progress(over: Partial<Progress> = {}): Progress {
  return {
    mapref: 'SALES',
    prcid: 7,
    strategy: 'KEY',
    checkpoint: '135000',
    rowsLoaded: 45_000,
    batches: 45,
    rowsPerSecond: 12_345,
    startedAt: new Date(START).toISOString(),
    ...over,
  };
}

describe('a partitioned run', () => {
  const range = (k: number, over: Partial<RangeProgress> = {}): RangeProgress => ({
    k,
    workflowId: `dms-SALES-p${k}`,
    upTo: k === 2 ? null : '50000',
    checkpoint: null,
    rowsLoaded: 0,
    batches: 0,
    status: 'IP',
    ...over,
  });
  const known = [
    range(1, { rowsLoaded: 10_000, batches: 10, status: 'PC' }),
    range(2, { rowsLoaded: 2_000, batches: 2 }),
  ];
  const run = progress({ checkpoint: null, rowsLoaded: 12_000, batches: 12, rowsAtStart: 0, partitions: known });

  it("moves the run's figures on by what each range committed since the run heard of it", () => {
    const live = withRanges(
      run,
      [known[0], range(2, { rowsLoaded: 8_000, batches: 8, checkpoint: '57000' })],
      START + 10_000,
    );
    expect(live).toMatchObject({ rowsLoaded: 18_000, batches: 18, rowsPerSecond: 1_800 });
    expect(live.partitions?.[1]).toMatchObject({ checkpoint: '57000', rowsLoaded: 8_000 });
  });

  it('never moves back on a range that reports less than the run knows', () => {
    expect(withRanges(run, [range(1), range(2)], START + 10_000)).toMatchObject({ rowsLoaded: 12_000, batches: 12 });
  });

  it('says how many ranges are complete where a run would show its checkpoint', () => {
    expect(formatProgress(run, START + 65_000)).toBe(
      'SALES: 12,000 rows in 12 batches, 12,345 rows/s, 1/2 key ranges complete, 1:05 elapsed',
    );
    expect(renderProgressLine(run, START + 65_000, 0)).toContain('· 1/2 key ranges complete');
  });
});

describe('withHeartbeat', () => {
  it('moves the query on to what the batch activity has committed since the workflow last heard', () => {
    const p = progress({ rowsAtStart: 5_000 });
    const live = withHeartbeat(p, { checkpoint: '180000', batches: 60, rows: 60_000 }, START + 10_000);
    expect(live).toMatchObject({ checkpoint: '180000', batches: 60, rowsLoaded: 60_000, rowsPerSecond: 5_500 });
  });

  it("takes the run's starting rows from the pre-flight activity's heartbeat, before the workflow knows them", () => {
    // A resume at 900,000 rows, still in the pre-flight activity's first slice.
    const p = progress({
      prcid: null,
      strategy: null,
      checkpoint: null,
      rowsLoaded: 0,
      batches: 0,
      rowsPerSecond: 0,
      rowsAtStart: 0,
    });
    const live = withHeartbeat(
      p,
      { checkpoint: '910000', batches: 91, rows: 910_000, rowsAtStart: 900_000 },
      START + 2_000,
    );
    expect(live).toMatchObject({ rowsLoaded: 910_000, batches: 91, rowsPerSecond: 5_000, rowsAtStart: 900_000 });
  });

  it('keeps the query when the heartbeat is older, missing or not a state', () => {
    const p = progress();
    expect(withHeartbeat(p, { checkpoint: '3000', batches: 1, rows: 1_000 }, START)).toBe(p);
    expect(withHeartbeat(p, undefined, START)).toBe(p);
    expect(withHeartbeat(p, { nonsense: true } as never, START)).toBe(p);
  });

  it("takes the pre-flight's estimate and warnings from its heartbeat until the query has them", () => {
    const warnings = ['Mapping M: the source database cannot read SRCQUERY in key order (id) from an index'];
    const beat = { checkpoint: '3000', batches: 1, rows: 1_000, estimatedRows: 50_000, warnings };
    expect(withHeartbeat(progress(), beat, START)).toMatchObject({ estimatedRows: 50_000, warnings });
    // The workflow's own, once it has them, stand.
    expect(withHeartbeat({ ...progress(), estimatedRows: 60_000, warnings: [] }, beat, START)).toMatchObject({
      estimatedRows: 60_000,
      warnings: [],
    });
  });
});

describe('formatElapsed', () => {
  it('shows m:ss, and h:mm:ss past an hour', () => {
    expect(formatElapsed(new Date(START).toISOString(), START)).toBe('0:00');
    expect(formatElapsed(new Date(START).toISOString(), START + 192_400)).toBe('3:12');
    expect(formatElapsed(new Date(START).toISOString(), START + (2 * 3600 + 5 * 60 + 9) * 1000)).toBe('2:05:09');
  });

  it('never goes negative (a client clock behind the worker) and survives a bad date', () => {
    expect(formatElapsed(new Date(START).toISOString(), START - 5000)).toBe('0:00');
    expect(formatElapsed('not a date', START)).toBe('0:00');
  });
});

describe('renderProgressLine', () => {
  it('shows rows, batches, rows/s, elapsed and checkpoint, with no percentage', () => {
    const line = renderProgressLine(progress(), START + 192_000, 0);
    expect(line).toBe('SALES | 45,000 rows · 45 batches · 12,345 rows/s · 3:12 · checkpoint 135000');
    expect(line).not.toContain('%');
  });

  it('turns the spinner with each frame', () => {
    const frames = [0, 1, 2, 3, 4].map((f) => renderProgressLine(progress(), START, f).split(' ')[1]);
    expect(frames).toEqual(['|', '/', '-', '\\', '|']);
  });

  it('says (start) before the first batch', () => {
    expect(
      renderProgressLine(progress({ checkpoint: null, rowsLoaded: 0, batches: 0, rowsPerSecond: 0 }), START, 0),
    ).toBe('SALES | 0 rows · 0 batches · 0 rows/s · 0:00 · checkpoint (start)');
  });

  it('fits the terminal, cutting the long checkpoint first, so that it can be redrawn in place', () => {
    const line = renderProgressLine(
      progress({ checkpoint: JSON.stringify(['EU-WEST', '2026-03-01 10:00:00.123456', 'x'.repeat(80)]) }),
      START,
      0,
      80,
    );
    expect(line).toBe('SALES | 45,000 rows · 45 batches · 12,345 rows/s · 0:00 · checkpoint ["EU-WEST…');
    expect(line).toHaveLength(79);
    expect(renderProgressLine(progress(), START, 0, 200)).not.toContain('…');
  });
});

describe('nextPlainLine', () => {
  it('prints the first reading at once', () => {
    const first = nextPlainLine(null, progress(), START);
    expect(first?.line).toBe('SALES: 45,000 rows in 45 batches, 12,345 rows/s, checkpoint 135000, 0:00 elapsed');
  });

  it('prints at most one line every 5 s, and only when the load moved', () => {
    const first = nextPlainLine(null, progress(), START)!;
    const moved = progress({ rowsLoaded: 46_000, batches: 46, checkpoint: '138000' });
    expect(nextPlainLine(first.state, moved, START + 4_999)).toBeNull();
    expect(nextPlainLine(first.state, progress(), START + 60_000)).toBeNull();
    const second = nextPlainLine(first.state, moved, START + 5_000);
    expect(second?.line).toBe('SALES: 46,000 rows in 46 batches, 12,345 rows/s, checkpoint 138000, 0:05 elapsed');
    expect(second?.state.at).toBe(START + 5_000);
  });
});

describe('ProgressDisplay', () => {
  function fakeOut(isTTY: boolean) {
    const written: string[] = [];
    return { out: { isTTY, columns: 100, write: (t: string) => written.push(t) }, written };
  }

  it('redraws one line in place on a terminal, keeps the clock running through failed queries, and clears it at the end', () => {
    let now = START;
    const { out, written } = fakeOut(true);
    const display = new ProgressDisplay(out, () => now);
    display.tick(null); // nothing known yet: nothing drawn
    expect(written).toEqual([]);
    display.tick(progress());
    now += 1000;
    display.tick(null); // a failed query (e.g. between two runs of a continue-as-new)
    display.clear();
    expect(written).toEqual([
      '\r\x1b[2KSALES | 45,000 rows · 45 batches · 12,345 rows/s · 0:00 · checkpoint 135000',
      '\r\x1b[2KSALES / 45,000 rows · 45 batches · 12,345 rows/s · 0:01 · checkpoint 135000',
      '\r\x1b[2K',
    ]);
    expect(written.join('')).not.toContain('\n');
  });

  it('writes throttled plain lines when stdout is not a terminal, and clears nothing', () => {
    let now = START;
    const { out, written } = fakeOut(false);
    const display = new ProgressDisplay(out, () => now);
    for (let i = 0; i < 11; i++) {
      display.tick(i % 3 === 2 ? null : progress({ rowsLoaded: 1000 * i, batches: i, checkpoint: String(3000 * i) }));
      now += 1000;
    }
    display.clear();
    expect(written).toEqual([
      'SALES: 0 rows in 0 batches, 12,345 rows/s, checkpoint 0, 0:00 elapsed\n',
      'SALES: 6,000 rows in 6 batches, 12,345 rows/s, checkpoint 18000, 0:06 elapsed\n',
    ]);
  });
});

describe('against an estimate of the rows', () => {
  it("gives the share done and the time left at the run's rate, never 100% while running", () => {
    expect(estimatedShare(progress(), 120_000)).toEqual({ total: 120_000, percent: 37, etaSeconds: 7 });
    // Statistics that were short: the total is raised to what has loaded, the share stops at 99%.
    expect(estimatedShare(progress({ rowsLoaded: 130_000 }), 120_000)).toEqual({
      total: 130_000,
      percent: 99,
      etaSeconds: 0,
    });
    expect(estimatedShare(progress({ rowsPerSecond: 0 }), 120_000).etaSeconds).toBeNull();
    expect(estimatedShare(progress({ rowsLoaded: 0 }), 0)).toEqual({ total: 0, percent: 99, etaSeconds: 0 });
  });

  it('adds the share and the ETA, each marked as an estimate, to the plain line', () => {
    expect(formatProgress(progress(), START + 61_000, 120_000)).toBe(
      'SALES: 45,000 rows in 45 batches, 12,345 rows/s, checkpoint 135000, 1:01 elapsed, ~37% of an estimated 120,000 rows, ETA 0:07',
    );
    expect(formatProgress(progress({ rowsPerSecond: 0 }), START, 7_200_000)).toContain(
      '~0% of an estimated 7,200,000 rows, ETA unknown',
    );
  });

  it('draws a bar on a terminal once the estimate is known, and clears it at the end', () => {
    let now = START;
    const written: string[] = [];
    const display = new ProgressDisplay(
      { isTTY: true, columns: 200, write: (t: string) => written.push(t) },
      () => now,
    );
    display.tick(progress());
    expect(written.join('')).toContain('SALES | 45,000 rows'); // no estimate yet: the spinner line
    written.length = 0;
    display.note('SALES: about 120,000 rows in all');
    display.setEstimate(120_000);
    now += 1000;
    display.tick(progress({ rowsLoaded: 60_000 }));
    const drawn = written.join('');
    expect(drawn).toContain('SALES: about 120,000 rows in all\n');
    expect(drawn).toMatch(
      /SALES \[=+-+\] 50% · 60,000 of ~120,000 rows \(estimated\) · ETA 0:05 · 12,345 rows\/s · 0:01 · checkpoint 135000/,
    );
    written.length = 0;
    display.clear();
    // eslint-disable-next-line no-control-regex -- the terminal's escape is what is looked for
    expect(written.join('')).toMatch(/\x1b\[[02]?K/); // the bar's line cleared
  });

  it('puts the estimate in the throttled plain lines when stdout is not a terminal', () => {
    const written: string[] = [];
    const display = new ProgressDisplay({ isTTY: false, write: (t: string) => written.push(t) }, () => START);
    display.setEstimate(90_000);
    display.tick(progress());
    expect(written).toEqual([
      'SALES: 45,000 rows in 45 batches, 12,345 rows/s, checkpoint 135000, 0:00 elapsed, ~50% of an estimated 90,000 rows, ETA 0:04\n',
    ]);
  });
});

describe('formatProgress', () => {
  it('is the plain line `dms status` prints', () => {
    expect(formatProgress(progress(), START + 61_000)).toBe(
      'SALES: 45,000 rows in 45 batches, 12,345 rows/s, checkpoint 135000, 1:01 elapsed',
    );
    expect(formatProgress(progress({ paused: true }), START + 61_000)).toBe(
      'SALES: 45,000 rows in 45 batches, 12,345 rows/s, checkpoint 135000, 1:01 elapsed, paused (signal resume, or `dms resume`, to go on)',
    );
    expect(renderProgressLine(progress({ paused: true }), START, 0)).toMatch(/^SALES \S paused · 45,000 rows/);
  });
});
