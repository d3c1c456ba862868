/**
 * The authenticator's edges: header parsing, refusals for unknown users, tenants and keys, errors
 * that are not credential failures, the cache's bound and reset, and how often a key's use is
 * recorded.
 */
import { describe, expect, it, vi } from 'vitest';
import { Authenticator, type AuthenticatorOptions, type AuthResult } from '#core/access/authenticate.ts';
import { UnauthenticatedError } from '#core/errors.ts';
import { formatApiKey, hashApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '#core/tenancy/model.ts';
import { encodeAuthorizerContext } from '#shared/auth-context.ts';

/** The result as the authorizer hands it to the API (functions/shared/auth-context.ts). */
const encoded = async (result: Promise<AuthResult>) => encodeAuthorizerContext(await result);

const T = 'taaaaaaaaaaaaaaaa';
const PLATFORM_GROUP = 'platform-admins';
const K = 'kaaaaaaaaaaaaaaaa';
const NOW = Date.parse('2026-11-29T12:00:00Z');
const EXPIRES = NOW / 1000 + 3600;

function setup(options: Partial<Pick<AuthenticatorOptions, 'maxEntries' | 'touchEveryMs'>> = {}) {
  let now = NOW;
  const tenants = new Map<string, Tenant>([
    [
      T,
      {
        tenantId: T,
        name: 'a',
        plan: 'pro',
        status: 'active',
        adminEmail: 'a@x.io',
        createdAt: '',
        updatedAt: '',
      },
    ],
  ]);
  const users = new Map<string, User>();
  const addUser = (userId: string, tenantId = T, roles = ['viewer', 'ops']) =>
    users.set(userId, {
      userId,
      tenantId,
      email: `${userId}@x.io`,
      roles,
      teams: [],
      status: 'active',
      createdAt: '',
      updatedAt: '',
    });
  addUser('u1');
  const keys = new Map<string, ApiKeyRecord>();
  const store = {
    findUserBySub: vi.fn(async (sub: string) => users.get(sub)),
    getUser: vi.fn(async (t: string, id: string) => {
      const found = users.get(id);
      return found?.tenantId === t ? found : undefined;
    }),
    getTenant: vi.fn(async (id: string) => tenants.get(id)),
    getRoles: vi.fn(async () => []),
    getApiKey: vi.fn(async (_t: string, id: string) => keys.get(id)),
    touchApiKey: vi.fn(async (_t: string, _k: string, _at: string): Promise<void> => undefined),
  };
  const verifier = {
    verify: vi.fn(async (token: string) => {
      if (token === 'boom') throw new Error('network down');
      if (!token.startsWith('tok-')) throw new UnauthenticatedError('bad');
      // `tok-op` is a platform operator's token: only the group tells it apart.
      return { sub: token.slice(4), groups: token === 'tok-op' ? [PLATFORM_GROUP] : [], expiresAt: EXPIRES };
    }),
  };
  const auth = new Authenticator({
    store,
    verifier,
    platformAdminGroup: PLATFORM_GROUP,
    cacheTtlMs: 60_000,
    now: () => now,
    ...options,
  });
  const key = formatApiKey(T, K);
  keys.set(K, {
    keyId: K,
    name: 'k',
    scopes: ['workflows:read'],
    createdBy: 'u1',
    createdAt: '2026-11-01T00:00:00Z',
    expiresAt: '2027-06-01T00:00:00Z',
    status: 'active',
    secretHash: hashApiKey(key),
  });
  return { auth, store, verifier, tenants, users, addUser, keys, key, advance: (ms: number) => (now += ms) };
}

describe('headers', () => {
  it('trims both credentials and accepts any case and spacing of the Bearer scheme', async () => {
    // Prepare
    const { auth, key } = setup();
    // Act
    const results = await Promise.all([
      encoded(auth.authenticate({ authorization: '  Bearer tok-u1  ' })),
      encoded(auth.authenticate({ authorization: 'bearer   tok-u1' })),
      encoded(auth.authenticate({ 'x-api-key': `  ${key} ` })),
    ]);
    // Assess
    expect(results.map((r) => r.principalId)).toEqual(['u1', 'u1', K]);
  });

  it.each([
    ['another scheme', 'Basic tok-u1'],
    ['text before the scheme', 'xBearer tok-u1'],
    ['two tokens', 'Bearer tok-u1 tok-u2'],
    ['no token', 'Bearer'],
  ])('refuses %s as malformed', async (_name, authorization) => {
    // Prepare
    const { auth, verifier } = setup();
    // Act
    const result = await encoded(auth.authenticate({ authorization }));
    // Assess
    expect(result).toEqual({ authenticated: false, reason: 'malformed-authorization' });
    expect(verifier.verify).not.toHaveBeenCalled();
  });

  it('refuses both credentials at once, and none', async () => {
    // Prepare
    const { auth, key } = setup();
    // Act and assess
    expect(await encoded(auth.authenticate({ authorization: 'Bearer tok-u1', 'x-api-key': key }))).toEqual({
      authenticated: false,
      reason: 'ambiguous-credentials',
    });
    expect(await encoded(auth.authenticate({ authorization: '  ', 'x-api-key': '' }))).toEqual({
      authenticated: false,
      reason: 'missing-credentials',
    });
  });
});

describe('the result', () => {
  it('is a tenant principal for a user and for a key, a platform one for an operator', async () => {
    // Prepare
    const { auth, key } = setup();
    // Act
    const [user, apiKey, operator] = [
      await auth.authenticate({ authorization: 'Bearer tok-u1' }),
      await auth.authenticate({ 'x-api-key': key }),
      await auth.authenticate({ authorization: 'Bearer tok-op' }),
    ];
    // Assess
    expect(user).toMatchObject({
      authenticated: true,
      principal: { kind: 'tenant', tenantId: T, principalType: 'user', principalId: 'u1' },
      tenant: { status: 'active', plan: 'pro' },
    });
    expect(apiKey).toMatchObject({
      authenticated: true,
      principal: { kind: 'tenant', tenantId: T, principalType: 'apikey', principalId: K, onBehalfOf: 'u1' },
    });
    expect(operator).toEqual({ authenticated: true, principal: { kind: 'platform', principalId: 'op' } });
  });
});

describe('bearer tokens', () => {
  it('names every role of the user, in order', async () => {
    // Prepare
    const { auth } = setup();
    // Act
    const result = await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    // Assess
    expect(result.roles).toBe('viewer ops');
  });

  it('refuses an unknown user and a user of an unknown tenant', async () => {
    // Prepare
    const { auth, addUser } = setup();
    addUser('u9', 'tzzzzzzzzzzzzzzzz');
    // Act
    const unknownUser = await encoded(auth.authenticate({ authorization: 'Bearer tok-nobody' }));
    const unknownTenant = await encoded(auth.authenticate({ authorization: 'Bearer tok-u9' }));
    // Assess
    expect(unknownUser).toEqual({ authenticated: false, reason: 'unknown-user' });
    expect(unknownTenant).toEqual({ authenticated: false, reason: 'unknown-tenant' });
  });

  it('lets an error that is not a credential failure through instead of refusing', async () => {
    // Prepare
    const { auth } = setup();
    // Act
    const attempt = encoded(auth.authenticate({ authorization: 'Bearer boom' }));
    // Assess
    await expect(attempt).rejects.toThrow('network down');
  });
});

describe('API keys', () => {
  it('refuses a revoked key and a key whose tenant is gone', async () => {
    // Prepare
    const revoked = setup();
    revoked.keys.set(K, { ...(revoked.keys.get(K) as ApiKeyRecord), status: 'revoked' });
    const orphan = setup();
    orphan.tenants.clear();
    // Act
    const a = await encoded(revoked.auth.authenticate({ 'x-api-key': revoked.key }));
    const b = await encoded(orphan.auth.authenticate({ 'x-api-key': orphan.key }));
    // Assess
    expect(a).toEqual({ authenticated: false, reason: 'invalid-api-key' });
    expect(b).toEqual({ authenticated: false, reason: 'invalid-api-key' });
  });

  it('refuses a string not shaped like a key without reading the store', async () => {
    // Prepare
    const { auth, store } = setup();
    // Act
    const result = await encoded(auth.authenticate({ 'x-api-key': 'mk_nonsense' }));
    // Assess
    expect(result).toEqual({ authenticated: false, reason: 'invalid-api-key' });
    expect(store.getApiKey).not.toHaveBeenCalled();
  });
});

describe('recording a key’s use', () => {
  it('records it on first use and on cached uses once touchEveryMs has passed, never for users', async () => {
    // Prepare
    const { auth, store, key, advance } = setup({ touchEveryMs: 1_000 });
    // Act
    await encoded(auth.authenticate({ 'x-api-key': key }));
    advance(999);
    await encoded(auth.authenticate({ 'x-api-key': key }));
    const early = store.touchApiKey.mock.calls.length;
    advance(1);
    await encoded(auth.authenticate({ 'x-api-key': key }));
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    // Assess
    expect(early).toBe(1);
    expect(store.touchApiKey.mock.calls).toEqual([
      [T, K, new Date(NOW).toISOString()],
      [T, K, new Date(NOW + 1_000).toISOString()],
    ]);
  });

  it('has recorded a cached use by the time it answers (Lambda freezes the container after)', async () => {
    // Prepare: a record of use that takes a while to land
    const { auth, store, key, advance } = setup({ touchEveryMs: 1_000 });
    await encoded(auth.authenticate({ 'x-api-key': key }));
    const landed: string[] = [];
    store.touchApiKey.mockImplementation(async (_t: string, _k: string, at: string) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      landed.push(at);
    });
    advance(1_000);
    // Act: a use served from the cache
    await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(landed).toEqual([new Date(NOW + 1_000).toISOString()]);
  });

  it('records it at most every five minutes by default', async () => {
    // Prepare
    const { auth, store, key, advance } = setup();
    // Act
    await encoded(auth.authenticate({ 'x-api-key': key }));
    advance(1_000);
    await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(store.touchApiKey).toHaveBeenCalledTimes(1);
  });

  it('ignores a failed write of the use', async () => {
    // Prepare
    const { auth, store, key } = setup();
    store.touchApiKey.mockRejectedValue(new Error('throttled'));
    // Act
    const result = await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(result.authenticated).toBe(true);
  });
});

