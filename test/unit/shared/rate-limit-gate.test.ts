import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimitPlans } from '#core/governance/rate-limit.ts';
import { rateLimitGate } from '#shared/rate-limit-gate.ts';
import { defineRoute, Router } from '#shared/router.ts';
import { apiEvent, tenantAuth } from '../../helpers/events.ts';
import { MemoryCounters } from '../../helpers/rate-counters.ts';

// Per minute, so per 6-second slot: tenant free 2, pro 5; API key free 1, pro 3.
const PLANS: RateLimitPlans = {
  windowSeconds: 60,
  tenant: { free: 20, pro: 50, enterprise: 1000 },
  apiKey: { free: 10, pro: 30, enterprise: 500 },
};

const routes = [
  defineRoute({
    method: 'GET',
    path: '/things',
    summary: 'list',
    tag: 't',
    auth: 'agents:read',
    responses: { 200: { description: 'ok' } },
    handler: async () => ({ status: 200, body: { items: [] } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/health',
    summary: 'health',
    tag: 't',
    auth: 'public',
    responses: { 200: { description: 'ok' } },
    handler: async () => ({ status: 200, body: { ok: true } }),
  }),
];

function setup() {
  const store = new MemoryCounters();
  const limiter = new RateLimiter(store, PLANS.windowSeconds);
  const router = new Router(routes, { admit: rateLimitGate(() => limiter, PLANS) });
  return { store, router };
}

async function hit(
  router: Router,
  auth = tenantAuth(['agents:read'], { tenantPlan: 'free' }),
  path = '/things',
) {
  const res = await router.handle(apiEvent({ path, auth }));
  return {
    status: res.statusCode,
    headers: res.headers ?? {},
    body: res.body ? JSON.parse(res.body) : undefined,
  };
}

describe('rate limit gate', () => {
  it('puts RateLimit and RateLimit-Policy on admitted replies', async () => {
    // Prepare
    const { router } = setup();
    // Act
    const res = await hit(router);
    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"tenant";q=2;w=6');
    expect(res.headers.ratelimit).toMatch(/^"tenant";r=1;t=[1-6]$/);
  });

  it('answers 429 problem+json with Retry-After once the tenant’s slot is used up', async () => {
    // Prepare
    const { router } = setup();
    await hit(router);
    await hit(router);
    // Act
    const res = await hit(router);
    // Assess
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ type: 'https://meridian.dev/problems/rate-limited', status: 429 });
    expect(res.body.detail).toContain('This tenant');
    expect(res.body.requestId).toBe('req-test-1');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(res.headers.ratelimit).toBe(`"tenant";r=0;t=${retryAfter}`);
    expect(res.headers['ratelimit-policy']).toBe('"tenant";q=2;w=6');
  });

  it('picks the limits of the tenant’s plan', async () => {
    // Prepare
    const { router } = setup();
    const pro = tenantAuth(['agents:read'], { tenantPlan: 'pro' });
    // Act
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await hit(router, pro)).status);
    // Assess
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('treats a context without a known plan as free', async () => {
    // Prepare
    const { router } = setup();
    const unknown = tenantAuth(['agents:read'], { tenantPlan: 'platinum' });
    // Act
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await hit(router, unknown)).status);
    // Assess
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('limits an API key on its own counter and names it', async () => {
    // Prepare
    const { router } = setup();
    const key = tenantAuth(['agents:read'], {
      tenantPlan: 'pro',
      principalType: 'apikey',
      principalId: 'key1',
    });
    const other = tenantAuth(['agents:read'], {
      tenantPlan: 'pro',
      principalType: 'apikey',
      principalId: 'key2',
    });
    for (let i = 0; i < 3; i++) await hit(router, key);
    // Act
    const refused = await hit(router, key);
    const otherKey = await hit(router, other);
    // Assess
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('This API key');
    expect(refused.headers.ratelimit).toMatch(/^"api-key";r=0;/);
    expect(refused.headers['ratelimit-policy']).toBe('"tenant";q=5;w=6, "api-key";q=3;w=6');
    expect(otherKey.status).toBe(200);
  });

  it('does not count public routes or unauthenticated calls', async () => {
    // Prepare
    const { router, store } = setup();
    // Act
    const health = await router.handle(apiEvent({ path: '/health' }));
    const anonymous = await router.handle(apiEvent({ path: '/things' }));
    // Assess
    expect(health.statusCode).toBe(200);
    expect(health.headers?.ratelimit).toBeUndefined();
    expect(anonymous.statusCode).toBe(401);
    expect(store.calls).toBe(0);
  });

  it('admits requests without headers when the counters cannot be reached', async () => {
    // Prepare
    const { router, store } = setup();
    store.failing = true;
    // Act
    const res = await hit(router);
    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.ratelimit).toBeUndefined();
  });
});
