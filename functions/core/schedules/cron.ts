/**
 * The cron dialect of schedules: five fields, `minute hour day-of-month month day-of-week`, each a
 * comma list of `*`, `*\/n`, `a`, `a-b` or `a-b/n`. Months and weekdays also take names (`JAN`,
 * `MON`); Sunday is 0 or 7. No seconds field: EventBridge Scheduler fires at most once a minute, so
 * one minute is the shortest interval by construction. At most one of day-of-month and day-of-week
 * may be restricted: classic cron ORs them, EventBridge cannot (one of them must be `?`).
 */

/** One field's bounds and names. */
interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  // 7 is Sunday too (folded to 0 after parsing).
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The longest cron string accepted (a bound on what a tenant stores). */
export const MAX_CRON_LENGTH = 120;

/** EventBridge Scheduler's limit on `ScheduleExpression`. */
const MAX_EVENTBRIDGE_EXPRESSION = 256;

/** A parsed cron: the values each field admits, and whether it was `*`. */
export interface ParsedCron {
  readonly source: string;
  readonly fields: readonly { readonly values: readonly number[]; readonly any: boolean }[];
}

/** Thrown for a cron the dialect does not admit; the message says which field and why. */
export class CronError extends Error {}

function numberOf(token: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  // Month names count from 1, weekday names from 0.
  if (named >= 0) return spec.name === 'month' ? named + 1 : named;
  if (!/^\d{1,2}$/.test(token)) throw new CronError(`${spec.name}: "${token}" is not a number`);
  const n = Number(token);
  if (n < spec.min || n > spec.max)
    throw new CronError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec): { values: number[]; any: boolean } {
  const values = new Set<number>();
  const items = text.split(',');
  for (const item of items) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(item);
    if (!match?.[1]) throw new CronError(`${spec.name}: "${item}" is not *, a, a-b or a step of them`);
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) throw new CronError(`${spec.name}: the step must be at least 1`);
    let from = spec.min;
    let to = spec.name === 'day-of-week' ? 6 : spec.max;
    if (match[1] !== '*') {
      const [a = '', b] = match[1].split('-');
      from = numberOf(a, spec);
      to = b === undefined ? (match[2] === undefined ? from : to) : numberOf(b, spec);
      if (b === undefined && match[2] !== undefined)
        throw new CronError(`${spec.name}: a step needs * or a range (a-b/n)`);
      if (to < from) throw new CronError(`${spec.name}: the range ${match[1]} runs backwards`);
    }
    for (let n = from; n <= to; n += step) values.add(spec.name === 'day-of-week' && n === 7 ? 0 : n);
  }
  const any = text === '*';
  return { values: [...values].sort((x, y) => x - y), any };
}

