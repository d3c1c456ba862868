/**
 * The response bodies of the API as zod schemas: what the OpenAPI document publishes for each
 * operation, and what the integration suite checks every response against. Where a core type
 * exists, a compile-time check below ties the schema to it, so a field added to or removed from the
 * view breaks the build rather than the contract. Published open: clients must accept new fields.
 */
import { z } from 'zod';
import type { Approval } from '#core/approvals/model.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import type { TrailVerdict } from '#core/audit/digest.ts';
import { agentSchema, toolSchema } from '#core/catalog/model.ts';
import { EXECUTION_STATUSES } from '#core/executions/model.ts';
import type { ExecutionView, StepView } from '#core/executions/queries.ts';
import { type IdentityProvider, PROVIDER_TYPES } from '#core/identity/model.ts';
import {
  CHANNEL_TYPES,
  type Channel,
  NOTIFICATION_EVENTS,
  type Notification,
} from '#core/notifications/model.ts';
import type { Schedule } from '#core/schedules/schedules.ts';
import type { ExportJob } from '#core/tenancy/exports.ts';
import type { OffboardingJob } from '#core/tenancy/offboarding.ts';
import type { RetentionView } from '#core/tenancy/retention.ts';
import { ENVIRONMENTS } from '#core/versioning/model.ts';
import type { WorkflowDiff } from '#core/workflows/diff.ts';
import { workflowSchema } from '#core/workflows/model.ts';

// Named components in the OpenAPI document (request bodies refer to them too); Agent is named with
// its cross-field rules in schemas.ts.
z.globalRegistry.add(toolSchema, { id: 'Tool', description: 'A tool definition: `http` or `builtin`' });
z.globalRegistry.add(workflowSchema, { id: 'Workflow', description: 'A workflow definition' });

const timestamp = z.string().describe('ISO 8601 date-time');
const environment = z.enum(ENVIRONMENTS);
const pins = z.object({
  agents: z.record(z.string(), z.int()),
  tools: z.record(z.string(), z.int()),
});

/** What every definition head adds to its definition's fields (`headView`). */
/** Agents and tools: the secrets a version binds, and who bound each. */
const secretBindings = z
  .array(z.object({ field: z.string(), secret: z.string(), boundBy: z.string() }))
  .describe('Agents and tools: the secrets this definition binds, and who bound each');

function headOf(kind: 'agent' | 'tool' | 'workflow', definition: z.ZodType, id: string) {
  return z
    .intersection(
      definition,
      z.object({
        [`${kind}Id`]: z.string(),
        version: z.int().describe('The latest version'),
        environments: z
          .object({ dev: z.int().optional(), staging: z.int().optional(), prod: z.int().optional() })
          .optional()
          .describe('Workflows: the version each environment runs'),
        createdAt: timestamp,
        updatedAt: timestamp,
        createdBy: z.string(),
        updatedBy: z.string(),
        secretBindings: secretBindings.optional(),
      }),
    )
    .meta({ id });
}

/** One immutable version (`versionView`). */
function versionOf(kind: 'agent' | 'tool' | 'workflow', definition: z.ZodType, id: string) {
  return z
    .object({
      [`${kind}Id`]: z.string(),
      version: z.int(),
      definition,
      pins: pins.optional().describe('Workflows: the agent and tool versions this version runs'),
      asl: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('Workflows: the compiled Amazon States Language'),
      rolledBackFrom: z.int().optional(),
      secretBindings: secretBindings.optional(),
      createdAt: timestamp,
      createdBy: z.string(),
    })
    .meta({ id });
}

export const agentView = headOf('agent', agentSchema, 'AgentDetail');
export const toolView = headOf('tool', toolSchema, 'ToolDetail');
export const workflowView = headOf('workflow', workflowSchema, 'WorkflowDetail');
export const agentVersionView = versionOf('agent', agentSchema, 'AgentVersion');
export const toolVersionView = versionOf('tool', toolSchema, 'ToolVersion');
export const workflowVersionView = versionOf('workflow', workflowSchema, 'WorkflowVersion');