describe('the cache', () => {
  it('holds at most maxEntries, dropping the oldest first', async () => {
    // Prepare
    const { auth, store, addUser } = setup({ maxEntries: 2 });
    addUser('u2');
    addUser('u3');
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u2' }));
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u3' }));
    store.findUserBySub.mockClear();
    // Act
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u3' }));
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u2' }));
    const readsForKept = store.findUserBySub.mock.calls.length;
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    // Assess
    expect(readsForKept).toBe(0);
    expect(store.findUserBySub.mock.calls).toEqual([['u1']]);
  });

  it('keeps 10,000 entries by default', async () => {
    // Prepare
    const { auth, verifier } = setup();
    for (let i = 0; i < 10_000; i++) await encoded(auth.authenticate({ authorization: `Bearer bad-${i}` }));
    verifier.verify.mockClear();
    // Act: the 10,001st entry pushes out the oldest (bad-0) and only it.
    await encoded(auth.authenticate({ authorization: 'Bearer bad-new' }));
    await encoded(auth.authenticate({ authorization: 'Bearer bad-1' }));
    await encoded(auth.authenticate({ authorization: 'Bearer bad-9999' }));
    await encoded(auth.authenticate({ authorization: 'Bearer bad-0' }));
    // Assess
    expect(verifier.verify.mock.calls).toEqual([['bad-new'], ['bad-0']]);
  });

  it('forgets everything on clear', async () => {
    // Prepare
    const { auth, store } = setup();
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    // Act
    auth.clear();
    await encoded(auth.authenticate({ authorization: 'Bearer tok-u1' }));
    // Assess
    expect(store.findUserBySub).toHaveBeenCalledTimes(2);
  });
});

