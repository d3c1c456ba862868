import { describe, expect, it, vi } from 'vitest';
import { type AuthEvent, Authenticator } from '#core/access/authenticate.ts';
import { UnauthenticatedError } from '#core/errors.ts';
import { formatApiKey, hashApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '#core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const KEY_ID = 'kabcdefghijklmnop';
const NOW = Date.parse('2026-11-29T00:00:00Z');

const T2 = 'tzyxwvutsrqponmlk';

interface Extra {
  /** The key's creator, over an active admin. */
  readonly creator?: Partial<User>;
  /** The tenant, over an active pro tenant. */
  readonly tenant?: Partial<Tenant>;
  /** The audit window; null leaves the authenticator's default. */
  readonly touchEveryMs?: number | null;
}

function setup(user: Partial<User> = {}, key: Partial<ApiKeyRecord> | null = {}, extra: Extra = {}) {
  const tenant = {
    tenantId: T,
    status: 'active',
    plan: 'pro',
    adminEmail: 'first@example.com',
    ...extra.tenant,
  } as Tenant;
  const other = { tenantId: T2, status: 'active', plan: 'pro', adminEmail: 'x@example.com' } as Tenant;
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
    getTenant: vi.fn(async (id: string) => (id === T ? tenant : id === T2 ? other : undefined)),
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
          ...extra.creator,
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
    ...(extra.touchEveryMs === null ? {} : { touchEveryMs: extra.touchEveryMs ?? 60_000 }),
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

  it('names the reason a key of a disabled creator, or of a password user where SSO is required, is refused', async () => {
    // Prepare
    const disabled = setup({}, {}, { creator: { status: 'disabled' } });
    const sso = setup({}, {}, { tenant: { requireSso: true } });
    // Act
    await disabled.auth.authenticate({ 'x-api-key': disabled.secret, ...ua });
    await sso.auth.authenticate({ 'x-api-key': sso.secret, ...ua });
    // Assess
    expect(disabled.events.map(([, e]) => [e.actor, e.reason])).toEqual([
      [{ id: KEY_ID, type: 'apikey' }, 'key-creator-inactive'],
    ]);
    expect(sso.events.map(([, e]) => [e.actor, e.reason])).toEqual([
      [{ id: KEY_ID, type: 'apikey' }, 'sso-required'],
    ]);
  });

  it("refusing a password user's token where SSO is required names the user, with no user agent as ''", async () => {
    // Prepare
    const { auth, events } = setup({ email: 'someone@example.com' }, {}, { tenant: { requireSso: true } });
    // Act
    const context = await auth.authenticate({ authorization: 'Bearer good' });
    // Assess
    expect(context).toEqual({ authenticated: false, reason: 'sso-required' });
    expect(events).toEqual([
      [
        T,
        {
          action: 'auth.denied',
          actor: { id: 'sub-1', type: 'user' },
          reason: 'sso-required',
          at: '2026-11-29T00:00:00.000Z',
          userAgent: '',
        },
      ],
    ]);
  });

  it('starts a new window exactly when the last one ends', async () => {
    // Prepare: 20 refusals 1,001 ms apart fill the 60 s window that began with the first
    const { auth, events, secret, advance } = setup({}, { secretHash: 'f'.repeat(64) });
    for (let i = 0; i < 20; i++) {
      await auth.authenticate({ 'x-api-key': secret, ...ua });
      advance(1_001);
    }
    // Act: 60,000 ms after the first refusal
    advance(60_000 - 20 * 1_001);
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    // Assess
    expect(events).toHaveLength(21);
  });

  it('keeps the cap for five minutes by default', async () => {
    // Prepare: two authenticators with the default window, each with its 20 refusals audited
    const capped = async () => {
      const made = setup({}, { secretHash: 'f'.repeat(64) }, { touchEveryMs: null });
      for (let i = 0; i < 20; i++) {
        await made.auth.authenticate({ 'x-api-key': made.secret, ...ua });
        made.advance(1_001);
      }
      return made;
    };
    const before = await capped();
    const after = await capped();
    // Act: one refusal 1 ms before the window's end, one at its end (each past the credential cache)
    before.advance(5 * 60_000 - 20 * 1_001 - 1);
    await before.auth.authenticate({ 'x-api-key': before.secret, ...ua });
    after.advance(5 * 60_000 - 20 * 1_001);
    await after.auth.authenticate({ 'x-api-key': after.secret, ...ua });
    // Assess
    expect(before.events).toHaveLength(20);
    expect(after.events).toHaveLength(21);
  });

  it("another tenant's refusals do not reset a tenant's cap", async () => {
    // Prepare: the first tenant uses up its 20 audited refusals
    const { auth, events, secret, advance } = setup({}, { secretHash: 'f'.repeat(64) });
    for (let i = 0; i < 20; i++) {
      await auth.authenticate({ 'x-api-key': secret, ...ua });
      advance(1_001);
    }
    // Act: a refusal in another tenant, then the first again
    await auth.authenticate({ 'x-api-key': formatApiKey(T2, KEY_ID), ...ua });
    advance(1_001);
    await auth.authenticate({ 'x-api-key': secret, ...ua });
    // Assess
    expect(events.map(([tenantId]) => tenantId)).toEqual([...Array<string>(20).fill(T), T2]);
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
