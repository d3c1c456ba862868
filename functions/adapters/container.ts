import { join } from 'node:path';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { ApprovalStore } from '#core/approvals/ports.ts';
import type { ExecutionEngine } from '#core/executions/ports.ts';
import type { ExecutionDeps } from '#core/executions/service.ts';
import {
  deleteAllForTenant as deleteAllIdentityProviders,
  type IdentityDeps,
} from '#core/identity/providers.ts';
import type { DeliveryRef, NotificationEvent, Notify } from '#core/notifications/model.ts';
import type { DeliveryQueue, Mailer } from '#core/notifications/ports.ts';
import {
  deleteAllForTenant as deleteAllNotifications,
  deliver,
  type NotificationDeps,
  notifier,
} from '#core/notifications/service.ts';
import type { ScheduleDeps, ScheduleTrigger } from '#core/schedules/schedules.ts';
import type { ExportDeps } from '#core/tenancy/exports.ts';
import {
  eraserOf,
  type JobRunner,
  loginEraser,
  type OffboardingDeps,
  runningExecutionsEraser,
  secretEraser,
  stateMachineEraser,
  type TenantEraser,
} from '#core/tenancy/offboarding.ts';
import type { IdentityDirectory, SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import type { WorkflowEngine } from '#core/versioning/engine.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { WorkflowDeps } from '#core/versioning/workflows.ts';
import type { WebhookDeps } from '#core/webhooks/webhooks.ts';
import { ConfigError, config } from '#shared/config.ts';
import { logger, tracer } from '#shared/observability.ts';
import { cognitoClient, dynamoDocumentClient } from './aws-clients.ts';
import { CognitoDirectory } from './cognito-directory.ts';
import { CognitoFederation, noFederation } from './cognito-federation.ts';
import { DynamoApprovalStore } from './dynamo/approval-store.ts';
import { DynamoBudgetStore } from './dynamo/budget-store.ts';
import { DynamoDefinitionStore } from './dynamo/definition-store.ts';
import { DynamoExecutionStore } from './dynamo/execution-store.ts';
import { DynamoIdentityProviderStore } from './dynamo/identity-provider-store.ts';
import {
  DynamoExportSource,
  DynamoExportStore,
  DynamoOffboardingStore,
  DynamoTenantEraser,
  secretNames,
  tenantRecordEraser,
} from './dynamo/lifecycle-store.ts';
import { DynamoNotificationStore } from './dynamo/notification-store.ts';
import { DynamoRunSlotStore } from './dynamo/run-slot-store.ts';
import { DynamoScheduleStore } from './dynamo/schedule-store.ts';
import { Table } from './dynamo/table.ts';
import { dynamoTenancyStore } from './dynamo/tenancy-store.ts';
import { DynamoWebhookStore } from './dynamo/webhook-store.ts';
import { EventBridgeScheduler } from './eventbridge-scheduler.ts';
import { SfnJobRunner } from './job-runner.ts';
import { LocalEngine } from './local-engine.ts';
import { LocalMailbox } from './local-mailbox.ts';
import { LocalDeliveryQueue, LocalMailer } from './notifications/local.ts';
import { GuardedWebhookPoster } from './notifications/webhook-poster.ts';
import { S3ArtifactStore } from './s3-artifacts.ts';
import { S3PrefixEraser, S3TenantFiles } from './s3-tenant-data.ts';
import { LocalFileVault, SecretsManagerVault } from './secret-vault.ts';
import { SfnEngine } from './sfn-engine.ts';
import { SfnExecutionEngine } from './sfn-executions.ts';
import { TenantClientFactory } from './tenant-credentials.ts';

/** The adapters a handler uses, wired once per container from the runtime config. */
export interface Container {
  readonly table: Table;
  readonly clients: TenantClientFactory;
  readonly store: TenancyStore;
  readonly directory: IdentityDirectory;
  readonly vault: SecretVault;
  readonly definitions: DefinitionStore;
  readonly approvals: ApprovalStore;
  readonly engine: WorkflowEngine;
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
  readonly identity: IdentityDeps & { readonly providers: DynamoIdentityProviderStore };
  /** Offboarding: the job store, the runner and the erasers in the order they run. */
  readonly offboarding: OffboardingDeps;
  /** Data exports. */
  readonly exports: ExportDeps;
  /** Tenant files in the artifacts bucket (exports, retention tags). */
  readonly files: S3TenantFiles;
}

let localExecutionEngine: ExecutionEngine | undefined;

/**
 * The local platform registers its in-process runtime (aws-local-stepfunctions) here before it
 * serves requests; on AWS executions run on Step Functions.
 */
export function useLocalExecutionEngine(engine: ExecutionEngine): void {
  localExecutionEngine = engine;
}

let localJobRunner: JobRunner | undefined;

/** The local platform registers its runner of lifecycle jobs (the same ASL, run in-process) here. */
export function useLocalJobRunner(runner: JobRunner): void {
  localJobRunner = runner;
}

function jobRunnerFor(cfg: ReturnType<typeof config>): JobRunner {
  if (cfg.MERIDIAN_MODE === 'aws') {
    if (!cfg.OFFBOARDING_STATE_MACHINE_ARN || !cfg.EXPORT_STATE_MACHINE_ARN)
      throw new ConfigError(
        'Invalid Meridian configuration: OFFBOARDING_STATE_MACHINE_ARN and EXPORT_STATE_MACHINE_ARN required for lifecycle jobs',
      );
    return new SfnJobRunner(tracer.captureAWSv3Client(new SFNClient({})), {
      offboarding: cfg.OFFBOARDING_STATE_MACHINE_ARN,
      export: cfg.EXPORT_STATE_MACHINE_ARN,
    });
  }
  if (!localJobRunner)
    throw new ConfigError('Invalid Meridian configuration: no local job runner registered');
  return localJobRunner;
}

function executionEngineFor(cfg: ReturnType<typeof config>): ExecutionEngine {
  if (cfg.MERIDIAN_MODE === 'aws')
    return new SfnExecutionEngine(tracer.captureAWSv3Client(new SFNClient({})));
  if (!localExecutionEngine)
    throw new ConfigError('Invalid Meridian configuration: no local execution engine registered');
  return localExecutionEngine;
}

let localScheduleTrigger: ScheduleTrigger | undefined;

/**
 * The local platform registers its in-process scheduler (croner) here before it serves requests; on
 * AWS schedules are EventBridge Scheduler schedules.
 */
export function useLocalScheduleTrigger(trigger: ScheduleTrigger): void {
  localScheduleTrigger = trigger;
}

function scheduleTriggerFor(cfg: ReturnType<typeof config>): ScheduleTrigger {
  if (cfg.MERIDIAN_MODE === 'local') {
    if (!localScheduleTrigger)
      throw new ConfigError('Invalid Meridian configuration: no local scheduler registered');
    return localScheduleTrigger;
  }
  const needed = {
    SCHEDULE_GROUP_PREFIX: cfg.SCHEDULE_GROUP_PREFIX,
    SCHEDULE_FIRE_ARN: cfg.SCHEDULE_FIRE_ARN,
    SCHEDULER_ROLE_ARN: cfg.SCHEDULER_ROLE_ARN,
  };
  const missing = Object.entries(needed)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0)
    throw new ConfigError(`Invalid Meridian configuration: ${missing.join(', ')} required for schedules`);
  return new EventBridgeScheduler(tracer.captureAWSv3Client(new SchedulerClient({})), {
    groupPrefix: String(cfg.SCHEDULE_GROUP_PREFIX),
    targetArn: String(cfg.SCHEDULE_FIRE_ARN),
    roleArn: String(cfg.SCHEDULER_ROLE_ARN),
  });
}

