import { describe, expect, it, vi } from 'vitest';
import { Authenticator } from '#core/access/authenticate.ts';
import {
  cognitoProviderName,
  type IdentityProvider,
  normalizeDomain,
  parseCognitoProviderName,
  providerUrlProblems,
} from '#core/identity/model.ts';
import { groupsOf, provisionFromClaims } from '#core/identity/provisioning.ts';
import type { Tenant, User } from '#core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const tenant: Tenant = {
  tenantId: T,
  name: 'Acme',
  plan: 'pro',
  status: 'active',
  adminEmail: 'Boss@acme.io',
  createdAt: '',
  updatedAt: '',
};
const provider: IdentityProvider = {
  providerId: 'pabcdefghij',
  type: 'oidc',
  name: 'Corp',
  issuer: 'https://idp.acme.io',
  clientId: 'c',
  emailDomains: ['acme.io'],
  groupsClaim: 'groups',
  groupMapping: [
    { group: 'eng', roles: ['developer'] },
    { group: 'ops', roles: ['operator', 'gone-role'] },
  ],
  defaultRoles: [],
  createdAt: '',
  createdBy: 'u',
};
const ssoUser: User = {
  userId: 'sub-1',
  tenantId: T,
  email: 'ann@acme.io',
  roles: ['developer'],
  teams: [],
  status: 'active',
  createdAt: '',
  updatedAt: '',
  sso: { providerId: provider.providerId },
};
const roleExists = (name: string) => name !== 'gone-role';
const decide = (claims: Record<string, unknown>, existing?: User, p: IdentityProvider = provider) =>
  provisionFromClaims({ tenant, provider: p, claims, existing, roleExists });

describe('provisionFromClaims', () => {
  it('creates a new user with the roles of their mapped groups, ignoring unknown groups and deleted roles', () => {
    expect(decide({ email: 'Ann@Acme.io', groups: ['eng', 'ops', 'nobody-maps-this'] })).toEqual({
      kind: 'create',
      email: 'ann@acme.io',
      roles: ['developer', 'operator'],
    });
  });

  it("updates an SSO user's roles from their groups at every sign-in", () => {
    expect(decide({ email: 'ann@acme.io', groups: ['ops'] }, ssoUser)).toEqual({
      kind: 'update',
      user: ssoUser,
      roles: ['operator'],
    });
  });

  it('refuses a newcomer without a mapped group, unless the provider has default roles', () => {
    expect(decide({ email: 'ann@acme.io', groups: ['x'] }).kind).toBe('refuse');
    expect(decide({ email: 'ann@acme.io' }, undefined, { ...provider, defaultRoles: ['viewer'] })).toEqual({
      kind: 'create',
      email: 'ann@acme.io',
      roles: ['viewer'],
    });
  });

  it('disables an existing SSO user who left every mapped group', () => {
    expect(decide({ email: 'ann@acme.io', groups: [] }, ssoUser)).toEqual({ kind: 'disable', user: ssoUser });
  });

  it.each([
    ['no email', { groups: ['eng'] }, undefined],
    ['an email outside the provider’s domains', { email: 'eve@evil.io', groups: ['eng'] }, undefined],
    ['an unverified email', { email: 'ann@acme.io', email_verified: false, groups: ['eng'] }, undefined],
    ['a password user’s email', { email: 'ann@acme.io', groups: ['eng'] }, { ...ssoUser, sso: undefined }],
    [
      'a user of another provider',
      { email: 'ann@acme.io', groups: ['eng'] },
      { ...ssoUser, sso: { providerId: 'pother000000' } },
    ],
    [
      'a disabled user',
      { email: 'ann@acme.io', groups: ['eng'] },
      { ...ssoUser, status: 'disabled' as const },
    ],
  ])('refuses %s', (_what, claims, existing) => {
    expect(decide(claims, existing as User | undefined).kind).toBe('refuse');
  });

  it('refuses a user whose provider was deleted, saying so, whichever provider they come through', () => {
    const orphan = {
      ...ssoUser,
      sso: { providerId: 'pother000000', providerRemovedAt: '2026-11-30T00:00:00Z' },
    };
    expect(decide({ email: 'ann@acme.io', groups: ['eng'] }, orphan)).toMatchObject({
      kind: 'refuse',
      reason: expect.stringMatching(/identity provider was deleted: an admin must delete them first/),
    });
  });

  it('refuses every sign-in of a suspended tenant', () => {
    const decision = provisionFromClaims({
      tenant: { ...tenant, status: 'suspended' },
      provider,
      claims: { email: 'ann@acme.io', groups: ['eng'] },
      existing: undefined,
      roleExists,
    });
    expect(decision.kind).toBe('refuse');
  });
});

