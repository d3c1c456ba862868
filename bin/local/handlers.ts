import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lifecycleDefinition } from '#shared/lifecycle-asl.ts';
import { asFunction } from './call-log.ts';
import { LocalPlatformError } from './errors.ts';
import { LocalRuntime } from './runtime.ts';

/** The lifecycle job runtime beside each workflow runtime, closed with it. */
export const jobRuntimes = new WeakMap<LocalRuntime, LocalRuntime>();

import type { FunctionName } from '../../lib/aws-calls.ts';
import type { ApiHandler, AuthorizerHandler, Handlers } from './server.ts';

/** The Lambda entry points the deployed HTTP API runs. */
export const HANDLER_MODULES = Object.freeze({
  api: new URL('../../functions/handlers/api.ts', import.meta.url),
  authorizer: new URL('../../functions/handlers/authorizer.ts', import.meta.url),
});

async function loadHandler(url: URL): Promise<(...args: never[]) => unknown> {
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new LocalPlatformError(
      `${path} does not exist yet: the local platform runs the deployed handlers.`,
    );
  }
  // A computed specifier keeps the type checker from requiring the file to exist at build time.
  const module: unknown = await import(url.href);
  const handler = typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
  if (typeof handler !== 'function') {
    throw new LocalPlatformError(`${path} does not export a function named \`handler\`.`);
  }
  return handler as (...args: never[]) => unknown;
}

/**
 * Imports the API and authorizer handlers. They read their configuration from `process.env` when
 * imported, so the platform's environment must be applied before this is called; and since module
 * instances are cached per process, they keep that configuration for the life of the process.
 */
export async function loadHandlers(): Promise<Handlers> {
  const [api, authorizer] = await Promise.all([
    loadHandler(HANDLER_MODULES.api),
    loadHandler(HANDLER_MODULES.authorizer),
    registerLocalNotifications(),
  ]);
  // The handlers' own signatures use the contract's narrower event types; at this boundary the
  // server guarantees the HTTP API shapes, so the wider types are the right view here.
  return {
    api: asFunction('api', (event, context) =>
      Promise.resolve((api as unknown as ApiHandler)(event, context)),
    ),
    authorizer: asFunction('authorizer', (event, context) =>
      Promise.resolve((authorizer as unknown as AuthorizerHandler)(event, context)),
    ),
  };
}

/**
 * Registers the local vault, and how the handlers' notifications leave the local platform: the local mailbox (the folder
 * `GET /local/mailbox` reads), deliveries on in-process timers, and the guarded webhook poster.
 * Imported through the same URLs as the handlers, so they share the module instances it registers in.
 */
async function registerLocalNotifications(): Promise<void> {
  const functions = (path: string) => new URL(`../../functions/${path}`, import.meta.url).href;
  const [
    { useLocalNotificationTransport, useLocalNotificationRaiser, useLocalVault },
    { LocalDeliveryQueue, LocalMailer },
    { LocalFileVault },
    { notificationDeliveryWiring },
    poster,
    service,
    config,
    log,
  ] = await Promise.all([
    import(functions('adapters/wiring/local.ts')) as Promise<
      typeof import('../../functions/adapters/wiring/local.ts')
    >,
    import(functions('adapters/notifications/local.ts')) as Promise<
      typeof import('../../functions/adapters/notifications/local.ts')
    >,
    import(functions('adapters/secret-vault.ts')) as Promise<
      typeof import('../../functions/adapters/secret-vault.ts')
    >,
    import(functions('adapters/wiring/notification-delivery.ts')) as Promise<
      typeof import('../../functions/adapters/wiring/notification-delivery.ts')
    >,
    import(functions('adapters/notifications/webhook-poster.ts')) as Promise<
      typeof import('../../functions/adapters/notifications/webhook-poster.ts')
    >,
    import(functions('core/notifications/service.ts')) as Promise<
      typeof import('../../functions/core/notifications/service.ts')
    >,
    import(functions('shared/config.ts')) as Promise<typeof import('../../functions/shared/config.ts')>,
    import(functions('shared/observability.ts')) as Promise<
      typeof import('../../functions/shared/observability.ts')
    >,
  ]);
  const stateDir = config.config(config.ALL_SETTINGS).MERIDIAN_STATE_DIR ?? '.local';
  // Tenant secrets, encrypted under the state folder: the roots read it in local mode (wiring/base.ts).
  useLocalVault(new LocalFileVault(join(stateDir, 'secrets')));
  const mailbox = join(stateDir, 'mailbox');
  useLocalNotificationTransport((deps) => ({
    mailer: new LocalMailer(mailbox),
    queue: new LocalDeliveryQueue(
      asFunction('notificationDelivery', (ref) => service.deliver(deps(), ref)),
      (error, ref) => log.logger.error('Notification delivery failed', { error, ...ref }),
    ),
    poster: new poster.GuardedWebhookPoster(),
  }));
  // What the delivery function does with an event the step runner queues: fan it out.
  useLocalNotificationRaiser(
    asFunction('notificationDelivery', async (event) => {
      await service.publish(notificationDeliveryWiring(), event, { stable: true });
    }),
  );
}

