import type { DefinitionKind } from '#core/versioning/model.ts';
import { type Gsi1, HEAD_PREFIX, type Key, pad, tenantPk, VERSION_PREFIX } from './tenant-key.ts';

/*
 * Key builders, one per item kind, read as `keys.<kind>` (functions/adapters/dynamo/keys.ts). Each
 * is its own export so that a function's bundle holds only the builders its adapters call.
 */

export const tenant = (t: string): Key => ({ pk: tenantPk(t), sk: 'PROFILE' });

export const tenantsIndex = (name: string, t: string): Gsi1 => ({
  gsi1pk: 'TENANTS',
  gsi1sk: `${name.toLowerCase()}#${t}`,
});

export const user = (t: string, userId: string): Key => ({ pk: tenantPk(t), sk: `USER#${userId}` });

/** Login → tenant: the authorizer resolves a Cognito sub to its user record through this. */
export const userBySub = (sub: string, t: string): Gsi1 => ({ gsi1pk: `SUB#${sub}`, gsi1sk: tenantPk(t) });

export const userEmail = (t: string, email: string): Key => ({
  pk: tenantPk(t),
  sk: `EMAIL#${email.toLowerCase()}`,
});

export const team = (t: string, teamId: string): Key => ({ pk: tenantPk(t), sk: `TEAM#${teamId}` });

export const teamName = (t: string, name: string): Key => ({
  pk: tenantPk(t),
  sk: `TEAMNAME#${name.toLowerCase()}`,
});

export const role = (t: string, name: string): Key => ({ pk: tenantPk(t), sk: `ROLE#${name}` });

export const apiKey = (t: string, keyId: string): Key => ({ pk: tenantPk(t), sk: `APIKEY#${keyId}` });

export const secret = (t: string, name: string): Key => ({ pk: tenantPk(t), sk: `SECRET#${name}` });

export const approval = (t: string, approvalId: string): Key => ({
  pk: tenantPk(t),
  sk: `APPROVAL#${approvalId}`,
});

/**
 * Approvals of a tenant in one status, newest first (the index key starts with the tenant too).
 * Pending ones keep the key they always had; decided ones are indexed since the status filter.
 */
export const approvalByStatus = (t: string, status: string, createdAt: string, approvalId: string): Gsi1 => ({
  gsi1pk: `${tenantPk(t)}#APPROVALS#${status.toUpperCase()}`,
  gsi1sk: `${createdAt}#${approvalId}`,
});

/** Pending approvals of a tenant, newest first. */
export const pendingApproval = (t: string, createdAt: string, approvalId: string): Gsi1 => ({
  gsi1pk: `${tenantPk(t)}#APPROVALS#PENDING`,
  gsi1sk: `${createdAt}#${approvalId}`,
});

/** Each execution has its own partition, so a busy tenant does not hit one key's write limit. */
export const execution = (t: string, executionId: string): Key => ({
  pk: `${tenantPk(t)}#EXEC#${executionId}`,
  sk: 'META',
});

export const executionStep = (t: string, executionId: string, stepKey: string): Key => ({
  pk: `${tenantPk(t)}#EXEC#${executionId}`,
  sk: `STEP#${stepKey}`,
});

/** A redrive an `Idempotency-Key` made, in its execution's partition (apart from the `STEP#` items). */
export const executionRedrive = (t: string, executionId: string, redriveId: string): Key => ({
  pk: `${tenantPk(t)}#EXEC#${executionId}`,
  sk: `REDRIVE#${redriveId}`,
});

/** Executions of a tenant in time order: the index `GET /executions` pages through. */
export const executionsIndex = (t: string, startedAt: string, executionId: string): Gsi1 => ({
  gsi1pk: `${tenantPk(t)}#EXECS`,
  gsi1sk: `${startedAt}#${executionId}`,
});

/** Month-to-date counters: the tenant's total, or one dimension (`WORKFLOW`, `AGENT`, `TEAM`). */
export const usage = (t: string, month: string, dimension?: { kind: string; id: string }): Key => ({
  pk: tenantPk(t),
  sk: dimension ? `USAGE#${month}#${dimension.kind}#${dimension.id}` : `USAGE#${month}`,
});

export const webhook = (t: string, hookId: string): Key => ({ pk: tenantPk(t), sk: `WEBHOOK#${hookId}` });

export const notificationChannel = (t: string, channelId: string): Key => ({
  pk: tenantPk(t),
  sk: `NOTIFYCHANNEL#${channelId}`,
});

