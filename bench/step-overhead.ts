/**
 * Section 7: the platform's own time per agent step, without the provider. `runStep`
 * (functions/core/executions/step-runner.ts), the step runner's core, is called in process with the
 * platform's real stores (DynamoDB Local through the handlers' document client, the local secret
 * vault, the S3 artifact store) and a provider stub that answers at once; each call is timed whole.
 * The step records go into an execution of section 6 that has finished, one new step per call.
 */
import type { AgentDefinition } from '#core/catalog/model.ts';
import type { ModelProvider, ModelResponse } from '#core/executions/model-port.ts';
import type { StepRunnerDeps, StepTask } from '#core/executions/step-runner.ts';
import type { DynamoCall } from './dynamo-recorder.ts';
import type { ExecutionResults } from './executions.ts';
import type { BenchPlatform } from './local-session.ts';

/** What section 7 measured. */
export interface OverheadResults {
  readonly warmup: number;
  /** Wall time of each timed `runStep` call, ms. */
  readonly samples: readonly number[];
  /** Of each call, the time spent waiting on DynamoDB Local (sum of its requests' round trips), ms. */
  readonly dynamoMs: readonly number[];
  /** DynamoDB requests of one warm call (the last one). */
  readonly callsPerStep: readonly DynamoCall[];
  /** Provider calls the stub answered (one per step: no tool calls). */
  readonly providerCalls: number;
}

/** The phase label of the overhead calls' DynamoDB requests. */
export const OVERHEAD_PHASE = 'step-overhead';

/** Calls `runStep` `warmup + runs` times, timing the last `runs`. */
export async function measureStepOverhead(
  bench: BenchPlatform,
  executions: ExecutionResults,
  options: { runs: number; warmup: number },
): Promise<OverheadResults> {
  const [{ adapters }, { toolRunner }, { costOf }, { runStep }] = await Promise.all([
    import('#adapters/container.ts'),
    import('#adapters/tools/index.ts'),
    import('#core/executions/pricing.ts'),
    import('#core/executions/step-runner.ts'),
  ]);
  let providerCalls = 0;
  const reply: ModelResponse = {
    text: '{"label":"refund","confidence":0.92}',
    toolCalls: [],
    usage: { inputTokens: 120, outputTokens: 8 },
    stopReason: 'end',
  };
  const instant: ModelProvider = {
    converse: () => {
      providerCalls++;
      return Promise.resolve(reply);
    },
  };
  const c = adapters();
  const deps: StepRunnerDeps = {
    executions: c.executions.executions,
    definitions: c.definitions,
    vault: c.vault,
    artifacts: c.executions.artifacts,
    provider: (_agent: AgentDefinition) => instant,
    tools: toolRunner(),
    cost: costOf,
    budgets: c.executions.budgets,
    onBudgetAlert: () => undefined,
    now: () => new Date(),
    // As the step-runner handler wires it: the tenant's allowlist, read for every step.
    egress: async (tenantId) => (await c.store.getTenant(tenantId))?.egressAllowlist ?? [],
  };
  const { workflow, host } = executions;
  const task = (i: number): StepTask => ({
    kind: 'agent',
    workflowId: workflow.workflowId,
    workflowVersion: workflow.version,
    // A new step per call, as successive agent steps of a run are.
    stepId: `overhead${i}`,
    ref: { id: workflow.agentId, version: 1 },
    prompt: 'Classify: {{input.text}}',
    executionId: host.executionId,
    state: {
      input: { text: 'I want a refund for order 42', order: '42' },
      steps: {},
      context: {
        tenantId: workflow.tenantId,
        executionId: host.executionId,
        workflowId: workflow.workflowId,
        workflowVersion: workflow.version,
        environment: 'dev',
        startedBy: 'bench',
        startedAt: host.startedAt,
        teams: [],
      },
    },
  });
  const samples: number[] = [];
  const dynamoMs: number[] = [];
  let callsPerStep: DynamoCall[] = [];
  await bench.recorder.settle();
  bench.recorder.take();
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const t0 = performance.now();
    await bench.recorder.phase(OVERHEAD_PHASE, () => runStep(deps, task(i)));
    const ms = performance.now() - t0;
    const calls = bench.recorder.take();
    if (i >= options.warmup) {
      samples.push(ms);
      dynamoMs.push(calls.reduce((t, c) => t + (c.ms ?? 0), 0));
    }
    if (i === options.warmup + options.runs - 1) callsPerStep = calls;
  }
  return { warmup: options.warmup, samples, dynamoMs, callsPerStep, providerCalls };
}
