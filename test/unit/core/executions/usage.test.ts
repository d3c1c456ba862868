import { describe, expect, it } from 'vitest';
import { monthUsage } from '#core/executions/usage.ts';

const T = 'tabcdefghijklmnop';
const counters = (executions: number, costMicros: number) => ({
  executions,
  inputTokens: 10 * executions,
  outputTokens: 5 * executions,
  costMicros,
});

describe('monthUsage', () => {
  it('shapes the counters by dimension, with the plan’s quota (free when the tenant is gone)', async () => {
    // Prepare
    const deps = {
      executions: {
        usage: async () => ({
          total: counters(3, 1_500_000),
          byDimension: [
            { kind: 'WORKFLOW', id: 'wa', counters: counters(2, 1_000_000) },
            { kind: 'AGENT', id: 'ab', counters: counters(1, 500_000) },
          ],
        }),
      },
      tenancy: { getTenant: async () => undefined },
    } as unknown as Parameters<typeof monthUsage>[0];
    // Act
    const usage = await monthUsage(deps, T, '2026-11');
    // Assess
    expect(usage).toEqual({
      month: '2026-11',
      total: { executions: 3, inputTokens: 30, outputTokens: 15, costUsd: '1.500000', costMicros: 1_500_000 },
      byWorkflow: [
        {
          id: 'wa',
          executions: 2,
          inputTokens: 20,
          outputTokens: 10,
          costUsd: '1.000000',
          costMicros: 1_000_000,
        },
      ],
      byAgent: [
        {
          id: 'ab',
          executions: 1,
          inputTokens: 10,
          outputTokens: 5,
          costUsd: '0.500000',
          costMicros: 500_000,
        },
      ],
      byTeam: [],
      plan: { name: 'free', executionsPerMonth: 100 },
    });
  });

  it("names an existing tenant's plan and its quota (none for enterprise)", async () => {
    // Prepare
    const deps = (plan: string) =>
      ({
        executions: { usage: async () => ({ total: counters(0, 0), byDimension: [] }) },
        tenancy: { getTenant: async (id: string) => (id === T ? { tenantId: T, plan } : undefined) },
      }) as unknown as Parameters<typeof monthUsage>[0];
    // Act
    const pro = await monthUsage(deps('pro'), T, '2026-11');
    const enterprise = await monthUsage(deps('enterprise'), T, '2026-11');
    // Assess
    expect(pro.plan).toEqual({ name: 'pro', executionsPerMonth: 100_000 });
    expect(enterprise.plan).toEqual({ name: 'enterprise', executionsPerMonth: null });
  });
});