/** A page of any list. */
export const pageOfItems = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last'),
  });

const executionError = z.object({ error: z.string(), cause: z.string() });
const tokenUsage = z.object({ inputTokens: z.int(), outputTokens: z.int() });

const stepView = z
  .object({
    stepId: z.string(),
    stepKey: z.string().describe('`stepId`, or `stepId[index]` inside a map'),
    type: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'WAITING_APPROVAL', 'CANCELLED']),
    attempts: z.int(),
    startedAt: timestamp,
    endedAt: timestamp.optional(),
    output: z.unknown().optional(),
    error: executionError.optional(),
    usage: tokenUsage.optional(),
    costUsd: z.string().optional(),
    durationMs: z.number().optional(),
    ref: z.object({ id: z.string(), version: z.int() }).optional().describe('The pinned definition it ran'),
  })
  .meta({ id: 'ExecutionStep' });

/** An execution as lists show it. */
export const executionSummary = z
  .object({
    executionId: z.string(),
    workflowId: z.string(),
    workflowVersion: z.int(),
    environment,
    status: z.enum(EXECUTION_STATUSES),
    input: z.unknown(),
    output: z.unknown().optional(),
    error: executionError.optional(),
    usage: tokenUsage,
    costUsd: z.string().describe('Decimal USD, exact'),
    costMicros: z.int(),
    startedAt: timestamp,
    endedAt: timestamp.optional(),
    startedBy: z.string(),
    startedFor: z.string().optional().describe('Started through an API key: the user who created it'),
    redriveCount: z.int().optional().describe('How many times it was redriven (absent: never)'),
    redrivenAt: timestamp.optional().describe('When it was last redriven'),
  })
  .meta({ id: 'Execution' });

/** One execution with its steps. */
export const executionDetail = executionSummary
  .extend({ steps: z.array(stepView) })
  .meta({ id: 'ExecutionDetail' });

/** The answer to a start (API or webhook). */
export const executionStarted = z
  .object({
    executionId: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    workflowVersion: z.int().optional(),
    environment: environment.optional(),
  })
  .meta({ id: 'ExecutionStarted' });

/** The answer to a redrive. */
export const executionRedriven = z
  .object({
    executionId: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    redriveCount: z.int().describe('The redrive this answer is about (1 for the first)'),
    redrivenAt: timestamp.optional(),
  })
  .meta({ id: 'ExecutionRedriven' });
/** A schedule, with its next fire times (as both schedulers fire them, daylight saving included). */
export const scheduleView = z
  .object({
    scheduleId: z.string(),
    workflowId: z.string(),
    cron: z.string().describe('Five fields: minute hour day-of-month month day-of-week'),
    timeZone: z.string().describe('IANA time zone the cron is read in'),
    input: z.record(z.string(), z.unknown()),
    environment,
    enabled: z.boolean(),
    description: z.string().optional(),
    createdAt: timestamp,
    createdBy: z.string(),
    nextFireTimes: z.array(timestamp).describe('The next 3 fire times (UTC); none when disabled'),
  })
  .meta({ id: 'Schedule' });

const usageCounters = z.object({
  executions: z.int(),
  inputTokens: z.int(),
  outputTokens: z.int(),
  costUsd: z.string(),
  costMicros: z.int(),
});

/** `GET /usage`. */
export const usageView = z
  .object({
    month: z.string().describe('YYYY-MM'),
    total: usageCounters,
    byWorkflow: z.array(usageCounters.extend({ id: z.string() })),
    byAgent: z.array(usageCounters.extend({ id: z.string() })),
    byTeam: z.array(usageCounters.extend({ id: z.string() })),
    plan: z.object({ name: z.string(), executionsPerMonth: z.int().nullable().optional() }),
  })
  .meta({ id: 'Usage' });

/** `GET /workflows/{id}/diff`. */
export const diffView = z
  .object({
    from: z.int().optional(),
    to: z.int().optional(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.object({ stepId: z.string(), fields: z.array(z.string()) })),
    topLevel: z.array(z.object({ field: z.string() })),
  })
  .meta({ id: 'WorkflowDiff' });

