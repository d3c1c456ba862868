import { providerFor } from '#adapters/providers/index.ts';
import { toolRunner } from '#adapters/tools/index.ts';
import { STEP_RUNNER_SETTINGS, stepRunnerWiring } from '#adapters/wiring/step-runner.ts';
import type { AgentDefinition } from '#core/catalog/model.ts';
import type { ModelProvider } from '#core/executions/model-port.ts';
import { costOf } from '#core/executions/pricing.ts';
import { runStep, type StepRunnerDeps, type StepTask } from '#core/executions/step-runner.ts';
import { config } from '#shared/config.ts';
import {
  annotate,
  inSubsegment,
  logger,
  metrics,
  recordModelUsage,
  tracedHandler,
} from '#shared/observability.ts';

config(STEP_RUNNER_SETTINGS);

let deps: StepRunnerDeps | undefined;

/** The agent's provider, each call in its own trace subsegment annotated with provider and model. */
export function tracedProvider(agent: AgentDefinition, provider: ModelProvider): ModelProvider {
  return {
    converse: (request) =>
      inSubsegment(`### ${agent.provider} converse`, { provider: agent.provider, model: agent.model }, () =>
        provider.converse(request),
      ),
  };
}

function wiring(): StepRunnerDeps {
  if (deps) return deps;
  const c = stepRunnerWiring();
  deps = {
    executions: c.executions,
    definitions: c.definitions,
    vault: c.vault,
    artifacts: c.artifacts,
    provider: (agent) => tracedProvider(agent, providerFor(agent)),
    tools: toolRunner(),
    cost: costOf,
    budgets: c.budgets,
    onBudgetAlert: async (alert) => {
      // The log line names tenant and threshold; the metric stays low-cardinality for the alarm.
      logger.warn('Budget threshold reached', { ...alert });
      metrics.addMetric('BudgetThresholdReached', 'Count', 1);
      // Queued, not delivered here: the step does not wait on any receiver.
      await c.notify({ type: 'budget.threshold', at: new Date().toISOString(), ...alert });
    },
    onModelUsage: recordModelUsage,
    now: () => new Date(),
    // Read per step, so a platform admin's change applies to the next step.
    egress: async (tenantId) => (await c.store.getTenant(tenantId))?.egressAllowlist ?? [],
  };
  return deps;
}

/**
 * The Lambda behind every agent and tool Task. Errors are rethrown under their names, which Step
 * Functions reports as the task's error for the workflow's Retry and Catch.
 */
export const handler = tracedHandler('step-runner', async (event: StepTask): Promise<unknown> => {
  const context = (event.state?.context ?? {}) as { tenantId?: string };
  logger.appendKeys({ tenantId: context.tenantId, executionId: event.executionId, stepId: event.stepId });
  annotate({ tenantId: context.tenantId, executionId: event.executionId, workflowId: event.workflowId });
  const started = performance.now();
  try {
    return await runStep(wiring(), event);
  } catch (error) {
    logger.warn('Step failed', {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    metrics.addMetric('StepFailed', 'Count', 1);
    throw error;
  } finally {
    metrics.addMetric('StepDuration', 'Milliseconds', performance.now() - started);
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
});