/** The workflow Lambdas: what compiled agent, tool and approval tasks invoke, and the status handler. */
export const WORKFLOW_HANDLER_MODULES = Object.freeze({
  stepRunner: new URL('../../functions/handlers/step-runner.ts', import.meta.url),
  approvalHandler: new URL('../../functions/handlers/approval-handler.ts', import.meta.url),
  statusHandler: new URL('../../functions/handlers/status-handler.ts', import.meta.url),
  lifecycle: new URL('../../functions/handlers/lifecycle-handler.ts', import.meta.url),
});

/**
 * Starts the local execution engine (aws-local-stepfunctions) behind the same handlers AWS runs,
 * and registers it with the handlers' container. Call after {@link loadHandlers}.
 */
export async function startWorkflowRuntime(options: {
  maxWaitMs?: number;
  log?: (line: string) => void;
}): Promise<LocalRuntime> {
  const [stepRunner, approvalHandler, statusHandler, lifecycle] = await Promise.all([
    loadHandler(WORKFLOW_HANDLER_MODULES.stepRunner),
    loadHandler(WORKFLOW_HANDLER_MODULES.approvalHandler),
    loadHandler(WORKFLOW_HANDLER_MODULES.statusHandler),
    loadHandler(WORKFLOW_HANDLER_MODULES.lifecycle),
  ]);
  const { ALL_SETTINGS, config } = (await import(
    new URL('../../functions/shared/config.ts', import.meta.url).href
  )) as typeof import('../../functions/shared/config.ts');
  const { useLocalExecutionEngine, useLocalJobRunner } = (await import(
    new URL('../../functions/adapters/wiring/local.ts', import.meta.url).href
  )) as typeof import('../../functions/adapters/wiring/local.ts');
  const cfg = config(ALL_SETTINGS);
  const call = (name: FunctionName, fn: (...args: never[]) => unknown) =>
    asFunction(name, (payload: unknown) => Promise.resolve((fn as (p: unknown) => unknown)(payload)));
  const onStatus = call('statusHandler', statusHandler);
  const runtime = new LocalRuntime({
    lambdas: {
      [String(cfg.STEP_RUNNER_ARN)]: call('stepRunner', stepRunner),
      [String(cfg.APPROVAL_HANDLER_ARN)]: call('approvalHandler', approvalHandler),
    },
    onStatus: async (event) => {
      await onStatus(event);
    },
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  useLocalExecutionEngine(runtime);
  // Lifecycle jobs (offboarding, exports) run their own ASL in a runtime of their own: their status
  // is the job record their task writes, so no status handler listens.
  const lifecycleArn = String(cfg.LIFECYCLE_HANDLER_ARN);
  const jobs = new LocalRuntime({
    lambdas: { [lifecycleArn]: call('lifecycle', lifecycle) },
    onStatus: async () => {},
    // The lifecycle jobs' machines are the platform's: on AWS the API starts them with its own role.
    tenantFenced: false,
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  useLocalJobRunner({
    start: async ({ kind, runName, input }) => {
      await jobs.start({
        stateMachineArn: `arn:aws:states:local:000000000000:stateMachine:${cfg.STATE_MACHINE_PREFIX}-${kind}`,
        executionId: runName,
        tenantId: input.tenantId ?? '',
        environment: 'prod',
        version: 1,
        asl: JSON.stringify(lifecycleDefinition(kind, lifecycleArn)),
        // The runtime passes the state through untouched: here it is the job's input.
        state: input as never,
      });
    },
  });
  jobRuntimes.set(runtime, jobs);
  const orphans = await failOrphanedExecutions(onStatus, cfg.TABLE_NAME);
  if (orphans > 0) {
    options.log?.(
      `${orphans} execution(s) left running by the previous start were failed (Local.Restarted).`,
    );
  }
  return runtime;
}

/** The error an execution gets when the local platform stopped while it ran. */
export const RESTARTED_ERROR = 'Local.Restarted';

/**
 * An execution the previous start of the local platform left RUNNING or WAITING_APPROVAL cannot
 * continue: its state machine run lived in that process. It is failed with a cause that says so,
 * through the status handler (which also closes its pending approval), so it can be started again
 * instead of waiting forever with an approval that answers 409. Returns how many it failed.
 */
async function failOrphanedExecutions(
  onStatus: (event: unknown) => Promise<unknown>,
  tableName: string,
): Promise<number> {
  const { dynamoDocumentClient } = (await import(
    new URL('../../functions/adapters/aws-clients.ts', import.meta.url).href
  )) as typeof import('../../functions/adapters/aws-clients.ts');
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const db = dynamoDocumentClient();
  let failed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression:
          '#t = :execution AND (#s = :running OR #s = :waiting) AND attribute_exists(engineArn)',
        ExpressionAttributeNames: { '#t': 'type', '#s': 'status' },
        ExpressionAttributeValues: {
          ':execution': 'execution',
          ':running': 'RUNNING',
          ':waiting': 'WAITING_APPROVAL',
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const executionId = String(item.executionId);
      const executionArn = String(item.engineArn);
      await onStatus({
        version: '0',
        id: `restart-${executionId}`,
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'local',
        resources: [executionArn],
        detail: {
          executionArn,
          // The runtime names a run `<state machine arn as :execution:>:<executionId>`.
          stateMachineArn: executionArn
            .slice(0, -(executionId.length + 1))
            .replace(':execution:', ':stateMachine:'),
          name: executionId,
          status: 'FAILED',
          error: RESTARTED_ERROR,
          cause:
            'The local platform stopped while this execution ran, so it cannot continue. Start it again.',
          stopDate: Date.now(),
        },
      });
      failed++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return failed;
}
