import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { ModelProvider } from '#core/executions/model-port.ts';
import type { StepTask } from '#core/executions/step-runner.ts';
import { annotate, inSubsegment, recordModelUsage, tracedHandler, tracer } from '#shared/observability.ts';

const TENANT = 'tabcdefghijklmnop';

// Powertools counts cold starts only in an on-demand Lambda environment; say so before it loads.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

// The step runner handler's wiring, with fakes behind the adapters it reads.
vi.mock('#shared/config.ts', () => ({ config: () => ({}) }));
vi.mock('#adapters/tools/index.ts', () => ({ toolRunner: () => ({ run: async () => ({}) }) }));
vi.mock('#adapters/providers/index.ts', () => ({
  providerFor: (): ModelProvider => ({
    converse: async () => ({
      text: 'done',
      toolCalls: [],
      usage: { inputTokens: 1200, outputTokens: 34 },
      stopReason: 'end',
    }),
  }),
}));
vi.mock('#adapters/wiring/step-runner.ts', () => {
  const versions: Record<string, unknown> = {
    agent: { provider: 'openai', model: 'gpt-4o-mini', name: 'a' },
    workflow: { name: 'w', startAt: 'ask', steps: { ask: { type: 'agent', agentId: 'a1', prompt: 'hi' } } },
  };
  return {
    // The handler reads its settings at cold start: none, with this wiring.
    STEP_RUNNER_SETTINGS: [],
    stepRunnerWiring: () => ({
      definitions: {
        getVersion: async (_t: string, kind: string, id: string, version: number) => ({
          id,
          kind,
          version,
          definition: versions[kind],
          pins: { agents: { a1: 1 }, tools: {} },
        }),
      },
      vault: { get: async () => undefined },
      // The tenant's egress allowlist is read per step (functions/handlers/step-runner.ts).
      store: { getTenant: async () => undefined },
      executions: { startStep: async () => 1, finishStep: async () => undefined },
      artifacts: { put: async () => 's3://b/k', get: async () => '{}' },
      budgets: { getBudget: async () => undefined },
      notify: async () => undefined,
    }),
  };
});

/** Every EMF record written to stdout while `act` runs. */
async function emfOf(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const metricNames = (record: Record<string, unknown>): string[] =>
  (
    (record._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]?.Metrics ??
    []
  ).map((m) => m.Name);
const dimensionSets = (record: Record<string, unknown>): string[][] =>
  (record._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions ?? [];

describe('Powertools metrics and traces', () => {
  let annotations: MockInstance<typeof tracer.putAnnotation>;
  beforeEach(() => {
    annotations = vi.spyOn(tracer, 'putAnnotation');
  });
  afterEach(() => {
    annotations.mockRestore();
  });
  const annotated = (): Record<string, unknown> =>
    Object.fromEntries(annotations.mock.calls.map(([key, value]) => [key, value]));

  it('token and cost metrics: per model and per tenant, never per tenant and model', async () => {
    const [record] = await emfOf(async () =>
      recordModelUsage({
        tenantId: TENANT,
        workflowId: 'w1',
        executionId: 'x1',
        provider: 'bedrock',
        model: 'anthropic.claude',
        inputTokens: 100,
        outputTokens: 20,
        costMicros: 420,
      }),
    );
    expect(record).toMatchObject({
      InputTokens: 100,
      OutputTokens: 20,
      ModelCostUsd: 0.00042,
      provider: 'bedrock',
      model: 'anthropic.claude',
      tenantId: TENANT,
      executionId: 'x1',
      workflowId: 'w1',
    });
    expect(metricNames(record ?? {})).toEqual(['InputTokens', 'OutputTokens', 'ModelCostUsd']);
    const sets = dimensionSets(record ?? {});
    expect(sets).toContainEqual(['service', 'provider', 'model']);
    expect(sets).toContainEqual(['service', 'tenantId']);
    expect(sets.some((set) => set.includes('tenantId') && set.includes('model'))).toBe(false);
    expect(sets.flat()).not.toContain('executionId');
  });

  it('annotates only the ids that are known', () => {
    annotate({ tenantId: TENANT, executionId: undefined, workflowId: '' });
    expect(annotations.mock.calls).toEqual([['tenantId', TENANT]]);
  });

  it('a subsegment records its error and passes it on', async () => {
    const failure = new Error('provider down');
    const recorded = vi.spyOn(tracer, 'addErrorAsMetadata');
    await expect(
      inSubsegment('### openai converse', { provider: 'openai' }, () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(recorded).toHaveBeenCalledWith(failure);
    expect(annotated()).toEqual({ provider: 'openai' });
    recorded.mockRestore();
  });

  it('the step runner: a ColdStart metric once, the ids and the provider call annotated, tokens counted', async () => {
    const { handler } = await import('#handlers/step-runner.ts');
    const task: StepTask = {
      kind: 'agent',
      workflowId: 'w1',
      workflowVersion: 1,
      stepId: 'ask',
      ref: { id: 'a1', version: 1 },
      prompt: 'hi',
      executionId: 'x1',
      state: {
        input: {},
        steps: {},
        context: {
          tenantId: TENANT,
          executionId: 'x1',
          workflowId: 'w1',
          startedAt: '2026-11-29T00:00:00Z',
          teams: [],
        },
      },
    };

    const first = await emfOf(() => handler(task));
    const second = await emfOf(() => handler(task));

    expect(first.filter((r) => metricNames(r).includes('ColdStart'))).toHaveLength(1);
    expect(second.filter((r) => metricNames(r).includes('ColdStart'))).toHaveLength(0);
    expect(annotated()).toMatchObject({
      tenantId: TENANT,
      executionId: 'x1',
      workflowId: 'w1',
      provider: 'openai',
      model: 'gpt-4o-mini',
    });
    const usage = first.find((r) => metricNames(r).includes('InputTokens'));
    expect(usage).toMatchObject({
      InputTokens: 1200,
      OutputTokens: 34,
      tenantId: TENANT,
      model: 'gpt-4o-mini',
    });
    expect(first.some((r) => metricNames(r).includes('StepDuration'))).toBe(true);
  });

  it('a traced handler annotates cold start and service, and returns what the handler returns', async () => {
    const cold = vi.spyOn(tracer, 'annotateColdStart');
    const service = vi.spyOn(tracer, 'addServiceNameAnnotation');
    const wrapped = tracedHandler('probe', async (n: number) => n * 2);
    expect(await wrapped(21)).toBe(42);
    expect(cold).toHaveBeenCalledTimes(1);
    expect(service).toHaveBeenCalledTimes(1);
    cold.mockRestore();
    service.mockRestore();
  });
});
