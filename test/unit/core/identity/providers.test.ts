import { describe, expect, it, vi } from 'vitest';
import type { Permission } from '#core/access/permissions.ts';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, ForbiddenError, QuotaExceededError, ValidationError } from '#core/errors.ts';
import type { DomainClaim, IdentityProvider } from '#core/identity/model.ts';
import {
  createProvider,
  deleteAllForTenant,
  deleteProvider,
  type IdentityDeps,
  type ProviderInput,
  providerSecretName,
  setSsoSettings,
  updateProvider,
} from '#core/identity/providers.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { Tenant, User } from '#core/tenancy/model.ts';
import { fakeApiKeys, fakeRoles, fakeTenants, fakeUsers } from '../../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const meta = { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 't', now: '2026-11-30T00:00:00.000Z' };

function caller(permissions: readonly Permission[] = PERMISSIONS): Caller {
  return {
    principal: {
      kind: 'tenant',
      tenantId: T,
      principalId: 'u1',
      principalType: 'user',
      roles: [],
      permissions: new Set(permissions),
    },
    meta,
  };
}

/** In-memory stand-ins that record what happened, so rollbacks can be checked. */
function fakes(users: User[] = []) {
  const providers = new Map<string, IdentityProvider>();
  const secrets = new Map<string, string>();
  const events: string[] = [];
  let tenant: Tenant = {
    tenantId: T,
    name: 'Acme',
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@acme.io',
    createdAt: '',
    updatedAt: '',
  };
  const deps = {
    providers: {
      create: vi.fn(async (_t: string, p: IdentityProvider) => {
        events.push(`store.create ${p.providerId}`);
        providers.set(p.providerId, p);
      }),
      get: async (_t: string, id: string) => providers.get(id),
      update: vi.fn(async (_t: string, next: IdentityProvider) => {
        events.push(`store.update ${next.providerId}`);
        providers.set(next.providerId, next);
      }),
      list: async () => ({ items: [...providers.values()] }),
      delete: vi.fn(async (_t: string, p: IdentityProvider, _audit: AuditContext) => {
        events.push(`store.delete ${p.providerId}`);
        providers.delete(p.providerId);
      }),
      domainOwner: async (_domain: string): Promise<DomainClaim | undefined> => undefined,
      findUserByEmail: async () => undefined,
      claimDomain: vi.fn(async (_t: string, _p: string, domain: string) => {
        events.push(`store.claim ${domain}`);
        return true;
      }),
      releaseDomain: vi.fn(async (_t: string, _p: string, domain: string) => {
        events.push(`store.release ${domain}`);
      }),
      removeVerifiedDomain: vi.fn(async () => {}),
      transferDomain: vi.fn(async () => false),
      addVerifiedDomain: vi.fn(async (_t: string, providerId: string, domain: string) => {
        const stored = providers.get(providerId);
        if (stored)
          providers.set(providerId, {
            ...stored,
            verifiedDomains: [...(stored.verifiedDomains ?? []), domain],
          });
      }),
    },
    federation: {
      register: vi.fn(async (_t: string, p: IdentityProvider) => {
        events.push(`federation.register ${p.providerId}`);
      }),
      remove: vi.fn(async (_t: string, p: IdentityProvider) => {
        events.push(`federation.remove ${p.providerId}`);
      }),
      identify: vi.fn(async (_t: string, providerId: string) => {
        events.push(`federation.identify ${providerId}`);
      }),
    },
    vault: {
      put: async (_t: string, name: string, value: string) => {
        secrets.set(name, value);
      },
      get: async (_t: string, name: string) => secrets.get(name),
      delete: async (_t: string, name: string) => {
        secrets.delete(name);
      },
    },
    store: {
      ...fakeUsers({
        listUsers: async () => ({ items: users }),
        updateUser: vi.fn(async (next: User) => {
          events.push(`user.disable ${next.userId} ${next.status}`);
        }),
      }),
      ...fakeRoles({ getRoles: async () => [] }),
      // Each user made one active key; revoking one records its owner.
      ...fakeApiKeys({
        listApiKeys: async () => ({
          items: users.map((u) => ({
            keyId: `k-${u.userId}`,
            name: 'ci',
            scopes: [],
            createdBy: u.userId,
            createdAt: '',
            expiresAt: '2099-01-01T00:00:00Z',
            status: 'active' as const,
            secretHash: 'h',
          })),
        }),
        updateApiKey: vi.fn(
          async (_t: string, next: { keyId: string; status: string }, _p, audit: AuditContext) => {
            events.push(`${audit.draft.action} ${next.keyId} ${next.status}`);
          },
        ),
      }),
      ...fakeTenants({
        getTenant: async () => tenant,
        updateTenant: async (next: Tenant) => {
          tenant = next;
        },
      }),
    },
    allowLoopbackHttp: false,
    samlSupported: true,
  } satisfies IdentityDeps;
  return { deps, providers, secrets, events, tenant: () => tenant };
}

