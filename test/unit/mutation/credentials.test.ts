/**
 * The authenticator's security properties that a one-token mutation could break with every other
 * test green: each credential has its own cache entry (bearer and API key), a rotated key's old
 * secret is the only other secret accepted during the grace window, a token's expiry bounds its
 * cache entry, and each built-in role holds exactly its permissions.
 */
import { describe, expect, it, vi } from 'vitest';
import { Authenticator, type AuthResult } from '#core/access/authenticate.ts';
import {
  BUILT_IN_ROLES,
  isBuiltInRole,
  isPermission,
  PERMISSIONS,
  PLATFORM_ADMIN,
} from '#core/access/permissions.ts';
import { UnauthenticatedError } from '#core/errors.ts';
import { formatApiKey, hashApiKey, parseApiKey, sameHash } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '#core/tenancy/model.ts';
import { resolvePermissions } from '#core/tenancy/roles.ts';
import { encodeAuthorizerContext } from '#shared/auth-context.ts';

/** The result as the authorizer hands it to the API (functions/shared/auth-context.ts). */
const encoded = async (result: Promise<AuthResult>) => encodeAuthorizerContext(await result);

const T1 = 'taaaaaaaaaaaaaaaa';
const T2 = 'tbbbbbbbbbbbbbbbb';
const K1 = 'kaaaaaaaaaaaaaaaa';
const K2 = 'kbbbbbbbbbbbbbbbb';
const NOW = Date.parse('2026-11-29T12:00:00Z');

function tenant(tenantId: string): Tenant {
  return {
    tenantId,
    name: tenantId,
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@x.io',
    createdAt: '',
    updatedAt: '',
  };
}

function user(userId: string, tenantId: string, roles: string[]): User {
  return {
    userId,
    tenantId,
    email: `${userId}@x.io`,
    roles,
    teams: [],
    status: 'active',
    createdAt: '',
    updatedAt: '',
  };
}

function keyRecord(keyId: string, key: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    keyId,
    name: keyId,
    scopes: ['workflows:read'],
    createdBy: 'u1',
    createdAt: '2026-11-01T00:00:00Z',
    expiresAt: '2027-06-01T00:00:00Z',
    status: 'active',
    secretHash: hashApiKey(key),
    ...overrides,
  };
}

/** Two tenants, a user in each, API keys by (tenant, key id); time moves with `advance`. */
function setup(
  options: { ttlMs?: number; tokens?: Record<string, { sub: string; expiresAt: number }> } = {},
) {
  let now = NOW;
  const users = new Map([
    ['u1', user('u1', T1, ['viewer'])],
    ['u2', user('u2', T2, ['admin'])],
  ]);
  const keys = new Map<string, ApiKeyRecord>();
  const store = {
    findUserBySub: vi.fn(async (sub: string) => users.get(sub)),
    getUser: vi.fn(async (t: string, id: string) => {
      const found = users.get(id);
      return found?.tenantId === t ? found : undefined;
    }),
    getTenant: vi.fn(async (id: string) => (id === T1 || id === T2 ? tenant(id) : undefined)),
    getRoles: vi.fn(async () => []),
    getApiKey: vi.fn(async (t: string, id: string) => keys.get(`${t}/${id}`)),
    touchApiKey: vi.fn(async () => undefined),
  };
  const tokens = options.tokens ?? {
    one: { sub: 'u1', expiresAt: NOW / 1000 + 3600 },
    two: { sub: 'u2', expiresAt: NOW / 1000 + 3600 },
  };
  const verifier = {
    verify: vi.fn(async (token: string) => {
      const claims = tokens[token];
      if (!claims) throw new UnauthenticatedError('bad token');
      return { ...claims, groups: [] };
    }),
  };
  const auth = new Authenticator({
    store,
    verifier,
    platformAdminGroup: 'platform-admins',
    cacheTtlMs: options.ttlMs ?? 300_000,
    now: () => now,
  });
  return { auth, store, keys, verifier, advance: (ms: number) => (now += ms) };
}

