import { describe, expect, it } from 'vitest';
import type { Execution } from '#core/executions/model.ts';
import { releaseReservation } from '#core/executions/settle.ts';

const ended: Execution = {
  executionId: 'x1',
  workflowId: 'w1',
  workflowVersion: 1,
  environment: 'dev',
  status: 'SUCCEEDED',
  input: {},
  usage: { inputTokens: 0, outputTokens: 0 },
  costMicros: 0,
  // The last minute of October: its charges and reservation belong to October, whenever it ends.
  startedAt: '2026-10-31T23:59:00.000Z',
  endedAt: '2026-11-01T00:01:00.000Z',
  startedBy: 'u1',
  teams: [],
  requestHash: 'h',
};

function store() {
  const calls: [string, string, string, number][] = [];
  return {
    calls,
    executions: {
      settleReservation: async (tenantId: string, executionId: string, month: string, run: number) => {
        calls.push([tenantId, executionId, month, run]);
        return 0;
      },
    },
  };
}

describe('settling a reservation at the end', () => {
  it('settles its run in the month the execution started in', async () => {
    const deps = store();
    await releaseReservation(deps as never, 't1', { ...ended, reservedMicros: 100 });
    await releaseReservation(deps as never, 't1', { ...ended, reservedMicros: 100, redriveCount: 2 });
    expect(deps.calls).toEqual([
      ['t1', 'x1', '2026-10', 0],
      ['t1', 'x1', '2026-10', 2],
    ]);
  });

  it('writes nothing for an execution that reserved nothing', async () => {
    const deps = store();
    await releaseReservation(deps as never, 't1', { ...ended, reservedMicros: 0 });
    await releaseReservation(deps as never, 't1', ended);
    expect(deps.calls).toEqual([]);
  });
});