const input: ProviderInput = {
  type: 'oidc',
  name: 'Corp',
  issuer: 'https://idp.acme.io/',
  clientId: 'c',
  clientSecret: 'shh',
  emailDomains: ['Acme.io'],
  groupMapping: [{ group: 'eng', roles: ['developer'] }],
};

describe('identity provider use cases', () => {
  it('keeps the secret in the vault, never on the provider, and normalises issuer and domains', async () => {
    const { deps, secrets } = fakes();

    const provider = await createProvider(deps, caller(), input);

    expect(provider).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(provider)).not.toContain('shh');
    expect(provider).toMatchObject({ issuer: 'https://idp.acme.io', emailDomains: ['acme.io'] });
    expect(secrets.get(providerSecretName(provider.providerId))).toBe('shh');
  });

  it('registers its domains unverified: a token of its own, nothing claimed, nothing routed', async () => {
    const { deps } = fakes();

    const one = await createProvider(deps, caller(), input);
    const two = await createProvider(deps, caller(), { ...input, emailDomains: ['corp.io'] });

    expect(one.verificationToken).toMatch(/^[a-z0-9]{32}$/);
    expect(two.verificationToken).not.toBe(one.verificationToken);
    expect(one.verifiedDomains).toEqual([]);
    expect(deps.providers.claimDomain).not.toHaveBeenCalled();
    expect(deps.federation.register.mock.calls[0]?.[1]).toMatchObject({ verifiedDomains: [] });
  });

  it('undoes the federation and the secret when the record cannot be written (a domain already claimed)', async () => {
    const { deps, secrets, events } = fakes();
    deps.providers.create.mockRejectedValueOnce(new ConflictError('claimed'));

    await expect(createProvider(deps, caller(), input)).rejects.toBeInstanceOf(ConflictError);

    expect(events[0]).toMatch(/^federation.register /);
    expect(events[1]).toMatch(/^federation.remove /);
    expect(secrets.size).toBe(0);
  });

  it('registers a domain another provider holds: its DNS decides at verification, nothing is claimed now', async () => {
    const { deps, events } = fakes();
    deps.providers.domainOwner = async (domain: string) =>
      domain === 'acme.io' ? { domain, tenantId: 'tother', providerId: 'pother' } : undefined;

    const made = await createProvider(deps, caller(), { ...input, emailDomains: ['corp.io', 'Acme.io'] });

    expect(made.emailDomains).toEqual(['corp.io', 'acme.io']);
    expect(made.verifiedDomains).toEqual([]);
    expect(events.filter((e) => e.startsWith('store.claim'))).toEqual([]);
  });

  it('counts creations and deletions, and refuses them (429) once the tenant used its share, before Cognito', async () => {
    const { deps, events, secrets } = fakes();
    const counted: string[] = [];
    let allowed = true;
    const capped = {
      ...deps,
      countChange: async (tenantId: string) => {
        counted.push(tenantId);
        return { allowed, resetSeconds: 4 };
      },
    };
    const made = await createProvider(capped, caller(), input);
    await deleteProvider(capped, caller(), made.providerId);
    expect(counted).toEqual([T, T]);

    allowed = false;
    events.length = 0;
    const again = await createProvider(deps, caller(), input);
    events.length = 0;
    await expect(createProvider(capped, caller(), input)).rejects.toMatchObject({
      code: 'quota-exceeded',
      retryAfterSeconds: 4,
    });
    await expect(deleteProvider(capped, caller(), again.providerId)).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    expect(events).toEqual([]);
    expect(secrets.size).toBe(1); // the secret of `again` only
  });

  it('undoes the secret when Cognito refuses the provider', async () => {
    const { deps, secrets } = fakes();
    deps.federation.register.mockRejectedValueOnce(new Error('InvalidParameterException'));

    await expect(createProvider(deps, caller(), input)).rejects.toThrow('InvalidParameterException');
    expect(secrets.size).toBe(0);
  });

  it('refuses a mapping to roles the caller could not grant, and unknown roles naming the field', async () => {
    const { deps, events } = fakes();
    const limited = caller(['tenant:admin', 'workflows:read']);

    await expect(createProvider(deps, limited, input)).rejects.toBeInstanceOf(ForbiddenError);
    const unknown = createProvider(deps, caller(), { ...input, defaultRoles: ['ghost'] });
    await expect(unknown).rejects.toMatchObject({ problems: [{ path: 'defaultRoles.0' }] });
    expect(events).toEqual([]);
  });

  it('refuses SAML where Cognito does not federate it, and repeated domains', async () => {
    const { deps } = fakes();
    const saml = createProvider({ ...deps, samlSupported: false }, caller(), {
      type: 'saml',
      name: 'S',
      metadataUrl: 'https://idp.acme.io/metadata',
      emailDomains: ['acme.io', 'ACME.io'],
    });
    await expect(saml).rejects.toBeInstanceOf(ValidationError);
    await expect(saml).rejects.toMatchObject({
      problems: [
        { path: 'type', message: expect.stringContaining('AWS only') },
        { path: 'emailDomains.1', message: 'repeated' },
      ],
    });
  });

  it('deleting a provider disables the users it made, marks them no longer SSO users, and touches no one else', async () => {
    const person = (userId: string, providerId?: string, status: User['status'] = 'active'): User => ({
      userId,
      tenantId: T,
      email: `${userId}@acme.io`,
      roles: ['developer'],
      teams: [],
      status,
      createdAt: '',
      updatedAt: '',
      ...(providerId ? { sso: { providerId } } : {}),
    });
    const users: User[] = [];
    const { deps, events, providers } = fakes(users);
    const provider = await createProvider(deps, caller(), input);
    users.push(person('u-sso', provider.providerId), person('u-other', 'p-other'), person('u-pw'));
    users.push(person('u-gone', provider.providerId, 'disabled'), person('u-sso2', provider.providerId));
    const listKeys = vi.spyOn(deps.store, 'listApiKeys');

    await deleteProvider(deps, caller(), provider.providerId);

    // A user already disabled is marked too: enabling them later must not bring back an SSO user.
    expect(events.filter((e) => e.startsWith('user.'))).toEqual([
      'user.disable u-sso disabled',
      'user.disable u-gone disabled',
      'user.disable u-sso2 disabled',
    ]);
    const marked = vi
      .mocked(deps.store.updateUser)
      .mock.calls.map(([next]: [User, ...unknown[]]) => [next.userId, next.sso?.providerRemovedAt]);
    expect(marked).toEqual([
      ['u-sso', meta.now],
      ['u-gone', meta.now],
      ['u-sso2', meta.now],
    ]);
    // Its keys go for good, so enabling the user again brings none back; the tenant's keys are read once.
    expect(events.filter((e) => e.startsWith('apikey.'))).toEqual([
      'apikey.revoke k-u-sso revoked',
      'apikey.revoke k-u-sso2 revoked',
    ]);
    expect(listKeys).toHaveBeenCalledTimes(1);
    expect(providers.has(provider.providerId)).toBe(false);
  });

  it('requireSso needs a provider with a verified domain, and keeps the last provider while it is required', async () => {
    const { deps, tenant, providers } = fakes();
    await expect(setSsoSettings(deps, caller(), { requireSso: true })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const provider = await createProvider(deps, caller(), input);
    // Registered but unverified: nobody could sign in by SSO.
    await expect(setSsoSettings(deps, caller(), { requireSso: true })).rejects.toMatchObject({
      problems: [{ path: 'requireSso', message: 'no identity provider with a verified domain' }],
    });
    providers.set(provider.providerId, { ...provider, verifiedDomains: ['acme.io'] });

    await setSsoSettings(deps, caller(), { requireSso: true });

    expect(tenant().requireSso).toBe(true);
    await expect(deleteProvider(deps, caller(), provider.providerId)).rejects.toBeInstanceOf(ConflictError);
  });

  it('a mapping change keeps the domains and client, and is checked like a grant', async () => {
    const { deps } = fakes();
    const provider = await createProvider(deps, caller(), input);

    const updated = await updateProvider(deps, caller(), provider.providerId, {
      groupMapping: [{ group: 'ops', roles: ['operator', 'operator'] }],
    });
    const escalation = updateProvider(deps, caller(['tenant:admin']), provider.providerId, {
      defaultRoles: ['admin'],
    });

    expect(updated).toMatchObject({
      providerId: provider.providerId,
      emailDomains: ['acme.io'],
      issuer: 'https://idp.acme.io',
      groupMapping: [{ group: 'ops', roles: ['operator'] }],
    });
    await expect(escalation).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('offboarding removes every provider: Cognito, record (audited by the system) and secret, and leaves its users to the job', async () => {
    const users: User[] = [];
    const { deps, providers, secrets, events } = fakes(users);
    const a = await createProvider(deps, caller(), input);
    const b = await createProvider(deps, caller(), { ...input, emailDomains: ['b.acme.io'] });
    // A user the provider made: the job erases them; the request leaves them as they are.
    users.push({
      userId: 'u-sso',
      tenantId: T,
      email: 'u@acme.io',
      roles: [],
      teams: [],
      status: 'active',
      createdAt: '',
      updatedAt: '',
      sso: { providerId: a.providerId },
    });
    events.length = 0;

    expect(await deleteAllForTenant(deps, T, meta)).toBe(2);

    expect(providers.size).toBe(0);
    expect(secrets.size).toBe(0);
    expect(events).toEqual([
      `federation.remove ${a.providerId}`,
      `store.delete ${a.providerId}`,
      `federation.remove ${b.providerId}`,
      `store.delete ${b.providerId}`,
    ]);
    expect(deps.providers.delete.mock.calls[0]?.[2]).toMatchObject({
      actor: { id: 'offboarding', type: 'system' },
      draft: { action: 'idp.delete' },
    });
  });
});
