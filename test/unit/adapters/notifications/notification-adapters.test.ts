import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { awsNotificationTransport } from '#adapters/notifications/aws-transport.ts';
import { LocalDeliveryQueue, LocalMailer } from '#adapters/notifications/local.ts';
import {
  deliveryMessage,
  parseDeliveryMessage,
  parseQueueMessage,
  raiseMessage,
} from '#adapters/notifications/queues.ts';
import { GuardedWebhookPoster } from '#adapters/notifications/webhook-poster.ts';
import { DeliveryError } from '#core/notifications/ports.ts';
import { parseConfig } from '#shared/config.ts';
import { budgetAlert } from '../../../helpers/notifications.ts';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

async function serve(
  status: number,
  headers: Record<string, string> = {},
): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, headers);
      res.end('ignored');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

describe('GuardedWebhookPoster', () => {
  it('refuses loopback, link-local metadata and private addresses unless allowlisted', async () => {
    // Prepare
    const poster = new GuardedWebhookPoster();
    // Act
    const reasons = await Promise.all(
      [
        'https://127.0.0.1/x',
        'https://169.254.169.254/latest',
        'https://192.168.1.1/x',
        'https://[::ffff:10.0.0.1]/x',
        'http://93.184.215.14/x',
      ].map((url) => poster.check(url, [])),
    );
    const allowed = await poster.check('https://10.0.0.1/x', ['10.0.0.0/8']);
    // Assess
    expect(reasons[0]).toMatch(/loopback/);
    expect(reasons[1]).toMatch(/link-local/);
    expect(reasons[2]).toMatch(/private/);
    expect(reasons[3]).toMatch(/private/);
    expect(reasons[4]).toMatch(/use https/);
    expect(allowed).toBeUndefined();
  });

  it('refuses at delivery too, without connecting', async () => {
    // Prepare
    const target = await serve(200);
    const poster = new GuardedWebhookPoster();
    // Act
    const error = await poster.post(`${target.url}/hook`, '{}', {}, []).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).refused).toBe(true);
    expect(target.bodies).toHaveLength(0);
  });

  it('posts to an allowlisted receiver; a non-2xx or a redirect is a retryable failure with its status', async () => {
    // Prepare
    const ok = await serve(202);
    const down = await serve(503);
    const moved = await serve(302, { location: 'http://169.254.169.254/' });
    const poster = new GuardedWebhookPoster();
    const allow = ['127.0.0.1'];
    // Act
    const sent = await poster.post(`${ok.url}/in`, '{"a":1}', { 'content-type': 'application/json' }, allow);
    const failed = await poster.post(`${down.url}/in`, '{}', {}, allow).catch((e: unknown) => e);
    const redirected = await poster.post(`${moved.url}/in`, '{}', {}, allow).catch((e: unknown) => e);
    // Assess
    expect(sent.status).toBe(202);
    expect(ok.bodies).toEqual(['{"a":1}']);
    expect(failed).toMatchObject({ refused: false, statusCode: 503 });
    expect(redirected).toMatchObject({ refused: false, statusCode: 302 });
  });
});

