import { randomUUID } from 'node:crypto';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { SesMailer } from '#adapters/notifications/mailers.ts';
import { parseDeliveryMessage, parseQueueMessage, SqsDeliveryQueue } from '#adapters/notifications/queues.ts';
import { sdkOptions } from '../helpers/moto.ts';

const endpoint = inject('awsEndpoint');
const ses = new SESv2Client(sdkOptions(endpoint));
const sqs = new SQSClient(sdkOptions(endpoint));
const unique = () => randomUUID().slice(0, 8);

/** Messages moto recorded as sent (its data API), or undefined against another endpoint. */
async function sentByMoto(): Promise<
  { source: string; subject: string; body: string; destinations: unknown }[]
> {
  // moto answers 500 while any multipart upload has parts and is not complete (another file's S3
  // test may be uploading one): asked again, it answers once that upload completes.
  let answer = await fetch(`${endpoint}/moto-api/data.json`);
  const deadline = Date.now() + 30_000;
  while (answer.status === 500 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    answer = await fetch(`${endpoint}/moto-api/data.json`);
  }
  const data = (await answer.json()) as {
    ses?: { Message?: { source: string; subject: string; body: string; destinations: unknown }[] };
  };
  return data.ses?.Message ?? [];
}

async function queue(name: string): Promise<string> {
  const made = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${unique()}` }));
  return String(made.QueueUrl);
}

describe('SesMailer against the AWS API (moto by default)', () => {
  it('sends a plain-text email from the verified sender', async () => {
    // Prepare
    const from = `notify-${unique()}@example.com`;
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: from }));
    const subject = `Approval waiting ${unique()}`;
    // Act
    const sending = new SesMailer(ses, from).send('tabcdefghijklmnop', {
      to: 'ops@corp.example',
      subject,
      text: 'Decide.',
    });
    // Assess: accepted; moto also shows what was sent (AWS itself offers no such read-back)
    await expect(sending).resolves.toBeUndefined();
    if (!inject('awsIsMoto')) return;
    const sent = (await sentByMoto()).find((m) => m.subject === subject);
    expect(sent).toMatchObject({
      source: from,
      body: 'Decide.',
      destinations: { ToAddresses: ['ops@corp.example'] },
    });
  });

  it('is refused for a sender SES has not verified', async () => {
    // Act
    const error = await new SesMailer(ses, `nobody-${unique()}@unverified.example`)
      .send('tabcdefghijklmnop', { to: 'ops@corp.example', subject: 's', text: 't' })
      .catch((e: unknown) => e);
    // Assess
    expect((error as Error).name).toBe('MessageRejected');
  });
});

describe('SqsDeliveryQueue against the AWS API (moto by default)', () => {
  it('queues a delivery reference with its backoff as DelaySeconds', async () => {
    // Prepare
    const url = await queue('deliveries');
    const dlq = await queue('dead');
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 2 };
    // Act
    await new SqsDeliveryQueue(sqs, url, dlq).enqueue(ref, 0);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    // Assess
    expect(received.Messages).toHaveLength(1);
    expect(parseDeliveryMessage(received.Messages?.[0]?.Body ?? '')).toEqual(ref);
  });

  it('queues a budget alert for the delivery function to fan out, at once', async () => {
    // Prepare
    const url = await queue('raised');
    const alert = {
      type: 'budget.threshold',
      tenantId: 'tabcdefghijklmnop',
      at: '2026-11-30T10:00:00.000Z',
      month: '2026-11',
      threshold: 50,
      spentMicros: 540,
      limitMicros: 800,
    } as const;
    // Act
    await new SqsDeliveryQueue(sqs, url, '').raise(alert);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    // Assess
    expect(received.Messages).toHaveLength(1);
    expect(parseQueueMessage(received.Messages?.[0]?.Body ?? '')).toEqual({ raise: alert });
  });

  it('holds a delayed attempt back until its pause is over', async () => {
    // Prepare
    const url = await queue('delayed');
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 3 };
    // Act
    await new SqsDeliveryQueue(sqs, url, url).enqueue(ref, 60_000);
    const now = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    // Assess
    expect(now.Messages ?? []).toHaveLength(0);
    expect(attributes.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });

  it('dead-letters a notification with the reason its attempts ran out', async () => {
    // Prepare
    const url = await queue('live');
    const dlq = await queue('dead');
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 5 };
    // Act
    await new SqsDeliveryQueue(sqs, url, dlq).deadLetter(ref, 'h.example answered HTTP 503');
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1 }));
    const live = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    // Assess
    expect(JSON.parse(received.Messages?.[0]?.Body ?? '{}')).toEqual({
      ...ref,
      reason: 'h.example answered HTTP 503',
    });
    expect(live.Messages ?? []).toHaveLength(0);
  });
});
