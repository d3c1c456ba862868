import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { nextFireTimes, type ParsedCron, parseCron } from '#core/schedules/cron.ts';

// nextFireTimes used croner (now a dev dependency) until it was replaced by a day-by-day search of
// its own; the same answers, on many crons, zones and starting instants, daylight saving included.

/** Whether the wall clock in `timeZone` at `at` matches the cron's minute, hour, day, month and weekday. */
function matchesWallClock(parsed: ParsedCron, at: Date, timeZone: string): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      minute: 'numeric',
      hour: 'numeric',
      day: 'numeric',
      month: 'numeric',
      weekday: 'short',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  const clock = [Number(parts.minute), Number(parts.hour), Number(parts.day), Number(parts.month), weekday];
  return parsed.fields.every((field, i) => field.any || field.values.includes(clock[i] ?? -1));
}

const wallFormats = new Map<string, Intl.DateTimeFormat>();
const wall = (at: number, timeZone: string) => {
  let format = wallFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      dateStyle: 'short',
      timeStyle: 'medium',
      hourCycle: 'h23',
    });
    wallFormats.set(timeZone, format);
  }
  return format.format(at);
};

/**
 * Whether the wall clock read the same time within the two hours before `at`: the second pass of a
 * fall-back hour. croner fired an every-minute cron through it again; EventBridge Scheduler runs a
 * schedule once there, as nextFireTimes now does.
 */
const repeated = (at: Date, timeZone: string) =>
  [30, 60, 90, 120].some(
    (minutes) => wall(at.getTime() - minutes * 60_000, timeZone) === wall(at.getTime(), timeZone),
  );

/**
 * What nextFireTimes answered with croner: its next runs, less those the wall clock does not match,
 * less a fall-back hour's second pass.
 */
function withCroner(parsed: ParsedCron, timeZone: string, after: Date, count: number, seconds = '0'): Date[] {
  const pattern = [seconds, ...parsed.fields.map((f) => (f.any ? '*' : f.values.join(',')))].join(' ');
  const job = new Cron(pattern, { timezone: timeZone, paused: true });
  const out: Date[] = [];
  let from = after;
  // Enough steps to walk through a repeated hour of every-minute fires.
  for (let guard = 0; out.length < count && guard < count * 4 + 200; guard++) {
    const next = job.nextRun(from);
    if (!next) break;
    if (matchesWallClock(parsed, next, timeZone) && !repeated(next, timeZone)) out.push(next);
    from = next;
  }
  job.stop();
  return out;
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

const CRONS = [
  '* * * * *',
  '*/15 9-17 * * 1-5',
  '0 0 1,15 * *',
  '30 2 * JAN-MAR SUN',
  '0 12 * * 7',
  '0-30/10 */6 * * *',
  '30 1 * * *',
  '30 2 * * *',
  '0 3 * * *',
  '45 23 31 * *',
  '0 0 29 2 *',
  '5 4 * * 0,6',
  '59 0,1,2,3 * 3,10,11 *',
];
const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Sao_Paulo',
];
// Around this year's and the next transitions, and at odd seconds.
const STARTS = [
  '2026-03-07T23:59:30Z',
  '2026-03-08T06:10:00Z',
  '2026-03-29T00:30:00Z',
  '2026-04-04T14:00:00Z',
  '2026-10-04T15:00:00Z',
  '2026-10-25T00:59:59Z',
  '2026-11-01T05:29:00Z',
  '2026-11-30T11:41:07Z',
  '2027-02-27T12:00:00Z',
];

describe('next fire times, against croner', () => {
  it.each(ZONES)('in %s', (zone) => {
    let compared = 0;
    for (const cron of CRONS) {
      const parsed = parseCron(cron);
      for (const start of STARTS) {
        const after = new Date(start);
        // Act / Assess
        expect(iso(nextFireTimes(parsed, zone, after, 6)), `${cron} after ${start}`).toEqual(
          iso(withCroner(parsed, zone, after, 6)),
        );
        compared++;
      }
    }
    expect(compared).toBe(CRONS.length * STARTS.length);
  });

  it('fires every n seconds of a matching minute for the local test harness', () => {
    // Prepare
    const parsed = parseCron('* * * * *');
    const after = new Date('2026-11-30T11:41:07.500Z');
    // Act / Assess
    expect(iso(nextFireTimes(parsed, 'UTC', after, 5, '*/2'))).toEqual(
      iso(withCroner(parsed, 'UTC', after, 5, '*/2')),
    );
    expect(iso(nextFireTimes(parsed, 'UTC', after, 75, '*'))).toEqual(
      iso(withCroner(parsed, 'UTC', after, 75, '*')),
    );
    expect(iso(nextFireTimes(parsed, 'Europe/Berlin', after, 3, '*/20'))).toEqual([
      '2026-11-30T11:41:20.000Z',
      '2026-11-30T11:41:40.000Z',
      '2026-11-30T11:42:00.000Z',
    ]);
    expect(() => nextFireTimes(parsed, 'UTC', after, 1, '5')).toThrow(/seconds: "5" is not 0, \* or \*\/n/);
  });

  it('runs a frequent schedule once through the hour that falls back, as EventBridge Scheduler does', () => {
    // Act: from 02:00 CEST on the day Berlin falls back (03:00 CEST is 02:00 CET again).
    const fires = nextFireTimes(
      parseCron('*/30 * * * *'),
      'Europe/Berlin',
      new Date('2026-10-25T00:00:00Z'),
      3,
    );
    // Assess: 02:30 CEST, then 03:00 and 03:30 CET; not 02:00 and 02:30 CET a second time.
    expect(iso(fires)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('starts late in a day as fast as early: the day’s earlier times are skipped without the zone', () => {
    // Prepare: every second of every minute, two minutes before midnight (the search started at
    // 00:00 and read the zone for each of 86,280 earlier times: 1.3 s).
    const parsed = parseCron('* * * * *');
    const after = new Date('2026-11-30T18:28:30Z'); // 23:58:30 in Kolkata
    const started = performance.now();
    // Act
    const fires = nextFireTimes(parsed, 'Asia/Kolkata', after, 120, '*');
    // Assess
    expect(performance.now() - started).toBeLessThan(250);
    expect(iso(fires)).toEqual(iso(withCroner(parsed, 'Asia/Kolkata', after, 120, '*')));
    expect(fires[119]?.toISOString()).toBe('2026-11-30T18:30:30.000Z');
  });

  it('finds a 29 February years ahead, and nothing for a date that never comes', () => {
    // Act / Assess
    expect(iso(nextFireTimes(parseCron('0 0 29 2 *'), 'UTC', new Date('2026-11-30T00:00:00Z'), 2))).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(nextFireTimes(parseCron('0 0 31 2 *'), 'UTC', new Date('2026-11-30T00:00:00Z'), 1)).toEqual([]);
  });
});