/**
 * A tenant's notifications in a partition of their own, sort key the time-ordered id: listed newest
 * first by key, and kept apart from the tenant's main partition they would otherwise crowd.
 */
export const notificationPartition = (t: string): string => `${tenantPk(t)}#NOTIFY`;

export const notification = (t: string, notificationId: string): Key => ({
  pk: `${tenantPk(t)}#NOTIFY`,
  sk: `N#${notificationId}`,
});

export const schedule = (t: string, scheduleId: string): Key => ({
  pk: tenantPk(t),
  sk: `SCHEDULE#${scheduleId}`,
});

/**
 * How many schedules a tenant has (no workflow) or one workflow has: the caps' counters, touched
 * only by creating and deleting schedules.
 */
export const scheduleCount = (t: string, workflowId?: string): Key => ({
  pk: tenantPk(t),
  sk: workflowId === undefined ? 'SCHEDULECOUNT' : `SCHEDULECOUNT#${workflowId}`,
});

export const identityProvider = (t: string, providerId: string): Key => ({
  pk: tenantPk(t),
  sk: `IDP#${providerId}`,
});

/**
 * The platform-wide claim on an email domain: not a tenant's key, because its point is that no two
 * tenants can hold it (a conditional put on one item); it names its owner inside.
 */
export const ssoDomain = (domain: string): Key => ({ pk: `SSODOMAIN#${domain}`, sk: 'CLAIM' });

/**
 * The lease that serializes changes to the one Cognito app client every tenant's SSO provider is
 * listed on (functions/adapters/dynamo/lease.ts): not a tenant's key, because no tenant owns the
 * shared app client and the lease must exclude every tenant's registrations alike.
 */
export const appClientLease = { pk: 'LEASE#COGNITO-APP-CLIENT', sk: 'LEASE' } satisfies Key;

/** The tenant's offboarding job: the tombstone that outlives the rest of the tenant's items. */
export const offboarding = (t: string): Key => ({ pk: tenantPk(t), sk: 'OFFBOARDING' });

/** One data export of a tenant. */
export const exportJob = (t: string, exportId: string): Key => ({
  pk: tenantPk(t),
  sk: `EXPORT#${exportId}`,
});

/** Partitions of a tenant besides `TENANT#<t>` and its executions', for offboarding to walk. */
export const runSlotPartition = (t: string): string => `${tenantPk(t)}#RUNNING`;

export const ratePartition = (t: string, slot: number): string => `${tenantPk(t)}#RATE#${slot}`;

export const executionsIndexPartition = (t: string): string => `${tenantPk(t)}#EXECS`;

export const budget = (t: string): Key => ({ pk: tenantPk(t), sk: 'BUDGET' });

export const budgetAlert = (t: string, month: string, threshold: number): Key => ({
  pk: tenantPk(t),
  sk: `BUDGETALERT#${month}#${pad(threshold, 3)}`,
});

/** A rate-limit counter: one item per slot, so no item outlives a few seconds of traffic. */
export const rateCounter = (t: string, counter: string, slot: number): Key => ({
  pk: `${tenantPk(t)}#RATE#${slot}`,
  sk: counter,
});

/** A run slot of the concurrency bulkhead: one item per slot below the plan's cap. */
export const runSlot = (t: string, slot: number): Key => ({
  pk: `${tenantPk(t)}#RUNNING`,
  sk: `SLOT#${pad(slot, 4)}`,
});

/**
 * A tenant's audit records: one partition, sort key the record's ULID (time-ordered). A partition
 * takes 1,000 writes/s, far above one tenant's mutation rate; sharding the pk by a suffix would be
 * the next step past that.
 */
export const auditPartition = (t: string): string => `${tenantPk(t)}#AUDIT`;

export const auditRecord = (t: string, id: string): Key => ({ pk: `${tenantPk(t)}#AUDIT`, sk: `REC#${id}` });

/** Prefixes for listing one kind inside a tenant partition. */
export const prefix = {
  user: 'USER#',
  team: 'TEAM#',
  role: 'ROLE#',
  apiKey: 'APIKEY#',
  notificationChannel: 'NOTIFYCHANNEL#',
  notification: 'N#',
  secret: 'SECRET#',
  webhook: 'WEBHOOK#',
  exportJob: 'EXPORT#',
  auditRecord: 'REC#',
  head: HEAD_PREFIX,
  versionsOf: (kind: DefinitionKind, id: string) => `${VERSION_PREFIX[kind]}${id}#V#`,
};