describe('one authenticator, two credentials, two principals', () => {
  it('resolves two bearer tokens to their own users, tenants and permissions, also when warm', async () => {
    // Prepare
    const { auth } = setup();
    // Act
    const first = await encoded(auth.authenticate({ authorization: 'Bearer one' }));
    const second = await encoded(auth.authenticate({ authorization: 'Bearer two' }));
    const firstAgain = await encoded(auth.authenticate({ authorization: 'Bearer one' }));
    // Assess
    expect(first).toMatchObject({ authenticated: true, tenantId: T1, principalId: 'u1', roles: 'viewer' });
    expect(second).toMatchObject({ authenticated: true, tenantId: T2, principalId: 'u2', roles: 'admin' });
    expect(second.permissions).toBe([...PERMISSIONS].sort().join(' '));
    expect(firstAgain).toEqual(first);
  });

  it('resolves two API keys to their own keys and tenants, also when warm', async () => {
    // Prepare
    const { auth, keys } = setup();
    const a = formatApiKey(T1, K1);
    const b = formatApiKey(T2, K2);
    keys.set(`${T1}/${K1}`, keyRecord(K1, a, { scopes: ['workflows:read'] }));
    keys.set(
      `${T2}/${K2}`,
      keyRecord(K2, b, { scopes: ['executions:start', 'agents:read'], createdBy: 'u2' }),
    );
    // Act
    const first = await encoded(auth.authenticate({ 'x-api-key': a }));
    const second = await encoded(auth.authenticate({ 'x-api-key': b }));
    const secondAgain = await encoded(auth.authenticate({ 'x-api-key': b }));
    // Assess
    expect(first).toEqual({
      authenticated: true,
      tenantId: T1,
      tenantStatus: 'active',
      tenantPlan: 'pro',
      principalType: 'apikey',
      principalId: K1,
      keyOwner: 'u1',
      roles: '',
      permissions: 'workflows:read',
    });
    expect(second).toMatchObject({
      tenantId: T2,
      principalId: K2,
      keyOwner: 'u2',
      permissions: 'agents:read executions:start',
    });
    expect(secondAgain).toEqual(second);
  });

  it('does not let a key take a cached token’s principal when both strings are equal', async () => {
    // Prepare: a bearer token that is literally an API key's text must not share its cache entry.
    const a = formatApiKey(T1, K1);
    const { auth, keys } = setup({ tokens: { [a]: { sub: 'u2', expiresAt: NOW / 1000 + 3600 } } });
    keys.set(`${T1}/${K1}`, keyRecord(K1, a));
    // Act
    const asToken = await encoded(auth.authenticate({ authorization: `Bearer ${a}` }));
    const asKey = await encoded(auth.authenticate({ 'x-api-key': a }));
    // Assess
    expect(asToken).toMatchObject({ principalType: 'user', principalId: 'u2' });
    expect(asKey).toMatchObject({ principalType: 'apikey', principalId: K1 });
  });

  it('refuses an unknown token after a good one was cached', async () => {
    // Prepare
    const { auth } = setup();
    await encoded(auth.authenticate({ authorization: 'Bearer one' }));
    // Act
    const other = await encoded(auth.authenticate({ authorization: 'Bearer nope' }));
    // Assess
    expect(other).toEqual({ authenticated: false, reason: 'invalid-token' });
  });
});

