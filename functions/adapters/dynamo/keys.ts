import { ID_PATTERN } from '#core/ids.ts';
import type { DefinitionKind } from '#core/versioning/model.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';

/**
 * Every key of the single table is built here, and every tenant-owned key starts with
 * `TENANT#<tenantId>`: no query can be written without naming a tenant, and IAM
 * `dynamodb:LeadingKeys` can fence each tenant to its own partitions.
 */

/** A primary key. */
export interface Key {
  readonly pk: string;
  readonly sk: string;
}

/** GSI1 key attributes. */
export interface Gsi1 {
  readonly gsi1pk: string;
  readonly gsi1sk: string;
}

/** Thrown when a tenant id is not of the generated shape: a guard against key injection. */
export class InvalidTenantIdError extends Error {}

/** `TENANT#<id>`, refusing anything that is not a generated tenant id (so no `#` can sneak in). */
export function tenantPk(tenantId: string): string {
  if (!ID_PATTERN.test(tenantId) || !tenantId.startsWith('t')) {
    throw new InvalidTenantIdError(`Not a tenant id: ${JSON.stringify(tenantId)}`);
  }
  return `TENANT#${tenantId}`;
}

/** Zero-padded so that string order is numeric order. */
export function pad(n: number, width = 6): string {
  return String(n).padStart(width, '0');
}

/** The index name and attribute names, re-exported for queries. */
export const INDEX = TABLE_SCHEMA.gsi1;

const HEAD_PREFIX: Record<DefinitionKind, string> = { agent: 'AGENT#', tool: 'TOOL#', workflow: 'WORKFLOW#' };
const VERSION_PREFIX: Record<DefinitionKind, string> = {
  agent: 'AGENTVER#',
  tool: 'TOOLVER#',
  workflow: 'WFVER#',
};

/** Key of a definition's head (agent, tool, workflow). */
export const headKey = (t: string, kind: DefinitionKind, id: string): Key => ({
  pk: tenantPk(t),
  sk: `${HEAD_PREFIX[kind]}${id}`,
});

/** Key of one immutable version of a definition. */
export const versionKey = (t: string, kind: DefinitionKind, id: string, v: number): Key => ({
  pk: tenantPk(t),
  sk: `${VERSION_PREFIX[kind]}${id}#V#${pad(v)}`,
});

