import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FireEvent, LocalScheduler } from '#adapters/local-scheduler.ts';
import type { Schedule } from '#core/schedules/schedules.ts';

const T = 'tabcdefghijklmnop';
const U = 'tqrstuvwxyzabcdef';

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    scheduleId: 'sabcdefghijklmnop',
    workflowId: 'w1',
    cron: '* * * * *',
    timeZone: 'UTC',
    input: {},
    environment: 'prod',
    enabled: true,
    createdAt: '2026-11-29T00:00:00.000Z',
    createdBy: 'u1',
    ...overrides,
  };
}

describe('LocalScheduler (in process)', () => {
  const fired: FireEvent[] = [];
  const make = (options: { seconds?: string; deliveries?: number } = {}) =>
    new LocalScheduler({
      ...options,
      fire: async (event) => {
        fired.push(event);
      },
    });

  beforeEach(() => {
    fired.length = 0;
    vi.useFakeTimers({ now: new Date('2026-11-30T10:00:30.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at each planned minute with the planned time, not the delivery time', async () => {
    const scheduler = make();
    await scheduler.register(T, schedule());
    await vi.advanceTimersByTimeAsync(29_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(fired).toEqual([
      { tenantId: T, scheduleId: 'sabcdefghijklmnop', scheduledTime: '2026-11-30T10:01:00.000Z' },
      { tenantId: T, scheduleId: 'sabcdefghijklmnop', scheduledTime: '2026-11-30T10:02:00.000Z' },
    ]);
    scheduler.stop();
  });

  it('reads the cron in the schedule’s time zone', async () => {
    const scheduler = make();
    // 11:00 in Berlin (CET, UTC+1) is 10:00Z: the next one is tomorrow's.
    await scheduler.register(T, schedule({ cron: '0 11 * * *', timeZone: 'Europe/Berlin' }));
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(fired.map((e) => e.scheduledTime)).toEqual(['2026-12-01T10:00:00.000Z']);
    scheduler.stop();
  });

  it('in the test harness fires on a seconds field, each firing delivered as often as asked', async () => {
    const scheduler = make({ seconds: '*/10', deliveries: 2 });
    await scheduler.register(T, schedule());
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fired.map((e) => e.scheduledTime)).toEqual([
      '2026-11-30T10:00:40.000Z',
      '2026-11-30T10:00:40.000Z',
      '2026-11-30T10:00:50.000Z',
      '2026-11-30T10:00:50.000Z',
    ]);
    scheduler.stop();
  });

  it('never arms a disabled schedule, and stops a deleted one', async () => {
    const scheduler = make({ seconds: '*' });
    await scheduler.register(T, schedule({ enabled: false }));
    expect(scheduler.size).toBe(0);
    await scheduler.register(T, schedule());
    await vi.advanceTimersByTimeAsync(2_000);
    const before = fired.length;
    expect(before).toBeGreaterThan(0);
    await scheduler.unregister(T, 'sabcdefghijklmnop');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired.length).toBe(before);
    expect(scheduler.size).toBe(0);
  });

  it('deleteAllForTenant stops that tenant’s jobs only', async () => {
    const scheduler = make({ seconds: '*' });
    await scheduler.register(T, schedule());
    await scheduler.register(T, schedule({ scheduleId: 'sbbbbbbbbbbbbbbbb' }));
    await scheduler.register(U, schedule({ scheduleId: 'scccccccccccccccc' }));
    await scheduler.deleteAllForTenant(T);
    expect(scheduler.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(new Set(fired.map((e) => e.tenantId))).toEqual(new Set([U]));
    scheduler.stop();
  });

  it('a delivery that throws is reported and the next firing still comes', async () => {
    const errors: string[] = [];
    const scheduler = new LocalScheduler({
      seconds: '*',
      fire: async (event) => {
        fired.push(event);
        throw new Error('boom');
      },
      onError: (error) => errors.push((error as Error).message),
    });
    await scheduler.register(T, schedule());
    await vi.advanceTimersByTimeAsync(2_100);
    expect(fired.length).toBe(2);
    expect(errors).toEqual(['boom', 'boom']);
    scheduler.stop();
  });
});
