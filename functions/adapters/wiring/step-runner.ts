import type { StepRunnerDeps } from '#core/executions/step-runner.ts';
import type { Notify } from '#core/notifications/model.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';
import { config } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { DynamoBudgetStore } from '../dynamo/budget-store.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoExecutionSteps } from '../dynamo/execution-steps.ts';
import { DynamoRoleStore } from '../dynamo/role-store.ts';
import { DynamoTenantStore } from '../dynamo/tenant-store.ts';
import { DynamoUserStore } from '../dynamo/user-store.ts';
import { awsQueueTransport } from '../notifications/aws-queue-transport.ts';
import { offloadsOf, tableOnly, vaultOf } from './base.ts';
import { type NotificationParts, notificationsOf } from './notifications.ts';

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
  // Only the tenancy reads it makes: the tenant (egress allowlist) and, for a budget alert's
  // recipients, users and roles.
  const tenants = new DynamoTenantStore(table);
  const users = new DynamoUserStore(table);
  const roles = new DynamoRoleStore(table);
  const store: NotificationParts['tenancy'] = {
    getTenant: (tenantId) => tenants.getTenant(tenantId),
    listUsers: (tenantId, page) => users.listUsers(tenantId, page),
    getRoles: (tenantId, names) => roles.getRoles(tenantId, names),
  };
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
    // Offloads only: tagging an ended execution's artifacts is the status handler's.
    artifacts: offloadsOf(cfg, clients),
    budgets: new DynamoBudgetStore(table),
    notify,
    store,
  };
  return wired;
}
