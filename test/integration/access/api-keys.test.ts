import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../helpers/api.ts';
import {
  createApiKey,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../../helpers/tenants.ts';
import {
  errorPaths,
  expectProblem,
  inAYear,
  type KeyView,
  listAll,
  type Me,
  meBecomes,
  type Page,
  statusOf,
} from './helpers.ts';

describe('API keys', () => {
  let tenant: TestTenant;
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('keys');
    admin = await tenant.token();
  });

  /** The secret part of `mk_<tenantId>_<keyId>_<secret>`: 43 base64url characters (which may hold `_`). */
  const secretOf = (key: string): string => key.slice(-43);

  it('create returns the key once (mk_...); neither the list nor any later answer shows it again', async () => {
    // Act
    const created = await call<KeyView>('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('ci'), scopes: ['usage:read', 'agents:read'], expiresAt: inAYear() },
    });
    const listed = await call<Page<KeyView>>('GET', '/api-keys?limit=100', { token: admin });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/api-keys/${created.body.keyId}`);
    const key = created.body.key ?? '';
    expect(key).toMatch(/^mk_t[a-z0-9]{16}_k[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.body.scopes).toEqual(['agents:read', 'usage:read']);
    const item = listed.body.items.find((k) => k.keyId === created.body.keyId);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('key');
    expect(item).not.toHaveProperty('secretHash');
    expect(listed.text).not.toContain(secretOf(key));
    const audit = await call('GET', '/audit?limit=100', { token: admin });
    expect(audit.text).not.toContain(secretOf(key));
  });

  it('scopes must be a subset of the creator’s permissions: 400 naming scopes.N', async () => {
    // Prepare
    const role = await createRole(admin, 'key-maker', ['apikeys:manage', 'agents:read', 'usage:read']);
    const maker = await inviteUser(admin, uniqueEmail('key-maker'), [role]);
    const makerToken = await maker.token();
    // Act
    const outside = await call('POST', '/api-keys', {
      token: makerToken,
      body: {
        name: uniqueName('k'),
        scopes: ['agents:read', 'secrets:write', 'usage:read', 'users:manage'],
        expiresAt: inAYear(),
      },
    });
    const inside = await call<KeyView>('POST', '/api-keys', {
      token: makerToken,
      body: { name: uniqueName('k'), scopes: ['agents:read', 'apikeys:manage'], expiresAt: inAYear() },
    });
    // Assess
    expectProblem(outside, 400, 'validation-error');
    expect(errorPaths(outside)).toEqual(['scopes.1', 'scopes.3']);
    expect(inside.status, inside.text).toBe(201);
    // A key cannot mint a wider key either.
    const wider = await call('POST', '/api-keys', {
      apiKey: inside.body.key ?? '',
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear() },
    });
    expectProblem(wider, 400, 'validation-error');
    expect(errorPaths(wider)).toEqual(['scopes.0']);
  });

  it('expiresAt in the past or more than a year ahead is 400 naming expiresAt', async () => {
    // Act
    const past = await call('POST', '/api-keys', {
      token: admin,
      body: {
        name: uniqueName('k'),
        scopes: ['usage:read'],
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    const tooFar = await call('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear(400) },
    });
    const withinAYear = await call('POST', '/api-keys', {
      token: admin,
      body: { name: uniqueName('k'), scopes: ['usage:read'], expiresAt: inAYear(364) },
    });
    // Assess
    expectProblem(past, 400, 'validation-error');
    expect(errorPaths(past)).toEqual(['expiresAt']);
    expectProblem(tooFar, 400, 'validation-error');
    expect(errorPaths(tooFar)).toEqual(['expiresAt']);
    expect(withinAYear.status, withinAYear.text).toBe(201);
  });

  it('the key authenticates as an apikey principal with exactly its scopes, which are enforced', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read', 'secrets:write']);
    // Act
    const me = await call<Me>('GET', '/me', { apiKey: key.key });
    const inScope = await call('GET', '/secrets', { apiKey: key.key });
    const outOfScope = await call('GET', '/users', { apiKey: key.key });
    // Assess
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({
      tenantId: tenant.tenantId,
      principal: { id: key.keyId, type: 'apikey' },
    });
    expect(me.body.permissions).toEqual(['secrets:write', 'usage:read']);
    expect(me.body.roles).toEqual([]);
    expect(inScope.status, inScope.text).toBe(200);
    expectProblem(outOfScope, 403, 'forbidden');
  });

  it('a wrong secret, or a key together with a bearer token, is 401', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    const prefix = key.key.slice(0, -43);
    const wrong = `${prefix}${randomBytes(32).toString('base64url')}`;
    // Act
    const wrongSecret = await call('GET', '/me', { apiKey: wrong });
    const both = await call('GET', '/me', { apiKey: key.key, token: admin });
    // Assess
    expectProblem(wrongSecret, 401, 'unauthenticated');
    expectProblem(both, 401, 'unauthenticated');
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
  });

  it('revoke: 204, the key is refused (401 after the TTL), gone from the list, a second revoke is 404', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    // Act
    const revoked = await call('DELETE', `/api-keys/${key.keyId}`, { token: admin });
    // Assess
    expect(revoked.status, revoked.text).toBe(204);
    await meBecomes({ apiKey: key.key }, 401);
    const listed = await listAll<KeyView>('/api-keys', { token: admin });
    expect(listed.map((k) => k.keyId)).not.toContain(key.keyId);
    expectProblem(await call('DELETE', `/api-keys/${key.keyId}`, { token: admin }), 404, 'not-found');
    expectProblem(
      await call('POST', `/api-keys/${key.keyId}/rotate`, { token: admin, body: {} }),
      404,
      'not-found',
    );
  });

  it('rotate with gracePeriodSeconds 2: the new key works, the old one during the grace period only', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    // Act
    const rotated = await call<KeyView>('POST', `/api-keys/${key.keyId}/rotate`, {
      token: admin,
      body: { gracePeriodSeconds: 2 },
    });
    const rotatedAt = Date.now();
    // Assess
    expect(rotated.status, rotated.text).toBe(200);
    const next = rotated.body.key ?? '';
    expect(next).toMatch(/^mk_/);
    expect(next).not.toBe(key.key);
    expect(rotated.body.keyId).toBe(key.keyId);
    expect(await statusOf('GET', '/me', { apiKey: next })).toBe(200);
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    await meBecomes({ apiKey: key.key }, 401, 2_000);
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(1_500);
    expect(await statusOf('GET', '/me', { apiKey: next })).toBe(200);
  });

  it('lastUsedAt appears in the list after the key is used', async () => {
    // Prepare
    const key = await createApiKey(admin, ['usage:read']);
    const find = async (): Promise<KeyView | undefined> =>
      (await listAll<KeyView>('/api-keys', { token: admin })).find((k) => k.keyId === key.keyId);
    expect((await find())?.lastUsedAt).toBeUndefined();
    const before = new Date(Date.now() - 1_000).toISOString();
    // Act
    expect(await statusOf('GET', '/me', { apiKey: key.key })).toBe(200);
    // Assess
    const used = await eventually(async () => {
      const item = await find();
      expect(item?.lastUsedAt).toBeDefined();
      return item?.lastUsedAt ?? '';
    });
    expect(used >= before).toBe(true);
  });
});
