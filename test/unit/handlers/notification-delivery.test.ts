import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliveryMessage, raiseMessage } from '#adapters/notifications/queues.ts';
import type { Channel, DeliveryRef, Notification } from '#core/notifications/model.ts';
import type { Mail, NotificationStore } from '#core/notifications/ports.ts';
import type { NotificationDeps } from '#core/notifications/service.ts';
import { handleMessages } from '#handlers/notification-delivery.ts';
import { logger, metrics } from '#shared/observability.ts';
import { budgetAlert } from '../../helpers/notifications.ts';

// The handler reads its configuration at import; these tests give it its dependencies directly.
vi.mock('#shared/config.ts', async (original) => ({
  ...(await original<typeof import('#shared/config.ts')>()),
  config: () => ({}),
}));

afterEach(() => {
  vi.restoreAllMocks();
});

const TENANT = 'tabcdefghijklmnop';
const ALERT = budgetAlert({ tenantId: TENANT });

function channel(channelId: string, events: Channel['events']): Channel {
  return {
    channelId,
    name: channelId,
    type: 'email',
    events,
    target: `${channelId}@corp.example`,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'u1',
  };
}

/** Notification deps in memory; `failing` names the store method that throws. */
function harness(channels: Channel[], failing?: keyof NotificationStore) {
  const notifications = new Map<string, Notification>();
  const queued: DeliveryRef[] = [];
  const mails: Mail[] = [];
  const dead: DeliveryRef[] = [];
  let built = 0;
  const fail = (name: keyof NotificationStore) => {
    if (name === failing) throw new Error('table unreachable');
  };
  const store = {
    allChannels: async () => {
      fail('allChannels');
      return channels;
    },
    getChannel: async (_t: string, id: string) => channels.find((c) => c.channelId === id),
    putNotifications: async (_t: string, list: readonly Notification[]) => {
      // As the table: a notification already stored under its id is kept (functions/core/notifications/ports.ts).
      for (const n of list) if (!notifications.has(n.notificationId)) notifications.set(n.notificationId, n);
    },
    getNotification: async (_t: string, id: string) => {
      fail('getNotification');
      return notifications.get(id);
    },
    recordAttempt: async (_t, id, attempt, next) => {
      const n = notifications.get(id);
      if (n?.status !== 'pending' || n.attempts.length !== attempt.attempt - 1) return false;
      notifications.set(id, { ...n, attempts: [...n.attempts, attempt], status: next.status });
      return true;
    },
  } as Partial<NotificationStore> as NotificationStore;
  const deps: NotificationDeps = {
    store,
    vault: { get: async () => undefined, put: async () => undefined, delete: async () => undefined },
    tenancy: {
      getTenant: async () => undefined,
      listUsers: async () => ({ items: [] }),
      getRoles: async () => [],
    },
    queue: { enqueue: async (ref) => void queued.push(ref), deadLetter: async (ref) => void dead.push(ref) },
    mailer: {
      send: async (_t, mail) => {
        if (mail.to.startsWith('down')) throw new Error('mail server down');
        mails.push(mail);
      },
    },
    poster: { check: async () => undefined, post: async () => ({ status: 204 }) },
    now: () => new Date('2026-11-30T10:00:01.000Z'),
  };
  return {
    deps: () => {
      built++;
      return deps;
    },
    notifications,
    queued,
    mails,
    dead,
    built: () => built,
  };
}

