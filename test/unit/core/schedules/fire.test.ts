import { describe, expect, it, vi } from 'vitest';
import { TransientError } from '#core/errors.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import {
  createSchedule,
  fireKey,
  fireSchedule,
  type Schedule,
  type ScheduleDeps,
  type ScheduleStore,
} from '#core/schedules/schedules.ts';
import type { Caller } from '#core/tenancy/context.ts';

const T = 'tabcdefghijklmnop';
const S = 'sabcdefghijklmnop';
const NOW = '2026-11-30T10:00:20.000Z';
const meta = { requestId: 'r', sourceIp: 'scheduler', userAgent: 'vitest', now: NOW };
const fireTime = new Date('2026-11-30T10:00:00.000Z');

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    scheduleId: S,
    workflowId: 'w1',
    cron: '* * * * *',
    timeZone: 'UTC',
    input: { a: 1 },
    environment: 'dev',
    enabled: true,
    createdAt: NOW,
    createdBy: 'u1',
    ...overrides,
  };
}

function store(initial: Schedule[] = []) {
  const items = new Map(initial.map((s) => [s.scheduleId, s]));
  const store: ScheduleStore = {
    create: vi.fn(async (_t, s: Schedule) => {
      items.set(s.scheduleId, s);
    }),
    get: vi.fn(async (_t, id: string) => items.get(id)),
    delete: vi.fn(async (_t, s: Schedule) => {
      items.delete(s.scheduleId);
    }),
    listForWorkflow: vi.fn(async () => ({ items: [...items.values()] })),
  };
  return { items, store };
}

const creatorActive = { userId: 'u1', tenantId: 'x', status: 'active', roles: ['developer'] };

function executions(
  status: 'active' | 'suspended',
  startReads?: () => Promise<unknown>,
  creator: object | null = creatorActive,
) {
  const reads = vi.fn(startReads ?? (async () => ({ tenant: { status, plan: 'pro' }, head: undefined })));
  return {
    reads,
    deps: {
      tenancy: {
        getTenant: async () => ({ tenantId: T, status, plan: 'pro' }),
        getUser: async (_t: string, id: string) => (id === 'u1' ? (creator ?? undefined) : undefined),
      },
      executions: { startReads: reads },
    } as unknown as ExecutionDeps,
  };
}

/** Custom roles: none (the creator's built-in roles decide). */
const roles = { getRoles: async () => [] };

describe('fireSchedule', () => {
  it.each([
    ['disabled', { ...creatorActive, status: 'disabled' }],
    ['left without executions:start', { ...creatorActive, roles: ['viewer'] }],
    ['deleted', null],
  ])('starts nothing once its creator is %s, as their API keys would not', async (_label, creator) => {
    const { store: schedules } = store([schedule()]);
    const { reads, deps } = executions('active', undefined, creator);
    const outcome = await fireSchedule({ schedules, executions: deps, roles }, T, S, fireTime, meta);
    expect(outcome).toEqual({ fired: false, reason: 'creator-inactive' });
    expect(reads).not.toHaveBeenCalled();
  });

  it.each([
    ['a password user', { ...creatorActive, email: 'dev@example.com' }, false],
    ['an SSO user', { ...creatorActive, email: 'sso@example.com', sso: { providerId: 'p1' } }, true],
    ['the break-glass admin', { ...creatorActive, email: 'admin@example.com' }, true],
  ])('once the tenant requires SSO, a schedule made by %s fires: %s', async (_label, creator, fires) => {
    const { store: schedules } = store([schedule()]);
    const { reads, deps } = executions('active', undefined, creator);
    const tenancy = deps.tenancy as unknown as { getTenant: () => Promise<unknown> };
    tenancy.getTenant = async () => ({
      tenantId: T,
      status: 'active',
      plan: 'pro',
      requireSso: true,
      adminEmail: 'Admin@example.com',
    });
    const outcome = await fireSchedule({ schedules, executions: deps, roles }, T, S, fireTime, meta);
    if (fires) {
      // The start itself is stubbed to end early: what matters is that it was reached.
      expect(reads).toHaveBeenCalled();
    } else {
      expect(outcome).toEqual({ fired: false, reason: 'creator-not-sso' });
      expect(reads).not.toHaveBeenCalled();
    }
  });

  it.each([
    ['a malformed tenant id', 'TENANT#x', S, fireTime, 'bad-request'],
    ['a malformed schedule id', T, 'x1', fireTime, 'bad-request'],
    ['an invalid fire time', T, S, new Date('nope'), 'bad-request'],
    ['a fire time over an hour old', T, S, new Date('2026-11-30T08:59:00.000Z'), 'stale'],
    ['a fire time over 5 minutes ahead', T, S, new Date('2026-11-30T10:06:00.000Z'), 'stale'],
    ['a deleted schedule', T, 'sdeleteddeleteddd', fireTime, 'no-schedule'],
  ])('starts nothing for %s', async (_label, tenantId, scheduleId, at, reason) => {
    const { store: schedules } = store([schedule()]);
    const { reads, deps } = executions('active');
    const outcome = await fireSchedule(
      { schedules, executions: deps, roles },
      tenantId,
      scheduleId,
      at,
      meta,
    );
    expect(outcome).toMatchObject({ fired: false, reason });
    expect(reads).not.toHaveBeenCalled();
  });

  it('starts nothing for a suspended tenant or a disabled schedule', async () => {
    const suspended = executions('suspended');
    const s1 = store([schedule()]).store;
    expect(
      await fireSchedule({ schedules: s1, executions: suspended.deps, roles }, T, S, fireTime, meta),
    ).toEqual({
      fired: false,
      reason: 'tenant-not-active',
    });
    const active = executions('active');
    const s2 = store([schedule({ enabled: false })]).store;
    expect(
      await fireSchedule({ schedules: s2, executions: active.deps, roles }, T, S, fireTime, meta),
    ).toEqual({
      fired: false,
      reason: 'disabled',
    });
    expect(suspended.reads).not.toHaveBeenCalled();
    expect(active.reads).not.toHaveBeenCalled();
  });

  it('starts as the schedule for its creator, keyed by schedule and fire time; a refusal is an outcome', async () => {
    const { store: schedules } = store([schedule()]);
    const { reads, deps } = executions('active');
    const outcome = await fireSchedule({ schedules, executions: deps, roles }, T, S, fireTime, meta);
    // The workflow is gone (no head): the start answers 404, which a retry would not change.
    expect(outcome).toMatchObject({ fired: false, reason: 'refused-by-start' });
    expect(outcome.fired ? '' : outcome.detail).toMatch(/^not-found: No workflow w1/);
    expect(reads).toHaveBeenCalledWith(
      T,
      expect.objectContaining({ workflowId: 'w1', executionId: expect.any(String) }),
    );
    expect(fireKey(S, fireTime)).toBe(`schedule:${S}:2026-11-30T10:00:00.000Z`);
  });

  it('throws a transient failure, so the scheduler retries the firing', async () => {
    const { store: schedules } = store([schedule()]);
    const { deps } = executions('active', async () => {
      throw new TransientError('throttled');
    });
    await expect(
      fireSchedule({ schedules, executions: deps, roles }, T, S, fireTime, meta),
    ).rejects.toBeInstanceOf(TransientError);
  });
});

