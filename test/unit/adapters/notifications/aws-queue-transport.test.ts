import { describe, expect, it } from 'vitest';
import { awsQueueTransport } from '#adapters/notifications/aws-queue-transport.ts';
import { ConfigError, notifications, parseConfig } from '#shared/config.ts';

const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n1', attempt: 1 };

describe('the queue-only transport of functions that raise notifications', () => {
  it('sends no email: raising only queues a delivery', async () => {
    // Prepare
    const transport = awsQueueTransport(
      parseConfig({ NOTIFICATION_QUEUE_URL: 'https://sqs.example/q' }, [notifications]),
    );
    // Act
    const sent = transport.mailer.send('tabcdefghijklmnop', { to: 'a@example.com', subject: 's', text: 't' });
    // Assess
    await expect(sent).rejects.toBeInstanceOf(ConfigError);
    await expect(sent).rejects.toThrow(/sends none/);
  });

  it('names the missing queue setting before it calls anything', async () => {
    // Prepare
    const transport = awsQueueTransport(parseConfig({}, [notifications]));
    // Act
    const queued = transport.queue.enqueue(ref, 0);
    const deadLettered = transport.queue.deadLetter(ref, 'failed');
    // Assess
    await expect(queued).rejects.toThrow(/NOTIFICATION_QUEUE_URL/);
    await expect(deadLettered).rejects.toThrow(/NOTIFICATION_DLQ_URL/);
  });
});
