import type { Approval } from '#core/approvals/model.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import type { TrailVerdict } from '#core/audit/digest.ts';
import { agentSchema, toolSchema } from '#core/catalog/model.ts';
import { EXECUTION_STATUSES } from '#core/executions/model.ts';
import type { ExecutionView, StepView } from '#core/executions/queries.ts';
import { PROVIDER_TYPES, type ProviderView } from '#core/identity/model.ts';
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
import {
  extend,
  int,
  meta,
  nullable,
  oneOf,
  record,
  type Static,
  type TSchema,
  t,
  withOptions,
} from '#shared/schema.ts';

// Named components in the OpenAPI document (request bodies refer to them too); Agent is named with
// its cross-field rules in schemas.ts.
meta(toolSchema, { id: 'Tool', description: 'A tool definition: `http` or `builtin`' });
meta(workflowSchema, { id: 'Workflow', description: 'A workflow definition' });

// The definitions the core checks itself (functions/core/catalog/model.ts, functions/core/workflows/model.ts),
// documented as request bodies that the routes pass on unchecked.
export const agentDoc: TSchema = agentSchema;
export const toolDoc: TSchema = toolSchema;
export const workflowDoc: TSchema = workflowSchema;

const timestamp = t.String({ description: 'ISO 8601 date-time' });
const environment = oneOf(ENVIRONMENTS);
const pins = t.Object({
  agents: record(int()),
  tools: record(int()),
});

/** What every definition head adds to its definition's fields (`headView`). */
/** Agents and tools: the secrets a version binds, and who bound each. */
const secretBindings = t.Array(t.Object({ field: t.String(), secret: t.String(), boundBy: t.String() }), {
  description: 'Agents and tools: the secrets this definition binds, and who bound each',
});

function headOf(kind: 'agent' | 'tool' | 'workflow', definition: TSchema, id: string) {
  // A plain `allOf` (TypeBox's intersection would add `type: object`, which a union definition is not).
  return meta(
    t.Unsafe<unknown>({
      allOf: [
        definition,
        t.Object({
          [`${kind}Id`]: t.String(),
          version: int({ description: 'The latest version' }),
          environments: t.Optional(
            t.Object(
              { dev: t.Optional(int()), staging: t.Optional(int()), prod: t.Optional(int()) },
              { description: 'Workflows: the version each environment runs' },
            ),
          ),
          createdAt: timestamp,
          updatedAt: timestamp,
          createdBy: t.String(),
          updatedBy: t.String(),
          secretBindings: t.Optional(secretBindings),
        }),
      ],
    }),
    { id },
  );
}

/** One immutable version (`versionView`). */
function versionOf(kind: 'agent' | 'tool' | 'workflow', definition: TSchema, id: string) {
  return meta(
    t.Object({
      [`${kind}Id`]: t.String(),
      version: int(),
      definition,
      pins: t.Optional(
        withOptions(pins, { description: 'Workflows: the agent and tool versions this version runs' }),
      ),
      asl: t.Optional(record(t.Unknown(), { description: 'Workflows: the compiled Amazon States Language' })),
      rolledBackFrom: t.Optional(int()),
      secretBindings: t.Optional(secretBindings),
      createdAt: timestamp,
      createdBy: t.String(),
    }),
    { id },
  );
}

export const agentView = headOf('agent', agentDoc, 'AgentDetail');
export const toolView = headOf('tool', toolDoc, 'ToolDetail');
export const workflowView = headOf('workflow', workflowDoc, 'WorkflowDetail');
export const agentVersionView = versionOf('agent', agentDoc, 'AgentVersion');
export const toolVersionView = versionOf('tool', toolDoc, 'ToolVersion');
export const workflowVersionView = versionOf('workflow', workflowDoc, 'WorkflowVersion');

/** A page of any list. */
export const pageOfItems = <T extends TSchema>(item: T) =>
  t.Object({
    items: t.Array(item),
    nextCursor: t.Optional(
      t.String({ description: 'Pass as `cursor` for the next page; absent on the last' }),
    ),
  });

const executionError = t.Object({ error: t.String(), cause: t.String() });
const tokenUsage = t.Object({ inputTokens: int(), outputTokens: int() });

