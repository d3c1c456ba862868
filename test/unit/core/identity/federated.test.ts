import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '#core/errors.ts';
import { onTokenGeneration } from '#core/identity/federated.ts';
import { cognitoProviderName, type IdentityProvider } from '#core/identity/model.ts';
import type { SsoSignInDeps } from '#core/identity/provisioning.ts';
import type { Tenant, User } from '#core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const P = 'pabcdefghij';
const meta = { requestId: 'r', sourceIp: 'cognito', userAgent: 'cognito', now: '2026-11-30T00:00:00.000Z' };
const attributes = { tenantClaim: 'custom:tenant_id', groupsAttribute: 'idp_groups' };

/** In-memory stores with just what the trigger touches; writes are recorded. */
function fakes(tenantOverrides: Partial<Tenant> = {}) {
  const users = new Map<string, User>();
  const writes: { action: string; user: User }[] = [];
  const revoked = new Set<string>();
  const tenant: Tenant = {
    tenantId: T,
    name: 'Acme',
    plan: 'pro',
    status: 'active',
    adminEmail: 'boss@acme.io',
    createdAt: '',
    updatedAt: '',
    ...tenantOverrides,
  };
  const provider: IdentityProvider = {
    providerId: P,
    type: 'oidc',
    name: 'Corp',
    issuer: 'https://idp.acme.io',
    clientId: 'c',
    emailDomains: ['acme.io'],
    groupsClaim: 'roles',
    groupMapping: [{ group: 'eng', roles: ['developer'] }],
    defaultRoles: [],
    createdAt: '',
    createdBy: 'u',
  };
  const deps: SsoSignInDeps = {
    providers: {
      get: async (t, p) => (t === T && p === P ? provider : undefined),
      findUserByEmail: async (_t, email) => [...users.values()].find((u) => u.email === email),
    },
    store: {
      getTenant: async (t) => (t === T ? tenant : undefined),
      getRoles: async () => [],
      createUser: async (user, audit) => {
        users.set(user.userId, user);
        writes.push({ action: audit.draft.action, user });
      },
      updateUser: async (user, _previous, audit) => {
        users.set(user.userId, user);
        writes.push({ action: audit.draft.action, user });
      },
      // The user's one key, while it is active.
      listApiKeys: async () => ({
        items: [...users.values()].flatMap((u) =>
          revoked.has(`k-${u.userId}`)
            ? []
            : [
                {
                  keyId: `k-${u.userId}`,
                  name: 'ci',
                  scopes: [],
                  createdBy: u.userId,
                  createdAt: '',
                  expiresAt: '2099-01-01T00:00:00Z',
                  status: 'active' as const,
                  secretHash: 'h',
                },
              ],
        ),
      }),
      updateApiKey: async (_t, next, _previous, audit) => {
        revoked.add(next.keyId);
        writes.push({
          action: `${audit.draft.action} ${next.keyId}`,
          user: users.get(next.createdBy) as User,
        });
      },
    },
  };
  return { deps, users, writes };
}

const federated = (groups: string, sub = 'cognito-sub-1') => ({
  userName: `${cognitoProviderName(T, P)}_idp-subject`,
  attributes: {
    sub,
    email: 'Ann@acme.io',
    identities: JSON.stringify([{ providerName: cognitoProviderName(T, P), providerType: 'OIDC' }]),
    'custom:idp_groups': groups,
  },
  meta,
});

describe('the pre-token-generation trigger', () => {
  it("provisions a federated user from the provider's groups, then disables and refuses them once they leave every mapped group", async () => {
    const { deps, users, writes } = fakes();

    expect(await onTokenGeneration(deps, attributes, federated('[eng]'))).toBe('provisioned');
    await expect(onTokenGeneration(deps, attributes, federated('[]'))).rejects.toBeInstanceOf(ForbiddenError);

    expect(writes.map((w) => w.action)).toEqual([
      'user.sso-create',
      'user.sso-disable',
      'apikey.revoke k-cognito-sub-1',
    ]);
    expect(users.get('cognito-sub-1')).toMatchObject({
      tenantId: T,
      email: 'ann@acme.io',
      roles: ['developer'],
      status: 'disabled',
      sso: { providerId: P },
    });
  });

  it('changes nothing on a token refresh: the groups attribute is fresh only at a sign-in', async () => {
    const { deps, writes } = fakes();
    const refresh = { ...federated('[eng]'), triggerSource: 'TokenGeneration_RefreshTokens' };

    expect(await onTokenGeneration(deps, attributes, refresh)).toBe('provisioned');
    expect(writes).toEqual([]);
  });

  it('refuses a federated user whose provider is no tenant’s', async () => {
    const { deps } = fakes();
    const input = federated('[eng]');
    const stranger = {
      ...input,
      attributes: { ...input.attributes, identities: JSON.stringify([{ providerName: 'Google' }]) },
    };
    await expect(onTokenGeneration(deps, attributes, stranger)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses password sign-ins of a tenant that requires SSO, except its first admin', async () => {
    const { deps } = fakes({ requireSso: true });
    const password = (email: string) => ({
      userName: email,
      attributes: { sub: 's', email, 'custom:tenant_id': T },
      meta,
    });

    await expect(onTokenGeneration(deps, attributes, password('dev@acme.io'))).rejects.toThrow(
      'single sign-on only',
    );
    expect(await onTokenGeneration(deps, attributes, password('Boss@acme.io'))).toBe('password');
    expect(
      await onTokenGeneration(deps, attributes, { userName: 'op', attributes: { email: 'op@x.io' }, meta }),
    ).toBe('platform');
  });
});