/** Reads settings only workflow features need, failing with every missing name at once. */
function workflowSettings(cfg: ReturnType<typeof config>) {
  const needed = {
    STATE_MACHINE_PREFIX: cfg.STATE_MACHINE_PREFIX,
    STEP_RUNNER_ARN: cfg.STEP_RUNNER_ARN,
    APPROVAL_HANDLER_ARN: cfg.APPROVAL_HANDLER_ARN,
    ...(cfg.MERIDIAN_MODE === 'aws'
      ? { WORKFLOW_ROLE_ARN: cfg.WORKFLOW_ROLE_ARN, WORKFLOW_LOG_GROUP_ARN: cfg.WORKFLOW_LOG_GROUP_ARN }
      : {}),
  };
  const missing = Object.entries(needed)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0)
    throw new ConfigError(`Invalid Meridian configuration: ${missing.join(', ')} required for workflows`);
  return {
    prefix: String(cfg.STATE_MACHINE_PREFIX),
    stepRunner: String(cfg.STEP_RUNNER_ARN),
    approvalHandler: String(cfg.APPROVAL_HANDLER_ARN),
    roleArn: String(cfg.WORKFLOW_ROLE_ARN),
    logGroupArn: String(cfg.WORKFLOW_LOG_GROUP_ARN),
  };
}

function engineFor(cfg: ReturnType<typeof config>): WorkflowEngine {
  const settings = workflowSettings(cfg);
  if (cfg.MERIDIAN_MODE === 'local') return new LocalEngine(settings.prefix);
  return new SfnEngine(tracer.captureAWSv3Client(new SFNClient({})), {
    namePrefix: settings.prefix,
    roleArn: settings.roleArn,
    logGroupArn: settings.logGroupArn,
  });
}