describe('createSchedule', () => {
  const caller: Caller = {
    principal: {
      kind: 'tenant',
      tenantId: T,
      principalId: 'u1',
      principalType: 'user',
      roles: ['developer'],
      permissions: new Set(['workflows:write', 'executions:start']),
    },
    meta,
  };
  const definitions = { getHead: async () => ({ id: 'w1' }) } as unknown as ScheduleDeps['definitions'];

  it('removes the record again when the scheduler cannot register the schedule', async () => {
    const { items, store: schedules } = store();
    const trigger = {
      register: vi.fn(async () => {
        throw new Error('AccessDenied');
      }),
      unregister: vi.fn(async () => undefined),
      deleteAllForTenant: vi.fn(async () => undefined),
    };
    await expect(
      createSchedule({ schedules, definitions, trigger }, caller, 'w1', { cron: '0 9 * * 1-5' }),
    ).rejects.toBeInstanceOf(TransientError);
    expect(schedules.create).toHaveBeenCalledOnce();
    expect(schedules.delete).toHaveBeenCalledOnce();
    expect(items.size).toBe(0);
  });

  describe('checks the input against the version promoted to its environment', () => {
    const schema = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } };
    const promoted = {
      getHead: async () => ({ id: 'w1', environments: { prod: 2 } }),
      getVersion: vi.fn(async (_t: string, _k: string, _id: string, version: number) =>
        version === 2 ? { version, definition: { inputSchema: schema } } : undefined,
      ),
    } as unknown as ScheduleDeps['definitions'];
    const trigger = {
      register: vi.fn(async () => undefined),
      unregister: vi.fn(),
      deleteAllForTenant: vi.fn(),
    };

    it('refuses an input that version refuses, naming the field, and creates nothing', async () => {
      const { items, store: schedules } = store();
      const made = createSchedule({ schedules, definitions: promoted, trigger }, caller, 'w1', {
        cron: '0 9 * * *',
        input: { name: 7 },
      });
      await expect(made).rejects.toMatchObject({
        message: expect.stringContaining('version 2, promoted to prod'),
        problems: [{ path: 'input.name', message: 'must be string' }],
      });
      expect(items.size).toBe(0);
    });

    it('accepts an input that version accepts', async () => {
      const { store: schedules } = store();
      const made = await createSchedule({ schedules, definitions: promoted, trigger }, caller, 'w1', {
        cron: '0 9 * * *',
        input: { name: 'Ada' },
      });
      expect(made.input).toEqual({ name: 'Ada' });
    });

    it('leaves it to the firings while nothing is promoted to that environment', async () => {
      const { store: schedules } = store();
      const made = await createSchedule({ schedules, definitions: promoted, trigger }, caller, 'w1', {
        cron: '0 9 * * *',
        environment: 'dev',
        input: { name: 7 },
      });
      expect(made.environment).toBe('dev');
    });
  });

  it('stores the defaults: UTC, prod, enabled, empty input; the creator is the acting user', async () => {
    const { store: schedules } = store();
    const trigger = {
      register: vi.fn(async () => undefined),
      unregister: vi.fn(),
      deleteAllForTenant: vi.fn(),
    };
    const made = await createSchedule({ schedules, definitions, trigger }, caller, 'w1', {
      cron: ' 0  9 * * * ',
    });
    expect(made).toMatchObject({
      cron: '0 9 * * *',
      timeZone: 'UTC',
      environment: 'prod',
      enabled: true,
      input: {},
      createdBy: 'u1',
    });
    expect(made.scheduleId).toMatch(/^s[a-z0-9]{16}$/);
    expect(trigger.register).toHaveBeenCalledWith(T, made);
  });
});
