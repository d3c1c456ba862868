import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduleTrigger } from '#core/schedules/schedules.ts';
import type { Settings } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import { EventBridgeScheduler } from '../eventbridge-scheduler.ts';
import { requireSettings } from './base.ts';
import { localScheduleTrigger } from './local.ts';

/** Schedules' triggers: EventBridge Scheduler on AWS, the local platform's scheduler otherwise. */
export function scheduleTrigger(
  cfg: Settings<'MERIDIAN_MODE' | 'SCHEDULE_GROUP_PREFIX' | 'SCHEDULE_FIRE_ARN' | 'SCHEDULER_ROLE_ARN'>,
): ScheduleTrigger {
  if (cfg.MERIDIAN_MODE === 'local') return localScheduleTrigger;
  requireSettings('schedules', {
    SCHEDULE_GROUP_PREFIX: cfg.SCHEDULE_GROUP_PREFIX,
    SCHEDULE_FIRE_ARN: cfg.SCHEDULE_FIRE_ARN,
    SCHEDULER_ROLE_ARN: cfg.SCHEDULER_ROLE_ARN,
  });
  return new EventBridgeScheduler(tracer.captureAWSv3Client(new SchedulerClient({})), {
    groupPrefix: String(cfg.SCHEDULE_GROUP_PREFIX),
    targetArn: String(cfg.SCHEDULE_FIRE_ARN),
    roleArn: String(cfg.SCHEDULER_ROLE_ARN),
  });
}
