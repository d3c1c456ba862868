import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseQueueMessage } from '#adapters/notifications/queues.ts';
import {
  NOTIFICATION_DELIVERY_SETTINGS,
  notificationDeliveryWiring,
} from '#adapters/wiring/notification-delivery.ts';
import { deliver, type NotificationDeps, publish } from '#core/notifications/service.ts';
import { config } from '#shared/config.ts';
import { logger, metrics, tracedHandler } from '#shared/observability.ts';

config(NOTIFICATION_DELIVERY_SETTINGS);

/**
 * One batch of the notification queue: each message is one delivery attempt, or the fan-out of an
 * event the step runner handed on (functions/adapters/wiring/step-runner.ts). Returns the ids of the
 * messages SQS should retry. A failed delivery is logged and re-queued with its backoff by the use
 * case itself (the message succeeds); only an error of the platform (the table unreachable) fails
 * the message, which SQS then retries and, after its redrive count, moves to the dead-letter queue.
 * A failed fan-out fails its message too: with stable ids, doing it again stores nothing twice.
 */
export async function handleMessages(
  deps: () => NotificationDeps,
  records: readonly Pick<SQSRecord, 'messageId' | 'body'>[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const record of records) {
    const message = parseQueueMessage(record.body);
    if (!message) {
      logger.warn('Dropped a message that is neither a delivery nor an event', {
        messageId: record.messageId,
      });
      continue;
    }
    if ('raise' in message) {
      const { type, tenantId } = message.raise;
      try {
        // Stable ids: a message delivered again, or retried after a partial failure, adds nothing.
        const made = await publish(deps(), message.raise, { stable: true });
        logger.info('Notification event fanned out', { event: type, tenantId, notifications: made.length });
      } catch (error) {
        logger.error('Notification fan-out failed', { error, event: type, tenantId });
        failures.push(record.messageId);
      }
      continue;
    }
    const ref = message.delivery;
    try {
      const status = await deliver(deps(), ref);
      logger.info('Notification attempt', { ...ref, status });
      if (status === 'dead_letter') metrics.addMetric('NotificationDeadLettered', 'Count', 1);
    } catch (error) {
      logger.error('Notification attempt could not be recorded', { ...ref, error });
      failures.push(record.messageId);
    }
  }
  return failures;
}

/** The delivery function behind the notification queue ({@link handleMessages}). */
export const handler = tracedHandler(
  'notification-delivery',
  async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures = await handleMessages(notificationDeliveryWiring, event.Records);
    metrics.publishStoredMetrics();
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  },
);
