import { describe, expect, it } from 'vitest';
import {
  admit,
  DEFAULT_RATE_LIMITS,
  leaseSize,
  RateLimiter,
  type RateScope,
  rateLimitHeaders,
  scopesFor,
  slotQuota,
} from '#core/governance/rate-limit.ts';
import { MemoryCounters } from '../../../helpers/rate-counters.ts';

const TENANT = 'tabcdefghijklmnop';

const tenantScope = (limit: number): RateScope => ({ policy: 'tenant', counter: 'TENANT', limit });

/** A clock the test moves by hand. */
function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = ms), advance: (ms: number) => (t += ms) };
}

describe('slot quota and lease size', () => {
  it.each([
    [1, 1],
    [9, 1],
    [10, 1],
    [300, 30],
    [3_001, 300],
  ])('a limit of %i per window allows %i per slot', (limit, quota) => {
    expect(slotQuota(limit)).toBe(quota);
  });

  it.each([
    [1, 1],
    [19, 1],
    [40, 2],
    [300, 15],
  ])('a slot of %i is leased %i at a time', (quota, size) => {
    expect(leaseSize(quota)).toBe(size);
  });
});

describe('RateLimiter', () => {
  it('admits the slot quota, refuses the next request, and admits again in the next slot', async () => {
    // Prepare: 60 per minute is 6 per 6-second slot; start 1 s into a slot
    const c = clock(6_000 * 1000 + 1000);
    const limiter = new RateLimiter(new MemoryCounters(), 60, c.now);
    // Act
    const first = [];
    for (let i = 0; i < 7; i++) first.push(await limiter.take(TENANT, tenantScope(60)));
    c.advance(5000);
    const next = await limiter.take(TENANT, tenantScope(60));
    // Assess
    expect(first.slice(0, 6).every((d) => d.allowed)).toBe(true);
    expect(first[6]).toMatchObject({
      allowed: false,
      remaining: 0,
      resetSeconds: 5,
      quota: 6,
      slotSeconds: 6,
    });
    expect(next.allowed).toBe(true);
  });

  it('counts remaining requests down within a slot', async () => {
    // Prepare
    const limiter = new RateLimiter(new MemoryCounters(), 60, clock().now);
    // Act
    const a = await limiter.take(TENANT, tenantScope(60));
    const b = await limiter.take(TENANT, tenantScope(60));
    // Assess
    expect([a.remaining, b.remaining]).toEqual([5, 4]);
  });

  it('leases tokens in batches, so most requests never reach the shared counter', async () => {
    // Prepare: a quota of 300 per slot leases 15 at a time
    const store = new MemoryCounters();
    const limiter = new RateLimiter(store, 60, clock().now);
    // Act
    for (let i = 0; i < 150; i++) await limiter.take(TENANT, tenantScope(3000));
    // Assess
    expect(store.calls).toBe(10);
  });

  it('stops asking the shared counter once the slot is used up', async () => {
    // Prepare
    const store = new MemoryCounters();
    const limiter = new RateLimiter(store, 60, clock().now);
    for (let i = 0; i < 6; i++) await limiter.take(TENANT, tenantScope(60));
    const before = store.calls;
    // Act
    const refused = [];
    for (let i = 0; i < 5; i++) refused.push(await limiter.take(TENANT, tenantScope(60)));
    // Assess: this container itself filled the slot, so it knows without asking
    expect(refused.every((d) => !d.allowed)).toBe(true);
    expect(store.calls - before).toBe(0);
  });

  it('takes the last single tokens when a full lease no longer fits', async () => {
    // Prepare: quota 40 per slot, leases of 2; other containers already took 39
    const store = new MemoryCounters();
    const c = clock();
    await store.tryAdd(TENANT, 'TENANT', Math.floor(c.now() / 6000), 39, 40);
    const limiter = new RateLimiter(store, 60, c.now);
    // Act
    const last = await limiter.take(TENANT, tenantScope(400));
    const after = await limiter.take(TENANT, tenantScope(400));
    // Assess
    const calls = store.calls;
    const again = await limiter.take(TENANT, tenantScope(400));
    expect(last.allowed).toBe(true);
    expect(after.allowed).toBe(false);
    expect(again.allowed).toBe(false);
    expect(store.calls).toBe(calls);
    expect([...store.counts.values()]).toEqual([40]);
  });

  it('lets concurrent requests in one container share one lease request', async () => {
    // Prepare
    const store = new MemoryCounters(5);
    const limiter = new RateLimiter(store, 60, clock().now);
    // Act: 15 at once with leases of 15
    const out = await Promise.all(Array.from({ length: 15 }, () => limiter.take(TENANT, tenantScope(3000))));
    // Assess
    expect(out.every((d) => d.allowed)).toBe(true);
    expect(store.calls).toBe(1);
  });

  it('admits concurrent requests up to the quota even when each lease holds one token', async () => {
    // Prepare: a quota of 6 per slot leases 1 at a time; 15 requests arrive together
    const store = new MemoryCounters(5);
    const limiter = new RateLimiter(store, 60, clock().now);
    // Act
    const out = await Promise.all(Array.from({ length: 15 }, () => limiter.take(TENANT, tenantScope(60))));
    // Assess: the queued requests are leased for together, not one round trip each
    expect(out.filter((d) => d.allowed)).toHaveLength(6);
    expect(store.calls).toBeLessThanOrEqual(4);
  });

  it('keeps tenants and counters apart', async () => {
    // Prepare
    const limiter = new RateLimiter(new MemoryCounters(), 60, clock().now);
    for (let i = 0; i < 6; i++) await limiter.take(TENANT, tenantScope(60));
    // Act
    const otherTenant = await limiter.take('tqrstuvwxyzabcdef', tenantScope(60));
    const otherCounter = await limiter.take(TENANT, { policy: 'api-key', counter: 'KEY#k1', limit: 60 });
    const same = await limiter.take(TENANT, tenantScope(60));
    // Assess
    expect([otherTenant.allowed, otherCounter.allowed, same.allowed]).toEqual([true, true, false]);
  });

  it('holds across containers: no window of the limit’s length accepts more than 1.1 × the limit', async () => {
    // Prepare: 8 containers share the counters; 32 clients call every 50 ms for 3 windows
    const store = new MemoryCounters();
    const c = clock(1_800_000_003_000);
    const containers = Array.from({ length: 8 }, () => new RateLimiter(store, 10, c.now));
    const limit = 200;
    const accepted: number[] = [];
    // Act
    for (let tick = 0; tick < 600; tick++) {
      const decisions = await Promise.all(
        Array.from({ length: 32 }, (_, i) => containers[i % 8]?.take(TENANT, tenantScope(limit))),
      );
      for (const d of decisions) if (d?.allowed) accepted.push(c.now());
      c.advance(50);
    }
    // Assess: slide a 10-second window over every accepted request
    let worst = 0;
    let start = 0;
    for (let end = 0; end < accepted.length; end++) {
      while ((accepted[end] ?? 0) - (accepted[start] ?? 0) >= 10_000) start++;
      worst = Math.max(worst, end - start + 1);
    }
    expect(worst).toBeLessThanOrEqual(limit * 1.1);
    expect(worst).toBeGreaterThanOrEqual(limit * 0.9);
  });
});

