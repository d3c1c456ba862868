import { describe, expect, it } from 'vitest';
import {
  CronError,
  isIanaTimeZone,
  nextFireTimes,
  parseCron,
  toEventBridgeCron,
} from '#core/schedules/cron.ts';
import { scheduleProblems } from '#core/schedules/schedules.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('the cron dialect', () => {
  it.each([
    ['* * * * *'],
    ['*/15 9-17 * * 1-5'],
    ['0 0 1,15 * *'],
    ['30 2 * JAN-MAR SUN'],
    ['0 12 * * 7'],
    ['0-30/10 */6 * * *'],
  ])('accepts %s', (cron) => {
    expect(() => parseCron(cron)).not.toThrow();
  });

  it.each([
    ['* * * *', /expected 5 fields/],
    ['0 * * * * *', /expected 5 fields/],
    ['60 * * * *', /minute: 60 is outside 0-59/],
    ['0 24 * * *', /hour: 24/],
    ['0 0 0 * *', /day-of-month: 0/],
    ['0 0 * 13 *', /month: 13/],
    ['0 0 * * 8', /day-of-week: 8/],
    ['0 0 1 * 1', /not both/],
    ['0 0 L * *', /day-of-month/],
    ['0 0 ? * *', /day-of-month/],
    ['5/10 * * * *', /a step needs \* or a range/],
    ['*/0 * * * *', /at least 1/],
    ['30-10 * * * *', /runs backwards/],
    ['0 0 * * MON#2', /day-of-week/],
    [`${'1,'.repeat(70)}1 * * * *`, /at most 120 characters/],
  ])('refuses %s', (cron, message) => {
    expect(() => parseCron(cron)).toThrow(CronError);
    expect(() => parseCron(cron)).toThrow(message);
  });

  it('normalizes whitespace in the stored source', () => {
    expect(parseCron('  0   12 * *  * ').source).toBe('0 12 * * *');
  });
});

describe('conversion to EventBridge Scheduler cron (6 fields, `?`, weekdays 1-7 from Sunday)', () => {
  it.each([
    ['* * * * *', 'cron(* * * * ? *)'],
    ['30 2 * * *', 'cron(30 2 * * ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * 0', 'cron(0 9 ? * 1 *)'],
    ['0 9 * * 7', 'cron(0 9 ? * 1 *)'],
    ['0 9 * * SAT,SUN', 'cron(0 9 ? * 1,7 *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    ['*/15 * * * *', 'cron(0,15,30,45 * * * ? *)'],
    ['0 */6 * * *', 'cron(0 0,6,12,18 * * ? *)'],
    ['0 0 * JAN-MAR *', 'cron(0 0 * 1-3 ? *)'],
    ['0-30/10 8-10 * * *', 'cron(0,10,20,30 8-10 * * ? *)'],
  ])('%s → %s', (cron, expected) => {
    expect(toEventBridgeCron(parseCron(cron))).toBe(expected);
  });

  it('refuses a cron whose expression would pass EventBridge’s 256 characters', () => {
    // Each range skips one value, so no field compacts to a-b: 59 + 23 + 30 values.
    expect(() => parseCron('0-28,30-59 0-10,12-23 1-14,16-31 * *')).toThrow(/too many distinct values/);
  });
});

describe('daylight saving time: a daily 02:30 schedule', () => {
  const daily = parseCron('30 2 * * *');

  it('America/New_York: spring forward (8 March 2026) skips the 02:30 that does not exist', () => {
    const fires = nextFireTimes(daily, 'America/New_York', new Date('2026-03-06T12:00:00Z'), 4);
    // 02:30 EST is 07:30Z; 9 March is EDT, 02:30 EDT is 06:30Z. 8 March has no 02:30 and no firing
    // (croner alone would fire at 03:00 EDT, 07:00Z).
    expect(iso(fires)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
      '2026-03-11T06:30:00.000Z',
    ]);
  });

  it('America/New_York: fall back (1 November 2026) fires 01:30 once, at the first (EDT) occurrence', () => {
    const fires = nextFireTimes(
      parseCron('30 1 * * *'),
      'America/New_York',
      new Date('2026-10-31T00:00:00Z'),
      3,
    );
    expect(iso(fires)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('Europe/Berlin: spring forward (29 March 2026) skips, fall back (25 October 2026) fires once', () => {
    expect(iso(nextFireTimes(daily, 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    expect(iso(nextFireTimes(daily, 'Europe/Berlin', new Date('2026-10-23T12:00:00Z'), 3))).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('keeps the wall-clock time across the change (09:00 stays 09:00 local, 14:00Z then 13:00Z)', () => {
    const fires = nextFireTimes(
      parseCron('0 9 * * *'),
      'America/New_York',
      new Date('2026-03-07T00:00:00Z'),
      2,
    );
    expect(iso(fires)).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']);
  });

  it('fires by the wall clock in the zone, not in UTC', () => {
    const next = (cron: ReturnType<typeof parseCron>, zone: string, after: string) =>
      nextFireTimes(cron, zone, new Date(after), 1)[0]?.toISOString();
    // 02:30 EST is 07:30Z, not 02:30Z; on 8 March (no 02:30) the next is 02:30 EDT on the 9th.
    expect(next(daily, 'America/New_York', '2026-03-07T02:00:00Z')).toBe('2026-03-07T07:30:00.000Z');
    expect(next(daily, 'America/New_York', '2026-03-07T07:30:00Z')).toBe('2026-03-09T06:30:00.000Z');
    // 30 November 2026 is a Monday.
    expect(next(parseCron('0 9 * * 1'), 'UTC', '2026-11-30T08:59:00Z')).toBe('2026-11-30T09:00:00.000Z');
    expect(next(parseCron('0 9 * * 0'), 'UTC', '2026-11-30T08:59:00Z')).toBe('2026-12-06T09:00:00.000Z');
  });
});

describe('schedule validation', () => {
  it('accepts IANA zone names and refuses the rest', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])
      expect(isIanaTimeZone(zone), zone).toBe(true);
    for (const zone of ['Mars/Olympus', '+01:00', 'Europe/../Berlin', '', 'x'.repeat(65)])
      expect(isIanaTimeZone(zone), zone).toBe(false);
  });

  it('names each bad field', () => {
    expect(
      scheduleProblems({ cron: '0 0 * *', timeZone: 'Nowhere/City', input: { blob: 'x'.repeat(17 * 1024) } }),
    ).toEqual([
      { path: 'cron', message: expect.stringMatching(/expected 5 fields/) },
      { path: 'timeZone', message: '"Nowhere/City" is not an IANA time zone' },
      { path: 'input', message: expect.stringMatching(/at most 16384 bytes/) },
    ]);
    expect(scheduleProblems({ cron: '0 0 * * *', timeZone: 'Asia/Tokyo', input: { a: 1 } })).toEqual([]);
  });
});
