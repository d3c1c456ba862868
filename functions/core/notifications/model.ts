import { createHmac } from 'node:crypto';
import { derivedToken, randomToken } from '../ids.ts';

/**
 * Notifications: tenants set channels (email, a Slack-compatible incoming webhook, a generic HTTPS
 * webhook signed with HMAC) subscribed to events; each event becomes one notification per destination,
 * delivered asynchronously with retries and a delivery log.
 */

/** Events a channel can subscribe to. */
export const NOTIFICATION_EVENTS = [
  'approval.pending',
  'execution.failed',
  'execution.timed_out',
  'budget.threshold',
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENTS)[number];

/** Channel types. */
export const CHANNEL_TYPES = ['email', 'slack', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Most channels one tenant may set (the fan-out reads them all on every event). */
export const MAX_CHANNELS = 20;
/** Most approvers one pending approval emails (a role held by hundreds would flood). */
export const MAX_APPROVER_EMAILS = 50;
/** Delivery attempts before a notification is dead-lettered. */
export const MAX_ATTEMPTS = 5;
/** Default pause before the second attempt; each later one doubles it (jittered). */
export const DEFAULT_RETRY_BASE_MS = 30_000;
/** Notifications and their delivery logs stay this long, then the table's TTL removes them. */
export const NOTIFICATION_RETENTION_DAYS = 30;

/** A destination set by the tenant. */
export interface Channel {
  readonly channelId: string;
  readonly name: string;
  readonly type: ChannelType;
  readonly events: readonly NotificationEventType[];
  /**
   * Email address, or the webhook URL. Slack URLs carry their credential in the path, so for
   * slack channels this is only the URL's origin (the URL itself lives in the vault).
   */
  readonly target: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** An event the platform raised, before fan-out. */
export type NotificationEvent =
  | {
      readonly type: 'approval.pending';
      readonly tenantId: string;
      readonly at: string;
      readonly approvalId: string;
      readonly kind: 'step' | 'promotion';
      readonly workflowId: string;
      readonly executionId?: string | undefined;
      readonly stepId?: string | undefined;
      readonly message?: string | undefined;
      readonly approvers?:
        | { readonly roles?: readonly string[] | undefined; readonly users?: readonly string[] | undefined }
        | undefined;
      readonly requestedBy: string;
      readonly requestedFor?: string | undefined;
      readonly allowRequesterApproval?: boolean | undefined;
    }
  | {
      readonly type: 'execution.failed' | 'execution.timed_out';
      readonly tenantId: string;
      readonly at: string;
      readonly executionId: string;
      readonly workflowId: string;
      readonly error: string;
      readonly cause: string;
    }
  | {
      readonly type: 'budget.threshold';
      readonly tenantId: string;
      readonly at: string;
      readonly month: string;
      readonly threshold: number;
      readonly spentMicros: number;
      readonly limitMicros: number;
    };

/** Raises an event: fans it out to notifications. Best effort: never throws into the caller's path. */
export type Notify = (event: NotificationEvent) => Promise<void>;

/** Where one notification goes. */
export type Destination =
  | { readonly kind: 'email'; readonly to: string; readonly channelId?: string }
  | { readonly kind: 'slack' | 'webhook'; readonly channelId: string; readonly target: string };

/** One delivery attempt, as the log shows it. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly at: string;
  readonly outcome: 'delivered' | 'failed' | 'refused';
  readonly statusCode?: number;
  readonly error?: string;
}

/** Delivery states: pending until delivered, or dead-lettered after the last failed attempt. */
export type NotificationStatus = 'pending' | 'delivered' | 'dead_letter';

/** One event for one destination, with its delivery log. */
export interface Notification {
  readonly notificationId: string;
  readonly event: NotificationEventType;
  readonly destination: Destination;
  readonly subject: string;
  readonly text: string;
  /** The event's facts: the JSON a webhook receives as `data`. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly status: NotificationStatus;
  readonly attempts: readonly DeliveryAttempt[];
  readonly nextAttemptAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a delivery message names: the queue carries references, never content. */
export interface DeliveryRef {
  readonly tenantId: string;
  readonly notificationId: string;
  /** The attempt this message is for: a duplicate message for an attempt already made is dropped. */
  readonly attempt: number;
}

/**
 * A notification id: `n`, the creation time in base 36 (9 digits) and 7 random characters. Same shape
 * as every other id (ID_PATTERN), and its string order is time order, so a tenant's notifications
 * list newest first straight from the sort key.
 */
export function newNotificationId(nowMs: number): string {
  return `n${nowMs.toString(36).padStart(9, '0').slice(-9)}${randomToken(7)}`;
}

/**
 * A notification id derived from what it notifies: the same event for the same destination gets the
 * same id, so a fan-out repeated (a queue message delivered twice) stores nothing new and receivers
 * can drop the copy by `Meridian-Notification-Id`. Same shape as {@link newNotificationId}.
 */
export function stableNotificationId(nowMs: number, event: NotificationEvent, destination: string): string {
  const seed = JSON.stringify([event, destination]);
  return `n${nowMs.toString(36).padStart(9, '0').slice(-9)}${derivedToken(seed, 7)}`;
}

/**
 * The pause before attempt `attempt + 1` after attempt `attempt` failed: `base * 2^(attempt-1)`, with
 * "equal jitter" (half fixed, half random) so receivers that failed together do not retry together.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The `Meridian-Signature` header of a signed webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`, the scheme inbound webhooks use (webhooks.ts), so one verifier serves both.
 */
export function signNotification(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** The vault name of a channel's secret (signing secret, or a Slack URL): `/` is not in tenants' names. */
export function channelSecretName(channelId: string): string {
  return `notifications/${channelId}`;
}
