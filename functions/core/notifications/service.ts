import { randomBytes } from 'node:crypto';
import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '../access/permissions.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { usdOf } from '../executions/model.ts';
import { newId } from '../ids.ts';
import { actingUser } from '../tenancy/api-keys.ts';
import { audited, type Caller, readAll } from '../tenancy/context.ts';
import type { Page, PageRequest, User } from '../tenancy/model.ts';
import type { RoleStore, SecretVault, TenantStore, UserStore } from '../tenancy/ports.ts';
import {
  type Channel,
  type ChannelType,
  channelSecretName,
  DEFAULT_RETRY_BASE_MS,
  type DeliveryAttempt,
  type DeliveryRef,
  type Destination,
  MAX_APPROVER_EMAILS,
  MAX_ATTEMPTS,
  MAX_CHANNELS,
  type Notification,
  type NotificationEvent,
  type NotificationEventType,
  type NotificationStatus,
  newNotificationId,
  retryDelayMs,
  signNotification,
  stableNotificationId,
} from './model.ts';
import {
  DeliveryError,
  type DeliveryQueue,
  type Mailer,
  type NotificationStore,
  type WebhookPoster,
} from './ports.ts';

/** What notification use cases need. */
export interface NotificationDeps {
  readonly store: NotificationStore;
  readonly vault: SecretVault;
  readonly tenancy: Pick<TenantStore, 'getTenant'> &
    Pick<UserStore, 'listUsers'> &
    Pick<RoleStore, 'getRoles'>;
  readonly queue: DeliveryQueue;
  readonly mailer: Mailer;
  readonly poster: WebhookPoster;
  /** Pause before the second attempt; later ones double it. @default DEFAULT_RETRY_BASE_MS */
  readonly retryBaseMs?: number;
  readonly now: () => Date;
  readonly random?: () => number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Longest webhook URL accepted (it is stored on the channel and sent on every delivery). */
export const MAX_URL_LENGTH = 2048;

async function egressOf(
  deps: Pick<NotificationDeps, 'tenancy'>,
  tenantId: string,
): Promise<readonly string[]> {
  return (await deps.tenancy.getTenant(tenantId))?.egressAllowlist ?? [];
}

/**
 * A channel as the audit trail keeps it: an email channel's address is personal data, which the
 * trail and its Object Lock archive never hold (functions/core/audit/audit.ts), so it is left out.
 */
function auditedChannel(channel: Channel): Omit<Channel, 'target'> & { target?: string } {
  if (channel.type !== 'email') return channel;
  const { target: _address, ...rest } = channel;
  return rest;
}

/** The tenant's channels; signing secrets and Slack URLs live in the vault, not in these records. */
export async function listChannels(
  deps: Pick<NotificationDeps, 'store'>,
  tenantId: string,
  page: PageRequest,
): Promise<Page<Channel>> {
  return deps.store.listChannels(tenantId, page);
}

/**
 * Creates a channel. Webhook URLs go through the address guard now (and again at every delivery:
 * DNS may change). A webhook channel gets a signing secret, a slack channel keeps its URL (which
 * carries Slack's credential) in the vault; either is returned here once and never again.
 */
export async function createChannel(
  deps: Pick<NotificationDeps, 'store' | 'vault' | 'tenancy' | 'poster'>,
  caller: Caller,
  input: { name: string; type: ChannelType; events: readonly NotificationEventType[]; target: string },
): Promise<{ channel: Channel; secret?: string }> {
  const tenantId = caller.principal.tenantId;
  const target = input.target.trim();
  if (input.type === 'email') {
    if (!EMAIL.test(target) || target.length > 254)
      throw new ValidationError('The target of an email channel must be an email address.', [
        { path: 'target', message: 'not an email address' },
      ]);
  } else {
    if (target.length > MAX_URL_LENGTH || !URL.canParse(target))
      throw new ValidationError(`The target of a ${input.type} channel must be a URL.`, [
        { path: 'target', message: `not a URL of at most ${MAX_URL_LENGTH} characters` },
      ]);
    const refused = await deps.poster.check(target, await egressOf(deps, tenantId));
    if (refused)
      throw new ValidationError(`The target URL is refused: ${refused}`, [
        { path: 'target', message: refused },
      ]);
  }
  if ((await deps.store.allChannels(tenantId)).length >= MAX_CHANNELS)
    throw new ConflictError(`A tenant has at most ${MAX_CHANNELS} notification channels; delete one first.`);
  const channel: Channel = {
    channelId: newId('c'),
    name: input.name,
    type: input.type,
    events: [...new Set(input.events)].sort(),
    target:
      input.type === 'slack'
        ? `${new URL(target).origin}/…`
        : input.type === 'email'
          ? target.toLowerCase()
          : target,
    createdAt: caller.meta.now,
    createdBy: actingUser(caller),
  };
  let secret: string | undefined;
  if (input.type === 'webhook') {
    secret = `nwsec_${randomBytes(32).toString('base64url')}`;
    await deps.vault.put(tenantId, channelSecretName(channel.channelId), secret);
  } else if (input.type === 'slack') {
    await deps.vault.put(tenantId, channelSecretName(channel.channelId), target);
  }
  await deps.store.createChannel(
    tenantId,
    channel,
    audited(caller, {
      action: 'notification-channel.create',
      resourceType: 'notification-channel',
      resourceId: channel.channelId,
      after: auditedChannel(channel),
    }),
  );
  return { channel, ...(secret ? { secret } : {}) };
}

/**
 * Offboarding: every channel's vault entry (a signing secret or a Slack URL, a credential), then the
 * tenant's channels and notifications. The vault entries go first: once the channel items are gone,
 * nothing names them any more.
 */
export async function deleteAllForTenant(
  deps: Pick<NotificationDeps, 'store' | 'vault'>,
  tenantId: string,
): Promise<number> {
  for (const channel of await deps.store.allChannels(tenantId)) {
    if (channel.type !== 'email') await deps.vault.delete(tenantId, channelSecretName(channel.channelId));
  }
  return deps.store.deleteAllForTenant(tenantId);
}

/** Deletes a channel of the caller's tenant and its vault entry; another tenant's id is not found. */
export async function deleteChannel(
  deps: Pick<NotificationDeps, 'store' | 'vault'>,
  caller: Caller,
  channelId: string,
): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const channel = await deps.store.getChannel(tenantId, channelId);
  if (!channel) throw new NotFoundError(`No notification channel ${channelId}.`);
  await deps.store.deleteChannel(
    tenantId,
    channel,
    audited(caller, {
      action: 'notification-channel.delete',
      resourceType: 'notification-channel',
      resourceId: channelId,
      before: auditedChannel(channel),
    }),
  );
  if (channel.type !== 'email') await deps.vault.delete(tenantId, channelSecretName(channelId));
}

