import { budgetView } from './budget.ts';
import type { ExecutionDeps } from './deps.ts';
import { usdOf } from './model.ts';
import type { UsageCounters } from './ports.ts';
import { PLAN_EXECUTION_QUOTA } from './start.ts';

/** Counters as the API shows them: money both as a decimal string and in micro-USD. */
function shape(c: UsageCounters) {
  return {
    executions: c.executions,
    inputTokens: c.inputTokens,
    outputTokens: c.outputTokens,
    costUsd: usdOf(c.costMicros),
    costMicros: c.costMicros,
  };
}

/** A month's usage: the total, by workflow, agent and team, and the plan's monthly quota. */
export async function monthUsage(
  deps: Pick<ExecutionDeps, 'executions' | 'tenancy'>,
  tenantId: string,
  month: string,
) {
  const [usage, tenant] = await Promise.all([
    deps.executions.usage(tenantId, month),
    deps.tenancy.getTenant(tenantId),
  ]);
  const by = (kind: string) =>
    usage.byDimension.filter((d) => d.kind === kind).map((d) => ({ id: d.id, ...shape(d.counters) }));
  const plan = tenant?.plan ?? 'free';
  return {
    month,
    total: shape(usage.total),
    byWorkflow: by('WORKFLOW'),
    byAgent: by('AGENT'),
    byTeam: by('TEAM'),
    plan: { name: plan, executionsPerMonth: PLAN_EXECUTION_QUOTA[plan] },
  };
}

/** The budget, the month's spend and the alert thresholds already reached. */
export async function monthBudget(
  deps: Pick<ExecutionDeps, 'executions' | 'budgets'>,
  tenantId: string,
  month: string,
) {
  const [budget, total, fired] = await Promise.all([
    deps.budgets.getBudget(tenantId),
    deps.executions.monthTotal(tenantId, month),
    deps.budgets.alerts(tenantId, month),
  ]);
  return budgetView(budget, month, total.costMicros, fired);
}
