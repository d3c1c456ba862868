import { AUDIT_STREAM_SETTINGS } from '#adapters/audit/wiring.ts';
import { API_SETTINGS } from '#adapters/wiring/api.ts';
import { APPROVAL_HANDLER_SETTINGS } from '#adapters/wiring/approval-handler.ts';
import { AUTHORIZER_SETTINGS } from '#adapters/wiring/authorizer.ts';
import { LIFECYCLE_SETTINGS } from '#adapters/wiring/lifecycle.ts';
import { NOTIFICATION_DELIVERY_SETTINGS } from '#adapters/wiring/notification-delivery.ts';
import { SCHEDULE_FIRE_SETTINGS } from '#adapters/wiring/schedule-fire.ts';
import { SSO_TRIGGER_SETTINGS } from '#adapters/wiring/sso-trigger.ts';
import { STATUS_HANDLER_SETTINGS } from '#adapters/wiring/status-handler.ts';
import { STEP_RUNNER_SETTINGS } from '#adapters/wiring/step-runner.ts';
import { SettingsReader } from '#shared/config.ts';
import type { FunctionName } from '../../lib/aws-calls.ts';

/** Each function's settings groups, by its composition root (functions/adapters/wiring/). */
export const ROOTS = {
  api: API_SETTINGS,
  authorizer: AUTHORIZER_SETTINGS,
  ssoTrigger: SSO_TRIGGER_SETTINGS,
  stepRunner: STEP_RUNNER_SETTINGS,
  approvalHandler: APPROVAL_HANDLER_SETTINGS,
  statusHandler: STATUS_HANDLER_SETTINGS,
  scheduleFire: SCHEDULE_FIRE_SETTINGS,
  notificationDelivery: NOTIFICATION_DELIVERY_SETTINGS,
  lifecycle: LIFECYCLE_SETTINGS,
  auditStream: AUDIT_STREAM_SETTINGS,
} satisfies Record<FunctionName, unknown>;

/**
 * Resource names, required where read and set by the stack only where read (functions/shared/config.ts
 * groups `auditBucket` and `userPool`).
 */
export const RESOURCE_SETTINGS = ['AUDIT_BUCKET_NAME', 'USER_POOL_ID', 'USER_POOL_CLIENT_ID'] as const;

/** The resource settings a root's groups read. */
export function resourceSettingsOf(groups: Parameters<typeof variablesRead>[0]): string[] {
  const read = new Set(variablesRead(groups));
  return RESOURCE_SETTINGS.filter((name) => read.has(name));
}

/** The variables `groups` read, found by reading them from an environment that records each name. */
export function variablesRead(groups: readonly ((r: SettingsReader) => unknown)[]): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  const reader = new SettingsReader(env);
  for (const group of groups) group(reader);
  return [...read].sort();
}
