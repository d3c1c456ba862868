import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import type { NotificationSettings, NotificationTransport } from '../wiring/notifications.ts';
import { type QueuedEvent, raiseOn, SqsDeliveryQueue } from './queues.ts';

/** The delivery queues. */
type QueueSettings = Pick<NotificationSettings, 'NOTIFICATION_QUEUE_URL' | 'NOTIFICATION_DLQ_URL'>;

/** Reads a setting notifications need on AWS, failing with its name when missing. */
export function requiredSetting(
  cfg: Partial<NotificationSettings>,
  name: 'NOTIFICATION_QUEUE_URL' | 'NOTIFICATION_DLQ_URL' | 'NOTIFICATION_FROM_ADDRESS',
): string {
  const value = cfg[name];
  if (!value) throw new ConfigError(`Invalid Meridian configuration: ${name} required for notifications`);
  return value;
}

/** The SQS queue of the notification settings, built on first use. */
function lazySqs(cfg: QueueSettings): () => SqsDeliveryQueue {
  let sqs: SqsDeliveryQueue | undefined;
  return () => {
    sqs ??= new SqsDeliveryQueue(
      tracer.captureAWSv3Client(new SQSClient({})),
      requiredSetting(cfg, 'NOTIFICATION_QUEUE_URL'),
      // Only the delivery function dead-letters; publishers have no dead-letter queue URL.
      cfg.NOTIFICATION_DLQ_URL ?? '',
    );
    return sqs;
  };
}

/** Hands an event to the delivery function, which fans it out (functions/handlers/notification-delivery.ts). */
export function sqsRaiseOf(cfg: QueueSettings): (event: QueuedEvent) => Promise<void> {
  let client: SQSClient | undefined;
  return (event) => {
    const url = requiredSetting(cfg, 'NOTIFICATION_QUEUE_URL');
    client ??= tracer.captureAWSv3Client(new SQSClient({}));
    return raiseOn(client, url, event);
  };
}

/** The delivery queue on SQS, built on first use. */
export function sqsQueueOf(cfg: QueueSettings): NotificationTransport['queue'] {
  const queue = lazySqs(cfg);
  return {
    enqueue: async (ref, delayMs) => queue().enqueue(ref, delayMs),
    deadLetter: async (ref, reason) => {
      requiredSetting(cfg, 'NOTIFICATION_DLQ_URL');
      return queue().deadLetter(ref, reason);
    },
  };
}

/**
 * For functions that only raise events (the API, approval, status): raising queues a delivery,
 * and the delivery function (functions/handlers/notification-delivery.ts) sends it, so these
 * functions carry no SES client.
 */
export function awsQueueTransport(cfg: NotificationSettings): NotificationTransport {
  return {
    mailer: {
      send: async () => {
        throw new ConfigError(
          'Invalid Meridian configuration: this function queues notifications, it sends none',
        );
      },
    },
    queue: sqsQueueOf(cfg),
  };
}
