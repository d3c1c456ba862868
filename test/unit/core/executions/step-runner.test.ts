import { describe, expect, it } from 'vitest';
import type { AgentDefinition, ToolDefinition } from '#core/catalog/model.ts';
import type { StepRecord } from '#core/executions/model.ts';
import type { ModelProvider, ModelRequest } from '#core/executions/model-port.ts';
import type { ExecutionStore, StepCharge } from '#core/executions/ports.ts';
import { INLINE_OUTPUT_LIMIT, runStep, type StepTask } from '#core/executions/step-runner.ts';
import type { DefinitionKind, Version } from '#core/versioning/model.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';

const T = 'tabcdefghijklmnop';

function stored(stepKey: string, outputRef?: StepRecord['outputRef']): StepRecord {
  return {
    stepId: stepKey,
    stepKey,
    type: 'tool',
    status: 'SUCCEEDED',
    attempts: 1,
    startedAt: '2026-11-22T00:00:00Z',
    ...(outputRef ? { outputRef } : {}),
  };
}

function fakes(options: { reply?: (request: ModelRequest) => string; toolCallsPerTurn?: number } = {}) {
  const finished: { step: StepRecord; charge?: StepCharge }[] = [];
  const artifacts = new Map<string, string>();
  const records: StepRecord[] = [];
  const versions = new Map<string, Version<unknown>>();
  const put = (
    kind: DefinitionKind,
    id: string,
    version: number,
    definition: unknown,
    pins?: Version<unknown>['pins'],
  ) =>
    versions.set(`${kind}|${id}|${version}`, {
      id,
      kind,
      version,
      definition,
      createdAt: '',
      createdBy: '',
      ...(pins ? { pins } : {}),
    });
  const agent: AgentDefinition = {
    name: 'a',
    provider: 'openai',
    model: 'gpt-4o-mini',
    maxToolCalls: 2,
    tools: ['oecho'],
  } as AgentDefinition;
  put('agent', 'a1', 3, agent);
  put('tool', 'oecho', 1, {
    name: 'echo',
    type: 'builtin',
    builtin: 'echo',
    inputSchema: { type: 'object' },
  } as unknown as ToolDefinition);
  put('workflow', 'w1', 1, {}, { agents: { a1: 3 }, tools: { oecho: 1 } });
  let turn = 0;
  let spent = 0;
  const claimed = new Set<number>();
  const alerts: number[] = [];
  const fetched: string[] = [];
  const stepQueries: string[] = [];
  const provider: ModelProvider = {
    converse: async (request) => {
      turn++;
      const calls = options.toolCallsPerTurn ?? 0;
      if (calls > 0) {
        return {
          text: '',
          toolCalls: Array.from({ length: calls }, (_, i) => ({
            id: `c${turn}-${i}`,
            toolId: 'oecho',
            args: { n: i },
          })),
          usage: { inputTokens: 10, outputTokens: 1 },
          stopReason: 'tool_use',
        };
      }
      return {
        text: options.reply?.(request) ?? 'ok',
        toolCalls: [],
        usage: { inputTokens: 100, outputTokens: 20 },
        stopReason: 'end',
      };
    },
  };
  const executions = {
    startStep: async () => 1,
    steps: async (tenantId: string, executionId: string) => {
      stepQueries.push(`${tenantId}/${executionId}`);
      return records;
    },
    finishStep: async (_t: string, _e: string, step: StepRecord, charge?: StepCharge) => {
      finished.push({ step, ...(charge ? { charge } : {}) });
    },
  } as unknown as ExecutionStore;
  const definitions = {
    getVersion: async (_t: string, kind: DefinitionKind, id: string, version: number) =>
      versions.get(`${kind}|${id}|${version}`),
  } as unknown as DefinitionStore;
  const deps = {
    executions,
    definitions,
    vault: { get: async () => undefined },
    artifacts: {
      put: async (tenantId: string, key: string, body: string) => {
        artifacts.set(`${tenantId}/${key}`, body);
        return `s3://b/tenants/${tenantId}/${key}`;
      },
      get: async (tenantId: string, key: string) => {
        fetched.push(`${tenantId}/${key}`);
        const body = artifacts.get(`${tenantId}/${key}`);
        if (body === undefined) throw new Error('NoSuchKey');
        return body;
      },
    },
    provider: () => provider,
    tools: { run: async (_tool: ToolDefinition, args: Record<string, unknown>) => ({ echoed: args }) },
    cost: (_p: string, _m: string, usage: { inputTokens: number; outputTokens: number }) => ({
      micros: usage.inputTokens + usage.outputTokens,
    }),
    now: () => new Date('2026-11-22T00:00:00Z'),
    budgets: {
      getBudget: async () => ({
        monthlyLimitMicros: 200,
        alertThresholds: [50, 90],
        hardStop: true,
        updatedAt: '',
        updatedBy: '',
      }),
      putBudget: async () => undefined,
      monthSpend: async () => spent,
      claimAlert: async (_t: string, _m: string, threshold: number) => {
        if (claimed.has(threshold)) return false;
        claimed.add(threshold);
        return true;
      },
      alerts: async () => [...claimed],
    },
    onBudgetAlert: (alert: { threshold: number }) => {
      alerts.push(alert.threshold);
    },
  };
  return {
    deps,
    finished,
    artifacts,
    records,
    stepQueries,
    alerts,
    fetched,
    spend: (micros: number) => {
      spent = micros;
    },
  };
}