describe('a rotation’s grace window', () => {
  function rotated(graceEndsInMs: number) {
    const env = setup();
    const oldKey = formatApiKey(T1, K1);
    const newKey = formatApiKey(T1, K1);
    env.keys.set(
      `${T1}/${K1}`,
      keyRecord(K1, newKey, {
        previousSecretHash: hashApiKey(oldKey),
        previousValidUntil: new Date(NOW + graceEndsInMs).toISOString(),
      }),
    );
    return { ...env, oldKey, newKey };
  }

  it('accepts the new and the previous secret, and refuses a wrong secret, during the window', async () => {
    // Prepare
    const { auth, oldKey, newKey } = rotated(60_000);
    const wrong = formatApiKey(T1, K1);
    // Act
    const viaNew = await encoded(auth.authenticate({ 'x-api-key': newKey }));
    const viaOld = await encoded(auth.authenticate({ 'x-api-key': oldKey }));
    const viaWrong = await encoded(auth.authenticate({ 'x-api-key': wrong }));
    // Assess
    expect(viaNew).toMatchObject({ authenticated: true, principalId: K1 });
    expect(viaOld).toMatchObject({ authenticated: true, principalId: K1 });
    expect(viaWrong).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });

  it('refuses the previous secret once the window has ended, even though it was cached', async () => {
    // Prepare
    const { auth, oldKey, newKey, advance } = rotated(60_000);
    expect((await encoded(auth.authenticate({ 'x-api-key': oldKey }))).authenticated).toBe(true);
    // Act
    advance(60_000);
    const old = await encoded(auth.authenticate({ 'x-api-key': oldKey }));
    const fresh = await encoded(auth.authenticate({ 'x-api-key': newKey }));
    // Assess
    expect(old).toEqual({ authenticated: false, reason: 'invalid-api-key' });
    expect(fresh.authenticated).toBe(true);
  });

  it('refuses a wrong secret on a key that was never rotated', async () => {
    // Prepare
    const { auth, keys } = setup();
    keys.set(`${T1}/${K1}`, keyRecord(K1, formatApiKey(T1, K1)));
    // Act
    const result = await encoded(auth.authenticate({ 'x-api-key': formatApiKey(T1, K1) }));
    // Assess
    expect(result).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });

  it('refuses a key at its expiry instant', async () => {
    // Prepare
    const { auth, keys } = setup();
    const key = formatApiKey(T1, K1);
    keys.set(`${T1}/${K1}`, keyRecord(K1, key, { expiresAt: new Date(NOW).toISOString() }));
    // Act
    const result = await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(result).toEqual({ authenticated: false, reason: 'expired-api-key' });
  });
});

describe('token expiry bounds the cache', () => {
  it('refuses an expired token while its entry would still be within the cache TTL', async () => {
    // Prepare: a token valid for 10 s more, a cache TTL of 5 minutes.
    const { auth, verifier, advance } = setup({
      ttlMs: 300_000,
      tokens: { short: { sub: 'u1', expiresAt: NOW / 1000 + 10 } },
    });
    expect((await encoded(auth.authenticate({ authorization: 'Bearer short' }))).authenticated).toBe(true);
    advance(9_999);
    expect((await encoded(auth.authenticate({ authorization: 'Bearer short' }))).authenticated).toBe(true);
    expect(verifier.verify).toHaveBeenCalledTimes(1);
    verifier.verify.mockRejectedValue(new UnauthenticatedError('expired'));
    // Act
    advance(1);
    const expired = await encoded(auth.authenticate({ authorization: 'Bearer short' }));
    // Assess
    expect(expired).toEqual({ authenticated: false, reason: 'invalid-token' });
    expect(verifier.verify).toHaveBeenCalledTimes(2);
  });

  it('bounds a rotated key’s cache entry by the end of its grace window', async () => {
    // Prepare
    const { auth, keys, store, advance } = setup({ ttlMs: 300_000 });
    const oldKey = formatApiKey(T1, K1);
    keys.set(
      `${T1}/${K1}`,
      keyRecord(K1, formatApiKey(T1, K1), {
        previousSecretHash: hashApiKey(oldKey),
        previousValidUntil: new Date(NOW + 1_000).toISOString(),
      }),
    );
    await encoded(auth.authenticate({ 'x-api-key': oldKey }));
    // Act
    advance(999);
    const warm = await encoded(auth.authenticate({ 'x-api-key': oldKey }));
    const readsWhileWarm = store.getApiKey.mock.calls.length;
    advance(1);
    const cold = await encoded(auth.authenticate({ 'x-api-key': oldKey }));
    // Assess
    expect(warm.authenticated).toBe(true);
    expect(readsWhileWarm).toBe(1);
    expect(cold).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });
});

