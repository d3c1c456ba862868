import type { ApprovalStore } from '#core/approvals/ports.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import { RateLimiter } from '#core/governance/rate-limit.ts';
import type { DomainVerificationDeps } from '#core/identity/domains.ts';
import {
  deleteAllForTenant as deleteAllIdentityProviders,
  type IdentityDeps,
  PROVIDER_CHANGES_PER_MINUTE,
} from '#core/identity/providers.ts';
import type { Notify } from '#core/notifications/model.ts';
import {
  deleteAllForTenant as deleteAllNotifications,
  type NotificationDeps,
} from '#core/notifications/service.ts';
import type { ScheduleDeps } from '#core/schedules/schedules.ts';
import type { ExportDeps } from '#core/tenancy/exports.ts';
import { eraserOf, type OffboardingDeps, type TenantEraser } from '#core/tenancy/offboarding.ts';
import type { IdentityDirectory, SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { WorkflowDeps } from '#core/versioning/workflows.ts';
import type { WebhookDeps } from '#core/webhooks/webhooks.ts';
import {
  artifacts,
  auditBucket,
  auditDigests,
  config,
  core,
  dnsServers,
  lifecycleJobs,
  machines,
  notifications,
  rates,
  runCaps,
  schedules,
  secrets,
  userPool,
  workflows,
} from '#shared/config.ts';
import { cognitoClient } from '../aws-clients.ts';
import { CognitoFederation, noFederation } from '../cognito-federation.ts';
import { txtLookup } from '../dns-txt.ts';
import { DynamoApprovalStore } from '../dynamo/approval-store.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoExecutionStore } from '../dynamo/execution-store.ts';
import { DynamoIdentityProviderStore } from '../dynamo/identity-provider-store.ts';
import * as keys from '../dynamo/item-keys.ts';
import { DynamoLease } from '../dynamo/lease.ts';
import { DynamoExportSource, DynamoExportStore, DynamoOffboardingStore } from '../dynamo/lifecycle-store.ts';
import { DynamoRateCounterStore } from '../dynamo/rate-limit-store.ts';
import { DynamoScheduleStore } from '../dynamo/schedule-store.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { DynamoWebhookStore } from '../dynamo/webhook-store.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { GuardedWebhookPoster } from '../notifications/webhook-poster.ts';
import type { TenantTableClients } from '../tenant-credentials.ts';
import { artifactsOf, directoryOf, filesOf, tableOnly, vaultOf } from './base.ts';
import { executionsOf } from './executions.ts';
import { localTxtLookup } from './local.ts';
import { notificationsOf } from './notifications.ts';
import { offboardingPhases } from './offboarding.ts';
import { scheduleTrigger } from './scheduler.ts';
import { executionEngine, jobRunner, workflowEngine, workflowSettings } from './step-functions.ts';

/** The API function's adapters, which its routes (functions/handlers/routes/) use. */
export interface Container {
  readonly clients: TenantTableClients;
  /** The rate limiter of the router's admission step (functions/handlers/api.ts). */
  readonly limiter: RateLimiter;
  readonly store: TenancyStore;
  readonly directory: IdentityDirectory;
  readonly vault: SecretVault;
  readonly definitions: DefinitionStore;
  readonly approvals: ApprovalStore;
  /** Everything the workflow use cases need, in one object. */
  readonly workflows: WorkflowDeps;
  /** Everything the execution use cases need, in one object. */
  readonly executions: ExecutionDeps;
  /** Everything the webhook use cases need, in one object. */
  readonly webhooks: WebhookDeps;
  /** Everything the notification use cases need, in one object. */
  readonly notifications: NotificationDeps;
  /** Raises a notification event (best effort: failures are logged, never thrown). */
  readonly notify: Notify;
  /** Everything the schedule use cases need, in one object. */
  readonly schedules: ScheduleDeps;
  /** Everything the identity-provider (SSO) use cases need, in one object. */
  readonly identity: IdentityDeps &
    DomainVerificationDeps & { readonly providers: DynamoIdentityProviderStore };
  /** Offboarding: the job store, the runner and the erasers run in the request. */
  readonly offboarding: OffboardingDeps;
  /** Data exports. */
  readonly exports: ExportDeps;
}

/**
 * The API's settings: all but the authorizer's (its cache, the local token issuer) and the step
 * runner's (circuits). The readiness check probes the audit bucket and the pool.
 */
export const API_SETTINGS = [
  core,
  auditBucket,
  userPool,
  secrets,
  artifacts,
  machines,
  workflows,
  lifecycleJobs,
  schedules,
  rates,
  runCaps,
  auditDigests,
  notifications,
  dnsServers,
] as const;

let container: Container | undefined;

/** The API function's composition root: its adapters, built on first use (cold start) and reused. */
export function adapters(): Container {
  if (container) return container;
  const cfg = config(API_SETTINGS);
  const { clients, table } = tableOnly(cfg);
  const vault = vaultOf(cfg, clients);
  const store = dynamoTenancyStore(table);
  const definitions = new DynamoDefinitionStore(table);
  const approvals = new DynamoApprovalStore(table);
  const engine = workflowEngine(cfg, clients);
  const trigger = scheduleTrigger(cfg);
  const runner = jobRunner(cfg);
  const files = filesOf(cfg, clients);
  const { notifications, notify } = notificationsOf(cfg, {
    table,
    vault,
    tenancy: store,
    awsTransport: awsQueueTransport,
    // Subscriptions check their webhook target when saved.
    poster: new GuardedWebhookPoster(),
  });
  const executions = executionsOf(cfg, {
    table,
    clients,
    executions: new DynamoExecutionStore(table),
    tenancy: store,
    engine: executionEngine(cfg, clients),
    artifacts: artifactsOf(cfg, clients),
    notify,
    definitions,
    approvals,
  });
  const directory = directoryOf(cfg);
  // Every tenant's SSO providers are listed on the one app client: its read-modify-write runs under a lease.
  const appClientLease = new DynamoLease(table, keys.appClientLease);
  // The container's one limiter: the router's admission step, and identity-provider changes in a
  // scope of their own. Its leases of the shared counters live as long as the container.
  const limiter = new RateLimiter(
    new DynamoRateCounterStore(cfg.TABLE_NAME, clients),
    cfg.RATE_LIMITS.windowSeconds,
  );
  const dns = txtLookup(cfg.DNS_SERVERS ? { servers: cfg.DNS_SERVERS } : {});
  const identity = {
    // Email-domain verification: DNS, and on the local platform first its own records (its demo domain).
    txt: cfg.MERIDIAN_MODE === 'local' ? localTxtLookup(dns) : dns,
    providers: new DynamoIdentityProviderStore(table),
    federation:
      cfg.MERIDIAN_MODE === 'aws'
        ? new CognitoFederation(cognitoClient(), cfg.USER_POOL_ID, cfg.USER_POOL_CLIENT_ID, (work) =>
            appClientLease.run(work),
          )
        : noFederation,
    vault,
    store,
    allowLoopbackHttp: cfg.MERIDIAN_MODE === 'local',
    samlSupported: cfg.MERIDIAN_MODE === 'aws',
    countChange: (tenantId: string) =>
      limiter.take(tenantId, {
        policy: 'identity-providers',
        counter: 'IDP',
        limit: PROVIDER_CHANGES_PER_MINUTE * (cfg.RATE_LIMITS.windowSeconds / 60),
      }),
  };
  const offboardingMeta = (tenantId: string) => ({
    requestId: `offboarding-${tenantId}`,
    sourceIp: 'offboarding',
    userAgent: 'meridian-offboarding',
    now: new Date().toISOString(),
  });
  // Run by the DELETE request (only the API function holds these rights): schedules first, so
  // nothing starts a run while the rest goes; identity providers before the logins. The job's own
  // phases are wired in functions/adapters/wiring/lifecycle.ts; their names are listed there too.
  const inRequest: TenantEraser[] = [
    eraserOf('schedules', async (t) => {
      await trigger.deleteAllForTenant(t);
      return undefined;
    }),
    eraserOf('identityProviders', (t) => deleteAllIdentityProviders(identity, t, offboardingMeta(t))),
    eraserOf('notifications', (t) => deleteAllNotifications(notifications, t)),
  ];
  const settings = workflowSettings(cfg);
  container = {
    clients,
    limiter,
    store,
    directory,
    vault,
    definitions,
    approvals,
    workflows: {
      definitions,
      approvals,
      engine,
      notify,
      arns: { stepRunner: settings.stepRunner, approvalHandler: settings.approvalHandler },
    },
    executions,
    webhooks: { webhooks: new DynamoWebhookStore(table), definitions, vault, executions },
    notifications,
    notify,
    schedules: {
      schedules: new DynamoScheduleStore(table),
      definitions,
      executions,
      roles: store,
      trigger,
    },
    identity,
    offboarding: {
      store,
      jobs: new DynamoOffboardingStore(table),
      runner,
      erasers: offboardingPhases(cfg, {
        table,
        clients,
        store,
        directory,
        vault,
        definitions,
        executions: executions.executions,
        // Only the phase names are read here: the lifecycle function runs the phases.
        engine: executions.engine,
        workflows: engine,
      }),
      inRequest,
      now: () => new Date(),
    },
    exports: {
      exports: new DynamoExportStore(table),
      source: new DynamoExportSource(table),
      files,
      runner,
      now: () => new Date(),
    },
  };
  return container;
}