/** Parses a cron of the dialect, or throws {@link CronError} naming the field. */
export function parseCron(cron: string): ParsedCron {
  if (cron.length > MAX_CRON_LENGTH) throw new CronError(`at most ${MAX_CRON_LENGTH} characters`);
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`,
    );
  }
  const fields = parts.map((part, i) => parseField(part, FIELDS[i] as FieldSpec));
  if (!fields[2]?.any && !fields[4]?.any) {
    throw new CronError('restrict day-of-month or day-of-week, not both (use * for one of them)');
  }
  const parsed: ParsedCron = { source: parts.join(' '), fields };
  // Reject what could not be deployed, at creation rather than at the first firing.
  toEventBridgeCron(parsed);
  return parsed;
}

/** A run of consecutive values as `a-b`, else the list. */
function compact(values: readonly number[]): string {
  const first = values[0];
  const last = values[values.length - 1];
  if (first !== undefined && last !== undefined && values.length > 2 && last - first === values.length - 1)
    return `${first}-${last}`;
  return values.join(',');
}

/**
 * The EventBridge Scheduler expression: `cron(min hour dom month dow year)`, where weekdays count
 * 1-7 from Sunday and whichever of day-of-month and day-of-week is unrestricted becomes `?`. Every
 * restricted field is written as its expanded values, so no step or name syntax needs translating.
 */
export function toEventBridgeCron(parsed: ParsedCron): string {
  const [minute, hour, dom, month, dow] = parsed.fields;
  if (!minute || !hour || !dom || !month || !dow) throw new CronError('expected 5 fields');
  const plain = (f: { values: readonly number[]; any: boolean }) => (f.any ? '*' : compact(f.values));
  const weekdays = dow.any ? '?' : compact(dow.values.map((d) => d + 1));
  const dayOfMonth = dow.any ? plain(dom) : '?';
  const expression = `cron(${plain(minute)} ${plain(hour)} ${dayOfMonth} ${plain(month)} ${weekdays} *)`;
  if (expression.length > MAX_EVENTBRIDGE_EXPRESSION)
    throw new CronError('too many distinct values: list fewer, or use a step');
  return expression;
}

const instantFormats = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds to add to UTC for the wall clock in `timeZone` at `at` (its offset then). */
function offsetAt(at: number, timeZone: string): number {
  let format = instantFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Bounded: Intl takes a zone's name in any letter case, so names are not a closed set.
    if (instantFormats.size >= 500) instantFormats.clear();
    instantFormats.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, Number(part.value)]));
  const wall = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return wall - (at - (at % 1000));
}

/**
 * The instant the wall clock in `timeZone` reads `wall` (a UTC timestamp of those fields): the first
 * when the fall-back hour repeats it, none when the spring-forward gap skips it. Tries the offsets a
 * day either side, which differ only across a transition.
 */
function instantOf(wall: number, timeZone: string): number | undefined {
  const day = 86_400_000;
  const candidates = [offsetAt(wall - day, timeZone), offsetAt(wall + day, timeZone)]
    .map((offset) => wall - offset)
    .filter((at) => at + offsetAt(at, timeZone) === wall);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** Seconds a minute fires at: `0`, or every one or every n (`*`, `*\/n`: the local test harness). */
function secondsOf(seconds: string): number[] {
  if (seconds === '0') return [0];
  const step = seconds === '*' ? '1' : /^\*\/([1-9]\d?)$/.exec(seconds)?.[1];
  if (step === undefined) throw new CronError(`seconds: "${seconds}" is not 0, * or */n`);
  return Array.from({ length: Math.ceil(60 / Number(step)) }, (_, i) => i * Number(step));
}

/** How far ahead fire times are looked for (a 29 February cron fires once in four years or eight). */
const SEARCH_DAYS = 50 * 366;

/**
 * The next `count` fire times after `after`, as EventBridge Scheduler fires them: in the time zone's
 * wall clock, a time the spring-forward gap skips does not fire, and a time the fall-back hour
 * repeats fires once (the first, summer-time, occurrence). Day by day from the wall-clock date of
 * `after`, each matching day's times in order. `seconds` is `0`, except in the local platform's test
 * harness, which fires every few seconds instead of every minute.
 */
export function nextFireTimes(
  parsed: ParsedCron,
  timeZone: string,
  after: Date,
  count: number,
  seconds = '0',
): Date[] {
  const [minute, hour, dom, month, dow] = parsed.fields;
  if (!minute || !hour || !dom || !month || !dow) throw new CronError('expected 5 fields');
  const fireSeconds = secondsOf(seconds);
  const start = after.getTime();
  const out: Date[] = [];
  // The wall-clock date of `after`, as a UTC midnight: dates step by whole days from there.
  const first = start + offsetAt(start, timeZone);
  let date = first - (((first % 86_400_000) + 86_400_000) % 86_400_000);
  for (let n = 0; n < SEARCH_DAYS && out.length < count; n++, date += 86_400_000) {
    const day = new Date(date);
    const matches =
      month.values.includes(day.getUTCMonth() + 1) &&
      (dom.any || dom.values.includes(day.getUTCDate())) &&
      (dow.any || dow.values.includes(day.getUTCDay()));
    if (!matches) continue;
    // The offsets a day either side: equal when no transition falls on this day (tzdata has none
    // within four days of another), and then each wall time is one instant, found without Intl.
    const before = offsetAt(date - 86_400_000, timeZone);
    const later = offsetAt(date + 2 * 86_400_000, timeZone);
    for (const h of hour.values) {
      for (const m of minute.values) {
        for (const sec of fireSeconds) {
          const wall = date + h * 3_600_000 + m * 60_000 + sec * 1000;
          // Certainly not after `start`: skipped without reading the zone (a late start of day).
          if (wall - Math.min(before, later) <= start) continue;
          const at = before === later ? wall - before : instantOf(wall, timeZone);
          if (at === undefined || at <= start) continue;
          out.push(new Date(at));
          if (out.length === count) return out;
        }
      }
    }
  }
  return out;
}

/** True when `timeZone` is an IANA zone name this runtime knows (`UTC` included). */
export function isIanaTimeZone(timeZone: string): boolean {
  // Intl also accepts offsets such as `+01:00`, which EventBridge does not: names only.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(timeZone) || timeZone.length > 64)
    return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