const stepView = meta(
  t.Object({
    stepId: t.String(),
    stepKey: t.String({ description: '`stepId`, or `stepId[index]` inside a map' }),
    type: t.String(),
    status: oneOf(['RUNNING', 'SUCCEEDED', 'FAILED', 'WAITING_APPROVAL', 'CANCELLED']),
    attempts: int(),
    startedAt: timestamp,
    endedAt: t.Optional(timestamp),
    output: t.Optional(t.Unknown()),
    error: t.Optional(executionError),
    usage: t.Optional(tokenUsage),
    costUsd: t.Optional(t.String()),
    durationMs: t.Optional(t.Number()),
    ref: t.Optional(
      t.Object({ id: t.String(), version: int() }, { description: 'The pinned definition it ran' }),
    ),
  }),
  { id: 'ExecutionStep' },
);

/** An execution as lists show it. */
export const executionSummary = meta(
  t.Object({
    executionId: t.String(),
    workflowId: t.String(),
    workflowVersion: int(),
    environment,
    status: oneOf(EXECUTION_STATUSES),
    input: t.Unknown(),
    output: t.Optional(t.Unknown()),
    error: t.Optional(executionError),
    usage: tokenUsage,
    costUsd: t.String({ description: 'Decimal USD, exact' }),
    costMicros: int(),
    startedAt: timestamp,
    endedAt: t.Optional(timestamp),
    startedBy: t.String(),
    startedFor: t.Optional(t.String({ description: 'Started through an API key: the user who created it' })),
    redriveCount: t.Optional(int({ description: 'How many times it was redriven (absent: never)' })),
    redrivenAt: t.Optional(withOptions(timestamp, { description: 'When it was last redriven' })),
  }),
  { id: 'Execution' },
);

/** One execution with its steps. */
export const executionDetail = meta(extend(executionSummary, { steps: t.Array(stepView) }), {
  id: 'ExecutionDetail',
});

/** The answer to a start (API or webhook). */
export const executionStarted = meta(
  t.Object({
    executionId: t.String(),
    status: oneOf(EXECUTION_STATUSES),
    workflowVersion: t.Optional(int()),
    environment: t.Optional(environment),
  }),
  { id: 'ExecutionStarted' },
);

/** The answer to a redrive. */
export const executionRedriven = meta(
  t.Object({
    executionId: t.String(),
    status: oneOf(EXECUTION_STATUSES),
    redriveCount: int({ description: 'The redrive this answer is about (1 for the first)' }),
    redrivenAt: t.Optional(timestamp),
  }),
  { id: 'ExecutionRedriven' },
);
/** A schedule, with its next fire times (as both schedulers fire them, daylight saving included). */
export const scheduleView = meta(
  t.Object({
    scheduleId: t.String(),
    workflowId: t.String(),
    cron: t.String({ description: 'Five fields: minute hour day-of-month month day-of-week' }),
    timeZone: t.String({ description: 'IANA time zone the cron is read in' }),
    input: record(t.Unknown()),
    environment,
    enabled: t.Boolean(),
    description: t.Optional(t.String()),
    createdAt: timestamp,
    createdBy: t.String(),
    nextFireTimes: t.Array(timestamp, { description: 'The next 3 fire times (UTC); none when disabled' }),
  }),
  { id: 'Schedule' },
);

const usageCounters = t.Object({
  executions: int(),
  inputTokens: int(),
  outputTokens: int(),
  costUsd: t.String(),
  costMicros: int(),
});

/** `GET /usage`. */
export const usageView = meta(
  t.Object({
    month: t.String({ description: 'YYYY-MM' }),
    total: usageCounters,
    byWorkflow: t.Array(extend(usageCounters, { id: t.String() })),
    byAgent: t.Array(extend(usageCounters, { id: t.String() })),
    byTeam: t.Array(extend(usageCounters, { id: t.String() })),
    plan: t.Object({ name: t.String(), executionsPerMonth: t.Optional(nullable(int())) }),
  }),
  { id: 'Usage' },
);

/** `GET /workflows/{id}/diff`. */
export const diffView = meta(
  t.Object({
    from: t.Optional(int()),
    to: t.Optional(int()),
    added: t.Array(t.String()),
    removed: t.Array(t.String()),
    changed: t.Array(t.Object({ stepId: t.String(), fields: t.Array(t.String()) })),
    topLevel: t.Array(t.Object({ field: t.String() })),
  }),
  { id: 'WorkflowDiff' },
);