/** One notification of the caller's tenant, or 404. */
export async function getNotification(
  deps: Pick<NotificationDeps, 'store'>,
  tenantId: string,
  notificationId: string,
): Promise<Notification> {
  const found = await deps.store.getNotification(tenantId, notificationId);
  if (!found) throw new NotFoundError(`No notification ${notificationId}.`);
  return found;
}

/** A tenant's notifications, newest first. */
export function listNotifications(
  deps: Pick<NotificationDeps, 'store'>,
  tenantId: string,
  page: PageRequest,
): Promise<Page<Notification>> {
  return deps.store.listNotifications(tenantId, page);
}

/**
 * The people who may decide an approval, as the decision rules have it (executions/service.ts,
 * versioning/workflows.ts): active users whose roles grant `approvals:decide`, narrowed to the
 * roles and users the step names, never the requester unless the step allows it. At most
 * {@link MAX_APPROVER_EMAILS}.
 */
export async function allowedApprovers(
  deps: Pick<NotificationDeps, 'tenancy'>,
  event: Extract<NotificationEvent, { type: 'approval.pending' }>,
): Promise<User[]> {
  const users = (await readAll((page) => deps.tenancy.listUsers(event.tenantId, page))).filter(
    (u) => u.status === 'active',
  );
  const customNames = [...new Set(users.flatMap((u) => u.roles))].filter((r) => !isBuiltInRole(r));
  const custom = new Map(
    (await deps.tenancy.getRoles(event.tenantId, customNames)).map((r) => [r.name, r.permissions]),
  );
  const grants = (role: string): readonly Permission[] =>
    (isBuiltInRole(role) ? BUILT_IN_ROLES[role] : custom.get(role)) ?? [];
  const roles = event.approvers?.roles ?? [];
  const named = event.approvers?.users ?? [];
  const requesters = [event.requestedBy, event.requestedFor].filter((r): r is string => Boolean(r));
  const mayRequesterDecide = event.kind === 'step' && event.allowRequesterApproval === true;
  return users
    .filter((u) => u.roles.some((r) => grants(r).includes('approvals:decide')))
    .filter(
      (u) =>
        (roles.length === 0 && named.length === 0) ||
        named.includes(u.userId) ||
        u.roles.some((r) => roles.includes(r)),
    )
    .filter((u) => mayRequesterDecide || !requesters.includes(u.userId))
    .slice(0, MAX_APPROVER_EMAILS);
}

