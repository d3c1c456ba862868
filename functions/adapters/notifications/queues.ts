import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryRef } from '#core/notifications/model.ts';
import type { DeliveryQueue } from '#core/notifications/ports.ts';

/** SQS delays a message at most 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** The body of a delivery message. */
export function deliveryMessage(ref: DeliveryRef): string {
  return JSON.stringify({ tenantId: ref.tenantId, notificationId: ref.notificationId, attempt: ref.attempt });
}

/** Parses a delivery message, or undefined when it is not one. */
export function parseDeliveryMessage(body: string): DeliveryRef | undefined {
  try {
    const value = JSON.parse(body) as Partial<Record<keyof DeliveryRef, unknown>>;
    if (
      typeof value.tenantId === 'string' &&
      typeof value.notificationId === 'string' &&
      typeof value.attempt === 'number' &&
      Number.isInteger(value.attempt) &&
      value.attempt >= 1
    )
      return { tenantId: value.tenantId, notificationId: value.notificationId, attempt: value.attempt };
  } catch {
    // Not JSON: the caller drops it.
  }
  return undefined;
}

/**
 * The delivery queue on AWS: each attempt is a message, delayed by its backoff (SQS DelaySeconds);
 * exhausted ones are sent to the dead-letter queue, which also receives messages the delivery
 * function failed on repeatedly (its redrive policy).
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async enqueue(ref: DeliveryRef, delayMs: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: deliveryMessage(ref),
        DelaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(delayMs / 1000)),
      }),
    );
  }

  async deadLetter(ref: DeliveryRef, reason: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: JSON.stringify({ ...JSON.parse(deliveryMessage(ref)), reason: reason.slice(0, 500) }),
      }),
    );
  }
}
