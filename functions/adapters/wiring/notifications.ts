import type { NotificationEvent, Notify } from '#core/notifications/model.ts';
import type { DeliveryQueue, Mailer, WebhookPoster } from '#core/notifications/ports.ts';
import { type NotificationDeps, notifier } from '#core/notifications/service.ts';
import type { SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import type { Settings } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { DynamoNotificationStore } from '../dynamo/notification-store.ts';
import type { Table } from '../dynamo/table.ts';
import { notInThisFunction } from './base.ts';
import { localNotificationTransport } from './local.ts';

/** What notifications read: the AWS queues and sender, and the retry pause. */
export type NotificationSettings = Settings<
  | 'NOTIFICATION_QUEUE_URL'
  | 'NOTIFICATION_DLQ_URL'
  | 'NOTIFICATION_FROM_ADDRESS'
  | 'NOTIFICATION_RETRY_BASE_MS'
>;

/** How notifications leave the platform: a mailer and a delivery queue. */
export interface NotificationTransport {
  readonly mailer: Mailer;
  readonly queue: DeliveryQueue;
}

/** What a composition root gives the notification use cases. */
export interface NotificationParts {
  readonly table: Table;
  readonly vault: SecretVault;
  readonly tenancy: Pick<TenancyStore, 'getTenant' | 'listUsers' | 'getRoles'>;
  /** The AWS transport; on the local platform the one it registers (functions/adapters/wiring/local.ts). */
  readonly awsTransport: (cfg: NotificationSettings) => NotificationTransport;
  /**
   * Only for roots that deliver or check webhook targets (the API, the delivery function): the
   * others raise notifications and queue them, so they bundle no poster and no egress guard.
   */
  readonly poster?: WebhookPoster;
}

/** The notification use cases' dependencies and the notifier that raises events through them. */
export function notificationsOf(
  cfg: NotificationSettings & Settings<'MERIDIAN_MODE'>,
  parts: NotificationParts,
): { notifications: NotificationDeps; notify: Notify } {
  let notifications: NotificationDeps | undefined;
  const deps = (): NotificationDeps => {
    if (!notifications) throw new Error('notifications used before they were wired');
    return notifications;
  };
  const local = cfg.MERIDIAN_MODE === 'local' ? localNotificationTransport(deps) : undefined;
  const transport: NotificationTransport = local ?? parts.awsTransport(cfg);
  notifications = {
    store: new DynamoNotificationStore(parts.table),
    vault: parts.vault,
    tenancy: parts.tenancy,
    mailer: transport.mailer,
    queue: transport.queue,
    poster: parts.poster ?? local?.poster ?? notInThisFunction<WebhookPoster>('webhook poster'),
    retryBaseMs: cfg.NOTIFICATION_RETRY_BASE_MS,
    now: () => new Date(),
  };
  const notify = notifier(deps, (error, event: NotificationEvent) =>
    logger.error('Notification fan-out failed', { error, event: event.type, tenantId: event.tenantId }),
  );
  return { notifications, notify };
}