/** Key builders, one per item kind. */
export const keys = {
  tenant: (t: string): Key => ({ pk: tenantPk(t), sk: 'PROFILE' }),
  tenantsIndex: (name: string, t: string): Gsi1 => ({
    gsi1pk: 'TENANTS',
    gsi1sk: `${name.toLowerCase()}#${t}`,
  }),
  user: (t: string, userId: string): Key => ({ pk: tenantPk(t), sk: `USER#${userId}` }),
  /** Login → tenant: the authorizer resolves a Cognito sub to its user record through this. */
  userBySub: (sub: string, t: string): Gsi1 => ({ gsi1pk: `SUB#${sub}`, gsi1sk: tenantPk(t) }),
  userEmail: (t: string, email: string): Key => ({ pk: tenantPk(t), sk: `EMAIL#${email.toLowerCase()}` }),
  team: (t: string, teamId: string): Key => ({ pk: tenantPk(t), sk: `TEAM#${teamId}` }),
  teamName: (t: string, name: string): Key => ({ pk: tenantPk(t), sk: `TEAMNAME#${name.toLowerCase()}` }),
  role: (t: string, name: string): Key => ({ pk: tenantPk(t), sk: `ROLE#${name}` }),
  apiKey: (t: string, keyId: string): Key => ({ pk: tenantPk(t), sk: `APIKEY#${keyId}` }),
  secret: (t: string, name: string): Key => ({ pk: tenantPk(t), sk: `SECRET#${name}` }),
  approval: (t: string, approvalId: string): Key => ({ pk: tenantPk(t), sk: `APPROVAL#${approvalId}` }),
  /**
   * Approvals of a tenant in one status, newest first (the index key starts with the tenant too).
   * Pending ones keep the key they always had; decided ones are indexed since the status filter.
   */
  approvalByStatus: (t: string, status: string, createdAt: string, approvalId: string): Gsi1 => ({
    gsi1pk: `${tenantPk(t)}#APPROVALS#${status.toUpperCase()}`,
    gsi1sk: `${createdAt}#${approvalId}`,
  }),
  /** Pending approvals of a tenant, newest first. */
  pendingApproval: (t: string, createdAt: string, approvalId: string): Gsi1 => ({
    gsi1pk: `${tenantPk(t)}#APPROVALS#PENDING`,
    gsi1sk: `${createdAt}#${approvalId}`,
  }),
  /** Each execution has its own partition, so a busy tenant does not hit one key's write limit. */
  execution: (t: string, executionId: string): Key => ({
    pk: `${tenantPk(t)}#EXEC#${executionId}`,
    sk: 'META',
  }),
  executionStep: (t: string, executionId: string, stepKey: string): Key => ({
    pk: `${tenantPk(t)}#EXEC#${executionId}`,
    sk: `STEP#${stepKey}`,
  }),
  /** A redrive an `Idempotency-Key` made, in its execution's partition (apart from the `STEP#` items). */
  executionRedrive: (t: string, executionId: string, redriveId: string): Key => ({
    pk: `${tenantPk(t)}#EXEC#${executionId}`,
    sk: `REDRIVE#${redriveId}`,
  }),
  /** Executions of a tenant in time order: the index `GET /executions` pages through. */
  executionsIndex: (t: string, startedAt: string, executionId: string): Gsi1 => ({
    gsi1pk: `${tenantPk(t)}#EXECS`,
    gsi1sk: `${startedAt}#${executionId}`,
  }),
  /** Month-to-date counters: the tenant's total, or one dimension (`WORKFLOW`, `AGENT`, `TEAM`). */
  usage: (t: string, month: string, dimension?: { kind: string; id: string }): Key => ({
    pk: tenantPk(t),
    sk: dimension ? `USAGE#${month}#${dimension.kind}#${dimension.id}` : `USAGE#${month}`,
  }),
  webhook: (t: string, hookId: string): Key => ({ pk: tenantPk(t), sk: `WEBHOOK#${hookId}` }),
  notificationChannel: (t: string, channelId: string): Key => ({
    pk: tenantPk(t),
    sk: `NOTIFYCHANNEL#${channelId}`,
  }),
  /**
   * A tenant's notifications in a partition of their own, sort key the time-ordered id: listed newest
   * first by key, and kept apart from the tenant's main partition they would otherwise crowd.
   */
  notificationPartition: (t: string): string => `${tenantPk(t)}#NOTIFY`,
  notification: (t: string, notificationId: string): Key => ({
    pk: `${tenantPk(t)}#NOTIFY`,
    sk: `N#${notificationId}`,
  }),
  schedule: (t: string, scheduleId: string): Key => ({ pk: tenantPk(t), sk: `SCHEDULE#${scheduleId}` }),
  /**
   * How many schedules a tenant has (no workflow) or one workflow has: the caps' counters, touched
   * only by creating and deleting schedules.
   */
  scheduleCount: (t: string, workflowId?: string): Key => ({
    pk: tenantPk(t),
    sk: workflowId === undefined ? 'SCHEDULECOUNT' : `SCHEDULECOUNT#${workflowId}`,
  }),
  identityProvider: (t: string, providerId: string): Key => ({ pk: tenantPk(t), sk: `IDP#${providerId}` }),
  /**
   * The platform-wide claim on an email domain: not a tenant's key, because its point is that no two
   * tenants can hold it (a conditional put on one item); it names its owner inside.
   */
  ssoDomain: (domain: string): Key => ({ pk: `SSODOMAIN#${domain}`, sk: 'CLAIM' }),
  /**
   * The lease that serializes changes to the one Cognito app client every tenant's SSO provider is
   * listed on (functions/adapters/dynamo/lease.ts): not a tenant's key, because no tenant owns the
   * shared app client and the lease must exclude every tenant's registrations alike.
   */
  appClientLease: { pk: 'LEASE#COGNITO-APP-CLIENT', sk: 'LEASE' } satisfies Key,
  /** The tenant's offboarding job: the tombstone that outlives the rest of the tenant's items. */
  offboarding: (t: string): Key => ({ pk: tenantPk(t), sk: 'OFFBOARDING' }),
  /** One data export of a tenant. */
  exportJob: (t: string, exportId: string): Key => ({ pk: tenantPk(t), sk: `EXPORT#${exportId}` }),
  /** Partitions of a tenant besides `TENANT#<t>` and its executions', for offboarding to walk. */
  runSlotPartition: (t: string): string => `${tenantPk(t)}#RUNNING`,
  ratePartition: (t: string, slot: number): string => `${tenantPk(t)}#RATE#${slot}`,
  executionsIndexPartition: (t: string): string => `${tenantPk(t)}#EXECS`,
  budget: (t: string): Key => ({ pk: tenantPk(t), sk: 'BUDGET' }),
  budgetAlert: (t: string, month: string, threshold: number): Key => ({
    pk: tenantPk(t),
    sk: `BUDGETALERT#${month}#${pad(threshold, 3)}`,
  }),
  /** A rate-limit counter: one item per slot, so no item outlives a few seconds of traffic. */
  rateCounter: (t: string, counter: string, slot: number): Key => ({
    pk: `${tenantPk(t)}#RATE#${slot}`,
    sk: counter,
  }),
  /** A run slot of the concurrency bulkhead: one item per slot below the plan's cap. */
  runSlot: (t: string, slot: number): Key => ({ pk: `${tenantPk(t)}#RUNNING`, sk: `SLOT#${pad(slot, 4)}` }),
  /**
   * A tenant's audit records: one partition, sort key the record's ULID (time-ordered). A partition
   * takes 1,000 writes/s, far above one tenant's mutation rate; sharding the pk by a suffix would be
   * the next step past that.
   */
  auditPartition: (t: string): string => `${tenantPk(t)}#AUDIT`,
  auditRecord: (t: string, id: string): Key => ({ pk: `${tenantPk(t)}#AUDIT`, sk: `REC#${id}` }),
  /** Prefixes for listing one kind inside a tenant partition. */
  prefix: {
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
  },
} as const;
