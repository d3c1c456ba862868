import { describe, expect, it } from 'vitest';
import { DynamoRateCounterStore } from '#adapters/dynamo/rate-limit-store.ts';
import { DEFAULT_RATE_LIMITS, RateLimiter, slotQuota } from '#core/governance/rate-limit.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call, type Problem } from '../helpers/api.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createApiKey, createTenant } from '../helpers/tenants.ts';

/** Waits until the current 6-second slot has at least 3 s left, so a burst lands in one slot. */
async function earlyInSlot(): Promise<void> {
  const slotMs = (DEFAULT_RATE_LIMITS.windowSeconds * 1000) / 10;
  const into = Date.now() % slotMs;
  if (into > slotMs / 2) await new Promise((r) => setTimeout(r, slotMs - into + 10));
}

describe('rate limits on the local platform', () => {
  it('advertises the plan’s policy on every tenant reply', async () => {
    // Prepare
    const tenant = await createTenant('ratelimit-pro', 'pro');
    // Act
    const res = await call('GET', '/me', { token: await tenant.token() });
    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe(
      `"tenant";q=${slotQuota(DEFAULT_RATE_LIMITS.tenant.pro)};w=6`,
    );
    expect(res.headers.get('ratelimit')).toMatch(/^"tenant";r=\d+;t=[1-6]$/);
  });

  it('refuses an API key beyond its plan’s limit with 429 problem+json and the headers', async () => {
    // Prepare: a free tenant's key may make 12 requests per 6-second slot
    const tenant = await createTenant('ratelimit-free', 'free');
    const key = await createApiKey(await tenant.token(), ['agents:read']);
    const quota = slotQuota(DEFAULT_RATE_LIMITS.apiKey.free);
    await earlyInSlot();
    // Act
    const replies = await Promise.all(
      Array.from({ length: quota + 3 }, () => call<Problem>('GET', '/agents', { apiKey: key.key })),
    );
    // Assess
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 429);
    expect(ok).toHaveLength(quota);
    expect(refused).toHaveLength(3);
    const first = refused[0];
    expect(first?.headers.get('content-type')).toBe('application/problem+json');
    expect(first?.body.type).toBe('https://meridian.dev/problems/rate-limited');
    expect(Number(first?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(first?.headers.get('ratelimit')).toMatch(/^"api-key";r=0;t=[1-6]$/);
    expect(first?.headers.get('ratelimit-policy')).toBe(`"tenant";q=30;w=6, "api-key";q=${quota};w=6`);
  });
});

describe('rate counters in DynamoDB', () => {
  const db = localDocumentClient();
  const clients = { platform: db, forTenant: async () => db };

  it('lets many containers together accept exactly the slot quota, never more', async () => {
    // Prepare: 8 containers, 32 concurrent clients, a quota of 40 per slot (leases of 2)
    const store = new DynamoRateCounterStore(LOCAL_NAMES.tableName, clients);
    const containers = Array.from({ length: 8 }, () => new RateLimiter(store, 60));
    const tenantId = `t${Date.now().toString(36)}integrate`.slice(0, 17).padEnd(17, 'x');
    const scope = { policy: 'tenant', counter: 'TENANT', limit: 400 } as const;
    await earlyInSlot();
    // Act: each client calls 4 times
    const decisions = await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        const out = [];
        for (let n = 0; n < 4; n++) out.push(await containers[i % 8]?.take(tenantId, scope));
        return out;
      }),
    );
    // Assess
    const accepted = decisions.flat().filter((d) => d?.allowed).length;
    expect(accepted).toBeLessThanOrEqual(40);
    expect(accepted).toBeGreaterThanOrEqual(40 - 8 * 2);
  });
});
