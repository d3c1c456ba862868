import type { Execution } from '#core/executions/model.ts';

/** An execution record for unit tests: a running one of workflow w1, version 1, in dev. */
export function anExecution(overrides: Partial<Execution> = {}): Execution {
  return {
    executionId: 'x1',
    workflowId: 'w1',
    workflowVersion: 1,
    environment: 'dev',
    status: 'RUNNING',
    input: {},
    usage: { inputTokens: 0, outputTokens: 0 },
    costMicros: 0,
    startedAt: '2026-11-30T10:00:00.000Z',
    startedBy: 'u1',
    teams: [],
    requestHash: 'h',
    ...overrides,
  };
}