/** A human decision the platform waits for. */
export const approvalView = meta(
  t.Object({
    approvalId: t.String(),
    kind: oneOf(['step', 'promotion']),
    status: oneOf(['pending', 'approved', 'rejected', 'expired', 'cancelled']),
    workflowId: t.String(),
    executionId: t.Optional(t.String()),
    stepId: t.Optional(t.String()),
    version: t.Optional(int()),
    environment: t.Optional(environment),
    requestedBy: t.String(),
    requestedFor: t.Optional(t.String()),
    message: t.Optional(t.String()),
    approvers: t.Optional(
      t.Object({ roles: t.Optional(t.Array(t.String())), users: t.Optional(t.Array(t.String())) }),
    ),
    allowRequesterApproval: t.Optional(t.Boolean()),
    secrets: t.Optional(
      t.Array(t.String(), {
        description: 'Promotions: the secrets the version uses through its pinned agents and tools',
      }),
    ),
    expiresAt: t.Optional(timestamp),
    decidedBy: t.Optional(t.String()),
    comment: t.Optional(t.String()),
    createdAt: timestamp,
    decidedAt: t.Optional(timestamp),
  }),
  { id: 'Approval' },
);

/** `POST /workflows/{id}/promotions`: applied at once (dev, staging). */
export const promotionApplied = meta(t.Object({ status: t.Literal('applied'), workflow: workflowView }), {
  id: 'PromotionApplied',
});

/** `POST /workflows/{id}/promotions`: waiting for approval (prod). */
export const promotionPending = meta(t.Object({ status: t.Literal('pending'), approval: approvalView }), {
  id: 'PromotionPending',
});

/** One audit record: an item of its own, keyed by a time-ordered unique id (no chain head). */
export const auditRecordView = meta(
  t.Object({
    tenantId: t.String(),
    id: t.String({ description: 'Time-ordered unique id (ULID)' }),
    at: timestamp,
    actor: t.Object(
      {
        id: t.String(),
        type: oneOf(['user', 'apikey', 'webhook', 'schedule', 'platform', 'system']),
      },
      { description: 'An opaque id: no personal data' },
    ),
    action: t.String(),
    resourceType: t.String(),
    resourceId: t.String(),
    before: t.Optional(t.Unknown()),
    after: t.Optional(t.Unknown()),
    sourceIp: t.String(),
    userAgent: t.String(),
    requestId: t.String(),
    hash: t.String({ description: 'SHA-256 of the rest of the record; the signed digests anchor it' }),
  }),
  { id: 'AuditRecord' },
);

/** `GET /audit/verify`: records against digests, digests against signatures and each other. */
export const chainVerdictView = meta(
  t.Object({
    ok: t.Boolean(),
    digests: int({ description: 'Digests checked (signature and chain)' }),
    digested: int({ description: 'Records the digests cover' }),
    undigested: int({ description: 'Records not in a digest yet' }),
    firstDivergence: t.Optional(
      t.Object({
        kind: oneOf([
          'digest-missing',
          'digest-out-of-chain',
          'bad-signature',
          'record-deleted',
          'record-altered',
          'record-inserted',
        ]),
        digestSeq: t.Optional(int()),
        recordId: t.Optional(t.String()),
        message: t.String(),
      }),
    ),
  }),
  { id: 'AuditVerdict' },
);

/** `GET /audit/public-key`. */
export const auditPublicKeyView = meta(
  t.Object({
    keyId: t.String(),
    algorithm: t.Literal('ECDSA_P256_SHA256'),
    publicKeyPem: t.String(),
  }),
  { id: 'AuditPublicKey' },
);

/** A notification channel (its signing secret or Slack URL never shows after creation). */
export const notificationChannelView = meta(
  t.Object({
    channelId: t.String(),
    name: t.String(),
    type: oneOf(CHANNEL_TYPES),
    events: t.Array(oneOf(NOTIFICATION_EVENTS)),
    target: t.String({
      description:
        'The email address or webhook URL; for slack only the origin (the URL holds its credential)',
    }),
    createdAt: timestamp,
    createdBy: t.String(),
  }),
  { id: 'NotificationChannel' },
);

