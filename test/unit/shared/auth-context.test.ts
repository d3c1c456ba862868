import { describe, expect, it } from 'vitest';
import type { AuthResult } from '#core/access/authenticate.ts';
import { encodeAuthorizerContext, principalFromContext } from '#shared/auth-context.ts';

const T = 'tabcdefghijklmnop';

/** What API Gateway carries between the authorizer and the API: flat values only, read back as sent. */
describe('the authorizer context', () => {
  it.each<[string, AuthResult]>([
    [
      'a user',
      {
        authenticated: true,
        principal: {
          kind: 'tenant',
          tenantId: T,
          principalType: 'user',
          principalId: 'u1',
          email: 'ann@acme.io',
          roles: ['viewer', 'ops'],
          permissions: new Set(['workflows:read', 'executions:start']),
        },
        tenant: { status: 'active', plan: 'pro' },
      },
    ],
    [
      'an API key',
      {
        authenticated: true,
        principal: {
          kind: 'tenant',
          tenantId: T,
          principalType: 'apikey',
          principalId: 'kkey',
          onBehalfOf: 'u1',
          roles: [],
          permissions: new Set(['workflows:read']),
        },
        tenant: { status: 'suspended', plan: 'free' },
      },
    ],
    ['a platform operator', { authenticated: true, principal: { kind: 'platform', principalId: 'op' } }],
  ])('carries %s there and back', (_name, result) => {
    // Act
    const context = encodeAuthorizerContext(result);
    // Assess
    for (const value of Object.values(context)) expect(['string', 'boolean']).toContain(typeof value);
    expect(principalFromContext(context)).toEqual(result.authenticated ? result.principal : undefined);
  });

  it('writes lists space-separated, permissions sorted, and the tenant’s standing', () => {
    // Act
    const context = encodeAuthorizerContext({
      authenticated: true,
      principal: {
        kind: 'tenant',
        tenantId: T,
        principalType: 'user',
        principalId: 'u1',
        roles: ['viewer', 'ops'],
        permissions: new Set(['workflows:read', 'executions:start']),
      },
      tenant: { status: 'active', plan: 'pro' },
    });
    // Assess
    expect(context).toEqual({
      authenticated: true,
      tenantId: T,
      tenantStatus: 'active',
      tenantPlan: 'pro',
      principalType: 'user',
      principalId: 'u1',
      roles: 'viewer ops',
      permissions: 'executions:start workflows:read',
    });
  });

  it('carries a denial as its reason, and reads it back as nobody', () => {
    // Act
    const context = encodeAuthorizerContext({ authenticated: false, reason: 'expired-token' });
    // Assess
    expect(context).toEqual({ authenticated: false, reason: 'expired-token' });
    expect(principalFromContext(context)).toBeUndefined();
  });
});
