import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  QuotaExceededError,
  TenantSuspendedError,
} from '#core/errors.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import type { Execution, RedriveRecord } from '#core/executions/model.ts';
import type { RedriveChange, Reservation } from '#core/executions/ports.ts';
import { MAX_REDRIVES, redriveExecution } from '#core/executions/redrive.ts';
import type { Caller } from '#core/tenancy/context.ts';

/**
 * The redrive use case against in-memory ports: what it checks, reserves, claims and gives back.
 * The DynamoDB store and both engines are exercised by the integration and aws suites.
 */

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T10:00:00.000Z';
const caller: Caller = {
  principal: {
    kind: 'tenant',
    tenantId: T,
    principalId: 'u1',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(),
  },
  meta: { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'ua', now: NOW },
};

const failed: Execution = {
  executionId: 'x1',
  workflowId: 'w1',
  workflowVersion: 2,
  environment: 'dev',
  status: 'FAILED',
  input: {},
  error: { error: 'Tool.HttpError', cause: '503' },
  usage: { inputTokens: 10, outputTokens: 5 },
  costMicros: 700,
  startedAt: '2026-10-31T23:59:00.000Z',
  endedAt: '2026-11-28T10:00:00.000Z',
  startedBy: 'u1',
  teams: [],
  requestHash: 'h',
  engineArn: 'arn:aws:states:us-east-1:1:execution:m:x1',
  reservedMicros: 500,
};

interface Options {
  execution?: Execution;
  tenant?: { plan: 'free' | 'pro' | 'enterprise'; status: string };
  budget?: Record<string, unknown>;
  refuseReservation?: boolean;
  slotsFull?: boolean;
  engineRefuses?: boolean;
  /** Another request's redrive lands between this one's read and its write. */
  raceWith?: Execution;
}

function world(options: Options = {}) {
  let current: Execution | undefined = options.execution ?? failed;
  const redrives = new Map<string, RedriveRecord>();
  const log: string[] = [];
  const reservations: { month: string; reservation: Reservation }[] = [];
  const releases: { month: string; micros: number; executions: number }[] = [];
  const changes: RedriveChange[] = [];
  const deps = {
    executions: {
      get: async () => current,
      getRedrive: async (_t: string, _x: string, id: string) => redrives.get(id),
      reserveStart: async (_t: string, month: string, reservation: Reservation) => {
        reservations.push({ month, reservation });
        return options.refuseReservation ? { executions: 0, committedMicros: 9_999_999 } : undefined;
      },
      release: async (_t: string, month: string, micros: number, executions: number) => {
        releases.push({ month, micros, executions });
      },
      settleReservation: async (_t: string, _x: string, month: string, run: number) => {
        log.push(`settle-${month}-${run}`);
        return 0;
      },
      redrive: async (_t: string, _x: string, change: RedriveChange) => {
        changes.push(change);
        if (options.raceWith) {
          current = options.raceWith;
          return false;
        }
        if (!current || !['FAILED', 'TIMED_OUT'].includes(current.status)) return false;
        if ((current.redriveCount ?? 0) !== change.previousCount) return false;
        const { error: _e, endedAt: _d, ...rest } = current;
        current = {
          ...rest,
          status: 'RUNNING',
          redriveCount: change.previousCount + 1,
          redrivenAt: change.redrivenAt,
          reservedMicros: change.reservedMicros,
        };
        if (change.record) redrives.set(change.record.redriveId, change.record);
        return true;
      },
      expire: async (_t: string, _x: string, expiresAt: number | undefined) => {
        log.push(`expire-${String(expiresAt)}`);
        return 1;
      },
      abandonRedrive: async (_t: string, _x: string, prior: Execution, redriveId?: string) => {
        log.push('abandon');
        current = prior;
        if (redriveId) redrives.delete(redriveId);
      },
    },
    tenancy: {
      getTenant: async () => options.tenant ?? { plan: 'pro', status: 'active' },
      getUser: async () => undefined,
    },
    budgets: { getBudget: async () => options.budget },
    slots: {
      claim: async () => {
        log.push('claim');
        return !options.slotsFull;
      },
      release: async () => {
        log.push('release-slot');
      },
    },
    engine: {
      redrive: async (input: { redriveCount: number }) => {
        log.push(`engine-${input.redriveCount}`);
        if (options.engineRefuses) throw new ConflictError('cannot redrive');
      },
    },
    now: () => new Date(NOW),
  } as unknown as ExecutionDeps;
  return { deps, log, reservations, releases, changes, redrives, current: () => current };
}

