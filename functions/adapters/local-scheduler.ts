import { nextFireTimes, type ParsedCron, parseCron } from '#core/schedules/cron.ts';
import type { Schedule, ScheduleTrigger } from '#core/schedules/schedules.ts';

/** What a firing delivers: the same fields as the AWS target's input (see eventbridge-scheduler.ts). */
export interface FireEvent {
  readonly tenantId: string;
  readonly scheduleId: string;
  /** The planned fire time (ISO 8601), not the delivery time. */
  readonly scheduledTime: string;
}

/** Options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  /** Delivers one firing (the local platform calls the fire function, as EventBridge does on AWS). */
  readonly fire: (event: FireEvent) => Promise<unknown>;
  /**
   * The seconds a matching minute fires at: `0` (once a minute at most, as on AWS). The test harness sets `*\/2`,
   * so an every-minute schedule fires every two seconds and tests need not wait minutes.
   */
  readonly seconds?: string;
  /**
   * Deliveries of each firing (default 1). EventBridge delivers at least once; the test harness
   * sets 2 to prove a repeated delivery starts one run.
   */
  readonly deliveries?: number;
  /** A delivery that threw (logged by the platform; the next firing is armed regardless). */
  readonly onError?: (error: unknown, event: FireEvent) => void;
  /** Planned vs actual delivery time of each firing (the bench's jitter figures). */
  readonly onFire?: (event: FireEvent, deliveredAt: Date) => void;
}

/** setTimeout's longest delay is about 24.8 days; a far firing is re-armed on the way. */
const MAX_TIMER_MS = 60 * 60 * 1000;

interface Job {
  readonly tenantId: string;
  readonly scheduleId: string;
  readonly parsed: ParsedCron;
  readonly timeZone: string;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

/**
 * The local platform's {@link ScheduleTrigger}: one timer per enabled schedule, in process, the next
 * fire time computed in the schedule's time zone (nextFireTimes: spring-forward gaps
 * skipped, fall-back hours once, as EventBridge Scheduler does). The API calls it in the same
 * process, so jobs follow creations and deletions at once; the platform loads every schedule from
 * the table when it starts.
 */
export class LocalScheduler implements ScheduleTrigger {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly options: LocalSchedulerOptions) {}

  /** How many schedules have a running timer. */
  get size(): number {
    return this.jobs.size;
  }

  async register(tenantId: string, schedule: Schedule): Promise<void> {
    await this.unregister(tenantId, schedule.scheduleId);
    if (!schedule.enabled) return;
    const job: Job = {
      tenantId,
      scheduleId: schedule.scheduleId,
      parsed: parseCron(schedule.cron),
      timeZone: schedule.timeZone,
      stopped: false,
    };
    this.jobs.set(`${tenantId}/${schedule.scheduleId}`, job);
    this.arm(job, new Date());
  }

  async unregister(tenantId: string, scheduleId: string): Promise<void> {
    const key = `${tenantId}/${scheduleId}`;
    const job = this.jobs.get(key);
    if (!job) return;
    job.stopped = true;
    clearTimeout(job.timer);
    this.jobs.delete(key);
  }

  async deleteAllForTenant(tenantId: string): Promise<void> {
    for (const job of [...this.jobs.values()]) {
      if (job.tenantId === tenantId) await this.unregister(tenantId, job.scheduleId);
    }
  }

  /** Stops every timer (the platform's shutdown). */
  stop(): void {
    for (const job of this.jobs.values()) {
      job.stopped = true;
      clearTimeout(job.timer);
    }
    this.jobs.clear();
  }

  /** Arms the job's timer for its next fire time after `after`. */
  private arm(job: Job, after: Date): void {
    if (job.stopped) return;
    const [next] = nextFireTimes(job.parsed, job.timeZone, after, 1, this.options.seconds ?? '0');
    if (!next) return;
    const wait = next.getTime() - Date.now();
    job.timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) return this.arm(job, after);
        void this.deliver(job, next);
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    // Timers never keep the process alive: the platform's server does.
    job.timer.unref();
  }

  private async deliver(job: Job, planned: Date): Promise<void> {
    if (job.stopped) return;
    // The next one is armed first: a slow start does not delay (or skip) the following firing.
    this.arm(job, planned);
    const event: FireEvent = {
      tenantId: job.tenantId,
      scheduleId: job.scheduleId,
      scheduledTime: planned.toISOString(),
    };
    this.options.onFire?.(event, new Date());
    const deliveries = Array.from({ length: Math.max(1, this.options.deliveries ?? 1) }, () =>
      this.options.fire(event).catch((error: unknown) => this.options.onError?.(error, event)),
    );
    await Promise.all(deliveries);
  }
}
