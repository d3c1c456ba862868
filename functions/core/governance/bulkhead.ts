import { QuotaExceededError } from '../errors.ts';
import type { Plan } from '../tenancy/model.ts';

/**
 * Concurrency bulkheads: a tenant's running executions are capped by plan, so one tenant cannot take
 * the account's Step Functions and Lambda concurrency from the others. A start beyond the cap is
 * refused with 429 and `Retry-After` rather than queued: the caller keeps control of its retries, and
 * the platform holds no queue whose wait nobody sees.
 *
 * Each running execution holds one of the tenant's numbered run slots (one item per slot, claimed
 * with a conditional write), so the cap holds exactly across containers without a shared counter.
 */

/** Running executions allowed per tenant, by plan (defaults; the runtime config overrides them). */
export const PLAN_CONCURRENCY: Readonly<Record<Plan, number>> = /* @__PURE__ */ Object.freeze({
  free: 2,
  pro: 25,
  enterprise: 250,
});

/** Seconds a refused start is told to wait: executions typically finish in seconds to minutes. */
export const BULKHEAD_RETRY_AFTER_SECONDS = 5;

/** The tenant's run slots. */
export interface RunSlots {
  /**
   * Claims a free slot below `cap` for `executionId`; true when it holds one (claimed now or
   * before: claiming again is idempotent), false when every slot is taken.
   */
  claim(tenantId: string, executionId: string, cap: number, now: string): Promise<boolean>;
  /** Frees the slot `executionId` holds, if any. */
  release(tenantId: string, executionId: string): Promise<void>;
}

/** Claims a run slot for an execution about to start, or refuses the start with 429. */
export async function acquireRunSlot(
  slots: RunSlots,
  tenantId: string,
  plan: Plan,
  executionId: string,
  now: string,
  caps: Readonly<Record<Plan, number>> = PLAN_CONCURRENCY,
): Promise<void> {
  const cap = caps[plan];
  if (await slots.claim(tenantId, executionId, cap, now)) return;
  throw new QuotaExceededError(
    `The ${plan} plan allows ${cap} running executions at a time; retry when one finishes.`,
    BULKHEAD_RETRY_AFTER_SECONDS,
  );
}
