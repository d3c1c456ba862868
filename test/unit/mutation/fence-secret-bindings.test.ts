/**
 * Binding a secret (functions/core/versioning/secret-bindings.ts), past what the core tests pin: a
 * missing secret is refused even to an admin, a secret with no allowedRoles allows admins only, one
 * matching role among several is enough, and a key acts only with a creator's roles.
 */
import { describe, expect, it, vi } from 'vitest';
import { BUILT_IN_ROLES, type Permission } from '#core/access/permissions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { SecretMeta, User } from '#core/tenancy/model.ts';
import { bindSecrets, type SecretUseDeps, secretsUsed } from '#core/versioning/secret-bindings.ts';

const T = 'tabcdefghijklmnop';
const META: RequestMeta = { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'unit', now: '' };

function caller(roles: string[], extra: Partial<TenantPrincipal> = {}): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'sub-1',
    principalType: 'user',
    roles,
    permissions: new Set<Permission>(['secrets:use']),
    ...extra,
  };
  return { principal, meta: META };
}

function deps(secrets: Record<string, Partial<SecretMeta>>, users: Record<string, string[]> = {}) {
  const getSecretMeta = vi.fn(async (_t: string, name: string) =>
    secrets[name]
      ? ({ name, version: 1, createdAt: '', updatedAt: '', ...secrets[name] } as SecretMeta)
      : undefined,
  );
  const getUser = vi.fn(async (_t: string, id: string) =>
    users[id] ? ({ userId: id, roles: users[id] } as unknown as User) : undefined,
  );
  const d: SecretUseDeps = { tenancy: { getSecretMeta, getUser } };
  return { d, getSecretMeta, getUser };
}

const NO_MATCH =
  /You may not use the secret k \(apiKeySecret\): it allows none of your roles, or does not exist/;

describe('secretsUsed', () => {
  it('names nothing for null and non-string fields', () => {
    expect(secretsUsed('agent', null)).toEqual([]);
    expect(secretsUsed('agent', 'apiKeySecret')).toEqual([]);
    expect(secretsUsed('agent', { apiKeySecret: 7 })).toEqual([]);
  });
});

describe('bindSecrets', () => {
  it('refuses a secret that does not exist, even to an admin', async () => {
    // Prepare
    const { d } = deps({});
    // Act
    const attempt = bindSecrets(d, caller(['admin']), 'agent', { apiKeySecret: 'k' });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
    await expect(attempt).rejects.toThrow(NO_MATCH);
  });

  it('lets admins, and only them, use a secret with no allowedRoles', async () => {
    // Prepare
    const { d, getSecretMeta } = deps({ k: {} });
    // Act
    const bound = await bindSecrets(d, caller(['admin']), 'agent', { apiKeySecret: 'k' });
    const developer = bindSecrets(d, caller(['developer']), 'agent', { apiKeySecret: 'k' });
    // Assess
    expect(bound).toEqual([{ field: 'apiKeySecret', secret: 'k', boundBy: 'sub-1' }]);
    await expect(developer).rejects.toThrow(NO_MATCH);
    expect(getSecretMeta).toHaveBeenCalledWith(T, 'k');
  });

  it('takes one allowed role among several the caller holds', async () => {
    // Prepare
    const { d } = deps({ k: { allowedRoles: ['ops', 'developer'] } });
    // Act
    const bound = await bindSecrets(d, caller(['viewer', 'developer']), 'agent', { apiKeySecret: 'k' });
    // Assess
    expect(bound).toEqual([{ field: 'apiKeySecret', secret: 'k', boundBy: 'sub-1' }]);
  });

  it('names the secret and field when secrets:use is missing, without reading the secret', async () => {
    // Prepare
    const { d, getSecretMeta } = deps({ k: { allowedRoles: ['developer'] } });
    const lacking = caller(['developer'], { permissions: new Set<Permission>(BUILT_IN_ROLES.viewer) });
    // Act
    const attempt = bindSecrets(d, lacking, 'tool', { authSecret: 'k' });
    // Assess
    await expect(attempt).rejects.toThrow(
      new ForbiddenError('Binding the secret k (authSecret) needs the permission secrets:use.'),
    );
    expect(getSecretMeta).not.toHaveBeenCalled();
  });

  it('gives a key no roles of its own: none without a creator, its creator’s in their tenant', async () => {
    // Prepare
    const { d, getUser } = deps({ k: { allowedRoles: ['developer'] } }, { creator: ['developer'] });
    const orphan = caller(['developer'], { principalType: 'apikey', principalId: 'kkey' });
    const gone = caller([], { principalType: 'apikey', principalId: 'kkey', onBehalfOf: 'ghost' });
    const key = caller([], { principalType: 'apikey', principalId: 'kkey', onBehalfOf: 'creator' });
    // Act
    const refusedOrphan = bindSecrets(d, orphan, 'agent', { apiKeySecret: 'k' });
    const refusedGone = bindSecrets(d, gone, 'agent', { apiKeySecret: 'k' });
    const bound = await bindSecrets(d, key, 'agent', { apiKeySecret: 'k' });
    // Assess
    await expect(refusedOrphan).rejects.toThrow(NO_MATCH);
    // A key without a creator reads no user at all.
    expect(getUser).toHaveBeenCalledTimes(2);
    expect(getUser.mock.calls.map((c) => c[1])).toEqual(['ghost', 'creator']);
    await expect(refusedGone).rejects.toThrow(NO_MATCH);
    expect(bound).toEqual([{ field: 'apiKeySecret', secret: 'k', boundBy: 'creator' }]);
    expect(getUser).toHaveBeenCalledWith(T, 'creator');
  });

  it('gives a webhook no roles, though it acts for its creator', async () => {
    // Prepare
    const { d, getUser } = deps({ k: { allowedRoles: ['developer'] } }, { creator: ['developer'] });
    const hook = caller([], { principalType: 'webhook', principalId: 'wh1', onBehalfOf: 'creator' });
    // Act
    const attempt = bindSecrets(d, hook, 'agent', { apiKeySecret: 'k' });
    // Assess
    await expect(attempt).rejects.toThrow(NO_MATCH);
    expect(getUser).not.toHaveBeenCalled();
  });
});
