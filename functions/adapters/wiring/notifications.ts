import { join } from 'node:path';
import type { NotificationEvent, Notify } from '#core/notifications/model.ts';
import type { DeliveryQueue, Mailer } from '#core/notifications/ports.ts';
import { deliver, type NotificationDeps, notifier } from '#core/notifications/service.ts';
import type { SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { DynamoNotificationStore } from '../dynamo/notification-store.ts';
import type { Table } from '../dynamo/table.ts';
import { LocalDeliveryQueue, LocalMailer } from '../notifications/local.ts';
import { GuardedWebhookPoster } from '../notifications/webhook-poster.ts';

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
  /** The AWS transport; on the local platform a mailbox folder and in-process timers instead. */
  readonly awsTransport: (cfg: RuntimeConfig) => NotificationTransport;
}

/** The notification use cases' dependencies and the notifier that raises events through them. */
export function notificationsOf(
  cfg: RuntimeConfig,
  parts: NotificationParts,
): { notifications: NotificationDeps; notify: Notify } {
  let notifications: NotificationDeps | undefined;
  const deps = (): NotificationDeps => {
    if (!notifications) throw new Error('notifications used before they were wired');
    return notifications;
  };
  const transport: NotificationTransport =
    cfg.MERIDIAN_MODE === 'local'
      ? {
          mailer: new LocalMailer(join(cfg.MERIDIAN_STATE_DIR ?? '.local', 'mailbox')),
          queue: new LocalDeliveryQueue(
            (ref) => deliver(deps(), ref),
            (error, ref) => logger.error('Notification delivery failed', { error, ...ref }),
          ),
        }
      : parts.awsTransport(cfg);
  notifications = {
    store: new DynamoNotificationStore(parts.table),
    vault: parts.vault,
    tenancy: parts.tenancy,
    ...transport,
    poster: new GuardedWebhookPoster(),
    retryBaseMs: cfg.NOTIFICATION_RETRY_BASE_MS,
    now: () => new Date(),
  };
  const notify = notifier(deps, (error, event: NotificationEvent) =>
    logger.error('Notification fan-out failed', { error, event: event.type, tenantId: event.tenantId }),
  );
  return { notifications, notify };
}