/** How notifications leave the platform: a mailer and a delivery queue. */
export interface NotificationTransport {
  readonly mailer: Mailer;
  readonly queue: DeliveryQueue;
}

let awsNotificationTransport: ((cfg: ReturnType<typeof config>) => NotificationTransport) | undefined;

/**
 * The functions that raise or deliver notifications register the SES and SQS transport
 * (notifications/aws-transport.ts) before their first request; the others, the authorizer first,
 * never bundle those clients.
 */
export function useAwsNotificationTransport(
  factory: (cfg: ReturnType<typeof config>) => NotificationTransport,
): void {
  awsNotificationTransport = factory;
}

/** A mailbox folder and in-process timers locally; on AWS what the handler registered. */
function notificationTransport(
  cfg: ReturnType<typeof config>,
  deliverLocally: (ref: DeliveryRef) => Promise<unknown>,
): NotificationTransport {
  if (cfg.MERIDIAN_MODE === 'local') {
    return {
      mailer: new LocalMailer(join(cfg.MERIDIAN_STATE_DIR ?? '.local', 'mailbox')),
      queue: new LocalDeliveryQueue(deliverLocally, (error, ref) =>
        logger.error('Notification delivery failed', { error, ...ref }),
      ),
    };
  }
  if (awsNotificationTransport) return awsNotificationTransport(cfg);
  const missing = (): never => {
    throw new ConfigError('Invalid Meridian configuration: this function has no notification transport');
  };
  return { mailer: { send: missing }, queue: { enqueue: missing, deadLetter: missing } };
}

let container: Container | undefined;