/** A human decision the platform waits for. */
export const approvalView = z
  .object({
    approvalId: z.string(),
    kind: z.enum(['step', 'promotion']),
    status: z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled']),
    workflowId: z.string(),
    executionId: z.string().optional(),
    stepId: z.string().optional(),
    version: z.int().optional(),
    environment: environment.optional(),
    requestedBy: z.string(),
    requestedFor: z.string().optional(),
    message: z.string().optional(),
    approvers: z
      .object({ roles: z.array(z.string()).optional(), users: z.array(z.string()).optional() })
      .optional(),
    allowRequesterApproval: z.boolean().optional(),
    secrets: z
      .array(z.string())
      .optional()
      .describe('Promotions: the secrets the version uses through its pinned agents and tools'),
    expiresAt: timestamp.optional(),
    decidedBy: z.string().optional(),
    comment: z.string().optional(),
    createdAt: timestamp,
    decidedAt: timestamp.optional(),
  })
  .meta({ id: 'Approval' });

/** `POST /workflows/{id}/promotions`: applied at once (dev, staging). */
export const promotionApplied = z
  .object({ status: z.literal('applied'), workflow: workflowView })
  .meta({ id: 'PromotionApplied' });

/** `POST /workflows/{id}/promotions`: waiting for approval (prod). */
export const promotionPending = z
  .object({ status: z.literal('pending'), approval: approvalView })
  .meta({ id: 'PromotionPending' });

/** One audit record: an item of its own, keyed by a time-ordered unique id (no chain head). */
export const auditRecordView = z
  .object({
    tenantId: z.string(),
    id: z.string().describe('Time-ordered unique id (ULID)'),
    at: timestamp,
    actor: z
      .object({
        id: z.string(),
        type: z.enum(['user', 'apikey', 'webhook', 'schedule', 'platform', 'system']),
      })
      .describe('An opaque id: no personal data'),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string(),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    sourceIp: z.string(),
    userAgent: z.string(),
    requestId: z.string(),
    hash: z.string().describe('SHA-256 of the rest of the record; the signed digests anchor it'),
  })
  .meta({ id: 'AuditRecord' });

/** `GET /audit/verify`: records against digests, digests against signatures and each other. */
export const chainVerdictView = z
  .object({
    ok: z.boolean(),
    digests: z.int().describe('Digests checked (signature and chain)'),
    digested: z.int().describe('Records the digests cover'),
    undigested: z.int().describe('Records not in a digest yet'),
    firstDivergence: z
      .object({
        kind: z.enum([
          'digest-missing',
          'digest-out-of-chain',
          'bad-signature',
          'record-deleted',
          'record-altered',
          'record-inserted',
        ]),
        digestSeq: z.int().optional(),
        recordId: z.string().optional(),
        message: z.string(),
      })
      .optional(),
  })
  .meta({ id: 'AuditVerdict' });

/** `GET /audit/public-key`. */
export const auditPublicKeyView = z
  .object({
    keyId: z.string(),
    algorithm: z.literal('ECDSA_P256_SHA256'),
    publicKeyPem: z.string(),
  })
  .meta({ id: 'AuditPublicKey' });

/** A notification channel (its signing secret or Slack URL never shows after creation). */
export const notificationChannelView = z
  .object({
    channelId: z.string(),
    name: z.string(),
    type: z.enum(CHANNEL_TYPES),
    events: z.array(z.enum(NOTIFICATION_EVENTS)),
    target: z
      .string()
      .describe('The email address or webhook URL; for slack only the origin (the URL holds its credential)'),
    createdAt: timestamp,
    createdBy: z.string(),
  })
  .meta({ id: 'NotificationChannel' });

const deliveryAttemptView = z.object({
  attempt: z.int(),
  at: timestamp,
  outcome: z.enum(['delivered', 'failed', 'refused']),
  statusCode: z.int().optional().describe('The receiver’s HTTP status, when it answered'),
  error: z.string().optional(),
});

