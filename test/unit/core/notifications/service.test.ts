import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditContext } from '#core/audit/audit.ts';
import { ValidationError } from '#core/errors.ts';
import { ID_PATTERN } from '#core/ids.ts';
import {
  type Channel,
  type DeliveryAttempt,
  type DeliveryRef,
  MAX_ATTEMPTS,
  type Notification,
  type NotificationEvent,
  type NotificationStatus,
  newNotificationId,
  retryDelayMs,
  signNotification,
  stableNotificationId,
} from '#core/notifications/model.ts';
import { DeliveryError, type Mail, type NotificationStore } from '#core/notifications/ports.ts';
import {
  allowedApprovers,
  createChannel,
  deleteChannel,
  deliver,
  type NotificationDeps,
  publish,
} from '#core/notifications/service.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { Role, User } from '#core/tenancy/model.ts';

const TENANT = 'tabcdefghijklmnop';

class MemoryStore implements NotificationStore {
  readonly channels = new Map<string, Channel>();
  readonly notifications = new Map<string, Notification>();
  readonly audits: AuditContext[] = [];
  createChannel(_t: string, channel: Channel, audit: AuditContext) {
    this.audits.push(audit);
    this.channels.set(channel.channelId, channel);
    return Promise.resolve();
  }
  getChannel(_t: string, id: string) {
    return Promise.resolve(this.channels.get(id));
  }
  listChannels() {
    return Promise.resolve({ items: [...this.channels.values()] });
  }
  allChannels() {
    return Promise.resolve([...this.channels.values()]);
  }
  deleteChannel(_t: string, channel: Channel, audit: AuditContext) {
    this.audits.push(audit);
    this.channels.delete(channel.channelId);
    return Promise.resolve();
  }
  putNotifications(_t: string, list: readonly Notification[]) {
    for (const n of list) this.notifications.set(n.notificationId, n);
    return Promise.resolve();
  }
  getNotification(_t: string, id: string) {
    return Promise.resolve(this.notifications.get(id));
  }
  listNotifications() {
    return Promise.resolve({ items: [...this.notifications.values()] });
  }
  recordAttempt(
    _t: string,
    id: string,
    attempt: DeliveryAttempt,
    next: { status: NotificationStatus; nextAttemptAt?: string | undefined; at: string },
  ) {
    const n = this.notifications.get(id);
    if (n?.status !== 'pending' || n.attempts.length !== attempt.attempt - 1) return Promise.resolve(false);
    const { nextAttemptAt: _drop, ...rest } = n;
    this.notifications.set(id, {
      ...rest,
      attempts: [...n.attempts, attempt],
      status: next.status,
      updatedAt: next.at,
      ...(next.nextAttemptAt ? { nextAttemptAt: next.nextAttemptAt } : {}),
    });
    return Promise.resolve(true);
  }
  deleteAllForTenant() {
    return Promise.resolve(0);
  }
}