describe('a tenant that requires single sign-on', () => {
  function ssoSetup() {
    const s = setup();
    const tenant = s.tenants.get(T);
    if (!tenant) throw new Error('setup has no tenant');
    // The break-glass admin is matched whatever the case the tenant's admin email was written in.
    s.tenants.set(T, { ...tenant, requireSso: true, adminEmail: 'Glass@X.io' });
    s.addUser('u2');
    const u2 = s.users.get('u2');
    if (u2) s.users.set('u2', { ...u2, sso: { providerId: 'p1' } });
    s.addUser('glass');
    return s;
  }

  it('refuses the tokens of password users, and lets SSO users and the first admin in', async () => {
    // Prepare
    const { auth } = ssoSetup();
    // Act
    const [password, federated, glass] = await Promise.all([
      encoded(auth.authenticate({ authorization: 'Bearer tok-u1' })),
      encoded(auth.authenticate({ authorization: 'Bearer tok-u2' })),
      encoded(auth.authenticate({ authorization: 'Bearer tok-glass' })),
    ]);
    // Assess
    expect(password).toEqual({ authenticated: false, reason: 'sso-required' });
    expect(federated).toMatchObject({ authenticated: true, principalId: 'u2' });
    expect(glass).toMatchObject({ authenticated: true, principalId: 'glass' });
  });

  it('refuses the keys of password users, and keeps those of SSO users working', async () => {
    // Prepare
    const { auth, key, keys } = ssoSetup();
    // Act
    const ofPasswordUser = await encoded(auth.authenticate({ 'x-api-key': key }));
    const record = keys.get(K);
    if (record) keys.set(K, { ...record, createdBy: 'u2' });
    auth.clear();
    const ofSsoUser = await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(ofPasswordUser).toEqual({ authenticated: false, reason: 'sso-required' });
    expect(ofSsoUser).toMatchObject({ authenticated: true, principalId: K });
  });

  it('names a key whose creator is disabled as such', async () => {
    // Prepare
    const { auth, key, users } = setup();
    const u1 = users.get('u1');
    if (u1) users.set('u1', { ...u1, status: 'disabled' });
    // Act
    const result = await encoded(auth.authenticate({ 'x-api-key': key }));
    // Assess
    expect(result).toEqual({ authenticated: false, reason: 'key-creator-inactive' });
  });
});
