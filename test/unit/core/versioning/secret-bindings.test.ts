import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, type Permission } from '#core/access/permissions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { SecretMeta, User } from '#core/tenancy/model.ts';
import { bindSecrets, type SecretUseDeps, secretsUsed } from '#core/versioning/secret-bindings.ts';

/** binding a secret takes `secrets:use` and one of the roles the secret allows. */

const T = 'tabcdefghijklmnop';
const META: RequestMeta = {
  requestId: 'r',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-22T00:00:00.000Z',
};

function principal(
  roles: string[],
  permissions: readonly Permission[],
  extra: Partial<TenantPrincipal> = {},
) {
  const p: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'dev-sub',
    principalType: 'user',
    roles,
    permissions: new Set(permissions),
    ...extra,
  };
  return { principal: p, meta: META };
}

const developer = (extra: Partial<TenantPrincipal> = {}) =>
  principal(['developer'], BUILT_IN_ROLES.developer ?? [], extra);

function deps(
  secrets: Record<string, Partial<SecretMeta>>,
  users: Record<string, string[]> = {},
): SecretUseDeps {
  return {
    tenancy: {
      getSecretMeta: async (_t, name) =>
        secrets[name]
          ? ({ name, version: 1, createdAt: '', updatedAt: '', ...secrets[name] } as SecretMeta)
          : undefined,
      getUser: async (_t, id) =>
        users[id] ? ({ userId: id, roles: users[id] } as unknown as User) : undefined,
    },
  };
}

describe('secretsUsed', () => {
  it.each([
    ['agent', { apiKeySecret: 'k' }, [{ field: 'apiKeySecret', secret: 'k' }]],
    ['tool', { authSecret: 't' }, [{ field: 'authSecret', secret: 't' }]],
    ['agent', { authSecret: 't' }, []],
    ['tool', { apiKeySecret: 'k' }, []],
    ['workflow', { apiKeySecret: 'k' }, []],
    ['agent', undefined, []],
  ] as const)('a %s %j names %j', (kind, definition, expected) => {
    // Act
    const used = secretsUsed(kind, definition);
    // Assess
    expect(used).toEqual(expected);
  });
});

describe('bindSecrets', () => {
  it('records the binder when the secret allows one of their roles', async () => {
    // Act
    const bound = await bindSecrets(deps({ k: { allowedRoles: ['developer'] } }), developer(), 'agent', {
      apiKeySecret: 'k',
    });
    // Assess
    expect(bound).toEqual([{ field: 'apiKeySecret', secret: 'k', boundBy: 'dev-sub' }]);
  });

  it('binds nothing, and checks nothing, for a definition without secrets', async () => {
    // Act
    const bound = await bindSecrets(deps({}), principal([], []), 'agent', { name: 'x' });
    // Assess
    expect(bound).toEqual([]);
  });

  it.each([
    ['allows only admins (the default)', { k: {} }, developer(), /allows none of your roles/],
    ['allows another role', { k: { allowedRoles: ['operator'] } }, developer(), /allows none/],
    ['does not exist', {}, developer(), /allows none of your roles, or does not exist/],
    [
      'allows the role, but the caller lacks secrets:use',
      { k: { allowedRoles: ['developer'] } },
      principal(['developer'], ['agents:write']),
      /needs the permission secrets:use/,
    ],
  ])('refuses a secret that %s', async (_name, secrets, caller, message) => {
    // Act
    const result = bindSecrets(deps(secrets), caller, 'agent', { apiKeySecret: 'k' });
    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    await expect(result).rejects.toThrow(message);
  });

  it('an API key binds with its creator’s roles, and records the creator', async () => {
    // Prepare
    const key = developer({ principalType: 'apikey', principalId: 'kkey', roles: [], onBehalfOf: 'creator' });
    const d = deps({ k: { allowedRoles: ['developer'] } }, { creator: ['developer'], other: ['viewer'] });
    // Act
    const bound = await bindSecrets(d, key, 'tool', { authSecret: 'k' });
    const refused = bindSecrets(d, { ...key, principal: { ...key.principal, onBehalfOf: 'other' } }, 'tool', {
      authSecret: 'k',
    });
    // Assess
    expect(bound).toEqual([{ field: 'authSecret', secret: 'k', boundBy: 'creator' }]);
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
  });
});
