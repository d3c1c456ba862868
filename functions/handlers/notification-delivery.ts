import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseDeliveryMessage } from '#adapters/notifications/queues.ts';
import { notificationDeliveryWiring } from '#adapters/wiring/notification-delivery.ts';
import { deliver } from '#core/notifications/service.ts';
import { config } from '#shared/config.ts';
import { logger, metrics, tracedHandler } from '#shared/observability.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';

config(FUNCTION_SETTINGS.notificationDelivery);

/**
 * The delivery function behind the notification queue: one attempt per message. A failed delivery
 * is logged and re-queued with its backoff by the use case itself (the message succeeds); only an
 * error of the platform (the table unreachable) fails the message, which SQS then retries and,
 * after its redrive count, moves to the dead-letter queue.
 */
export const handler = tracedHandler(
  'notification-delivery',
  async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const ref = parseDeliveryMessage(record.body);
      if (!ref) {
        logger.warn('Dropped a message that is not a delivery', { messageId: record.messageId });
        continue;
      }
      try {
        const status = await deliver(notificationDeliveryWiring(), ref);
        logger.info('Notification attempt', { ...ref, status });
        if (status === 'dead_letter') metrics.addMetric('NotificationDeadLettered', 'Count', 1);
      } catch (error) {
        logger.error('Notification attempt could not be recorded', { ...ref, error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    metrics.publishStoredMetrics();
    return { batchItemFailures: failures };
  },
);
