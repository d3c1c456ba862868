import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DynamoNotificationStore } from '#adapters/dynamo/notification-store.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call, type Problem } from '../helpers/api.ts';
import { ALLOWED_LOOPBACK, allowEgress } from '../helpers/egress.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createTenant, inviteUser, uniqueEmail, uniqueName } from '../helpers/tenants.ts';
import {
  approvalWorkflowBody,
  chatCompletion,
  createAgent,
  deployWorkflow,
  expectCall,
  type LocalServer,
  startExecution,
  startLocalServer,
  waitForApprovalStep,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/** Notifications: channels, fan-out of events, signed delivery with retries, dead letters, the guard. */

interface ChannelView {
  readonly channelId: string;
  readonly type: string;
  readonly target: string;
  readonly events: string[];
  readonly secret?: string;
}

interface AttemptView {
  readonly attempt: number;
  readonly outcome: 'delivered' | 'failed' | 'refused';
  readonly statusCode?: number;
  readonly error?: string;
}

interface NotificationView {
  readonly notificationId: string;
  readonly event: string;
  readonly destination: { kind: string; to?: string; channelId?: string };
  readonly status: 'pending' | 'delivered' | 'dead_letter';
  readonly attempts: AttemptView[];
  readonly nextAttemptAt?: string;
  readonly data: Record<string, unknown>;
}

const db = localDocumentClient({ marshallOptions: { removeUndefinedValues: true } });
/** The platform's store over the platform's table, for what no route does (the offboarding sweep). */
const directStore = new DynamoNotificationStore(
  new Table(LOCAL_NAMES.tableName, { platform: db, forTenant: async () => db }),
);

let servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function receiver(statuses: (index: number) => number): Promise<LocalServer> {
  const server = await startLocalServer(
    (_request, index) => ({ status: statuses(index), body: {} }),
    ALLOWED_LOOPBACK,
  );
  servers.push(server);
  return server;
}

function createChannel(token: string, body: Record<string, unknown>) {
  return call<ChannelView & Partial<Problem>>('POST', '/notification-channels', {
    token,
    body: { name: uniqueName('channel'), ...body },
  });
}

/** Polls `GET /notifications` until `pick` finds one that is no longer pending. */
async function settled(
  token: string,
  pick: (n: NotificationView) => boolean,
  timeoutMs = 20_000,
): Promise<NotificationView> {
  const deadline = Date.now() + timeoutMs;
  let last: NotificationView | undefined;
  while (Date.now() < deadline) {
    const page = await expectCall<{ items: NotificationView[] }>(200, 'GET', '/notifications?limit=100', {
      token,
    });
    last = page.body.items.find(pick);
    if (last && last.status !== 'pending') return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no settled notification within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

async function failingWorkflow(token: string): Promise<string> {
  return deployWorkflow(
    token,
    workflowBody({ boom: { type: 'fail', error: 'Custom.Boom', cause: 'it broke' } }),
  );
}

describe('notifications', () => {
  it('sign webhook deliveries, retry a receiver that fails twice (3 attempts logged), and never show the secret again', async () => {
    // Prepare: a receiver answering 500, 500, then 200
    const owner = await createTenant('notify-retry');
    const token = await owner.token();
    await allowEgress(owner.tenantId);
    const hook = await receiver((i) => (i < 2 ? 500 : 200));
    const made = await createChannel(token, {
      type: 'webhook',
      events: ['execution.failed'],
      target: `${hook.url}/meridian`,
    });
    const workflowId = await failingWorkflow(token);
    // Act
    const executionId = await startExecution({ token }, workflowId, {});
    await waitForStatus({ token }, executionId, 'FAILED');
    const sent = await settled(token, (n) => n.destination.channelId === made.body.channelId);
    const listed = await call('GET', '/notification-channels', { token });
    const one = await call('GET', `/notifications/${sent.notificationId}`, { token });
    // Assess
    expect(made.status, made.text).toBe(201);
    expect(made.body.secret).toMatch(/^nwsec_/);
    expect(listed.text).toContain(made.body.channelId);
    expect(listed.text).not.toContain(made.body.secret ?? 'no secret');
    expect(one.text).not.toContain(made.body.secret ?? 'no secret');
    expect(sent).toMatchObject({ event: 'execution.failed', status: 'delivered' });
    expect(sent.data).toMatchObject({ executionId, workflowId, error: 'Custom.Boom' });
    expect(sent.attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
    expect(sent.nextAttemptAt).toBeUndefined();
    expect(hook.requests).toHaveLength(3);
    const last = hook.requests[2];
    const signature = String(last?.headers['meridian-signature']);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    const expected = createHmac('sha256', made.body.secret ?? '')
      .update(`${t}.${last?.body}`)
      .digest('hex');
    expect(v1).toBe(expected);
    expect(JSON.parse(last?.body ?? '{}')).toMatchObject({
      id: sent.notificationId,
      event: 'execution.failed',
      attempt: 3,
      data: { executionId },
    });
    expect(last?.headers['meridian-event']).toBe('execution.failed');
  });

  it('dead-letter a notification whose receiver always fails, after 5 attempts', async () => {
    // Prepare
    const owner = await createTenant('notify-dead');
    const token = await owner.token();
    await allowEgress(owner.tenantId);
    const hook = await receiver(() => 503);
    const made = await createChannel(token, {
      type: 'webhook',
      events: ['execution.failed'],
      target: `${hook.url}/down`,
    });
    // Act
    await waitForStatus(
      { token },
      await startExecution({ token }, await failingWorkflow(token), {}),
      'FAILED',
    );
    const dead = await settled(token, (n) => n.destination.channelId === made.body.channelId);
    // Assess
    expect(dead.status).toBe('dead_letter');
    expect(dead.attempts.map((a) => [a.outcome, a.statusCode])).toEqual(Array(5).fill(['failed', 503]));
    expect(dead.nextAttemptAt).toBeUndefined();
    expect(hook.requests).toHaveLength(5);
  });

  it('refuse channels to loopback, metadata, private and plain-http addresses with a 400 naming target', async () => {
    // Prepare
    const owner = await createTenant('notify-guard');
    const token = await owner.token();
    const targets = [
      'https://127.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.1.2.3/hook',
      'https://[::1]/hook',
      'http://example.com/hook',
      'https://user:pass@example.com/hook',
      'not a url',
    ];
    // Act
    const answers = await Promise.all(
      targets.map((target) =>
        createChannel(token, { type: 'webhook', events: ['execution.failed'], target }),
      ),
    );
    const badEmail = await createChannel(token, {
      type: 'email',
      events: ['execution.failed'],
      target: 'nope',
    });
    const badEvent = await createChannel(token, {
      type: 'email',
      events: ['lunch.served'],
      target: 'a@b.example',
    });
    const listed = await expectCall<{ items: unknown[] }>(200, 'GET', '/notification-channels', { token });
    // Assess
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, `${targets[i]}: ${answer.text}`).toBe(400);
      expect(answer.body.errors?.map((p) => p.path)).toEqual(['target']);
    }
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.errors?.map((p) => p.path)).toEqual(['target']);
    expect(badEvent.status).toBe(400);
    expect(JSON.stringify(badEvent.body.errors)).toContain('events');
    expect(listed.body.items).toEqual([]);
  });

  it('refuse and log a delivery to a host that resolves privately once it is no longer allowed (checked again at delivery)', async () => {
    // Prepare: https://localhost/… is accepted while a platform admin allowlists `localhost`, then
    // the allowlist is emptied (as if the name had moved to a private address since)
    const owner = await createTenant('notify-refused');
    const token = await owner.token();
    await allowEgress(owner.tenantId, ['localhost']);
    const made = await createChannel(token, {
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://localhost:9/hook',
    });
    await allowEgress(owner.tenantId, []);
    // Act
    await waitForStatus(
      { token },
      await startExecution({ token }, await failingWorkflow(token), {}),
      'FAILED',
    );
    const refused = await settled(token, (n) => n.destination.channelId === made.body.channelId);
    // Assess: one attempt, refused (never retried), the reason logged
    expect(made.status, made.text).toBe(201);
    expect(refused.status).toBe('dead_letter');
    expect(refused.attempts).toHaveLength(1);
    expect(refused.attempts[0]?.outcome).toBe('refused');
    expect(refused.attempts[0]?.error).toMatch(/localhost resolves to .* \(loopback\)/);
  });

  it('email the approvers of a pending approval (not the requester nor non-approvers) and post {text} to Slack', async () => {
    // Prepare
    const owner = await createTenant('notify-approval');
    const token = await owner.token();
    await allowEgress(owner.tenantId);
    const slack = await receiver(() => 200);
    const operator = await inviteUser(token, uniqueEmail('approver'), ['operator']);
    const developer = await inviteUser(token, uniqueEmail('builder'), ['developer']);
    const channel = await createChannel(token, {
      type: 'slack',
      events: ['approval.pending'],
      target: `${slack.url}/services/T000/B000/XXXXSECRET`,
    });
    const workflowId = await deployWorkflow(token, approvalWorkflowBody());
    // Act: the admin starts it, so the admin is the requester
    const executionId = await startExecution({ token }, workflowId, {});
    await waitForApprovalStep({ token }, executionId);
    const posted = await settled(token, (n) => n.destination.channelId === channel.body.channelId);
    const mailed = await settled(token, (n) => n.destination.to === operator.email.toLowerCase());
    const page = await expectCall<{ items: NotificationView[] }>(200, 'GET', '/notifications?limit=100', {
      token,
    });
    const channels = await call('GET', '/notification-channels', { token });
    const mailbox = join(inject('stateDir'), 'mailbox');
    const mails = readdirSync(mailbox)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map(
        (f) =>
          JSON.parse(readFileSync(join(mailbox, f), 'utf8')) as { to: string; subject: string; text: string },
      );
    // Assess
    expect(channel.status, channel.text).toBe(201);
    expect(channel.body.target).toBe(`${new URL(slack.url).origin}/…`);
    expect(channel.body.secret).toBeUndefined();
    expect(channels.text).not.toContain('XXXXSECRET');
    expect(posted.status).toBe('delivered');
    expect(mailed.status).toBe('delivered');
    const slackBody = JSON.parse(slack.requests[0]?.body ?? '{}') as { text?: string };
    expect(slackBody.text).toContain(String(mailed.data.approvalId));
    expect(slack.requests[0]?.path).toBe('/services/T000/B000/XXXXSECRET');
    const recipients = page.body.items
      .filter((n) => n.destination.kind === 'email')
      .map((n) => n.destination.to);
    expect(recipients).toContain(operator.email.toLowerCase());
    expect(recipients).not.toContain(developer.email.toLowerCase());
    expect(recipients).not.toContain(owner.adminEmail.toLowerCase());
    // The mailbox also holds the operator's invitation (bin/local mailbox): pick the approval's mail.
    const mail = mails.find(
      (m) => m.to === operator.email.toLowerCase() && m.subject.startsWith('Approval waiting'),
    );
    expect(mail?.subject).toContain(workflowId);
    expect(mail?.text).toContain(`/approvals/${String(mailed.data.approvalId)}/decision`);
  });

  it('tell a budget.threshold channel when the spend crosses a threshold', async () => {
    // Prepare: each execution costs 540 micros against a 800-micro budget alerting at 50 %
    const owner = await createTenant('notify-budget');
    const token = await owner.token();
    await allowEgress(owner.tenantId);
    const model = await startLocalServer(
      () => ({ status: 200, body: chatCompletion('done', { inputTokens: 2000, outputTokens: 400 }) }),
      ALLOWED_LOOPBACK,
    );
    servers.push(model);
    const hook = await receiver(() => 204);
    const made = await createChannel(token, {
      type: 'webhook',
      events: ['budget.threshold'],
      target: `${hook.url}/b`,
    });
    await expectCall(201, 'PUT', '/secrets/openai-key', { token, body: { value: 'sk-notify-test' } });
    const agentId = await createAgent(token, {
      name: uniqueName('gpt'),
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: `${model.url}/v1`,
      apiKeySecret: 'openai-key',
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: 'hi', end: true } }),
    );
    await expectCall(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: '0.0008', alertThresholds: [50] },
    });
    // Act
    await waitForStatus({ token }, await startExecution({ token }, workflowId, {}), 'SUCCEEDED');
    const sent = await settled(token, (n) => n.destination.channelId === made.body.channelId);
    // Assess
    expect(sent).toMatchObject({ event: 'budget.threshold', status: 'delivered' });
    expect(sent.data).toMatchObject({ threshold: 50, spentUsd: '0.000540', limitUsd: '0.000800' });
    expect(sent.attempts.map((a) => a.statusCode)).toEqual([204]);
  });

  it('the store keeps a notification already stored under its id (a repeated fan-out adds nothing)', async () => {
    // Prepare: a notification with one attempt logged
    const owner = await createTenant('notify-again');
    const at = new Date().toISOString();
    const first = {
      notificationId: `n${Date.now().toString(36).padStart(9, '0').slice(-9)}again01`,
      event: 'budget.threshold' as const,
      destination: { kind: 'email' as const, to: 'ops@corp.example' },
      subject: 'Budget',
      text: 'first',
      data: {},
      status: 'pending' as const,
      attempts: [],
      createdAt: at,
      updatedAt: at,
    };
    await directStore.putNotifications(owner.tenantId, [first]);
    await directStore.recordAttempt(
      owner.tenantId,
      first.notificationId,
      { attempt: 1, at, outcome: 'delivered' },
      { status: 'delivered', at },
    );
    // Act
    await directStore.putNotifications(owner.tenantId, [{ ...first, text: 'second' }]);
    const stored = await directStore.getNotification(owner.tenantId, first.notificationId);
    // Assess
    expect(stored).toMatchObject({ text: 'first', status: 'delivered', attempts: [{ attempt: 1 }] });
  });

  it('delete a channel: gone from the list, and a second delete is 404', async () => {
    // Prepare
    const owner = await createTenant('notify-delete');
    const token = await owner.token();
    const made = await createChannel(token, {
      type: 'email',
      events: ['execution.timed_out'],
      target: uniqueEmail('ops'),
    });
    // Act
    const first = await call('DELETE', `/notification-channels/${made.body.channelId}`, { token });
    const second = await call('DELETE', `/notification-channels/${made.body.channelId}`, { token });
    const listed = await call('GET', '/notification-channels', { token });
    // Assess
    expect(made.status).toBe(201);
    expect(first.status).toBe(204);
    expect(second.status).toBe(404);
    expect(listed.text).not.toContain(made.body.channelId);
  });

  it("deleteAllForTenant removes the tenant's channels and notifications, and no other tenant's", async () => {
    // Prepare: two tenants, each with a channel and a notification (a pending promotion's email)
    const [gone, kept] = await Promise.all([createTenant('notify-offboard'), createTenant('notify-stay')]);
    for (const tenant of [gone, kept]) {
      const token = await tenant.token();
      await inviteUser(token, uniqueEmail('approver'), ['operator']);
      await expectCall(201, 'POST', '/notification-channels', {
        token,
        body: {
          name: uniqueName('c'),
          type: 'email',
          events: ['budget.threshold'],
          target: uniqueEmail('ops'),
        },
      });
      const workflowId = await deployWorkflow(token, workflowBody({ done: { type: 'succeed' } }));
      await expectCall(202, 'POST', `/workflows/${workflowId}/promotions`, {
        token,
        body: { version: 1, environment: 'prod' },
      });
    }
    const before = await directStore.listNotifications(gone.tenantId, { limit: 100 });
    // Act
    const removed = await directStore.deleteAllForTenant(gone.tenantId);
    const goneChannels = await call<{ items: unknown[] }>('GET', '/notification-channels', {
      token: await gone.token(),
    });
    const goneNotifications = await call<{ items: unknown[] }>('GET', '/notifications', {
      token: await gone.token(),
    });
    const keptChannels = await call<{ items: unknown[] }>('GET', '/notification-channels', {
      token: await kept.token(),
    });
    const keptNotifications = await call<{ items: unknown[] }>('GET', '/notifications', {
      token: await kept.token(),
    });
    // Assess
    expect(before.items.length).toBeGreaterThan(0);
    expect(removed).toBe(before.items.length + 1);
    expect(goneChannels.body.items).toEqual([]);
    expect(goneNotifications.body.items).toEqual([]);
    expect(keptChannels.body.items).toHaveLength(1);
    expect(keptNotifications.body.items.length).toBeGreaterThan(0);
  });
});