function user(userId: string, roles: string[], status: 'active' | 'disabled' = 'active'): User {
  return {
    userId,
    tenantId: TENANT,
    email: `${userId}@corp.example`,
    roles,
    teams: [],
    status,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

interface Harness {
  deps: NotificationDeps;
  store: MemoryStore;
  mails: Mail[];
  posts: { url: string; body: string; headers: Readonly<Record<string, string>> }[];
  queued: { ref: DeliveryRef; delayMs: number }[];
  dead: { ref: DeliveryRef; reason: string }[];
  vault: Map<string, string>;
}

function harness(
  options: {
    users?: User[];
    roles?: Role[];
    post?: (url: string) => number | Error;
    check?: (url: string) => string | undefined;
  } = {},
): Harness {
  const store = new MemoryStore();
  const mails: Mail[] = [];
  const posts: Harness['posts'] = [];
  const queued: Harness['queued'] = [];
  const dead: Harness['dead'] = [];
  const vault = new Map<string, string>();
  const deps: NotificationDeps = {
    store,
    vault: {
      put: (_t, name, value) => Promise.resolve(void vault.set(name, value)),
      get: (_t, name) => Promise.resolve(vault.get(name)),
      delete: (_t, name) => Promise.resolve(void vault.delete(name)),
    },
    tenancy: {
      getTenant: () => Promise.resolve(undefined),
      listUsers: () => Promise.resolve({ items: options.users ?? [] }),
      getRoles: (_t, names) => Promise.resolve((options.roles ?? []).filter((r) => names.includes(r.name))),
    },
    queue: {
      enqueue: (ref, delayMs) => Promise.resolve(void queued.push({ ref, delayMs })),
      deadLetter: (ref, reason) => Promise.resolve(void dead.push({ ref, reason })),
    },
    mailer: { send: (_t, mail) => Promise.resolve(void mails.push(mail)) },
    poster: {
      check: (url) => Promise.resolve(options.check?.(url)),
      post: (url, body, headers) => {
        posts.push({ url, body, headers });
        const answer = options.post?.(url) ?? 200;
        if (answer instanceof Error) return Promise.reject(answer);
        if (answer >= 300) return Promise.reject(new DeliveryError(`HTTP ${answer}`, false, answer));
        return Promise.resolve({ status: answer });
      },
    },
    retryBaseMs: 1000,
    now: () => new Date('2026-03-01T12:00:00.000Z'),
    random: () => 0.5,
  };
  return { deps, store, mails, posts, queued, dead, vault };
}

const caller: Caller = {
  principal: {
    kind: 'tenant',
    tenantId: TENANT,
    principalId: 'uadmin',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(['notifications:manage']),
  },
  meta: { requestId: 'r1', sourceIp: '203.0.113.9', userAgent: 'test', now: '2026-03-01T12:00:00.000Z' },
};

const failed: NotificationEvent = {
  type: 'execution.failed',
  tenantId: TENANT,
  at: '2026-03-01T12:00:00.000Z',
  executionId: 'xexec000000000001',
  workflowId: 'wflow000000000001',
  error: 'Custom.Boom',
  cause: 'it broke',
};

describe('notification ids, signatures and backoff', () => {
  it('ids have the shape of every id and sort in time order', () => {
    // Act
    const early = newNotificationId(Date.UTC(2026, 0, 1));
    const late = newNotificationId(Date.UTC(2026, 0, 2));
    // Assess
    expect(early).toMatch(ID_PATTERN);
    expect(late).toMatch(ID_PATTERN);
    expect(early < late).toBe(true);
  });

  it('stable ids: the same for the same event and destination, another for either changed', () => {
    // Prepare
    const event: NotificationEvent = {
      type: 'budget.threshold',
      tenantId: TENANT,
      at: '2026-11-30T10:00:00.000Z',
      month: '2026-11',
      threshold: 50,
      spentMicros: 500,
      limitMicros: 1000,
    };
    const at = Date.parse(event.at);
    // Act
    const id = stableNotificationId(at, event, 'channel:c1');
    // Assess
    expect(id).toMatch(ID_PATTERN);
    expect(id.slice(0, 10)).toBe(newNotificationId(at).slice(0, 10));
    expect(stableNotificationId(at, { ...event }, 'channel:c1')).toBe(id);
    expect(stableNotificationId(at, event, 'channel:c2')).not.toBe(id);
    expect(stableNotificationId(at, { ...event, threshold: 75 }, 'channel:c1')).not.toBe(id);
  });

  it('signs "t.body" with HMAC-SHA256 as the inbound webhook scheme does', () => {
    // Act
    const signature = signNotification('nwsec_x', 1700000000, '{"a":1}');
    // Assess
    const expected = createHmac('sha256', 'nwsec_x').update('1700000000.{"a":1}').digest('hex');
    expect(signature).toBe(`t=1700000000,v1=${expected}`);
    expect(signNotification('nwsec_y', 1700000000, '{"a":1}')).not.toBe(signature);
  });

  it('doubles the pause per attempt, jittered between half and all of it', () => {
    // Act
    const low = [1, 2, 3, 4].map((a) => retryDelayMs(a, 1000, () => 0));
    const high = [1, 2, 3, 4].map((a) => retryDelayMs(a, 1000, () => 0.999999));
    // Assess
    expect(low).toEqual([500, 1000, 2000, 4000]);
    expect(high).toEqual([1000, 2000, 4000, 8000]);
  });
});

describe('channels', () => {
  it('refuse a URL the guard refuses, naming target, and store nothing', async () => {
    // Prepare
    const h = harness({ check: () => 'resolves to 10.0.0.1 (private)' });
    // Act
    const error = await createChannel(h.deps, caller, {
      name: 'ops',
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://internal.example/hook',
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.path)).toEqual(['target']);
    expect(h.store.channels.size).toBe(0);
    expect(h.vault.size).toBe(0);
  });

  it('keep a webhook secret and a Slack URL in the vault only', async () => {
    // Prepare
    const h = harness();
    // Act
    const hook = await createChannel(h.deps, caller, {
      name: 'hook',
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://hooks.example/in',
    });
    const slack = await createChannel(h.deps, caller, {
      name: 'slack',
      type: 'slack',
      events: ['approval.pending'],
      target: 'https://hooks.slack.com/services/T0/B0/SECRETPART',
    });
    // Assess
    expect(hook.secret).toMatch(/^nwsec_/);
    expect(h.vault.get(`notifications/${hook.channel.channelId}`)).toBe(hook.secret);
    expect(slack.secret).toBeUndefined();
    expect(slack.channel.target).toBe('https://hooks.slack.com/…');
    expect(JSON.stringify([...h.store.channels.values()])).not.toMatch(/SECRETPART|nwsec_/);
  });
});

describe('channel audit records', () => {
  it("keep an email channel's address out of the trail, and a webhook's URL in it", async () => {
    // Prepare
    const h = harness();
    // Act
    const mail = await createChannel(h.deps, caller, {
      name: 'ops',
      type: 'email',
      events: ['execution.failed'],
      target: 'ops-lead@acme.io',
    });
    await createChannel(h.deps, caller, {
      name: 'hook',
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://hooks.example/in',
    });
    await deleteChannel(h.deps, caller, mail.channel.channelId);
    // Assess
    const trail = JSON.stringify(h.store.audits.map((a) => a.draft));
    expect(trail).not.toContain('ops-lead@acme.io');
    expect(trail).toContain('https://hooks.example/in');
    expect(h.store.audits.map((a) => a.draft.action)).toEqual([
      'notification-channel.create',
      'notification-channel.create',
      'notification-channel.delete',
    ]);
  });
});

describe('fan-out', () => {
  it('emails approvers who hold approvals:decide and match the step, never the requester', async () => {
    // Prepare
    const h = harness({
      users: [
        user('ureq', ['operator']),
        user('uop', ['operator']),
        user('udev', ['developer']),
        user('uoff', ['operator'], 'disabled'),
        user('ucustom', ['deciders']),
        user('unamed', ['operator']),
      ],
      roles: [{ name: 'deciders', permissions: ['approvals:decide'], builtIn: false }],
    });
    const base = {
      type: 'approval.pending' as const,
      tenantId: TENANT,
      at: '2026-03-01T12:00:00.000Z',
      approvalId: 'papproval00000001',
      kind: 'step' as const,
      workflowId: 'wflow000000000001',
      requestedBy: 'ureq',
    };
    // Act
    const anyone = await allowedApprovers(h.deps, base);
    const named = await allowedApprovers(h.deps, { ...base, approvers: { users: ['unamed', 'udev'] } });
    const byRole = await allowedApprovers(h.deps, { ...base, approvers: { roles: ['deciders'] } });
    const selfOk = await allowedApprovers(h.deps, { ...base, allowRequesterApproval: true });
    // Assess
    expect(anyone.map((u) => u.userId).sort()).toEqual(['ucustom', 'unamed', 'uop']);
    expect(named.map((u) => u.userId)).toEqual(['unamed']);
    expect(byRole.map((u) => u.userId)).toEqual(['ucustom']);
    expect(selfOk.map((u) => u.userId)).toContain('ureq');
  });

  it('makes one pending notification per subscribed channel, queued for attempt 1', async () => {
    // Prepare
    const h = harness();
    await createChannel(h.deps, caller, {
      name: 'a',
      type: 'email',
      events: ['execution.failed'],
      target: 'Ops@Corp.example',
    });
    await createChannel(h.deps, caller, {
      name: 'b',
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://h.example/x',
    });
    await createChannel(h.deps, caller, {
      name: 'c',
      type: 'webhook',
      events: ['budget.threshold'],
      target: 'https://h.example/y',
    });
    // Act
    const made = await publish(h.deps, failed);
    // Assess
    expect(made.map((n) => n.destination.kind).sort()).toEqual(['email', 'webhook']);
    expect(made.find((n) => n.destination.kind === 'email')?.destination).toMatchObject({
      to: 'ops@corp.example',
    });
    expect(made.every((n) => n.status === 'pending' && n.attempts.length === 0)).toBe(true);
    expect(h.queued.map((q) => [q.ref.attempt, q.delayMs])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    expect(made[0]?.text).toContain('Custom.Boom');
  });
});

describe('delivery', () => {
  async function oneWebhook(h: Harness): Promise<{ notificationId: string; secret: string }> {
    const { secret } = await createChannel(h.deps, caller, {
      name: 'hook',
      type: 'webhook',
      events: ['execution.failed'],
      target: 'https://h.example/x',
    });
    const [made] = await publish(h.deps, failed);
    return { notificationId: made?.notificationId ?? '', secret: secret ?? '' };
  }

  it('retries with growing pauses, then dead-letters after the last attempt', async () => {
    // Prepare
    const h = harness({ post: () => 502 });
    const { notificationId } = await oneWebhook(h);
    const statuses: string[] = [];
    // Act
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)
      statuses.push(await deliver(h.deps, { tenantId: TENANT, notificationId, attempt }));
    const again = await deliver(h.deps, { tenantId: TENANT, notificationId, attempt: MAX_ATTEMPTS });
    // Assess
    const n = h.store.notifications.get(notificationId);
    expect(statuses).toEqual(['pending', 'pending', 'pending', 'pending', 'dead_letter']);
    expect(again).toBe('skipped');
    expect(n?.attempts.map((a) => [a.outcome, a.statusCode])).toEqual(Array(5).fill(['failed', 502]));
    expect(h.queued.slice(1).map((q) => [q.ref.attempt, q.delayMs])).toEqual([
      [2, 750],
      [3, 1500],
      [4, 3000],
      [5, 6000],
    ]);
    expect(h.dead.map((d) => d.ref.notificationId)).toEqual([notificationId]);
    expect(n?.nextAttemptAt).toBeUndefined();
  });

  it('does not retry a refusal, and ignores a duplicate message for an attempt already made', async () => {
    // Prepare
    const h = harness({ post: () => new DeliveryError('resolves to 127.0.0.1 (loopback)', true) });
    const { notificationId } = await oneWebhook(h);
    // Act
    const first = await deliver(h.deps, { tenantId: TENANT, notificationId, attempt: 1 });
    const duplicate = await deliver(h.deps, { tenantId: TENANT, notificationId, attempt: 1 });
    // Assess
    expect(first).toBe('dead_letter');
    expect(duplicate).toBe('skipped');
    expect(h.posts).toHaveLength(1);
    expect(h.store.notifications.get(notificationId)?.attempts[0]).toMatchObject({
      outcome: 'refused',
      error: 'resolves to 127.0.0.1 (loopback)',
    });
  });

  it('signs the body it posts with the channel secret', async () => {
    // Prepare
    const h = harness();
    const { notificationId, secret } = await oneWebhook(h);
    // Act
    const status = await deliver(h.deps, { tenantId: TENANT, notificationId, attempt: 1 });
    // Assess
    const post = h.posts[0];
    const t = Math.floor(Date.parse('2026-03-01T12:00:00.000Z') / 1000);
    expect(status).toBe('delivered');
    expect(post?.headers['meridian-signature']).toBe(signNotification(secret, t, post?.body ?? ''));
    expect(JSON.parse(post?.body ?? '{}')).toMatchObject({ id: notificationId, event: 'execution.failed' });
  });

  it('refuses delivery for a deleted channel', async () => {
    // Prepare
    const h = harness();
    const { notificationId } = await oneWebhook(h);
    h.store.channels.clear();
    // Act
    const status = await deliver(h.deps, { tenantId: TENANT, notificationId, attempt: 1 });
    // Assess
    expect(status).toBe('dead_letter');
    expect(h.posts).toHaveLength(0);
  });
});