/** Subject, text and webhook `data` of an event. */
export function render(event: NotificationEvent): {
  subject: string;
  text: string;
  data: Record<string, unknown>;
} {
  switch (event.type) {
    case 'approval.pending': {
      const what =
        event.kind === 'promotion'
          ? 'A promotion'
          : `Step ${event.stepId ?? ''} of execution ${event.executionId ?? ''}`;
      return {
        subject: `Approval waiting: workflow ${event.workflowId}`,
        text: [
          `${what} of workflow ${event.workflowId} waits for a decision (approval ${event.approvalId}).`,
          ...(event.message ? [`Message: ${event.message}`] : []),
          `Decide with POST /approvals/${event.approvalId}/decision.`,
        ].join('\n'),
        data: {
          approvalId: event.approvalId,
          kind: event.kind,
          workflowId: event.workflowId,
          ...(event.executionId ? { executionId: event.executionId } : {}),
          ...(event.stepId ? { stepId: event.stepId } : {}),
          ...(event.message ? { message: event.message } : {}),
          requestedBy: event.requestedBy,
        },
      };
    }
    case 'execution.failed':
    case 'execution.timed_out': {
      const verb = event.type === 'execution.failed' ? 'failed' : 'timed out';
      return {
        subject: `Execution ${event.executionId} ${verb}`,
        text: `Execution ${event.executionId} of workflow ${event.workflowId} ${verb}: ${event.error}${event.cause ? ` (${event.cause.slice(0, 500)})` : ''}.`,
        data: {
          executionId: event.executionId,
          workflowId: event.workflowId,
          error: event.error,
          cause: event.cause.slice(0, 1000),
        },
      };
    }
    case 'budget.threshold':
      return {
        subject: `Budget: ${event.threshold}% of the monthly limit reached`,
        text: `Spend in ${event.month} reached ${event.threshold}% of the monthly limit: USD ${usdOf(event.spentMicros)} of ${usdOf(event.limitMicros)}.`,
        data: {
          month: event.month,
          threshold: event.threshold,
          spentUsd: usdOf(event.spentMicros),
          limitUsd: usdOf(event.limitMicros),
        },
      };
  }
}

/** The destinations of an event: subscribed channels, and for a pending approval its approvers' emails. */
export async function destinationsOf(
  deps: Pick<NotificationDeps, 'store' | 'tenancy'>,
  event: NotificationEvent,
): Promise<Destination[]> {
  const out = new Map<string, Destination>();
  for (const channel of await deps.store.allChannels(event.tenantId)) {
    if (!channel.events.includes(event.type)) continue;
    if (channel.type === 'email') {
      out.set(`email:${channel.target}`, { kind: 'email', to: channel.target, channelId: channel.channelId });
    } else {
      out.set(`channel:${channel.channelId}`, {
        kind: channel.type,
        channelId: channel.channelId,
        target: channel.target,
      });
    }
  }
  if (event.type === 'approval.pending') {
    for (const user of await allowedApprovers(deps, event)) {
      // An erased person has no address left.
      if (!user.email) continue;
      const to = user.email.toLowerCase();
      // One email per address, also when a channel mails the same one.
      if (!out.has(`email:${to}`)) out.set(`email:${to}`, { kind: 'email', to });
    }
  }
  return [...out.values()];
}

/**
 * Fans an event out: one notification per destination, stored pending, then queued for its first
 * attempt. Delivery happens later, elsewhere: the caller's request or step never waits on a receiver.
 * With `stable`, each notification's id is derived from the event and its destination, so fanning the
 * same event out again (a queue message delivered twice, or retried after a partial failure) stores
 * nothing new: the store keeps a notification it already has.
 */
export async function publish(
  deps: NotificationDeps,
  event: NotificationEvent,
  options: { readonly stable?: boolean } = {},
): Promise<Notification[]> {
  const destinations = await destinationsOf(deps, event);
  if (destinations.length === 0) return [];
  const content = render(event);
  const nowMs = deps.now().getTime();
  const at = new Date(nowMs).toISOString();
  const eventMs = Date.parse(event.at);
  const notifications: Notification[] = destinations.map((destination) => ({
    notificationId: options.stable
      ? stableNotificationId(Number.isFinite(eventMs) ? eventMs : 0, event, JSON.stringify(destination))
      : newNotificationId(nowMs),
    event: event.type,
    destination,
    ...content,
    status: 'pending',
    attempts: [],
    nextAttemptAt: at,
    createdAt: at,
    updatedAt: at,
  }));
  await deps.store.putNotifications(event.tenantId, notifications);
  await Promise.all(
    notifications.map((n) =>
      deps.queue.enqueue({ tenantId: event.tenantId, notificationId: n.notificationId, attempt: 1 }, 0),
    ),
  );
  return notifications;
}