describe('the notification delivery function', () => {
  it('fans a queued budget alert out to the channels subscribed to it, each queued for its first attempt', async () => {
    // Prepare
    const h = harness([channel('c1', ['budget.threshold']), channel('c2', ['execution.failed'])]);
    // Act
    const retry = await handleMessages(h.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    // Assess
    expect(retry).toEqual([]);
    const made = [...h.notifications.values()];
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      event: 'budget.threshold',
      status: 'pending',
      destination: { kind: 'email', to: 'c1@corp.example', channelId: 'c1' },
      data: { threshold: 80, month: '2026-11' },
    });
    expect(h.queued).toEqual([{ tenantId: TENANT, notificationId: made[0]?.notificationId, attempt: 1 }]);
  });

  it('fans the same message out once when SQS delivers it twice, even after an attempt was made', async () => {
    // Prepare: the first delivery of the message, and the first attempt of what it made
    const h = harness([channel('c1', ['budget.threshold'])]);
    await handleMessages(h.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    const first = [...h.notifications.values()];
    await handleMessages(h.deps, [{ messageId: 'm2', body: deliveryMessage(h.queued[0] as DeliveryRef) }]);
    const attempted = h.notifications.get(first[0]?.notificationId ?? '');
    // Act: the same message again
    const retry = await handleMessages(h.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    // Assess: the same notification, its attempt kept, and no second email
    expect(retry).toEqual([]);
    expect([...h.notifications.values()]).toEqual([attempted]);
    await handleMessages(h.deps, [{ messageId: 'm3', body: deliveryMessage(h.queued[1] as DeliveryRef) }]);
    expect(h.mails).toHaveLength(1);
  });

  it('runs one attempt of a queued delivery, as before', async () => {
    // Prepare: a fan-out, then its first attempt
    const h = harness([channel('c1', ['budget.threshold'])]);
    await handleMessages(h.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    const [ref] = h.queued;
    const counted = vi.spyOn(metrics, 'addMetric');
    // Act
    const retry = await handleMessages(h.deps, [
      { messageId: 'm2', body: deliveryMessage(ref as DeliveryRef) },
    ]);
    // Assess
    expect(retry).toEqual([]);
    expect(h.mails.map((m) => m.to)).toEqual(['c1@corp.example']);
    expect(counted).not.toHaveBeenCalledWith('NotificationDeadLettered', 'Count', 1);
  });

  it('counts a delivery whose last attempt failed as dead-lettered', async () => {
    // Prepare: a notification on its fifth and last attempt, to a mail server that is down
    const h = harness([channel('down', ['budget.threshold'])]);
    await handleMessages(h.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    const [made] = [...h.notifications.values()];
    const failed = { attempt: 1, at: ALERT.at, outcome: 'failed' } as const;
    h.notifications.set(made?.notificationId ?? '', {
      ...(made as Notification),
      attempts: [1, 2, 3, 4].map((attempt) => ({ ...failed, attempt })),
    });
    const ref = { tenantId: TENANT, notificationId: made?.notificationId ?? '', attempt: 5 };
    const counted = vi.spyOn(metrics, 'addMetric');
    // Act
    const retry = await handleMessages(h.deps, [{ messageId: 'm2', body: deliveryMessage(ref) }]);
    // Assess
    expect(retry).toEqual([]);
    expect(h.dead).toEqual([ref]);
    expect(counted).toHaveBeenCalledWith('NotificationDeadLettered', 'Count', 1);
  });

  it('drops a message that is neither kind without building its dependencies', async () => {
    // Prepare
    const h = harness([channel('c1', ['budget.threshold'])]);
    const approval = JSON.stringify({ raise: { ...ALERT, type: 'approval.pending' } });
    // Act
    const retry = await handleMessages(h.deps, [
      { messageId: 'm1', body: 'not json' },
      { messageId: 'm2', body: approval },
    ]);
    // Assess
    expect(retry).toEqual([]);
    expect(h.built()).toBe(0);
  });

  it('logs a failed fan-out and a delivery the table could not record, and has SQS retry both', async () => {
    // Prepare
    const fanOut = harness([channel('c1', ['budget.threshold'])], 'allChannels');
    const delivery = harness([], 'getNotification');
    const ref = { tenantId: TENANT, notificationId: 'n0000000001234567', attempt: 1 };
    const logged = vi.spyOn(logger, 'error');
    // Act
    const fanOutRetried = await handleMessages(fanOut.deps, [{ messageId: 'm1', body: raiseMessage(ALERT) }]);
    const retried = await handleMessages(delivery.deps, [{ messageId: 'm2', body: deliveryMessage(ref) }]);
    // Assess
    expect(fanOutRetried).toEqual(['m1']);
    expect(fanOut.notifications.size).toBe(0);
    expect(retried).toEqual(['m2']);
    expect(logged).toHaveBeenCalledWith(
      'Notification fan-out failed',
      expect.objectContaining({ event: 'budget.threshold', tenantId: TENANT }),
    );
    expect(logged).toHaveBeenCalledWith(
      'Notification attempt could not be recorded',
      expect.objectContaining({ ...ref }),
    );
  });
});