/** The container's adapters, built on first use (cold start) and reused. */
export function adapters(): Container {
  if (container) return container;
  const cfg = config();
  const clients = new TenantClientFactory(dynamoDocumentClient(), cfg.TENANT_DATA_ROLE_ARN);
  const table = new Table(cfg.TABLE_NAME, clients);
  const vault: SecretVault =
    cfg.MERIDIAN_MODE === 'local' && cfg.MERIDIAN_STATE_DIR
      ? new LocalFileVault(join(cfg.MERIDIAN_STATE_DIR, 'secrets'))
      : new SecretsManagerVault((t) => clients.secretsFor(t), cfg.SECRETS_PREFIX);
  const definitions = new DynamoDefinitionStore(table);
  const approvals = new DynamoApprovalStore(table);
  let engine: WorkflowEngine | undefined;
  // The engine is built on first use: handlers that never touch workflows need none of its settings.
  const theEngine = (): WorkflowEngine => {
    engine ??= engineFor(cfg);
    return engine;
  };
  const lazyEngine: WorkflowEngine = {
    publish: (input) => theEngine().publish(input),
    promote: (input) => theEngine().promote(input),
    remove: (input) => theEngine().remove(input),
  };
  let executionEngine: ExecutionEngine | undefined;
  const theExecutionEngine = (): ExecutionEngine => {
    executionEngine ??= executionEngineFor(cfg);
    return executionEngine;
  };
  let trigger: ScheduleTrigger | undefined;
  const theTrigger = (): ScheduleTrigger => {
    trigger ??= scheduleTriggerFor(cfg);
    return trigger;
  };
  const store = dynamoTenancyStore(table);
  const bucket = cfg.ARTIFACT_BUCKET_NAME;
  const artifacts = new S3ArtifactStore((tenantId) => clients.s3For(tenantId), bucket ?? '');
  // Built below; the local queue delivers through it, and events fan out through it.
  let notifications: NotificationDeps | undefined;
  const theNotifications = (): NotificationDeps => {
    if (!notifications) throw new Error('notifications used before the container was built');
    return notifications;
  };
  const notify = notifier(theNotifications, (error, event: NotificationEvent) =>
    logger.error('Notification fan-out failed', { error, event: event.type, tenantId: event.tenantId }),
  );
  const files = new S3TenantFiles((tenantId) => clients.s3For(tenantId), bucket ?? '');
  const executions: ExecutionDeps = {
    executions: new DynamoExecutionStore(table),
    definitions,
    approvals,
    tenancy: store,
    engine: {
      start: (input) => theExecutionEngine().start(input),
      stop: (input) => theExecutionEngine().stop(input),
      redrive: (input) => theExecutionEngine().redrive(input),
      sendTaskSuccess: (token, output) => theExecutionEngine().sendTaskSuccess(token, output),
      sendTaskFailure: (token, error, cause) => theExecutionEngine().sendTaskFailure(token, error, cause),
    },
    artifacts: {
      put: (tenantId, key, body) => {
        if (!bucket)
          throw new ConfigError(
            'Invalid Meridian configuration: ARTIFACT_BUCKET_NAME is required for large outputs',
          );
        return artifacts.put(tenantId, key, body);
      },
      get: (tenantId, key) => artifacts.get(tenantId, key),
      expire: async (tenantId, prefix, days) => (bucket ? files.tagRetention(tenantId, prefix, days) : 0),
    },
    budgets: new DynamoBudgetStore(table),
    slots: new DynamoRunSlotStore(cfg.TABLE_NAME, clients),
    concurrencyCaps: cfg.MAX_RUNNING_EXECUTIONS,
    notify,
    now: () => new Date(),
  };
  notifications = {
    store: new DynamoNotificationStore(table),
    vault,
    tenancy: store,
    ...notificationTransport(cfg, (ref) => deliver(theNotifications(), ref)),
    poster: new GuardedWebhookPoster(),
    retryBaseMs: cfg.NOTIFICATION_RETRY_BASE_MS,
    now: () => new Date(),
  };
  let jobRunner: JobRunner | undefined;
  const runner: JobRunner = {
    start: (input) => {
      jobRunner ??= jobRunnerFor(cfg);
      return jobRunner.start(input);
    },
  };
  const directory = new CognitoDirectory(
    cognitoClient(),
    cfg.USER_POOL_ID,
    cfg.MERIDIAN_MODE === 'local' && cfg.MERIDIAN_STATE_DIR
      ? LocalMailbox.of(cfg.MERIDIAN_STATE_DIR)
      : undefined,
  );
  const identity = {
    providers: new DynamoIdentityProviderStore(table),
    federation:
      cfg.MERIDIAN_MODE === 'aws'
        ? new CognitoFederation(cognitoClient(), cfg.USER_POOL_ID, cfg.USER_POOL_CLIENT_ID)
        : noFederation,
    vault,
    store,
    allowLoopbackHttp: cfg.MERIDIAN_MODE === 'local',
    samlSupported: cfg.MERIDIAN_MODE === 'aws',
  };
  const slotMs = (cfg.RATE_LIMITS.windowSeconds * 1000) / 10;
  const offboardingMeta = (tenantId: string) => ({
    requestId: `offboarding-${tenantId}`,
    sourceIp: 'offboarding',
    userAgent: 'meridian-offboarding',
    now: new Date().toISOString(),
  });
  // Run by the DELETE request (the API function holds these rights): schedules first, so nothing
  // starts a run while the rest goes; identity providers before the logins.
  const inRequest: TenantEraser[] = [
    eraserOf('schedules', async (t) => {
      await theTrigger().deleteAllForTenant(t);
      return undefined;
    }),
    eraserOf('identityProviders', (t) => deleteAllIdentityProviders(identity, t, offboardingMeta(t))),
    eraserOf('notifications', (t) => deleteAllNotifications(theNotifications(), t)),
  ];
  // The job's phases, in order (the lifecycle function). A feature that keeps tenant data outside
  // the table plugs in with one line, `eraserOf('<name>', (t) => store.deleteAllForTenant(t))`, here
  // or in `inRequest` when only the API holds the rights.
  const erasers: TenantEraser[] = [
    runningExecutionsEraser(executions.executions, executions.engine),
    loginEraser(store, directory),
    secretEraser(secretNames(table), vault),
    stateMachineEraser(definitions, lazyEngine),
    ...(bucket ? [new S3PrefixEraser((t) => clients.s3For(t), bucket, cfg.MERIDIAN_MODE === 'aws')] : []),
    new DynamoTenantEraser(table, { slotMs, windowSeconds: cfg.RATE_LIMITS.windowSeconds }),
    tenantRecordEraser(table),
  ];
  container = {
    table,
    clients,
    store,
    directory,
    vault,
    definitions,
    approvals,
    engine: lazyEngine,
    workflows: {
      definitions,
      approvals,
      engine: lazyEngine,
      notify,
      get arns() {
        const s = workflowSettings(cfg);
        return { stepRunner: s.stepRunner, approvalHandler: s.approvalHandler };
      },
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
      // Built on first use: functions that never touch schedules need none of their settings.
      trigger: {
        register: (tenantId, schedule) => theTrigger().register(tenantId, schedule),
        unregister: (tenantId, scheduleId) => theTrigger().unregister(tenantId, scheduleId),
        deleteAllForTenant: (tenantId) => theTrigger().deleteAllForTenant(tenantId),
      },
    },
    identity,
    offboarding: {
      store,
      jobs: new DynamoOffboardingStore(table),
      runner,
      erasers,
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
    files,
  };
  return container;
}
