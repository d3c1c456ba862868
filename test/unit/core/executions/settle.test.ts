import { describe, expect, it } from 'vitest';
import { releaseReservation } from '#core/executions/settle.ts';
import { anExecution } from '../../../helpers/executions.ts';

// The last minute of October: its charges and reservation belong to October, whenever it ends.
const ended = anExecution({
  status: 'SUCCEEDED',
  startedAt: '2026-10-31T23:59:00.000Z',
  endedAt: '2026-11-01T00:01:00.000Z',
});

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
    // Redriven without a budget: its reservation is the cost so far, nothing on top.
    await releaseReservation(deps as never, 't1', { ...ended, reservedMicros: 700, reserveBaseMicros: 700 });
    expect(deps.calls).toEqual([]);
  });

  it('does not ask again for a run already settled', async () => {
    const deps = store();
    await releaseReservation(deps as never, 't1', {
      ...ended,
      reservedMicros: 100,
      reservationSettled: true,
    });
    expect(deps.calls).toEqual([]);
  });
});
