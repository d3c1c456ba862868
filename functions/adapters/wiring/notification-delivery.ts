import type { NotificationDeps } from '#core/notifications/service.ts';
import { config, core, notifications, secrets } from '#shared/config.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { awsNotificationTransport } from '../notifications/aws-transport.ts';
import { GuardedWebhookPoster } from '../notifications/webhook-poster.ts';
import { tableOnly, vaultOf } from './base.ts';
import { notificationsOf } from './notifications.ts';

/** The delivery function's settings. */
export const NOTIFICATION_DELIVERY_SETTINGS = [core, secrets, notifications] as const;

let wired: NotificationDeps | undefined;

/** The delivery function's composition root: one attempt per queued notification. */
export function notificationDeliveryWiring(): NotificationDeps {
  if (wired) return wired;
  const cfg = config(NOTIFICATION_DELIVERY_SETTINGS);
  const { clients, table } = tableOnly(cfg);
  wired = notificationsOf(cfg, {
    table,
    vault: vaultOf(cfg, clients),
    tenancy: dynamoTenancyStore(table),
    awsTransport: awsNotificationTransport,
    poster: new GuardedWebhookPoster(),
  }).notifications;
  return wired;
}
