import { describe, expect, it } from 'vitest';
import { QuotaExceededError } from '#core/errors.ts';
import {
  acquireRunSlot,
  BULKHEAD_RETRY_AFTER_SECONDS,
  PLAN_CONCURRENCY,
  type RunSlots,
} from '#core/governance/bulkhead.ts';

/** Run slots in memory, recording the cap each claim was asked for. */
class MemorySlots implements RunSlots {
  readonly held = new Set<string>();
  readonly caps: number[] = [];
  async claim(_tenantId: string, executionId: string, cap: number): Promise<boolean> {
    this.caps.push(cap);
    if (this.held.has(executionId)) return true;
    if (this.held.size >= cap) return false;
    this.held.add(executionId);
    return true;
  }
  async release(_tenantId: string, executionId: string): Promise<void> {
    this.held.delete(executionId);
  }
}

const TENANT = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';

describe('acquireRunSlot', () => {
  it.each([
    ['free', 2],
    ['pro', 25],
    ['enterprise', 250],
  ] as const)('caps a %s tenant at %i running executions', async (plan, cap) => {
    // Prepare
    const slots = new MemorySlots();
    for (let i = 0; i < cap; i++) await acquireRunSlot(slots, TENANT, plan, `x${i}`, NOW);
    // Act
    const refused = acquireRunSlot(slots, TENANT, plan, 'x-over', NOW);
    // Assess
    await expect(refused).rejects.toBeInstanceOf(QuotaExceededError);
    expect(slots.caps.every((c) => c === PLAN_CONCURRENCY[plan])).toBe(true);
  });

  it('says why and when to retry', async () => {
    // Prepare
    const slots = new MemorySlots();
    await acquireRunSlot(slots, TENANT, 'free', 'x1', NOW);
    await acquireRunSlot(slots, TENANT, 'free', 'x2', NOW);
    // Act
    const error = await acquireRunSlot(slots, TENANT, 'free', 'x3', NOW).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).message).toBe(
      'The free plan allows 2 running executions at a time; retry when one finishes.',
    );
    expect((error as QuotaExceededError).retryAfterSeconds).toBe(BULKHEAD_RETRY_AFTER_SECONDS);
  });

  it('admits a start again once a running execution releases its slot', async () => {
    // Prepare
    const slots = new MemorySlots();
    await acquireRunSlot(slots, TENANT, 'free', 'x1', NOW);
    await acquireRunSlot(slots, TENANT, 'free', 'x2', NOW);
    await slots.release(TENANT, 'x1');
    // Act
    const admitted = acquireRunSlot(slots, TENANT, 'free', 'x3', NOW);
    // Assess
    await expect(admitted).resolves.toBeUndefined();
  });
});