describe('groupsOf', () => {
  it('reads arrays, and the list strings Cognito attribute mapping passes', () => {
    expect(groupsOf(['a', 'b', 'a', 3])).toEqual(['a', 'b']);
    expect(groupsOf('[eng, ops]')).toEqual(['eng', 'ops']);
    expect(groupsOf('eng,ops')).toEqual(['eng', 'ops']);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf(Array.from({ length: 500 }, (_, i) => `g${i}`))).toHaveLength(200);
  });
});

describe('provider URLs and names', () => {
  it('accepts https public hosts, and loopback http only on the local platform', () => {
    const local = { allowLoopbackHttp: true };
    const aws = { allowLoopbackHttp: false };
    expect(providerUrlProblems('https://login.acme.io/oauth2', 'issuer', aws)).toEqual([]);
    expect(providerUrlProblems('http://127.0.0.1:9230', 'issuer', local)).toEqual([]);
    expect(providerUrlProblems('http://127.0.0.1:9230', 'issuer', aws)).toHaveLength(1);
    expect(providerUrlProblems('http://login.acme.io', 'issuer', local)).toHaveLength(1);
    for (const bad of [
      'https://169.254.169.254',
      'https://10.0.0.1',
      'https://localhost',
      'https://u:p@a.io',
      'nope',
    ]) {
      expect(providerUrlProblems(bad, 'issuer', aws)[0]?.path).toBe('issuer');
    }
  });

  it('normalises domains and round-trips Cognito provider names within 32 characters', () => {
    expect(normalizeDomain(' Acme.IO ')).toBe('acme.io');
    expect(normalizeDomain('acme')).toBeUndefined();
    expect(normalizeDomain('a_b.io')).toBeUndefined();
    const name = cognitoProviderName(T, 'pabcdefghij');
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).not.toContain('_');
    expect(parseCognitoProviderName(name)).toEqual({ tenantId: T, providerId: 'pabcdefghij' });
    expect(parseCognitoProviderName('Google')).toBeUndefined();
  });
});

describe('requireSso in the authorizer', () => {
  function setup(user: User) {
    const store = {
      findUserBySub: vi.fn(async () => user),
      getUser: vi.fn(async () => user),
      getTenant: vi.fn(async () => ({ ...tenant, requireSso: true })),
      getRoles: vi.fn(async () => []),
      getApiKey: vi.fn(async () => undefined),
      touchApiKey: vi.fn(async () => undefined),
    };
    const verifier = { verify: vi.fn(async () => ({ sub: user.userId, groups: [], expiresAt: 2e9 })) };
    return new Authenticator({ store, verifier, platformAdminGroup: 'platform-admins', cacheTtlMs: 0 });
  }

  it('refuses password users, and lets SSO users and the break-glass admin through', async () => {
    const password = await setup({ ...ssoUser, sso: undefined }).authenticate({ authorization: 'Bearer t' });
    const sso = await setup(ssoUser).authenticate({ authorization: 'Bearer t' });
    const admin = await setup({ ...ssoUser, email: 'boss@acme.io', sso: undefined }).authenticate({
      authorization: 'Bearer t',
    });
    expect(password).toMatchObject({ authenticated: false, reason: 'sso-required' });
    expect(sso.authenticated).toBe(true);
    expect(admin.authenticated).toBe(true);
  });
});
