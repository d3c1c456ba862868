import type { StepRunnerDeps } from '#core/executions/step-runner.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';
import { artifacts, circuits, config, core, notifications, secrets } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { DynamoBudgetReads } from '../dynamo/budget-store.ts';
import { readVersion } from '../dynamo/definition-store.ts';
import { DynamoExecutionSteps } from '../dynamo/execution-steps.ts';
import { readTenant } from '../dynamo/tenant-store.ts';
import { sqsRaiseOf } from '../notifications/aws-queue-transport.ts';
import type { QueuedEvent } from '../notifications/queues.ts';
import { offloadsOf, secretsOf, tableReadsOnly } from './base.ts';
import { localRaise } from './local.ts';

/** The step runner's adapters; the handler adds providers, tools and its observability. */
export type StepRunnerWiring = Pick<
  StepRunnerDeps,
  'executions' | 'definitions' | 'vault' | 'artifacts' | 'budgets'
> & {
  /** Raises the budget threshold notification. Best effort: never throws into the step. */
  readonly notify: (event: QueuedEvent) => Promise<void>;
  readonly store: Pick<TenancyStore, 'getTenant'>;
};

/** The step runner's settings (circuits: functions/adapters/providers/index.ts). */
export const STEP_RUNNER_SETTINGS = [core, secrets, artifacts, circuits, notifications] as const;

let wired: StepRunnerWiring | undefined;

/** The step runner's composition root, built once per container. */
export function stepRunnerWiring(): StepRunnerWiring {
  if (wired) return wired;
  const cfg = config(STEP_RUNNER_SETTINGS);
  // No audited change and no paged list: the table's reads and writes alone (no audit chain code).
  const { clients, table } = tableReadsOnly(cfg);
  // A budget alert is handed to the delivery function, which fans it out (channels, users and their
  // roles): the step waits on one queued message, not on the tenant's recipients.
  const raise = cfg.MERIDIAN_MODE === 'local' ? localRaise : sqsRaiseOf(cfg);
  wired = {
    executions: new DynamoExecutionSteps(table),
    // The one definition read it makes: a pinned version.
    definitions: {
      getVersion: (tenantId, kind, id, version) => readVersion(table, tenantId, kind, id, version),
    },
    // Secrets are read here (model keys, tool bindings), never written.
    vault: secretsOf(cfg, clients),
    // Offloads only: tagging an ended execution's artifacts is the status handler's.
    artifacts: offloadsOf(cfg, clients),
    budgets: new DynamoBudgetReads(table),
    notify: async (event) => {
      try {
        await raise(event);
      } catch (error) {
        logger.error('Budget alert could not be queued', {
          error,
          event: event.type,
          tenantId: event.tenantId,
        });
      }
    },
    // The only tenancy read it makes: the tenant's egress allowlist.
    store: { getTenant: (tenantId) => readTenant(table, tenantId) },
  };
  return wired;
}
