import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import {
  type Channel,
  type DeliveryAttempt,
  NOTIFICATION_RETENTION_DAYS,
  type Notification,
  type NotificationStatus,
} from '#core/notifications/model.ts';
import type { NotificationStore } from '#core/notifications/ports.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import * as keys from './item-keys.ts';
import { tenantPk } from './keys.ts';
import { strip, type Table } from './table.ts';

/** A notification item without its bookkeeping (the numeric TTL is not part of the model). */
function notificationOf(item: Record<string, unknown>): Notification {
  const { expiresAt: _ttl, ...rest } = strip<Notification & { expiresAt?: number }>(item);
  return rest;
}

function channelOf(item: Record<string, unknown>): Channel {
  const { channelType, ...rest } = strip<Omit<Channel, 'type'> & { channelType: Channel['type'] }>(item);
  return { ...rest, type: channelType };
}

/**
 * DynamoDB implementation of {@link NotificationStore}. Channels sit in the tenant's partition and
 * change with an audit record; notifications sit in `TENANT#<t>#NOTIFY` and are system records (no
 * audit: nobody changed anything), each updated only by its own delivery attempts.
 */
export class DynamoNotificationStore implements NotificationStore {
  constructor(private readonly table: Table) {}

  async createChannel(tenantId: string, channel: Channel, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          {
            ...channel,
            ...keys.notificationChannel(tenantId, channel.channelId),
            // `type` names the item kind in the table: the channel's own type is kept beside it.
            type: 'notificationChannel',
            channelType: channel.type,
          },
          'attribute_not_exists(pk)',
        ),
      ],
      () => new ConflictError('This notification channel already exists.'),
    );
  }

  async getChannel(tenantId: string, channelId: string): Promise<Channel | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.notificationChannel(tenantId, channelId),
    );
    return item ? channelOf(item) : undefined;
  }

  listChannels(tenantId: string, page: PageRequest): Promise<Page<Channel>> {
    return this.table.page(
      tenantId,
      'notification-channels',
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': keys.prefix.notificationChannel },
      },
      page,
      channelOf,
    );
  }

  async allChannels(tenantId: string): Promise<Channel[]> {
    const items = await this.table.queryAll(
      tenantId,
      tenantPk(tenantId),
      keys.prefix.notificationChannel,
      true,
    );
    return items.map(channelOf);
  }

  async deleteChannel(tenantId: string, channel: Channel, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.notificationChannel(tenantId, channel.channelId), 'attribute_exists(pk)')],
      () => new NotFoundError('No such notification channel.'),
    );
  }

  async putNotifications(tenantId: string, notifications: readonly Notification[]): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    // Side by side: the approval, step or status write that raised the event waits for these.
    await Promise.all(
      notifications.map((n) => {
        const expiresAt = Math.floor(Date.parse(n.createdAt) / 1000) + NOTIFICATION_RETENTION_DAYS * 86_400;
        return db
          .send(
            new PutCommand({
              TableName: this.table.name,
              Item: {
                ...keys.notification(tenantId, n.notificationId),
                type: 'notification',
                ...n,
                expiresAt,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          )
          .catch((error: unknown) => {
            // Already stored (a fan-out repeated with stable ids): keep it, with its delivery log.
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          });
      }),
    );
  }

  async getNotification(tenantId: string, notificationId: string): Promise<Notification | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.notification(tenantId, notificationId),
    );
    return item ? notificationOf(item) : undefined;
  }

  listNotifications(tenantId: string, page: PageRequest): Promise<Page<Notification>> {
    return this.table.page(
      tenantId,
      'notifications',
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.notificationPartition(tenantId),
          ':prefix': keys.prefix.notification,
        },
        ScanIndexForward: false,
      },
      page,
      notificationOf,
    );
  }

  async recordAttempt(
    tenantId: string,
    notificationId: string,
    attempt: DeliveryAttempt,
    next: { status: NotificationStatus; nextAttemptAt?: string | undefined; at: string },
  ): Promise<boolean> {
    const db = await this.table.clients.forTenant(tenantId);
    try {
      await db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.notification(tenantId, notificationId),
          UpdateExpression: `SET attempts = list_append(attempts, :a), #s = :s, updatedAt = :at${
            next.nextAttemptAt ? ', nextAttemptAt = :next' : ''
          }${next.nextAttemptAt ? '' : ' REMOVE nextAttemptAt'}`,
          // Only the attempt this message is for, once: a duplicate message finds the log moved on.
          ConditionExpression: '#s = :pending AND size(attempts) = :before',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':a': [attempt],
            ':s': next.status,
            ':at': next.at,
            ':pending': 'pending',
            ':before': attempt.attempt - 1,
            ...(next.nextAttemptAt ? { ':next': next.nextAttemptAt } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async deleteAllForTenant(tenantId: string): Promise<number> {
    const db = await this.table.clients.forTenant(tenantId);
    const items = [
      ...(await this.table.queryAll(tenantId, tenantPk(tenantId), keys.prefix.notificationChannel)),
      ...(await this.table.queryAll(
        tenantId,
        keys.notificationPartition(tenantId),
        keys.prefix.notification,
      )),
    ];
    for (const item of items) {
      await db.send(
        new DeleteCommand({ TableName: this.table.name, Key: { pk: String(item.pk), sk: String(item.sk) } }),
      );
    }
    return items.length;
  }
}
