import { describe, expect, it, vi } from 'vitest';
import { Authenticator, type AuthResult } from '#core/access/authenticate.ts';
import { TokenExpiredError, UnauthenticatedError } from '#core/errors.ts';
import { formatApiKey, hashApiKey, parseApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Role, Tenant, User } from '#core/tenancy/model.ts';
import { encodeAuthorizerContext } from '#shared/auth-context.ts';

/** The result as the authorizer hands it to the API (functions/shared/auth-context.ts). */
const encoded = async (result: Promise<AuthResult>) => encodeAuthorizerContext(await result);

const T = 'tabcdefghijklmnop';
const NOW = Date.parse('2026-11-22T00:00:00Z');

function fakeStore() {
  const tenant: Tenant = {
    tenantId: T,
    name: 'A',
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@x.io',
    createdAt: '',
    updatedAt: '',
  };
  const user: User = {
    userId: 'sub-1',
    tenantId: T,
    email: 'u@x.io',
    roles: ['viewer', 'ops'],
    teams: [],
    status: 'active',
    createdAt: '',
    updatedAt: '',
  };
  const roles: Role[] = [{ name: 'ops', permissions: ['executions:cancel'], builtIn: false }];
  const keys = new Map<string, ApiKeyRecord>();
  const store = {
    tenant,
    user,
    keys,
    findUserBySub: vi.fn(async (sub: string) => (sub === store.user.userId ? store.user : undefined)),
    getUser: vi.fn(async (t: string, id: string) =>
      t === T && id === store.user.userId ? store.user : undefined,
    ),
    getTenant: vi.fn(async (id: string) => (id === T ? store.tenant : undefined)),
    getRoles: vi.fn(async (_t: string, names: readonly string[]) =>
      roles.filter((r) => names.includes(r.name)),
    ),
    getApiKey: vi.fn(async (_t: string, id: string) => keys.get(id)),
    touchApiKey: vi.fn(async () => undefined),
  };
  return store;
}

function setup(ttlMs = 30_000) {
  const store = fakeStore();
  let now = NOW;
  const verifier = {
    verify: vi.fn(async (token: string) => {
      if (token === 'good') return { sub: 'sub-1', groups: [], expiresAt: NOW / 1000 + 3600 };
      if (token === 'admin')
        return { sub: 'sub-p', groups: ['platform-admins'], expiresAt: NOW / 1000 + 3600 };
      if (token === 'stale') throw new TokenExpiredError('bad');
      throw new UnauthenticatedError('bad');
    }),
  };
  const auth = new Authenticator({
    store,
    verifier,
    platformAdminGroup: 'platform-admins',
    cacheTtlMs: ttlMs,
    now: () => now,
  });
  return { store, verifier, auth, advance: (ms: number) => (now += ms) };
}

function addKey(store: ReturnType<typeof fakeStore>, overrides: Partial<ApiKeyRecord> = {}) {
  const key = formatApiKey(T, 'kabcdefghijklmnop');
  store.keys.set('kabcdefghijklmnop', {
    keyId: 'kabcdefghijklmnop',
    name: 'ci',
    scopes: ['executions:cancel', 'workflows:read'],
    createdBy: 'sub-1',
    createdAt: '2026-11-01T00:00:00Z',
    expiresAt: '2027-01-01T00:00:00Z',
    status: 'active',
    secretHash: hashApiKey(key),
    ...overrides,
  });
  return key;
}

