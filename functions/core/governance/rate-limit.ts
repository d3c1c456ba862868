import type { Plan } from '../tenancy/model.ts';

/**
 * Rate limits per tenant and per API key, shared by every API container.
 *
 * A limit of L requests per window W is enforced as fixed slots of W/10 with L/10 requests each,
 * counted in one item per scope and slot (an atomic conditional ADD). Any window of length W
 * overlaps at most 11 slots, so it never holds more than 1.1 × L accepted requests, however many
 * containers serve the tenant. A container does not go to the table for every request: it leases a
 * few tokens of the current slot at once and spends them locally, so most requests cost a map
 * lookup. Leased tokens a container does not use are lost, which only errs towards refusing.
 */

/** Requests per window allowed per tenant and per API key, by plan. */
export interface RateLimitPlans {
  readonly windowSeconds: number;
  readonly tenant: Readonly<Record<Plan, number>>;
  readonly apiKey: Readonly<Record<Plan, number>>;
}

/** Defaults per plan (requests per minute); the runtime config overrides them. */
export const DEFAULT_RATE_LIMITS: RateLimitPlans = /* @__PURE__ */ Object.freeze({
  windowSeconds: 60,
  tenant: /* @__PURE__ */ Object.freeze({ free: 300, pro: 3_000, enterprise: 30_000 }),
  apiKey: /* @__PURE__ */ Object.freeze({ free: 120, pro: 1_200, enterprise: 12_000 }),
});

/** Slots per window: 10 bounds any window's accepted requests to 1.1 × the limit. */
export const SLOTS_PER_WINDOW = 10;

/** The shared counters: one per scope and slot. */
export interface RateCounterStore {
  /**
   * Atomically adds `n` to the counter of `scope` in `slot` when the result stays at or under
   * `cap`, and returns the new count; returns undefined (and adds nothing) when it would not.
   * `expiresAt` (epoch seconds) lets the table delete the counter once its slot is long past.
   */
  tryAdd(
    tenantId: string,
    scope: string,
    slot: number,
    n: number,
    cap: number,
    expiresAt: number,
  ): Promise<number | undefined>;
}

/** One limit a request is counted against. */
export interface RateScope {
  /**
   * The policy's name in the headers: `tenant` or `api-key`; `identity-providers` counts provider
   * creations and deletions (functions/core/identity/providers.ts).
   */
  readonly policy: 'tenant' | 'api-key' | 'identity-providers';
  /** Counter name inside the tenant, e.g. `TENANT` or `KEY#<keyId>`. */
  readonly counter: string;
  /** Requests per window. */
  readonly limit: number;
}

/** The outcome for one scope. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly policy: RateScope['policy'];
  /** Requests allowed per slot (the quota advertised in `RateLimit-Policy`). */
  readonly quota: number;
  readonly slotSeconds: number;
  /** Requests left in the current slot, as far as this container knows. */
  readonly remaining: number;
  /** Seconds until the current slot ends (at least 1). */
  readonly resetSeconds: number;
}

interface Lease {
  slot: number;
  /** Tokens leased and not yet spent. */
  tokens: number;
  /** The shared count after the last lease (for `remaining`). */
  counted: number;
  /** The slot is used up: refuse locally until it ends, without asking the table again. */
  exhausted: boolean;
  /** The lease request in flight, and how many requests wait for it. */
  pending?: Promise<void>;
  waiters: number;
}

/** Requests allowed per slot for a limit: at least one, so a tiny limit still lets requests through. */
export function slotQuota(limit: number): number {
  return Math.max(1, Math.floor(limit / SLOTS_PER_WINDOW));
}

/** Tokens a container leases at once: a twentieth of the slot, so 20+ containers still share it. */
export function leaseSize(quota: number): number {
  return Math.max(1, Math.floor(quota / 20));
}

