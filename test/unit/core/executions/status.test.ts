import { describe, expect, it } from 'vitest';
import type { Execution, ExecutionStatus } from '#core/executions/model.ts';
import { recordStatus } from '#core/executions/status.ts';
import { anExecution } from '../../../helpers/executions.ts';

const execution = anExecution({ reservedMicros: 100 });

/** A store whose execution is `stored`, moving it only from RUNNING; records each settlement. */
function deps(stored: Execution) {
  const settled: number[] = [];
  return {
    settled,
    deps: {
      executions: {
        get: async () => stored,
        transition: async (_t: string, _x: string, from: readonly ExecutionStatus[]) =>
          from.includes(stored.status),
        settleReservation: async (_t: string, _x: string, _m: string, run: number) => {
          settled.push(run);
          return 0;
        },
        expire: async () => 0,
      },
      artifacts: { expire: async () => 0 },
      approvals: { get: async () => undefined },
    } as never,
  };
}

const change = {
  tenantId: 't1',
  executionId: 'x1',
  status: 'SUCCEEDED',
  at: '2026-11-30T10:01:00.000Z',
} as const;

describe('recordStatus settles the run', () => {
  it('when it moves the execution to its final status', async () => {
    const w = deps(execution);
    expect(await recordStatus(w.deps, change)).toBe(true);
    expect(w.settled).toEqual([0]);
  });

  it('again when the event comes again for an execution already ended (settling is once per run)', async () => {
    const w = deps({ ...execution, status: 'SUCCEEDED', redriveCount: 2 });
    expect(await recordStatus(w.deps, { ...change, redriveCount: 2 })).toBe(false);
    expect(w.settled).toEqual([2]);
  });

  it('not when the execution is still running and did not move', async () => {
    const w = deps({ ...execution, status: 'RUNNING' });
    // Prepare: the store refuses the move (the execution changed meanwhile)
    (w.deps as { executions: { transition: () => Promise<boolean> } }).executions.transition = async () =>
      false;
    expect(await recordStatus(w.deps, change)).toBe(false);
    expect(w.settled).toEqual([]);
  });
});