/** A {@link publish} that never throws: a notification must not fail the approval, step or status write. */
export function notifier(
  deps: () => NotificationDeps,
  onError: (error: unknown, event: NotificationEvent) => void,
): (event: NotificationEvent) => Promise<void> {
  return async (event) => {
    try {
      await publish(deps(), event);
    } catch (error) {
      onError(error, event);
    }
  };
}

async function send(
  deps: NotificationDeps,
  tenantId: string,
  n: Notification,
  attempt: number,
): Promise<number | undefined> {
  const channel = n.destination.channelId
    ? await deps.store.getChannel(tenantId, n.destination.channelId)
    : undefined;
  if (n.destination.channelId && !channel) throw new DeliveryError('the channel was deleted', true);
  if (n.destination.kind === 'email') {
    await deps.mailer.send(tenantId, { to: n.destination.to, subject: n.subject, text: n.text });
    return undefined;
  }
  const secret = await deps.vault.get(tenantId, channelSecretName(n.destination.channelId));
  if (!secret) throw new DeliveryError('the channel has no secret in the vault', true);
  const egress = await egressOf(deps, tenantId);
  if (n.destination.kind === 'slack') {
    const body = JSON.stringify({ text: `*${n.subject}*\n${n.text}` });
    return (await deps.poster.post(secret, body, { 'content-type': 'application/json' }, egress)).status;
  }
  const body = JSON.stringify({
    id: n.notificationId,
    event: n.event,
    tenantId,
    createdAt: n.createdAt,
    attempt,
    subject: n.subject,
    data: n.data,
  });
  const t = Math.floor(deps.now().getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'meridian-signature': signNotification(secret, t, body),
    'meridian-event': n.event,
    'meridian-notification-id': n.notificationId,
  };
  return (await deps.poster.post(n.destination.target, body, headers, egress)).status;
}

/**
 * One delivery attempt of a queued notification. Logs the attempt; on failure queues the next one
 * after an exponential, jittered pause, and after {@link MAX_ATTEMPTS} (or a refusal, which retrying
 * cannot fix) dead-letters it. A message for an attempt already logged changes nothing.
 */
export async function deliver(
  deps: NotificationDeps,
  ref: DeliveryRef,
): Promise<NotificationStatus | 'skipped'> {
  const n = await deps.store.getNotification(ref.tenantId, ref.notificationId);
  if (n?.status !== 'pending' || n.attempts.length !== ref.attempt - 1) return 'skipped';
  let result: DeliveryAttempt;
  try {
    const statusCode = await send(deps, ref.tenantId, n, ref.attempt);
    result = {
      attempt: ref.attempt,
      at: deps.now().toISOString(),
      outcome: 'delivered',
      ...(statusCode !== undefined ? { statusCode } : {}),
    };
  } catch (error) {
    const delivery = error instanceof DeliveryError ? error : undefined;
    result = {
      attempt: ref.attempt,
      at: deps.now().toISOString(),
      outcome: delivery?.refused ? 'refused' : 'failed',
      ...(delivery?.statusCode !== undefined ? { statusCode: delivery.statusCode } : {}),
      error: (error instanceof Error ? error.message : String(error)).slice(0, 500),
    };
  }
  const dead = result.outcome === 'refused' || (result.outcome === 'failed' && ref.attempt >= MAX_ATTEMPTS);
  const status: NotificationStatus =
    result.outcome === 'delivered' ? 'delivered' : dead ? 'dead_letter' : 'pending';
  const delay =
    status === 'pending'
      ? retryDelayMs(ref.attempt, deps.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, deps.random)
      : 0;
  const recorded = await deps.store.recordAttempt(ref.tenantId, ref.notificationId, result, {
    status,
    at: result.at,
    ...(status === 'pending' ? { nextAttemptAt: new Date(deps.now().getTime() + delay).toISOString() } : {}),
  });
  if (!recorded) return 'skipped';
  if (status === 'pending') await deps.queue.enqueue({ ...ref, attempt: ref.attempt + 1 }, delay);
  if (status === 'dead_letter') await deps.queue.deadLetter(ref, result.error ?? 'failed');
  return status;
}
