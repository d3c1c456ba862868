import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { parseQueueMessage } from '#adapters/notifications/queues.ts';
import { SecretsManagerSecrets, SecretsManagerVault } from '#adapters/secret-vault.ts';
import { logger } from '#shared/observability.ts';
import { sdkOptions } from '../helpers/moto.ts';

const options = sdkOptions(inject('awsEndpoint'));
const sqs = new SQSClient(options);
const ALERT = {
  type: 'budget.threshold',
  tenantId: 'tabcdefghijklmnop',
  at: '2026-11-30T10:00:00.000Z',
  month: '2026-11',
  threshold: 90,
  spentMicros: 900,
  limitMicros: 1000,
} as const;
let queueUrl = '';

// The step runner's composition root on AWS settings: its clients honour AWS_ENDPOINT_URL.
beforeAll(async () => {
  const made = await sqs.send(new CreateQueueCommand({ QueueName: `raise-${randomUUID().slice(0, 8)}` }));
  queueUrl = String(made.QueueUrl);
  const env: Record<string, string> = {
    STAGE: 'test',
    MERIDIAN_MODE: 'aws',
    TABLE_NAME: 'meridian-test',
    NOTIFICATION_QUEUE_URL: queueUrl,
    AWS_REGION: options.region,
  };
  if (options.endpoint) {
    Object.assign(env, {
      AWS_ENDPOINT_URL: options.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
  }
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the step runner's wiring on AWS (moto by default)", () => {
  it('queues a budget alert for the delivery function, as one message naming the event', async () => {
    // Prepare
    const { stepRunnerWiring } = await import('#adapters/wiring/step-runner.ts');
    // Act
    await stepRunnerWiring().notify(ALERT);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    // Assess
    expect(received.Messages).toHaveLength(1);
    expect(parseQueueMessage(received.Messages?.[0]?.Body ?? '')).toEqual({ raise: ALERT });
  });

  it('reads secrets with the read-only reader, which has no way to write one', async () => {
    // Act
    const { stepRunnerWiring } = await import('#adapters/wiring/step-runner.ts');
    const vault = stepRunnerWiring().vault;
    // Assess
    expect(vault).toBeInstanceOf(SecretsManagerSecrets);
    expect(vault).not.toBeInstanceOf(SecretsManagerVault);
    expect('put' in vault || 'delete' in vault).toBe(false);
  });

  it('logs an alert it could not queue and does not fail the step', async () => {
    // Prepare: the queue is gone
    const { stepRunnerWiring } = await import('#adapters/wiring/step-runner.ts');
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const logged = vi.spyOn(logger, 'error');
    // Act
    const outcome = await stepRunnerWiring().notify(ALERT);
    // Assess
    expect(outcome).toBeUndefined();
    expect(logged).toHaveBeenCalledWith(
      'Budget alert could not be queued',
      expect.objectContaining({ event: 'budget.threshold', tenantId: ALERT.tenantId }),
    );
  });
});