describe('redriveExecution', () => {
  it('settles the run that ended, by its own count, before reserving for the next; nothing without a reservation', async () => {
    const twice = world({ execution: { ...failed, redriveCount: 2 } });
    await redriveExecution(twice.deps, caller, 'x1', undefined);
    expect(twice.log[0]).toBe('settle-2026-10-2');
    const unreserved = world({ execution: { ...failed, reservedMicros: 0 } });
    await redriveExecution(unreserved.deps, caller, 'x1', undefined);
    expect(unreserved.log.filter((line) => line.startsWith('settle'))).toEqual([]);
  });

  it('answers the redrive it made even when the run has ended before the answer', async () => {
    // Prepare: the engine runs the redriven step at once, and the run succeeds
    const w = world();
    const engine = w.deps.engine as unknown as {
      redrive: (input: { redriveCount: number }) => Promise<void>;
    };
    const start = engine.redrive;
    engine.redrive = async (input) => {
      await start(input);
      const ended = { ...(w.current() as Execution), status: 'SUCCEEDED' as const, endedAt: NOW };
      (w.deps.executions as unknown as { get: () => Promise<Execution> }).get = async () => ended;
    };
    // Act
    const result = await redriveExecution(w.deps, caller, 'x1', undefined);
    // Assess: what this redrive made, without the earlier run's end
    expect(result.execution).toMatchObject({ status: 'RUNNING', redriveCount: 1, redrivenAt: NOW });
    expect(result.execution.endedAt).toBeUndefined();
    expect(result.execution.error).toBeUndefined();
  });

  it('refuses an execution past its tenant’s retention (the table may already be deleting it)', async () => {
    const w = world({
      execution: {
        ...failed,
        retentionDays: 1,
        endedAt: new Date(Date.parse(NOW) - 2 * 86_400_000).toISOString(),
      },
    });
    await expect(redriveExecution(w.deps, caller, 'x1', undefined)).rejects.toThrow(
      /past its tenant's retention/,
    );
    expect(w.changes).toEqual([]);
  });

  it('moves a FAILED execution back to RUNNING: one more redrive, a reservation in its start month, a run slot', async () => {
    const w = world({
      budget: {
        monthlyLimitMicros: 10_000_000,
        hardStop: true,
        reservePerExecutionMicros: 2_000,
        alertThresholds: [],
      },
    });
    const result = await redriveExecution(w.deps, caller, 'x1', 'key-1');
    expect(result).toMatchObject({ created: true, redriveCount: 1 });
    expect(w.current()).toMatchObject({ status: 'RUNNING', redriveCount: 1, redrivenAt: NOW });
    // The month the execution started in, where its charges go; not another execution of the month.
    expect(w.reservations).toEqual([
      {
        month: '2026-10',
        reservation: { reserveMicros: 2_000, countsExecution: false, maxCommittedMicros: 10_000_000 - 2_000 },
      },
    ]);
    expect(w.changes[0]).toMatchObject({
      previousCount: 0,
      reservedMicros: 700 + 2_000,
      reserveBaseMicros: 700,
    });
    expect(w.changes[0]?.record).toMatchObject({ redriveCount: 1, redrivenBy: 'u1' });
    // The ended run settled first (normally already, by its status event: then a no-op).
    expect(w.log).toEqual(['settle-2026-10-0', 'claim', 'engine-1', 'expire-undefined']);
    expect(w.releases).toEqual([]);
  });

  it('answers a replayed key with the redrive it made, even after that run ended, and redrives nothing', async () => {
    const w = world();
    await redriveExecution(w.deps, caller, 'x1', 'key-1');
    const ended = { ...(w.current() as Execution), status: 'FAILED' as const };
    const again = world({ execution: ended });
    for (const [id, record] of w.redrives) again.redrives.set(id, record);
    const replay = await redriveExecution(again.deps, caller, 'x1', 'key-1');
    expect(replay).toMatchObject({ created: false, redriveCount: 1 });
    expect(again.changes).toEqual([]);
    expect(again.log).toEqual([]);
    // Another key is a new redrive of the execution that failed again.
    expect(await redriveExecution(again.deps, caller, 'x1', 'key-2')).toMatchObject({
      created: true,
      redriveCount: 2,
    });
  });

  it('while a redrive runs, answers it instead of refusing or redriving again', async () => {
    const w = world({ execution: { ...failed, status: 'WAITING_APPROVAL', redriveCount: 3 } });
    expect(await redriveExecution(w.deps, caller, 'x1', undefined)).toMatchObject({
      created: false,
      redriveCount: 3,
    });
    expect(w.reservations).toEqual([]);
  });

  it('losing a race to another request answers the winner’s redrive and gives its reservation back', async () => {
    const w = world({ raceWith: { ...failed, status: 'RUNNING', redriveCount: 1 } });
    expect(await redriveExecution(w.deps, caller, 'x1', 'key-3')).toMatchObject({
      created: false,
      redriveCount: 1,
    });
    expect(w.releases).toEqual([{ month: '2026-10', micros: 0, executions: 0 }]);
    // The winner holds the execution's run slot: it stays taken.
    expect(w.log).toEqual(['settle-2026-10-0', 'claim']);
  });

  it.each([
    ['RUNNING and never redriven', { status: 'RUNNING' as const }],
    ['SUCCEEDED', { status: 'SUCCEEDED' as const }],
    ['CANCELLED', { status: 'CANCELLED' as const }],
    [`redriven ${MAX_REDRIVES} times`, { redriveCount: MAX_REDRIVES }],
    ['ended over 14 days ago', { endedAt: '2026-11-14T09:59:59.000Z' }],
  ])('refuses an execution %s with 409, reserving nothing', async (_what, change) => {
    const w = world({ execution: { ...failed, ...change } });
    await expect(redriveExecution(w.deps, caller, 'x1', undefined)).rejects.toBeInstanceOf(ConflictError);
    expect(w.reservations).toEqual([]);
    expect(w.log).toEqual([]);
  });

  it('another tenant’s (or no) execution is 404; a suspended tenant 403', async () => {
    const none = world();
    none.deps.executions.get = async () => undefined;
    await expect(redriveExecution(none.deps, caller, 'x1', undefined)).rejects.toBeInstanceOf(NotFoundError);
    const suspended = world({ tenant: { plan: 'pro', status: 'suspended' } });
    await expect(redriveExecution(suspended.deps, caller, 'x1', undefined)).rejects.toBeInstanceOf(
      TenantSuspendedError,
    );
    expect(suspended.reservations).toEqual([]);
  });

  it('a spent hard-stop budget is 402 and the bulkhead’s cap 429, leaving the execution FAILED', async () => {
    const budget = {
      monthlyLimitMicros: 1_000,
      hardStop: true,
      reservePerExecutionMicros: 500,
      alertThresholds: [],
    };
    const broke = world({ budget, refuseReservation: true });
    await expect(redriveExecution(broke.deps, caller, 'x1', undefined)).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(broke.current()?.status).toBe('FAILED');
    expect(broke.log).toEqual(['settle-2026-10-0']);

    const full = world({ budget: { ...budget, monthlyLimitMicros: 1_000_000 }, slotsFull: true });
    await expect(redriveExecution(full.deps, caller, 'x1', undefined)).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    expect(full.current()?.status).toBe('FAILED');
    expect(full.releases).toEqual([{ month: '2026-10', micros: 500, executions: 0 }]);
  });

  it('when the engine refuses, the execution is put back, the key freed, reservation and slot returned', async () => {
    const w = world({ engineRefuses: true });
    await expect(redriveExecution(w.deps, caller, 'x1', 'key-4')).rejects.toBeInstanceOf(ConflictError);
    // Put back as it was, with its run settled (the redrive settled it first).
    expect(w.current()).toEqual({ ...failed, reservationSettled: true });
    expect(w.redrives.size).toBe(0);
    expect(w.log).toEqual(['settle-2026-10-0', 'claim', 'engine-1', 'abandon', 'release-slot']);
    expect(w.releases).toEqual([{ month: '2026-10', micros: 0, executions: 0 }]);
  });
});