describe('API key helpers', () => {
  it('parses only well-formed keys into tenant and key id', () => {
    const key = formatApiKey(T1, K1);
    expect(key).toMatch(/^mk_taaaaaaaaaaaaaaaa_kaaaaaaaaaaaaaaaa_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key)).toEqual({ tenantId: T1, keyId: K1 });
    expect(parseApiKey(`x${key}`)).toBeUndefined();
    expect(parseApiKey(`${key}x`)).toBeUndefined();
    expect(parseApiKey(key.replace('mk_', 'mk-'))).toBeUndefined();
  });

  it('hashes a key to its sha256 hex and compares hashes exactly', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sameHash(hashApiKey('a'), hashApiKey('a'))).toBe(true);
    expect(sameHash(hashApiKey('a'), hashApiKey('b'))).toBe(false);
    expect(sameHash('', '')).toBe(false);
    expect(sameHash('abcd', 'abcdef')).toBe(false);
  });
});

describe('built-in roles', () => {
  it('hold exactly their permissions', () => {
    expect(Object.keys(BUILT_IN_ROLES)).toEqual(['admin', 'developer', 'operator', 'viewer', 'auditor']);
    expect(BUILT_IN_ROLES.admin).toEqual([
      'agents:read',
      'agents:write',
      'tools:read',
      'tools:write',
      'workflows:read',
      'workflows:write',
      'workflows:promote',
      'executions:start',
      'executions:read',
      'executions:cancel',
      'approvals:decide',
      'secrets:write',
      'secrets:use',
      'users:manage',
      'roles:manage',
      'apikeys:manage',
      'usage:read',
      'budgets:manage',
      'audit:read',
      'notifications:manage',
      'tenant:admin',
    ]);
    expect(BUILT_IN_ROLES.developer).toEqual([
      'agents:read',
      'agents:write',
      'tools:read',
      'tools:write',
      'workflows:read',
      'workflows:write',
      'executions:start',
      'executions:read',
      'usage:read',
      'secrets:use',
    ]);
    expect(BUILT_IN_ROLES.operator).toEqual([
      'agents:read',
      'tools:read',
      'workflows:read',
      'executions:start',
      'executions:read',
      'executions:cancel',
      'approvals:decide',
      'usage:read',
    ]);
    expect(BUILT_IN_ROLES.viewer).toEqual([
      'agents:read',
      'tools:read',
      'workflows:read',
      'executions:read',
      'usage:read',
    ]);
    expect(BUILT_IN_ROLES.auditor).toEqual([
      'agents:read',
      'tools:read',
      'workflows:read',
      'executions:read',
      'usage:read',
      'audit:read',
    ]);
  });

  it('are frozen, own keys only, and every listed permission is a permission', () => {
    expect(Object.isFrozen(BUILT_IN_ROLES)).toBe(true);
    expect(isBuiltInRole('viewer')).toBe(true);
    expect(isBuiltInRole('constructor')).toBe(false);
    expect(isBuiltInRole('Viewer')).toBe(false);
    expect(isPermission('audit:read')).toBe(true);
    expect(isPermission(PLATFORM_ADMIN)).toBe(false);
    expect(PLATFORM_ADMIN).toBe('platform:admin');
    expect(isPermission('')).toBe(false);
  });

  it('resolve by name to the union of their permissions, with custom roles read for the rest', async () => {
    // Prepare
    const getRoles = vi.fn(async (_t: string, names: readonly string[]) =>
      names.includes('ops') ? [{ name: 'ops', permissions: ['secrets:write' as const], builtIn: false }] : [],
    );
    // Act
    const union = await resolvePermissions({ getRoles }, T1, ['viewer', 'auditor', 'ops', 'constructor']);
    // Assess
    expect([...union].sort()).toEqual(
      [
        'agents:read',
        'audit:read',
        'executions:read',
        'secrets:write',
        'tools:read',
        'usage:read',
        'workflows:read',
      ].sort(),
    );
    expect(getRoles).toHaveBeenCalledWith(T1, ['ops', 'constructor']);
  });
});
