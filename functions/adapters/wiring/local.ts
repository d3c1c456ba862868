import type { ExecutionEngine } from '#core/executions/ports.ts';
import type { TxtLookup } from '#core/identity/domains.ts';
import type { DeliveryQueue, Mailer, WebhookPoster } from '#core/notifications/ports.ts';
import type { NotificationDeps } from '#core/notifications/service.ts';
import type { ScheduleTrigger } from '#core/schedules/schedules.ts';
import type { JobRunner } from '#core/tenancy/offboarding.ts';
import type { SecretVault } from '#core/tenancy/ports.ts';
import { ConfigError } from '#shared/config.ts';
import type { QueuedEvent } from '../notifications/queues.ts';

/*
 * What the local platform runs in-process instead of Step Functions and EventBridge Scheduler
 * (bin/local/handlers.ts, bin/local/scheduler.ts). It registers them here before it serves requests;
 * the composition roots read them only in local mode. The roots are built once per process, and a
 * platform started again in the same process registers new runtimes: so each call reads what is
 * registered now. Types only: no SDK client is bundled from here.
 */

let executionEngine: ExecutionEngine | undefined;
let jobRunner: JobRunner | undefined;
let scheduleTrigger: ScheduleTrigger | undefined;
let secretVault: SecretVault | undefined;

/** How the local platform sends notifications: its mailbox, in-process deliveries, the guarded poster. */
export interface LocalNotificationTransport {
  readonly mailer: Mailer;
  readonly queue: DeliveryQueue;
  readonly poster: WebhookPoster;
}

/** Makes the local transport of one composition root, whose deliveries run on `deps`. */
export type LocalNotificationTransportFactory = (deps: () => NotificationDeps) => LocalNotificationTransport;

let notificationTransport: LocalNotificationTransportFactory | undefined;
let notificationRaiser: ((event: QueuedEvent) => Promise<void>) | undefined;

/** Registers the local execution engine (aws-local-stepfunctions). */
export function useLocalExecutionEngine(engine: ExecutionEngine): void {
  executionEngine = engine;
}

/** Registers the runner of lifecycle jobs (the same ASL, run in-process). */
export function useLocalJobRunner(runner: JobRunner): void {
  jobRunner = runner;
}

/**
 * Registers the local notification transport (bin/local/handlers.ts). Registered, not imported:
 * the AWS roots that only raise notifications then bundle neither the local mailbox and queue nor
 * the webhook poster.
 */
export function useLocalNotificationTransport(make: LocalNotificationTransportFactory): void {
  notificationTransport = make;
}

/**
 * Registers what fans out an event a root hands on instead of fanning it out itself (on AWS, a
 * message to the delivery function): bin/local/handlers.ts runs it on the delivery root.
 */
export function useLocalNotificationRaiser(raise: (event: QueuedEvent) => Promise<void>): void {
  notificationRaiser = raise;
}

/** The registered raiser, read when used. */
export const localRaise = (event: QueuedEvent): Promise<void> =>
  registered(notificationRaiser, 'notification raiser')(event);

/**
 * Registers the local platform's vault, a key-encrypted folder under its state folder
 * (bin/local/handlers.ts). Registered, not imported: the AWS bundles then carry no local vault.
 */
export function useLocalVault(vault: SecretVault): void {
  secretVault = vault;
}

/** The registered vault, read when used. */
export const localSecretVault: SecretVault = {
  put: (tenantId, name, value, description) =>
    registered(secretVault, 'secret vault').put(tenantId, name, value, description),
  get: (tenantId, name) => registered(secretVault, 'secret vault').get(tenantId, name),
  delete: (tenantId, name) => registered(secretVault, 'secret vault').delete(tenantId, name),
};

/** Registers the in-process scheduler. */
export function useLocalScheduleTrigger(trigger: ScheduleTrigger): void {
  scheduleTrigger = trigger;
}

function registered<T>(value: T | undefined, what: string): T {
  if (!value) throw new ConfigError(`Invalid Meridian configuration: no local ${what} registered`);
  return value;
}

/** The registered execution engine, read when used (the platform registers it after loading handlers). */
export const localExecutionEngine: ExecutionEngine = {
  start: (input) => registered(executionEngine, 'execution engine').start(input),
  stop: (input) => registered(executionEngine, 'execution engine').stop(input),
  redrive: (input) => registered(executionEngine, 'execution engine').redrive(input),
  sendTaskSuccess: (token, output) =>
    registered(executionEngine, 'execution engine').sendTaskSuccess(token, output),
  sendTaskFailure: (token, error, cause) =>
    registered(executionEngine, 'execution engine').sendTaskFailure(token, error, cause),
};

/** One root's local notification transport, made from the registered factory on first use. */
export function localNotificationTransport(deps: () => NotificationDeps): LocalNotificationTransport {
  let made: LocalNotificationTransport | undefined;
  const get = () => {
    made ??= registered(notificationTransport, 'notification transport')(deps);
    return made;
  };
  return {
    mailer: { send: (tenantId, mail) => get().mailer.send(tenantId, mail) },
    queue: {
      enqueue: (ref, delayMs) => get().queue.enqueue(ref, delayMs),
      deadLetter: (ref, reason) => get().queue.deadLetter(ref, reason),
    },
    poster: {
      check: (url, egress) => get().poster.check(url, egress),
      post: (url, body, headers, egress) => get().poster.post(url, body, headers, egress),
    },
  };
}

/** The registered job runner, read when used. */
export const localJobRunner: JobRunner = {
  start: (input) => registered(jobRunner, 'job runner').start(input),
};

/** The registered scheduler, read when used. */
export const localScheduleTrigger: ScheduleTrigger = {
  register: (tenantId, schedule) => registered(scheduleTrigger, 'scheduler').register(tenantId, schedule),
  unregister: (tenantId, scheduleId) =>
    registered(scheduleTrigger, 'scheduler').unregister(tenantId, scheduleId),
  deleteAllForTenant: (tenantId) => registered(scheduleTrigger, 'scheduler').deleteAllForTenant(tenantId),
};

const localRecords = new Map<string, string[]>();

/**
 * Publishes a TXT record that only the local platform sees: bin/local/bootstrap.ts proves the demo
 * tenant's email domain (`.local`, which no DNS serves) as a tenant admin would prove theirs.
 */
export function publishLocalTxt(name: string, value: string): void {
  localRecords.set(name.toLowerCase(), [...(localRecords.get(name.toLowerCase()) ?? []), value]);
}

/** TXT lookups on the local platform: its own records (publishLocalTxt), else DNS. */
export function localTxtLookup(dns: TxtLookup): TxtLookup {
  return async (name) => localRecords.get(name.toLowerCase()) ?? dns(name);
}
