// Where a schedule's cron times meet a daylight-saving change of its time zone: a local time
// that does not exist that day (clocks jump forward over it: the run is skipped) or that
// happens twice (clocks fall back over it: the run happens twice). Pure: no I/O.

/** The values a cron field (minute or hour) allows: `*`, lists, ranges and steps. */
export function cronFieldValues(field: string, min: number, max: number): number[] | null {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const step = m[4] ? Number(m[4]) : 1;
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
    if (step < 1 || from < min || to > max || from > to) return null;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** The zone's offset from UTC (minutes) at an instant. */
function offsetMinutes(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((local - Math.floor(at / 1000) * 1000) / 60_000);
}

/** How many instants show the wall time (a UTC-based ms value of the local time) in the zone: 0, 1 or 2. */
function occurrences(timeZone: string, wall: number): number {
  const offsets = new Set([offsetMinutes(timeZone, wall - 86_400_000), offsetMinutes(timeZone, wall + 86_400_000)]);
  let n = 0;
  for (const offset of offsets) {
    const instant = wall - offset * 60_000;
    if (offsetMinutes(timeZone, instant) === offset) n += 1;
  }
  return n;
}

export interface DstClash {
  /** The local date, YYYY-MM-DD. */
  date: string;
  /** The local time, HH:MM. */
  time: string;
  kind: 'skipped' | 'twice';
}

/**
 * The days within `days` after `from` on which one of the cron's times of day falls into a
 * daylight-saving change of the zone. Only the minute and hour fields are read: a cron that
 * runs on fewer days may not run on the day found, which the warning says.
 */
export function dstClashes(cron: string, timeZone: string, from: Date, days = 400): DstClash[] {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return [];
  const minutes = cronFieldValues(fields[0], 0, 59);
  const hours = cronFieldValues(fields[1], 0, 23);
  if (!minutes || !hours) return [];
  const clashes: DstClash[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let d = 0; d < days; d++) {
    const day = start + d * 86_400_000;
    // Only days whose offset changes can clash.
    if (offsetMinutes(timeZone, day - 86_400_000) === offsetMinutes(timeZone, day + 2 * 86_400_000)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const wall = day + (hour * 60 + minute) * 60_000;
        const n = occurrences(timeZone, wall);
        if (n === 1) continue;
        const iso = new Date(wall).toISOString();
        clashes.push({ date: iso.slice(0, 10), time: iso.slice(11, 16), kind: n === 0 ? 'skipped' : 'twice' });
      }
    }
  }
  return clashes;
}

/** Whether the zone is one the runtime knows (IANA name). */
export function knownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
