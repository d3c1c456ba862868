/**
 * `npm run bench -- --schedules`: the local scheduler's firing jitter, from each firing's planned
 * time to the moment the fire function began starting its run (the execution's `startedAt`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { derivedId } from '../functions/core/ids.ts';
import { fireKey } from '../functions/core/schedules/schedules.ts';
import { call, field } from './capacity.ts';
import { spliceSection } from './markdown.ts';
import { median, percentile } from './stats.ts';

/**
 * The bench fires every-minute schedules every 2 seconds (croner's seconds field), to get samples in
 * seconds rather than hours.
 */
export const BENCH_SCHEDULE_SECONDS = '*/2';
const FIRING_INTERVAL_MS = 2000;

/** Schedules firing at once, and for how long each level runs. */
const LEVELS = [1, 3] as const;
const LEVEL_SECONDS = 30;

/** One level's figures. */
export interface JitterLevel {
  readonly schedules: number;
  readonly seconds: number;
  /** Runs started, and firings planned in the window (per schedule, first to last planned second). */
  readonly runs: number;
  readonly planned: number;
  /** Planned fire time to the fire function's start of the run, in ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

const HEADER = '## Schedules: local firing jitter';

/** The running platform the bench drives over HTTP (in its own process, as `npm start` runs it). */
export interface ScheduleBenchTarget {
  readonly apiUrl: string;
  readonly tenantId: string;
  /** Bearer header of the demo tenant's admin. */
  readonly headers: Record<string, string>;
}

interface Execution {
  readonly executionId: string;
  readonly startedAt: string;
  readonly startedBy: string;
}

async function executionsOf(bench: ScheduleBenchTarget, workflowId: string): Promise<Execution[]> {
  const out: Execution[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(
      bench.apiUrl,
      {
        method: 'GET',
        path: `/executions?workflowId=${workflowId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      },
      bench.headers,
    );
    if (page.status !== 200)
      throw new Error(`GET /executions: HTTP ${page.status} ${page.text.slice(0, 300)}`);
    const body = page.body as { items: Execution[]; nextCursor?: string };
    out.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return out;
}

async function level(bench: ScheduleBenchTarget, count: number): Promise<JitterLevel> {
  const headers = bench.headers;
  const post = (path: string, body: unknown) => call(bench.apiUrl, { method: 'POST', path, body }, headers);
  const workflow = await post('/workflows', {
    name: `bench schedules ${count}`,
    startAt: 'done',
    steps: { done: { type: 'succeed' } },
  });
  if (workflow.status !== 201) throw new Error(`POST /workflows: HTTP ${workflow.status} ${workflow.text}`);
  const workflowId = field(workflow.body, 'workflowId');
  const promoted = await post(`/workflows/${workflowId}/promotions`, { version: 1, environment: 'dev' });
  if (promoted.status !== 200) throw new Error(`POST promotions: HTTP ${promoted.status} ${promoted.text}`);
  const started = Date.now();
  const scheduleIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const made = await post(`/workflows/${workflowId}/schedules`, { cron: '* * * * *', environment: 'dev' });
    if (made.status !== 201) throw new Error(`POST schedules: HTTP ${made.status} ${made.text}`);
    scheduleIds.push(field(made.body, 'scheduleId'));
  }
  await new Promise((resolve) => setTimeout(resolve, LEVEL_SECONDS * 1000));
  for (const scheduleId of scheduleIds) {
    await call(bench.apiUrl, { method: 'DELETE', path: `/schedules/${scheduleId}` }, headers);
  }
  // Firings under way when their schedule went.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const tenantId = bench.tenantId;
  const executions = await executionsOf(bench, workflowId);
  // A run is named from its schedule and planned second: recover each run's planned time exactly.
  const plannedOf = new Map<string, number>();
  for (const scheduleId of scheduleIds) {
    for (let t = Math.floor(started / 1000) * 1000 - 1000; t <= Date.now(); t += 1000) {
      plannedOf.set(derivedId('x', `${tenantId}|${workflowId}|${fireKey(scheduleId, new Date(t))}`), t);
    }
  }
  const jitter: number[] = [];
  const perSchedule = new Map<string, number[]>();
  for (const execution of executions) {
    const planned = plannedOf.get(execution.executionId);
    if (planned === undefined) throw new Error(`Run ${execution.executionId} matches no planned second`);
    jitter.push(Date.parse(execution.startedAt) - planned);
    perSchedule.set(execution.startedBy, [...(perSchedule.get(execution.startedBy) ?? []), planned]);
  }
  const planned = [...perSchedule.values()].reduce(
    (sum, times) => sum + (Math.max(...times) - Math.min(...times)) / FIRING_INTERVAL_MS + 1,
    0,
  );
  return {
    schedules: count,
    seconds: LEVEL_SECONDS,
    runs: executions.length,
    planned,
    p50: median(jitter),
    p90: percentile(jitter, 90),
    p99: percentile(jitter, 99),
    max: Math.max(...jitter),
  };
}

/** Runs every level on a platform started with {@link BENCH_SCHEDULE_SECONDS}. */
export async function measureScheduleJitter(bench: ScheduleBenchTarget): Promise<JitterLevel[]> {
  const out: JitterLevel[] = [];
  for (const count of LEVELS) out.push(await level(bench, count));
  return out;
}

/** The markdown section: figures, and how, when and on what they were taken. */
export function renderScheduleSection(levels: readonly JitterLevel[], date: string): string {
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`;
  const rows = levels
    .map(
      (l) =>
        `| ${l.schedules} | ${l.seconds} | ${l.runs} / ${l.planned} | ${l.p50.toFixed(0)} | ${l.p90.toFixed(0)} | ${l.p99.toFixed(0)} | ${l.max.toFixed(0)} |`,
    )
    .join('\n');
  return `${HEADER}
Measured with \`npm run bench -- --schedules\` (bench/schedules.ts) on ${date}, on ${cpu}, load
average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')} at the end (a machine shared with other work: several other test suites ran meanwhile).

Jitter is the time from a firing's planned time to the moment the fire function began starting its
run (the execution's \`startedAt\`), on the local platform run in its own process as \`npm start\` runs
it (the bench only calls its API): croner computes the next fire time in the
schedule's zone, one Node.js timer per schedule waits for it (bin/local/scheduler.ts,
functions/adapters/local-scheduler.ts), and the delivery calls functions/handlers/schedule-fire.ts in
process, as EventBridge Scheduler invokes it on AWS. Each run's planned time is recovered exactly
from its id (derived from the schedule id and the planned time). To collect samples quickly the bench
platform fires every-minute schedules every 2 seconds (croner's seconds field \`*/2\`, bench only); tenants'
schedules fire at most once a minute. "Planned firings" counts, per schedule, every 2 s from its first
run to its last: fewer runs would mean firings lost. The tail is the platform's one event loop being
busy (API requests, the audit stream consumer, runs) on a machine whose load average was about ten
times its core count. EventBridge Scheduler itself invokes a target within the minute (60-second
precision), so the local jitter is far inside what AWS gives.

| schedules | seconds | runs / planned firings | p50 ms | p90 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|
${rows}

A run started late is still the run of its planned time (the idempotency key holds the planned time,
not the delivery time), and a firing repeated by a redelivery starts nothing new.
`;
}

/** Replaces this area's section of RESULTS.md (or appends it), leaving the others as they are. */
export async function writeScheduleSection(path: string, section: string): Promise<void> {
  await writeFile(path, spliceSection(await readFile(path, 'utf8').catch(() => ''), section));
}
