import type { AuditContext } from '../audit/audit.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { Channel, DeliveryAttempt, DeliveryRef, Notification, NotificationStatus } from './model.ts';

/** Persistence of channels (audited) and of notifications with their delivery logs (system records). */
export interface NotificationStore {
  createChannel(tenantId: string, channel: Channel, audit: AuditContext): Promise<void>;
  getChannel(tenantId: string, channelId: string): Promise<Channel | undefined>;
  listChannels(tenantId: string, page: PageRequest): Promise<Page<Channel>>;
  /** Every channel of the tenant (at most MAX_CHANNELS): what the fan-out reads. */
  allChannels(tenantId: string): Promise<Channel[]>;
  deleteChannel(tenantId: string, channel: Channel, audit: AuditContext): Promise<void>;

  /** Stores new notifications; one already stored under its id is left as it is (a repeated fan-out). */
  putNotifications(tenantId: string, notifications: readonly Notification[]): Promise<void>;
  getNotification(tenantId: string, notificationId: string): Promise<Notification | undefined>;
  /** Newest first. */
  listNotifications(tenantId: string, page: PageRequest): Promise<Page<Notification>>;
  /**
   * Appends `attempt` to the log and moves the status, only while the notification is pending with
   * `attempt.attempt - 1` attempts logged; false otherwise (a duplicate queue message).
   */
  recordAttempt(
    tenantId: string,
    notificationId: string,
    attempt: DeliveryAttempt,
    next: { status: NotificationStatus; nextAttemptAt?: string | undefined; at: string },
  ): Promise<boolean>;
  /** Removes the tenant's channels and notifications (offboarding); returns how many items went. */
  deleteAllForTenant(tenantId: string): Promise<number>;
}

/** Where deliveries wait their turn: SQS on AWS, an in-process timer queue locally. */
export interface DeliveryQueue {
  enqueue(ref: DeliveryRef, delayMs: number): Promise<void>;
  /** Parks a notification whose attempts ran out, for operators (SQS dead-letter queue on AWS). */
  deadLetter(ref: DeliveryRef, reason: string): Promise<void>;
}

/** An email to send. */
export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends email: SES on AWS, a mailbox folder locally. */
export interface Mailer {
  send(tenantId: string, mail: Mail): Promise<void>;
}

/** A delivery that did not land; `refused` ones (address guard, deleted channel) are not retried. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly refused: boolean,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** Outbound HTTPS for slack and webhook channels, through the address guard. */
export interface WebhookPoster {
  /** Why `url` is refused for a tenant with this egress allowlist, or undefined when it may be used. */
  check(url: string, egress: readonly string[]): Promise<string | undefined>;
  /** POSTs `body`; resolves with a 2xx status, throws {@link DeliveryError} otherwise. */
  post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    egress: readonly string[],
  ): Promise<{ status: number }>;
}
