import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { SCHEDULE_FIRE_SETTINGS, scheduleFireWiring } from '#adapters/wiring/schedule-fire.ts';
import { type FireOutcome, fireSchedule } from '#core/schedules/schedules.ts';
import { config } from '#shared/config.ts';
import { annotate, logger, metrics, tracedHandler } from '#shared/observability.ts';

config(SCHEDULE_FIRE_SETTINGS);

/** What a firing delivers: EventBridge Scheduler's target input, or the local scheduler's event. */
export interface ScheduleFireEvent {
  readonly tenantId?: unknown;
  readonly scheduleId?: unknown;
  /** `<aws.scheduler.scheduled-time>`: the planned time, the same on every retry of one firing. */
  readonly scheduledTime?: unknown;
}

/**
 * Invoked by EventBridge Scheduler (and by the local platform's scheduler, the same way) for one
 * firing of a schedule: starts the schedule's workflow, idempotently for the schedule and fire time.
 * Refusals return normally (a retry would be refused again); only transient failures throw, so the
 * scheduler's retry policy retries just those.
 */
export const handler = tracedHandler(
  'schedule-fire',
  async (event: ScheduleFireEvent, context?: Pick<Context, 'awsRequestId'>): Promise<FireOutcome> => {
    const tenantId = typeof event.tenantId === 'string' ? event.tenantId : '';
    const scheduleId = typeof event.scheduleId === 'string' ? event.scheduleId : '';
    const fireTime = new Date(typeof event.scheduledTime === 'string' ? event.scheduledTime : Number.NaN);
    annotate({ tenantId });
    const outcome = await fireSchedule(scheduleFireWiring(), tenantId, scheduleId, fireTime, {
      requestId: context?.awsRequestId ?? randomUUID(),
      // Recorded as the run's audit source: no caller address exists for a timer.
      sourceIp: 'scheduler',
      userAgent: 'meridian-schedule',
      now: new Date().toISOString(),
    });
    metrics.addMetric(outcome.fired ? 'ScheduleFired' : 'ScheduleRefused', 'Count', 1);
    metrics.publishStoredMetrics();
    if (outcome.fired) {
      logger.info('Schedule fired', {
        tenantId,
        scheduleId,
        scheduledTime: fireTime.toISOString(),
        executionId: outcome.result.execution.executionId,
        created: outcome.result.created,
      });
    } else {
      logger.warn('Schedule firing started nothing', {
        tenantId: tenantId.slice(0, 32),
        scheduleId: scheduleId.slice(0, 32),
        reason: outcome.reason,
        ...(outcome.detail ? { detail: outcome.detail } : {}),
      });
    }
    return outcome;
  },
);
