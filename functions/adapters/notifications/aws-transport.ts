import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, type RuntimeConfig } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import type { NotificationTransport } from '../wiring/notifications.ts';
import { SesMailer } from './mailers.ts';
import { SqsDeliveryQueue } from './queues.ts';

/** Reads a setting notifications need on AWS, failing with its name when missing. */
function required(
  cfg: RuntimeConfig,
  name: 'NOTIFICATION_QUEUE_URL' | 'NOTIFICATION_DLQ_URL' | 'NOTIFICATION_FROM_ADDRESS',
): string {
  const value = cfg[name];
  if (!value) throw new ConfigError(`Invalid Meridian configuration: ${name} required for notifications`);
  return value;
}

/**
 * SES and SQS, each built on first use: a function that only raises events never needs the sender,
 * and an email to a stage without one fails that delivery (logged, retried, dead-lettered) rather
 * than the function.
 */
export function awsNotificationTransport(cfg: RuntimeConfig): NotificationTransport {
  let ses: SesMailer | undefined;
  let sqs: SqsDeliveryQueue | undefined;
  const queue = (): SqsDeliveryQueue => {
    sqs ??= new SqsDeliveryQueue(
      tracer.captureAWSv3Client(new SQSClient({})),
      required(cfg, 'NOTIFICATION_QUEUE_URL'),
      // Only the delivery function dead-letters; publishers have no dead-letter queue URL.
      cfg.NOTIFICATION_DLQ_URL ?? '',
    );
    return sqs;
  };
  return {
    mailer: {
      send: async (tenantId, mail) => {
        ses ??= new SesMailer(
          tracer.captureAWSv3Client(new SESv2Client({})),
          required(cfg, 'NOTIFICATION_FROM_ADDRESS'),
        );
        return ses.send(tenantId, mail);
      },
    },
    queue: {
      enqueue: async (ref, delayMs) => queue().enqueue(ref, delayMs),
      deadLetter: async (ref, reason) => {
        required(cfg, 'NOTIFICATION_DLQ_URL');
        return queue().deadLetter(ref, reason);
      },
    },
  };
}
