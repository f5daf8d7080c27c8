import { describe, expect, it } from 'vitest';
import { cronFieldValues, dstClashes, knownTimeZone } from '../../client/cron-dst';

describe('daylight-saving clashes of a cron time', () => {
  const from = new Date('2026-12-01T00:00:00Z');

  it('finds 02:30 in Europe/Berlin skipped on spring-forward day and run twice on fall-back day', () => {
    expect(dstClashes('30 2 * * *', 'Europe/Berlin', from)).toEqual([
      { date: '2027-03-28', time: '02:30', kind: 'skipped' },
      { date: '2027-10-31', time: '02:30', kind: 'twice' },
    ]);
  });

  it('finds nothing for a time outside the changed hour, nor in UTC', () => {
    expect(dstClashes('0 4 * * *', 'Europe/Berlin', from)).toEqual([]);
    expect(dstClashes('30 2 * * *', 'UTC', from)).toEqual([]);
  });

  it('reads lists, ranges and steps of the hour and minute', () => {
    expect(cronFieldValues('*/15', 0, 59)).toEqual([0, 15, 30, 45]);
    expect(cronFieldValues('1-3,7', 0, 23)).toEqual([1, 2, 3, 7]);
    expect(cronFieldValues('x', 0, 23)).toBeNull();
    expect(cronFieldValues('25', 0, 23)).toBeNull();
    // Every 30 minutes of 1–2 o'clock in New York: two times each change day.
    expect(dstClashes('0,30 1-2 * * *', 'America/New_York', from).map((c) => `${c.date} ${c.time} ${c.kind}`)).toEqual([
      '2027-03-14 02:00 skipped',
      '2027-03-14 02:30 skipped',
      '2027-11-07 01:00 twice',
      '2027-11-07 01:30 twice',
    ]);
  });

  it('knows IANA zones and refuses others', () => {
    expect(knownTimeZone('Europe/Berlin')).toBe(true);
    expect(knownTimeZone('Mars/Olympus')).toBe(false);
  });
});