describe('LocalMailer', () => {
  it('writes notification emails into the local mailbox as <time>-<id>.json files holding {to, subject, text, sentAt}', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'mailbox-'));
    const mailbox = new LocalMailer(join(dir, 'mailbox'));
    try {
      // Act
      await mailbox.send('tabcdefghijklmnop', { to: 'a@b.example', subject: 'Hi', text: 'Body' });
      const files = await readdir(join(dir, 'mailbox'));
      // Assess
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-[0-9a-f]{12}\.json$/);
      expect(JSON.parse(await readFile(join(dir, 'mailbox', files[0] ?? ''), 'utf8'))).toEqual({
        to: 'a@b.example',
        subject: 'Hi',
        text: 'Body',
        sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('delivery queue messages', () => {
  it('round-trip a reference and reject anything else', () => {
    // Prepare
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 2 };
    // Act
    const parsed = parseDeliveryMessage(deliveryMessage(ref));
    // Assess
    expect(parsed).toEqual(ref);
    expect(parseDeliveryMessage('not json')).toBeUndefined();
    expect(parseDeliveryMessage('{"tenantId":"t","notificationId":"n","attempt":0}')).toBeUndefined();
    expect(parseDeliveryMessage('{"tenantId":"t","attempt":1}')).toBeUndefined();
    expect(parseDeliveryMessage('{"tenantId":7,"notificationId":"n","attempt":1}')).toBeUndefined();
    expect(parseDeliveryMessage('{"tenantId":"t","notificationId":"n","attempt":"1"}')).toBeUndefined();
  });

  it('round-trip a budget alert handed to the delivery function, and reject any other event or shape', () => {
    // Prepare
    const alert = budgetAlert();
    const raise = (patch: Record<string, unknown>) => JSON.stringify({ raise: { ...alert, ...patch } });
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 1 };
    // Act
    const parsed = parseQueueMessage(raiseMessage({ ...alert, extra: 'dropped' } as typeof alert));
    // Assess: the event comes back whole, and only its own fields
    expect(parsed).toEqual({ raise: alert });
    expect(parseQueueMessage(deliveryMessage(ref))).toEqual({ delivery: ref });
    // Zero is a count too (a budget of nothing spent yet).
    expect(parseQueueMessage(raise({ spentMicros: 0 }))).toEqual({ raise: { ...alert, spentMicros: 0 } });
    for (const bad of [
      raise({ type: 'approval.pending' }),
      raise({ tenantId: '' }),
      raise({ tenantId: 7 }),
      raise({ at: undefined }),
      raise({ month: 202611 }),
      raise({ threshold: -1 }),
      raise({ threshold: 0 }),
      raise({ threshold: 101 }),
      raise({ tenantId: 'not-a-tenant' }),
      raise({ month: '2026-13' }),
      raise({ month: `2026-11${'x'.repeat(200)}` }),
      raise({ at: 'yesterday' }),
      raise({ spentMicros: 2 ** 60 }),
      raise({ spentMicros: 1.5 }),
      raise({ limitMicros: '1000000' }),
      JSON.stringify({ raise: null }),
      JSON.stringify({ raise: 42 }),
      JSON.stringify({ raise: 'budget.threshold' }),
      'null',
      'not json',
    ]) {
      expect(parseQueueMessage(bad), bad).toBeUndefined();
    }
  });

  it('the local queue delivers when due and keeps dead letters', async () => {
    // Prepare
    const delivered: number[] = [];
    const queue = new LocalDeliveryQueue(
      (ref) => Promise.resolve(void delivered.push(ref.attempt)),
      () => undefined,
    );
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 1 };
    // Act
    await queue.enqueue({ ...ref, attempt: 2 }, 30);
    await queue.enqueue(ref, 0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await queue.deadLetter(ref, 'gone');
    // Assess
    expect(delivered).toEqual([1, 2]);
    expect(queue.deadLetters).toEqual([{ ref, reason: 'gone' }]);
    queue.close();
  });
});

describe('the AWS transport', () => {
  it('fails a send or a dead letter that lacks its setting, naming the variable, without failing at build', async () => {
    // Prepare: a function with the delivery queue but no sender and no dead-letter queue
    const cfg = parseConfig({
      STAGE: 'dev',
      MERIDIAN_MODE: 'aws',
      TABLE_NAME: 'meridian-table',
      AUDIT_BUCKET_NAME: 'audit-bucket',
      USER_POOL_ID: 'us-east-1_AbCdEfGhI',
      USER_POOL_CLIENT_ID: 'client',
      NOTIFICATION_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    });
    const ref = { tenantId: 'tabcdefghijklmnop', notificationId: 'n0000000001234567', attempt: 5 };
    // Act
    const transport = awsNotificationTransport(cfg);
    const sent = transport.mailer.send(ref.tenantId, { to: 'a@b.example', subject: 's', text: 't' });
    const parked = transport.queue.deadLetter(ref, 'gone');
    // Assess
    await expect(sent).rejects.toThrow(/NOTIFICATION_FROM_ADDRESS required/);
    await expect(parked).rejects.toThrow(/NOTIFICATION_DLQ_URL required/);
  });
});