const deliveryAttemptView = t.Object({
  attempt: int(),
  at: timestamp,
  outcome: oneOf(['delivered', 'failed', 'refused']),
  statusCode: t.Optional(int({ description: 'The receiver’s HTTP status, when it answered' })),
  error: t.Optional(t.String()),
});

/** One event for one destination, with its delivery log. */
export const notificationView = meta(
  t.Object({
    notificationId: t.String(),
    event: oneOf(NOTIFICATION_EVENTS),
    destination: t.Union([
      t.Object({ kind: t.Literal('email'), to: t.String(), channelId: t.Optional(t.String()) }),
      t.Object({ kind: oneOf(['slack', 'webhook']), channelId: t.String(), target: t.String() }),
    ]),
    subject: t.String(),
    text: t.String(),
    data: record(t.Unknown()),
    status: oneOf(['pending', 'delivered', 'dead_letter']),
    attempts: t.Array(deliveryAttemptView, { description: 'The delivery log, oldest attempt first' }),
    nextAttemptAt: t.Optional(
      withOptions(timestamp, { description: 'Pending: when the next attempt is due' }),
    ),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  { id: 'Notification' },
);
/** An identity provider (`GET /identity-providers/{providerId}`); never its client secret. */
export const identityProviderView = meta(
  t.Object({
    providerId: t.String(),
    type: oneOf(PROVIDER_TYPES),
    name: t.String(),
    issuer: t.Optional(t.String()),
    clientId: t.Optional(t.String()),
    metadataUrl: t.Optional(t.String()),
    emailDomains: t.Array(t.String()),
    domains: t.Array(
      t.Object({
        domain: t.String(),
        /** Verified: it routes sign-ins to this provider, and no other provider can take it. */
        verified: t.Boolean(),
        /** Until verified: the TXT record the domain must publish (then `POST …/verify`). */
        record: t.Optional(t.Object({ name: t.String(), type: oneOf(['TXT']), value: t.String() })),
      }),
    ),
    groupsClaim: t.String(),
    groupMapping: t.Array(t.Object({ group: t.String(), roles: t.Array(t.String()) })),
    defaultRoles: t.Array(t.String()),
    createdAt: timestamp,
    createdBy: t.String(),
  }),
  { id: 'IdentityProvider' },
);

/** `GET/PUT /sso`. */
export const ssoSettingsView = meta(t.Object({ requireSso: t.Boolean() }), { id: 'SsoSettings' });
/** `POST /tenant/exports`, `GET /tenant/exports/{id}`. */
export const exportView = meta(
  t.Object({
    exportId: t.String(),
    tenantId: t.String(),
    status: oneOf(['running', 'completed']),
    requestedBy: t.String(),
    createdAt: t.String(),
    updatedAt: t.String(),
    completedAt: t.Optional(t.String()),
    counts: t.Optional(record(int())),
    bytes: t.Optional(int()),
    url: meta(t.Optional(t.String()), { description: 'Presigned download link (JSONL), once completed' }),
    urlExpiresAt: t.Optional(t.String()),
  }),
  { id: 'TenantExport' },
);

/** `GET|PUT /tenant/retention`. */
export const retentionView = meta(t.Object({ executionRetentionDays: nullable(int()) }), { id: 'Retention' });

/** `DELETE /tenants/{id}`, `GET /tenants/{id}/offboarding`. */
export const offboardingView = meta(
  t.Object({
    jobId: t.String(),
    tenantId: t.String(),
    status: oneOf(['running', 'completed']),
    phases: t.Array(t.Object({ name: t.String(), erased: int(), done: t.Boolean() })),
    runs: int(),
    requestedBy: t.String(),
    startedAt: t.String(),
    updatedAt: t.String(),
    completedAt: t.Optional(t.String()),
  }),
  { id: 'Offboarding' },
);

// Compile-time ties between the published schemas and the core's view types: each core value must
// be a valid instance of its schema's output type, field for field.
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
type Fits<Core, Schema extends TSchema> = Core extends DeepReadonly<Static<Schema>> ? true : never;
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
  Fits<ProviderView, typeof identityProviderView>,
  Fits<ExportJob & { url?: string; urlExpiresAt?: string }, typeof exportView>,
  Fits<RetentionView, typeof retentionView>,
  Fits<Omit<OffboardingJob, 'cursor' | 'version'>, typeof offboardingView>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
void ties;