/** The limiter of one container: local leases drawn from the shared slot counters. */
export class RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly slotMs: number;

  constructor(
    private readonly store: RateCounterStore,
    readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = (windowSeconds * 1000) / SLOTS_PER_WINDOW;
  }

  /** Counts one request of `tenantId` against `scope`. */
  async take(tenantId: string, scope: RateScope): Promise<RateDecision> {
    const quota = slotQuota(scope.limit);
    const key = `${tenantId}\u0000${scope.counter}`;
    // Each round spends a token, refuses, or waits for a lease that ends in tokens or exhaustion;
    // the shared count is capped, so the rounds end.
    for (;;) {
      const slot = Math.floor(this.now() / this.slotMs);
      let lease = this.leases.get(key);
      if (!lease || lease.slot !== slot) {
        lease = { slot, tokens: 0, counted: 0, exhausted: false, waiters: 0 };
        this.leases.set(key, lease);
        this.prune(slot);
      }
      if (lease.tokens > 0) {
        lease.tokens -= 1;
        return this.decision(scope, quota, slot, true, quota - lease.counted + lease.tokens);
      }
      if (lease.exhausted) return this.decision(scope, quota, slot, false, 0);
      if (lease.pending) {
        lease.waiters += 1;
        try {
          await lease.pending;
        } finally {
          lease.waiters -= 1;
        }
        continue;
      }
      // Requests already queued behind this lease want tokens too: lease for them at once.
      const size = Math.min(quota, Math.max(leaseSize(quota), lease.waiters + 1));
      const pending = this.lease(tenantId, scope, lease, quota, size);
      lease.pending = pending;
      try {
        await pending;
      } finally {
        lease.pending = undefined;
      }
    }
  }

  private async lease(
    tenantId: string,
    scope: RateScope,
    lease: Lease,
    quota: number,
    size: number,
  ): Promise<void> {
    const expiresAt = Math.ceil(((lease.slot + 1) * this.slotMs) / 1000) + this.windowSeconds * 2;
    // The shared count only grows, so the room last seen is an upper bound on the room left.
    size = Math.min(size, quota - lease.counted);
    // When the whole lease no longer fits, halve it down to one: the slot's last tokens still count.
    for (let n = size; n >= 1; n = n === 1 ? 0 : Math.ceil(n / 2)) {
      const counted = await this.store.tryAdd(tenantId, scope.counter, lease.slot, n, quota, expiresAt);
      if (counted !== undefined) {
        lease.tokens += n;
        lease.counted = counted;
        return;
      }
    }
    lease.exhausted = true;
  }

  private decision(
    scope: RateScope,
    quota: number,
    slot: number,
    allowed: boolean,
    remaining: number,
  ): RateDecision {
    const endMs = (slot + 1) * this.slotMs;
    return {
      allowed,
      policy: scope.policy,
      quota,
      slotSeconds: this.slotMs / 1000,
      remaining: Math.max(0, remaining),
      resetSeconds: Math.max(1, Math.ceil((endMs - this.now()) / 1000)),
    };
  }

  /** Drops leases of past slots so the map does not grow with every tenant ever seen. */
  private prune(slot: number): void {
    if (this.leases.size < 1024) return;
    for (const [key, lease] of this.leases) if (lease.slot < slot && !lease.pending) this.leases.delete(key);
  }
}

/** The scopes a request counts against: its tenant and, for an API key, the key. */
export function scopesFor(
  plans: RateLimitPlans,
  plan: Plan,
  principal: { readonly principalType: string; readonly principalId: string },
): RateScope[] {
  const scopes: RateScope[] = [{ policy: 'tenant', counter: 'TENANT', limit: plans.tenant[plan] }];
  if (principal.principalType === 'apikey') {
    scopes.push({ policy: 'api-key', counter: `KEY#${principal.principalId}`, limit: plans.apiKey[plan] });
  }
  return scopes;
}

/** Checks every scope of a request; the first refusal wins, otherwise the tightest scope is reported. */
export async function admit(
  limiter: RateLimiter,
  tenantId: string,
  scopes: readonly RateScope[],
): Promise<{ allowed: boolean; decisions: RateDecision[]; reported: RateDecision }> {
  const decisions: RateDecision[] = [];
  for (const scope of scopes) {
    const decision = await limiter.take(tenantId, scope);
    decisions.push(decision);
    if (!decision.allowed) return { allowed: false, decisions, reported: decision };
  }
  const reported = decisions.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  return { allowed: true, decisions, reported };
}

/**
 * The IETF httpapi ratelimit headers (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy`
 * lists every policy that applied, `RateLimit` the one closest to refusing (or the one that refused).
 */
export function rateLimitHeaders(
  decisions: readonly RateDecision[],
  reported: RateDecision,
): Record<string, string> {
  return {
    'ratelimit-policy': decisions.map((d) => `"${d.policy}";q=${d.quota};w=${d.slotSeconds}`).join(', '),
    ratelimit: `"${reported.policy}";r=${reported.remaining};t=${reported.resetSeconds}`,
  };
}
