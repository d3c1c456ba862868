import type { StepRunnerDeps } from '#core/executions/step-runner.ts';
import type { Notify } from '#core/notifications/model.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { DynamoBudgetStore } from '../dynamo/budget-store.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoExecutionSteps } from '../dynamo/execution-steps.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { artifactsOf, tableOnly, vaultOf } from './base.ts';
import { notificationsOf } from './notifications.ts';

/** The step runner's adapters; the handler adds providers, tools and its observability. */
export type StepRunnerWiring = Pick<
  StepRunnerDeps,
  'executions' | 'definitions' | 'vault' | 'artifacts' | 'budgets'
> & {
  /** Raises the budget threshold notification. */
  readonly notify: Notify;
  readonly store: Pick<TenancyStore, 'getTenant'>;
};

let wired: StepRunnerWiring | undefined;

/** The step runner's composition root, built once per container. */
export function stepRunnerWiring(): StepRunnerWiring {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.stepRunner);
  const { clients, table } = tableOnly(cfg);
  const vault = vaultOf(cfg, clients);
  const store = dynamoTenancyStore(table);
  const { notify } = notificationsOf(cfg, {
    table,
    vault,
    tenancy: store,
    awsTransport: awsQueueTransport,
  });
  wired = {
    executions: new DynamoExecutionSteps(table),
    definitions: new DynamoDefinitionStore(table),
    vault,
    artifacts: artifactsOf(cfg, clients),
    budgets: new DynamoBudgetStore(table),
    notify,
    store,
  };
  return wired;
}
