import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ID_PATTERN } from '#core/ids.ts';
import type { DeliveryRef, NotificationEvent } from '#core/notifications/model.ts';
import type { DeliveryQueue } from '#core/notifications/ports.ts';

/** SQS delays a message at most 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** The body of a delivery message. */
export function deliveryMessage(ref: DeliveryRef): string {
  return JSON.stringify({ tenantId: ref.tenantId, notificationId: ref.notificationId, attempt: ref.attempt });
}

/** The delivery reference a parsed message holds, or undefined. */
function deliveryOf(value: unknown): DeliveryRef | undefined {
  const v = Object(value) as Partial<Record<keyof DeliveryRef, unknown>>;
  return typeof v.tenantId === 'string' &&
    typeof v.notificationId === 'string' &&
    Number.isInteger(v.attempt) &&
    (v.attempt as number) >= 1
    ? { tenantId: v.tenantId, notificationId: v.notificationId, attempt: v.attempt as number }
    : undefined;
}

/** JSON, or undefined when the body is not JSON (the caller drops it). */
function json(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Parses a delivery message, or undefined when it is not one. */
export function parseDeliveryMessage(body: string): DeliveryRef | undefined {
  return deliveryOf(json(body));
}

/**
 * The one event a function hands to the delivery function to fan out instead of fanning it out
 * itself: the step runner's budget alert (functions/adapters/wiring/step-runner.ts). It carries
 * figures only, no personal data, so it may travel in the queue whole.
 */
export type QueuedEvent = Extract<NotificationEvent, { type: 'budget.threshold' }>;

/** The body of a message that asks the delivery function to fan `event` out. */
export function raiseMessage(event: QueuedEvent): string {
  const { type, tenantId, at, month, threshold, spentMicros, limitMicros } = event;
  return JSON.stringify({ raise: { type, tenantId, at, month, threshold, spentMicros, limitMicros } });
}

const count = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;

/** Parses a raise message, or undefined when it is not one. */
function parseRaise(value: unknown): QueuedEvent | undefined {
  // Object(): null, a string or a number has none of the fields, so it is refused below.
  const e = Object(value) as Partial<Record<keyof QueuedEvent, unknown>>;
  // As the step runner writes it: a tenant id, an ISO instant, a month, a percentage of 1 to 100.
  return e.type === 'budget.threshold' &&
    typeof e.tenantId === 'string' &&
    ID_PATTERN.test(e.tenantId) &&
    typeof e.at === 'string' &&
    INSTANT.test(e.at) &&
    typeof e.month === 'string' &&
    MONTH.test(e.month) &&
    count(e.threshold) &&
    e.threshold >= 1 &&
    e.threshold <= 100 &&
    count(e.spentMicros) &&
    count(e.limitMicros)
    ? {
        type: e.type,
        tenantId: e.tenantId,
        at: e.at,
        month: e.month,
        threshold: e.threshold,
        spentMicros: e.spentMicros,
        limitMicros: e.limitMicros,
      }
    : undefined;
}

/** What a queue message asks of the delivery function: one attempt, or one fan-out. */
export type QueueMessage = { readonly delivery: DeliveryRef } | { readonly raise: QueuedEvent };

/** Parses a message of the notification queue, or undefined when it is neither kind. */
export function parseQueueMessage(body: string): QueueMessage | undefined {
  const value = json(body);
  const delivery = deliveryOf(value);
  if (delivery) return { delivery };
  const raise = parseRaise((Object(value) as { raise?: unknown }).raise);
  return raise ? { raise } : undefined;
}

/**
 * Queues `event` on `queueUrl` for the delivery function to fan out. A function, not only a method of
 * {@link SqsDeliveryQueue}: functions that only raise (the step runner) carry none of the queue's
 * delivery messages.
 */
export async function raiseOn(client: SQSClient, queueUrl: string, event: QueuedEvent): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: raiseMessage(event) }));
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

  /** Queues `event` for the delivery function to fan out (functions/handlers/notification-delivery.ts). */
  raise(event: QueuedEvent): Promise<void> {
    return raiseOn(this.client, this.queueUrl, event);
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