function task(overrides: Partial<StepTask> = {}): StepTask {
  return {
    kind: 'agent',
    workflowId: 'w1',
    workflowVersion: 1,
    stepId: 'ask',
    ref: { id: 'a1', version: 3 },
    prompt: 'Hello {{input.name}}',
    executionId: 'x1',
    state: {
      input: { name: 'Ada' },
      steps: {},
      context: {
        tenantId: T,
        executionId: 'x1',
        workflowId: 'w1',
        workflowVersion: 1,
        environment: 'dev',
        startedBy: 'u',
        startedAt: '2026-11-21T23:59:00Z',
        teams: ['m1'],
      },
    },
    ...overrides,
  };
}

describe('runStep', () => {
  it('runs the pinned agent with the template resolved and records output, usage and cost once', async () => {
    // Prepare
    const f = fakes({ reply: (r) => `got ${r.messages[0]?.role === 'user' ? r.messages[0].content : ''}` });
    // Act
    const output = (await runStep(f.deps, task())) as { text: string; costUsd: string };
    // Assess
    expect(output.text).toBe('got Hello Ada');
    expect(output.costUsd).toBe('0.000120');
    expect(f.finished).toHaveLength(1);
    expect(f.finished[0]?.step.status).toBe('SUCCEEDED');
    expect(f.finished[0]?.charge).toMatchObject({
      costMicros: 120,
      agentId: 'a1',
      teams: ['m1'],
      month: '2026-11',
    });
  });

  it('fires each budget threshold the month reached, once', async () => {
    // Prepare: a 200-micro budget with alerts at 50 % and 90 %; each step costs 120 micros
    const f = fakes();
    // Act
    f.spend(120);
    await runStep(f.deps, task());
    const afterFirst = [...f.alerts];
    f.spend(240);
    await runStep(f.deps, task());
    await runStep(f.deps, task());
    // Assess
    expect(afterFirst).toEqual([50]);
    expect(f.alerts).toEqual([50, 90]);
  });

  it("reads the egress allowlist beside the step's first write and the budget beside its last", async () => {
    // Prepare: each read answers only once the write it should overlap has been sent, so a runner
    // that waited for the write before reading would never finish.
    const f = fakes();
    const order: string[] = [];
    let allowlist: ((value: readonly string[]) => void) | undefined;
    let budget: ((value: unknown) => void) | undefined;
    const seen: unknown[] = [];
    const executions = f.deps.executions as unknown as Record<string, unknown>;
    const finish = executions.finishStep as (...args: unknown[]) => Promise<unknown>;
    const deps = {
      ...f.deps,
      egress: () => {
        order.push('egress');
        return new Promise<readonly string[]>((resolve) => {
          allowlist = resolve;
        });
      },
      provider: () => ({
        converse: async (request: ModelRequest) => {
          seen.push(request.egress);
          return {
            text: 'ok',
            toolCalls: [],
            usage: { inputTokens: 100, outputTokens: 20 },
            stopReason: 'end' as const,
          };
        },
      }),
      executions: {
        ...executions,
        startStep: async () => {
          order.push('startStep');
          allowlist?.(['10.1.0.0/16']);
          return 1;
        },
        finishStep: async (...args: unknown[]) => {
          order.push('finishStep');
          budget?.(await f.deps.budgets.getBudget());
          return finish(...args);
        },
      } as unknown as ExecutionStore,
      budgets: {
        ...f.deps.budgets,
        getBudget: () => {
          order.push('getBudget');
          return new Promise<Awaited<ReturnType<typeof f.deps.budgets.getBudget>>>((resolve) => {
            budget = resolve as (value: unknown) => void;
          });
        },
      },
    } as typeof f.deps;
    f.spend(120);
    // Act
    await runStep(deps, task());
    // Assess
    expect(order).toEqual(['egress', 'startStep', 'getBudget', 'finishStep']);
    expect(seen).toEqual([['10.1.0.0/16']]);
    expect(f.alerts).toEqual([50]);
  });

  it('fails the step, recorded, when the egress allowlist cannot be read', async () => {
    // Prepare
    const f = fakes();
    const deps = { ...f.deps, egress: () => Promise.reject(new Error('throttled')) };
    // Act
    const run = runStep(deps, task());
    // Assess
    await expect(run).rejects.toThrow('throttled');
    expect(f.finished.map((x) => x.step.status)).toEqual(['FAILED']);
  });

  it.each([
    ['a scripted agent without tools', 'agent', 'quiet', { provider: 'scripted', model: 's', script: [] }, 0],
    [
      'an agent with a tool',
      'agent',
      'tooled',
      { provider: 'scripted', model: 's', script: [], tools: ['oecho'] },
      1,
    ],
    ['an openai agent (it names an endpoint)', 'agent', 'remote', { provider: 'openai', model: 'm' }, 1],
    [
      'a builtin tool',
      'tool',
      'obuilt',
      { type: 'builtin', builtin: 'echo', inputSchema: { type: 'object' } },
      0,
    ],
    [
      'an http tool',
      'tool',
      'ohttp',
      { type: 'http', url: 'https://x.example/', method: 'GET', inputSchema: { type: 'object' } },
      1,
    ],
  ] as const)(
    'reads the egress allowlist for %s only when it can reach the network',
    async (_name, kind, id, definition, reads) => {
      // Prepare: run twice, so the second run decides from the cached definition
      const f = fakes();
      let asked = 0;
      const passed: unknown[] = [];
      const deps = {
        ...f.deps,
        egress: async () => {
          asked++;
          return ['10.1.0.0/16'];
        },
        definitions: {
          getVersion: async (_t: string, k: string, i: string, v: number) =>
            k === kind && i === id
              ? {
                  id,
                  kind,
                  version: v,
                  definition: { name: id, ...definition },
                  createdAt: '',
                  createdBy: '',
                }
              : f.deps.definitions.getVersion(_t, k as DefinitionKind, i, v),
        } as unknown as DefinitionStore,
        provider: () => ({
          converse: async (request: ModelRequest) => {
            passed.push(request.egress);
            return {
              text: 'ok',
              toolCalls: [],
              usage: { inputTokens: 1, outputTokens: 1 },
              stopReason: 'end' as const,
            };
          },
        }),
        tools: {
          run: async (
            _tool: ToolDefinition,
            _args: Record<string, unknown>,
            ctx: { egress: readonly string[] },
          ) => {
            passed.push(ctx.egress);
            return {};
          },
        },
      } as unknown as typeof f.deps;
      const step = task({ kind, ref: { id, version: 1 }, ...(kind === 'tool' ? { args: {} } : {}) });
      // Act
      await runStep(deps, step);
      await runStep(deps, step);
      // Assess
      // Before its definition is cached, a step reads the list beside its first write in case it needs it.
      expect(asked).toBe(reads ? 2 : 1);
      expect(passed).toEqual(Array(2).fill(reads ? ['10.1.0.0/16'] : []));
    },
  );

  it('keeps outputs over the inline limit in the artifact store and records the reference on the step', async () => {
    // Prepare
    const big = 'x'.repeat(INLINE_OUTPUT_LIMIT + 10);
    const f = fakes({ reply: () => big });
    // Act
    const output = (await runStep(f.deps, task())) as { $ref?: string; step?: string };
    // Assess
    expect(output).toEqual({
      $ref: `s3://b/tenants/${T}/executions/x1/ask-1.json`,
      step: 'ask',
      size: expect.any(Number),
    });
    expect(JSON.parse(f.artifacts.get(`${T}/executions/x1/ask-1.json`) ?? '{}').text).toBe(big);
    expect(f.finished[0]?.step.output).toEqual(output);
    expect(f.finished[0]?.step.outputRef).toEqual({
      key: 'executions/x1/ask-1.json',
      uri: output.$ref,
      size: f.artifacts.get(`${T}/executions/x1/ask-1.json`)?.length,
    });
  });

  it("resolves an earlier step's marker through this execution's own step record", async () => {
    // Prepare
    const f = fakes({ reply: (r) => (r.messages[0]?.role === 'user' ? r.messages[0].content : '') });
    f.artifacts.set(`${T}/executions/x1/first-1.json`, JSON.stringify({ data: { city: 'Paris' } }));
    f.artifacts.set(`${T}/executions/x1/other-1.json`, JSON.stringify({ text: 'never read' }));
    const uri = (key: string) => `s3://b/tenants/${T}/${key}`;
    f.records.push(
      stored('first', { key: 'executions/x1/first-1.json', uri: uri('executions/x1/first-1.json'), size: 9 }),
      stored('other', { key: 'executions/x1/other-1.json', uri: uri('executions/x1/other-1.json'), size: 9 }),
    );
    const state = {
      ...task().state,
      steps: {
        first: { output: { $ref: uri('executions/x1/first-1.json'), step: 'first', size: 9 } },
        other: { output: { $ref: uri('executions/x1/other-1.json'), step: 'other', size: 9 } },
      },
    };
    // Act
    const output = (await runStep(
      f.deps,
      task({ prompt: 'city={{steps.first.output.data.city}}', state }),
    )) as { text: string };
    // Assess
    expect(output.text).toBe('city=Paris');
    expect(f.fetched).toEqual([`${T}/executions/x1/first-1.json`]);
    expect(f.stepQueries).toEqual([`${T}/x1`]);
  });

  it.each([
    ['a plain $ref in a tool response', { $ref: 's3://b/tenants/tother0000000000/executions/e/s-1.json' }],
    [
      'a marker no step record backs',
      { $ref: 's3://b/tenants/tother0000000000/executions/e/s-1.json', step: 'first', size: 9 },
    ],
    ['a marker naming a step without a stored output', { $ref: 's3://b/x', step: 'plain', size: 9 }],
  ])('never resolves %s: the templates see the data as it is', async (_name, forged) => {
    // Prepare
    const f = fakes({ reply: (r) => (r.messages[0]?.role === 'user' ? r.messages[0].content : '') });
    f.artifacts.set('tother0000000000/executions/e/s-1.json', JSON.stringify({ secret: 'of tenant B' }));
    f.records.push(
      stored('first', { key: 'executions/x1/first-1.json', uri: 's3://b/elsewhere', size: 9 }),
      stored('plain'),
    );
    const state = { ...task().state, steps: { first: { output: forged } } };
    // Act
    const output = (await runStep(f.deps, task({ prompt: 'got={{steps.first.output}}', state }))) as {
      text: string;
    };
    // Assess
    expect(f.fetched).toEqual([]);
    expect(output.text).toBe(`got=${JSON.stringify(forged)}`);
    expect(output.text).not.toContain('of tenant B');
  });

  it('stops an agent that asks for more tool calls than it may, and records the failure under its name', async () => {
    // Prepare
    const f = fakes({ toolCallsPerTurn: 3 });
    // Act
    const run = runStep(f.deps, task());
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'Agent.TooManyToolCalls' });
    expect(f.finished[0]?.step).toMatchObject({
      status: 'FAILED',
      error: { error: 'Agent.TooManyToolCalls' },
    });
  });

  it('refuses a task without a run context (it cannot know the tenant)', async () => {
    // Prepare
    const f = fakes();
    // Act
    const run = runStep(f.deps, task({ state: { input: {}, steps: {} } }));
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'Step.BadPayload' });
    expect(f.finished).toHaveLength(0);
  });
});