describe('admit', () => {
  it('refuses on the API key even when the tenant has room, and reports the key', async () => {
    // Prepare
    const limiter = new RateLimiter(new MemoryCounters(), 60, clock().now);
    const scopes = scopesFor(DEFAULT_RATE_LIMITS, 'free', { principalType: 'apikey', principalId: 'k1' });
    for (let i = 0; i < slotQuota(DEFAULT_RATE_LIMITS.apiKey.free); i++) await admit(limiter, TENANT, scopes);
    // Act
    const out = await admit(limiter, TENANT, scopes);
    // Assess
    expect(out.allowed).toBe(false);
    expect(out.reported.policy).toBe('api-key');
  });

  it('reports the scope closest to its limit when admitted', async () => {
    // Prepare
    const limiter = new RateLimiter(new MemoryCounters(), 60, clock().now);
    const scopes = scopesFor(DEFAULT_RATE_LIMITS, 'pro', { principalType: 'apikey', principalId: 'k1' });
    // Act
    const out = await admit(limiter, TENANT, scopes);
    // Assess: the key's 120 per slot is tighter than the tenant's 300
    expect(out.allowed).toBe(true);
    expect(out.reported).toMatchObject({ policy: 'api-key', quota: 120 });
  });
});

describe('scopesFor', () => {
  it('counts a user against the tenant only and an API key against the tenant and the key', () => {
    // Act
    const user = scopesFor(DEFAULT_RATE_LIMITS, 'enterprise', { principalType: 'user', principalId: 'u1' });
    const key = scopesFor(DEFAULT_RATE_LIMITS, 'free', { principalType: 'apikey', principalId: 'k9' });
    // Assess
    expect(user).toEqual([{ policy: 'tenant', counter: 'TENANT', limit: 30_000 }]);
    expect(key).toEqual([
      { policy: 'tenant', counter: 'TENANT', limit: 300 },
      { policy: 'api-key', counter: 'KEY#k9', limit: 120 },
    ]);
  });
});

describe('rateLimitHeaders', () => {
  it('writes RateLimit-Policy for every policy and RateLimit for the reported one', () => {
    // Prepare
    const tenant = {
      allowed: true,
      policy: 'tenant',
      quota: 30,
      slotSeconds: 6,
      remaining: 29,
      resetSeconds: 4,
    } as const;
    const key = {
      allowed: true,
      policy: 'api-key',
      quota: 12,
      slotSeconds: 6,
      remaining: 3,
      resetSeconds: 4,
    } as const;
    // Act
    const headers = rateLimitHeaders([tenant, key], key);
    // Assess
    expect(headers).toEqual({
      'ratelimit-policy': '"tenant";q=30;w=6, "api-key";q=12;w=6',
      ratelimit: '"api-key";r=3;t=4',
    });
  });
});