describe('Authenticator: bearer tokens', () => {
  it('resolves a user token into tenant, principal and permissions from built-in and custom roles', async () => {
    // Prepare
    const { auth } = setup();
    // Act
    const ctx = await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    // Assess
    expect(ctx).toMatchObject({
      authenticated: true,
      tenantId: T,
      principalType: 'user',
      principalId: 'sub-1',
    });
    expect(ctx.permissions?.split(' ')).toContain('executions:cancel');
    expect(ctx.permissions?.split(' ')).toContain('agents:read');
    expect(ctx.permissions?.split(' ')).not.toContain('audit:read');
  });

  it('makes no store call for a warm credential, and reads again after the TTL', async () => {
    // Prepare
    const { auth, store, advance } = setup(30_000);
    await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    // Act
    await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    const warmCalls = store.findUserBySub.mock.calls.length;
    advance(30_001);
    await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    // Assess
    expect(warmCalls).toBe(1);
    expect(store.findUserBySub).toHaveBeenCalledTimes(2);
  });

  it('refuses a disabled user once the cache entry has expired', async () => {
    // Prepare
    const { auth, store, advance } = setup(1_000);
    expect((await encoded(auth.authenticate({ authorization: 'Bearer good' }))).authenticated).toBe(true);
    store.user = { ...store.user, status: 'disabled' };
    // Act
    advance(1_001);
    const ctx = await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    // Assess
    expect(ctx).toEqual({ authenticated: false, reason: 'user-disabled' });
  });

  it('carries a suspended tenant status so the API can refuse with 403', async () => {
    // Prepare
    const { auth, store } = setup();
    store.tenant = { ...store.tenant, status: 'suspended' };
    // Act
    const ctx = await encoded(auth.authenticate({ authorization: 'Bearer good' }));
    // Assess
    expect(ctx.tenantStatus).toBe('suspended');
  });

  it.each([
    ['no credential', {}, 'missing-credentials'],
    ['a non-bearer scheme', { authorization: 'Basic abc' }, 'malformed-authorization'],
    ['an invalid token', { authorization: 'Bearer forged' }, 'invalid-token'],
    ['an expired token', { authorization: 'Bearer stale' }, 'expired-token'],
    [
      'both a token and a key',
      { authorization: 'Bearer good', 'x-api-key': 'mk_x' },
      'ambiguous-credentials',
    ],
  ])('refuses %s', async (_name, headers, reason) => {
    // Prepare
    const { auth } = setup();
    // Act
    const ctx = await encoded(auth.authenticate(headers));
    // Assess
    expect(ctx).toEqual({ authenticated: false, reason });
  });

  it('recognises platform operators by group, with no tenant', async () => {
    // Prepare
    const { auth } = setup();
    // Act
    const ctx = await encoded(auth.authenticate({ authorization: 'Bearer admin' }));
    // Assess
    expect(ctx).toMatchObject({
      authenticated: true,
      principalType: 'platform',
      permissions: 'platform:admin',
    });
    expect(ctx.tenantId).toBeUndefined();
  });
});

describe('Authenticator: API keys', () => {
  it('accepts a valid key with exactly its scopes', async () => {
    // Prepare
    const { auth, store } = setup();
    const key = addKey(store);
    // Act
    const ctx = await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(ctx).toMatchObject({
      authenticated: true,
      tenantId: T,
      principalType: 'apikey',
      permissions: 'executions:cancel workflows:read',
    });
  });

  it.each([
    ['a wrong secret', (k: string) => `${k.slice(0, -4)}AAAA`, {}, 'invalid-api-key'],
    ['an expired key', (k: string) => k, { expiresAt: '2026-11-21T00:00:00Z' }, 'expired-api-key'],
    ['a revoked key', (k: string) => k, { status: 'revoked' as const }, 'invalid-api-key'],
    ['a malformed key', () => 'mk_nope', {}, 'invalid-api-key'],
  ])('refuses %s', async (_name, mangle, overrides, reason) => {
    // Prepare
    const { auth, store } = setup();
    const key = addKey(store, overrides);
    // Act
    const ctx = await encoded(auth.authenticate({ 'x-api-key': mangle(key) }));
    // Assess
    expect(ctx).toEqual({ authenticated: false, reason });
  });

  it('keeps a rotated key valid during its grace period and refuses it after', async () => {
    // Prepare
    const { auth, store, advance } = setup(1_000);
    const old = formatApiKey(T, 'kabcdefghijklmnop');
    addKey(store, {
      previousSecretHash: hashApiKey(old),
      previousValidUntil: new Date(NOW + 60_000).toISOString(),
    });
    // Act
    const during = await encoded(auth.authenticate({ 'x-api-key': old }));
    advance(60_001);
    const after = await encoded(auth.authenticate({ 'x-api-key': old }));
    // Assess
    expect(during.authenticated).toBe(true);
    expect(after).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });

  it('records use at most once per interval', async () => {
    // Prepare
    const { auth, store } = setup(0);
    const key = addKey(store);
    // Act
    await encoded(auth.authenticate({ 'x-api-key': key }));
    await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(store.touchApiKey).toHaveBeenCalledTimes(1);
  });

  it('parses only well-formed keys', () => {
    expect(parseApiKey(formatApiKey(T, 'kabcdefghijklmnop'))).toEqual({
      tenantId: T,
      keyId: 'kabcdefghijklmnop',
    });
    expect(parseApiKey('mk_t#x_kabc_secret')).toBeUndefined();
  });
});