/** One event for one destination, with its delivery log. */
export const notificationView = z
  .object({
    notificationId: z.string(),
    event: z.enum(NOTIFICATION_EVENTS),
    destination: z.union([
      z.object({ kind: z.literal('email'), to: z.string(), channelId: z.string().optional() }),
      z.object({ kind: z.enum(['slack', 'webhook']), channelId: z.string(), target: z.string() }),
    ]),
    subject: z.string(),
    text: z.string(),
    data: z.record(z.string(), z.unknown()),
    status: z.enum(['pending', 'delivered', 'dead_letter']),
    attempts: z.array(deliveryAttemptView).describe('The delivery log, oldest attempt first'),
    nextAttemptAt: timestamp.optional().describe('Pending: when the next attempt is due'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Notification' });
/** An identity provider (`GET /identity-providers/{providerId}`); never its client secret. */
export const identityProviderView = z
  .object({
    providerId: z.string(),
    type: z.enum(PROVIDER_TYPES),
    name: z.string(),
    issuer: z.string().optional(),
    clientId: z.string().optional(),
    metadataUrl: z.string().optional(),
    emailDomains: z.array(z.string()),
    groupsClaim: z.string(),
    groupMapping: z.array(z.object({ group: z.string(), roles: z.array(z.string()) })),
    defaultRoles: z.array(z.string()),
    createdAt: timestamp,
    createdBy: z.string(),
  })
  .meta({ id: 'IdentityProvider' });

/** `GET/PUT /sso`. */
export const ssoSettingsView = z.object({ requireSso: z.boolean() }).meta({ id: 'SsoSettings' });
/** `POST /tenant/exports`, `GET /tenant/exports/{id}`. */
export const exportView = z
  .object({
    exportId: z.string(),
    tenantId: z.string(),
    status: z.enum(['running', 'completed']),
    requestedBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().optional(),
    counts: z.record(z.string(), z.int()).optional(),
    bytes: z.int().optional(),
    url: z.string().optional().meta({ description: 'Presigned download link (JSONL), once completed' }),
    urlExpiresAt: z.string().optional(),
  })
  .meta({ id: 'TenantExport' });

/** `GET|PUT /tenant/retention`. */
export const retentionView = z
  .object({ executionRetentionDays: z.int().nullable() })
  .meta({ id: 'Retention' });

/** `DELETE /tenants/{id}`, `GET /tenants/{id}/offboarding`. */
export const offboardingView = z
  .object({
    jobId: z.string(),
    tenantId: z.string(),
    status: z.enum(['running', 'completed']),
    phases: z.array(z.object({ name: z.string(), erased: z.int(), done: z.boolean() })),
    runs: z.int(),
    requestedBy: z.string(),
    startedAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().optional(),
  })
  .meta({ id: 'Offboarding' });

// Compile-time ties between the published schemas and the core's view types: each core value must
// be a valid instance of its schema's output type, field for field.
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
type Fits<Core, Schema extends z.ZodType> = Core extends DeepReadonly<z.output<Schema>> ? true : never;
const ties: [
  Fits<ExecutionView & { steps: readonly StepView[] }, typeof executionDetail>,
  Fits<Omit<ExecutionView, 'steps'>, typeof executionSummary>,
  Fits<Approval, typeof approvalView>,
  Fits<Omit<AuditRecord, 'tenantId'> & { tenantId: string }, typeof auditRecordView>,
  Fits<TrailVerdict, typeof chainVerdictView>,
  Fits<WorkflowDiff, typeof diffView>,
  Fits<Channel, typeof notificationChannelView>,
  Fits<Notification, typeof notificationView>,
  Fits<Schedule & { nextFireTimes: string[] }, typeof scheduleView>,
  Fits<IdentityProvider, typeof identityProviderView>,
  Fits<ExportJob & { url?: string; urlExpiresAt?: string }, typeof exportView>,
  Fits<RetentionView, typeof retentionView>,
  Fits<Omit<OffboardingJob, 'cursor' | 'version'>, typeof offboardingView>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
void ties;
