import { describe, expect, it, vi } from 'vitest';
import { type AuthEvent, Authenticator } from '../../../functions/core/access/authenticate.ts';
import { UnauthenticatedError } from '../../../functions/core/errors.ts';
import { formatApiKey, hashApiKey } from '../../../functions/core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '../../../functions/core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const KEY_ID = 'kabcdefghijklmnop';
const NOW = Date.parse('2026-11-29T00:00:00Z');

function setup(user: Partial<User> = {}, key: Partial<ApiKeyRecord> | null = {}) {
  const tenant = { tenantId: T, status: 'active', plan: 'pro' } as Tenant;
  const secret = formatApiKey(T, KEY_ID);
  const record: ApiKeyRecord | undefined =
    key === null
      ? undefined
      : {
          keyId: KEY_ID,
          name: 'ci',
          scopes: ['workflows:read'],
          createdBy: 'sub-1',
          createdAt: '2026-11-01T00:00:00Z',
          expiresAt: '2027-01-01T00:00:00Z',
          status: 'active',
          secretHash: hashApiKey(secret),
          ...key,
        };
  const store = {
    findUserBySub: vi.fn(
      async () => ({ userId: 'sub-1', tenantId: T, roles: [], status: 'active', ...user }) as User,
    ),
    getTenant: vi.fn(async (id: string) => (id === T ? tenant : undefined)),
    getRoles: vi.fn(async () => []),
    // The key's creator: active, and an admin, so the key keeps its scopes.
    getUser: vi.fn(
      async () =>
        ({
          userId: 'sub-1',
          tenantId: T,
          roles: ['admin'],
          teams: [],
          email: 'a@example.com',
          status: 'active',
          createdAt: '',
          updatedAt: '',
        }) as User,
    ),
    getApiKey: vi.fn(async () => record),
    touchApiKey: vi.fn(async () => undefined),
  };
  const events: [string, AuthEvent][] = [];
  let now = NOW;
  const auth = new Authenticator({
    store,
    verifier: {
      verify: async (token: string) => {
        if (token === 'good') return { sub: 'sub-1', groups: [], expiresAt: NOW / 1000 + 3600 };
        throw new UnauthenticatedError('bad');
      },
    },
    platformAdminGroup: 'platform-admins',
    cacheTtlMs: 1_000,
    touchEveryMs: 60_000,
    now: () => now,
    auditAuth: async (tenantId, event) => {
      events.push([tenantId, event]);
    },
  });
  return { auth, events, secret, advance: (ms: number) => (now += ms) };
}

const ua = { 'user-agent': 'curl/8' };

describe('authentication events are audited', () => {
  it.each([
    ['an unknown key', null, 'unknown-api-key', 'invalid-api-key'],
    ['a revoked key', { status: 'revoked' as const }, 'revoked-api-key', 'invalid-api-key'],
    ['an expired key', { expiresAt: '2026-01-01T00:00:00Z' }, 'expired-api-key', 'expired-api-key'],
    ['a wrong secret', { secretHash: 'f'.repeat(64) }, 'wrong-api-key-secret', 'invalid-api-key'],
  ])('refusing %s names the key and the reason', async (_name, key, reason, answered) => {
    // Prepare
    const { auth, events, secret } = setup({}, key);
    // Act
    const context = await auth.authenticate({ 'x-api-key': secret, ...ua });
    await Promise.resolve();
    // Assess
    expect(context).toEqual({ authenticated: false, reason: answered });
    expect(events).toEqual([
      [
        T,
        {
          action: 'auth.denied',
          actor: { id: KEY_ID, type: 'apikey' },
          reason,
          at: '2026-11-29T00:00:00.000Z',
          userAgent: 'curl/8',
        },
      ],
    ]);
  });

  it('audits at most 20 refusals per tenant in a window, so a flood of bad keys is not a flood of writes', async () => {
    // Prepare: a key whose secret never matches
    const { auth, events, secret, advance } = setup({}, { secretHash: 'f'.repeat(64) });
    // Act
    for (let i = 0; i < 25; i++) {
      await auth.authenticate({ 'x-api-key': secret, ...ua });
      advance(1_001); // past the 1 s credential cache, within the 60 s window
    }
    const inWindow = events.length;
    advance(60_000);
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    // Assess
    expect(inWindow).toBe(20);
    expect(events).toHaveLength(21);
  });

  it("refusing a disabled user's token names the user", async () => {
    // Prepare
    const { auth, events } = setup({ status: 'disabled' });
    // Act
    const context = await auth.authenticate({ authorization: 'Bearer good', ...ua });
    // Assess
    expect(context).toEqual({ authenticated: false, reason: 'user-disabled' });
    expect(events).toEqual([
      [
        T,
        expect.objectContaining({
          action: 'auth.denied',
          actor: { id: 'sub-1', type: 'user' },
          reason: 'user-disabled',
        }),
      ],
    ]);
  });

  it('audits nothing for a credential that names no tenant, or a bad token', async () => {
    // Prepare
    const { auth, events } = setup();
    // Act
    await auth.authenticate({ 'x-api-key': 'mk_nonsense' });
    await auth.authenticate({ 'x-api-key': formatApiKey('tzzzzzzzzzzzzzzzz', KEY_ID) });
    await auth.authenticate({ authorization: 'Bearer forged' });
    // Assess
    expect(events).toEqual([]);
  });

  it("audits an API key's first use in each window, not every use", async () => {
    // Prepare
    const { auth, events, secret, advance } = setup();
    // Act
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    advance(2_000);
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    const inWindow = events.length;
    advance(60_000);
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    // Assess
    expect(inWindow).toBe(1);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual([
      T,
      {
        action: 'apikey.used',
        actor: { id: KEY_ID, type: 'apikey' },
        at: '2026-11-29T00:00:00.000Z',
        userAgent: 'curl/8',
      },
    ]);
    expect(events[1]?.[1].at).toBe('2026-11-29T00:01:02.000Z');
  });

  it('a failing audit write does not fail authentication', async () => {
    // Prepare
    const { secret } = setup();
    const auth = new Authenticator({
      store: {
        findUserBySub: async () => undefined,
        getTenant: async () => ({ tenantId: T, status: 'active' }) as Tenant,
        getRoles: async () => [],
        getUser: async () => undefined,
        getApiKey: async () => undefined,
        touchApiKey: async () => undefined,
      },
      verifier: { verify: async () => ({ sub: 'x', groups: [], expiresAt: 0 }) },
      platformAdminGroup: 'p',
      cacheTtlMs: 0,
      auditAuth: async () => {
        throw new Error('throttled');
      },
    });
    // Act
    const context = await auth.authenticate({ 'x-api-key': secret });
    // Assess
    expect(context).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });
});
