/**
 * Who may rotate or revoke someone else's key (assertMayManageKey in functions/core/tenancy/
 * api-keys.ts): the refusal names what the caller lacks, each permission once, at most five.
 */
import { describe, expect, it } from 'vitest';
import type { Permission } from '#core/access/permissions.ts';
import { ForbiddenError } from '#core/errors.ts';
import type { TenantPrincipal } from '#core/principal.ts';
import { assertMayManageKey } from '#core/tenancy/api-keys.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { ApiKeyRecord } from '#core/tenancy/model.ts';

function caller(permissions: Permission[]): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: 'tabcdefghijklmnop',
    principalId: 'mgr',
    principalType: 'user',
    roles: [],
    permissions: new Set(permissions),
  };
  return { principal, meta: { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'unit', now: '' } };
}

function key(scopes: Permission[]): ApiKeyRecord {
  return {
    keyId: 'kabcdefghijklmnop',
    name: 'k',
    scopes,
    createdBy: 'someone-else',
    createdAt: '',
    expiresAt: '',
    status: 'active',
    secretHash: 'a'.repeat(64),
  };
}

const PREFIX =
  "Only the key's creator, or a holder of tenant:admin and every scope on it, can change this key";

describe('assertMayManageKey', () => {
  it('names tenant:admin once when the key itself carries it', () => {
    expect(() => assertMayManageKey(caller(['apikeys:manage']), key(['tenant:admin']))).toThrow(
      new ForbiddenError(`${PREFIX} (you lack tenant:admin).`),
    );
  });

  it('names at most five missing permissions, separated by commas', () => {
    const scopes: Permission[] = [
      'agents:read',
      'agents:write',
      'tools:read',
      'tools:write',
      'workflows:read',
    ];
    expect(() => assertMayManageKey(caller(['apikeys:manage']), key(scopes))).toThrow(
      new ForbiddenError(
        `${PREFIX} (you lack tenant:admin, agents:read, agents:write, tools:read, tools:write).`,
      ),
    );
  });
});
