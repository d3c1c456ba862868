import { ConflictError } from '#core/errors.ts';
import type { User } from '#core/tenancy/model.ts';
import type { UserChange } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import type { Table } from './table.ts';

// What the tenancy stores share: user items (a tenant's creation and a team's change write users in
// their own transaction), the optimistic-concurrency put and the partition prefix query.

export const NEW = 'attribute_not_exists(pk)';
export const EXISTS = 'attribute_exists(pk)';

/** Versioned put: the item must still carry the `updatedAt` we read (optimistic concurrency). */
export const unchanged = (
  table: Table,
  item: Record<string, unknown>,
  previousUpdatedAt: string | undefined,
) =>
  previousUpdatedAt === undefined
    ? table.put(item, EXISTS)
    : table.put(item, '#u = :u', { '#u': 'updatedAt' }, { ':u': previousUpdatedAt });

export const changed = () =>
  new ConflictError('The resource was changed by someone else meanwhile; read it again and retry.');

/** A user's item: under its tenant, and indexed by login (`sub`) for the authorizer. */
export const userItem = (user: User): Record<string, unknown> => ({
  ...keys.user(user.tenantId, user.userId),
  ...keys.userBySub(user.userId, user.tenantId),
  type: 'user',
  ...user,
});

/** The versioned puts of users rewritten as part of another change (team membership). */
export const memberWrites = (table: Table, members: readonly UserChange[]) =>
  members.map(({ next, previous }) => unchanged(table, userItem(next), previous.updatedAt));

/** A tenant's items whose sort key starts with `prefix`. */
export const prefixQuery = (tenantId: string, prefix: string) => ({
  KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
  ExpressionAttributeValues: { ':pk': keys.tenant(tenantId).pk, ':p': prefix },
});

/** A new user's email (every invitation has one; only erasure removes it). */
export function emailOf(user: User): string {
  if (!user.email) throw new Error('A new user needs an email');
  return user.email;
}
