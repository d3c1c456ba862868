import { describe, expect, it } from 'vitest';
import { ssoAllows } from '#core/access/sso.ts';

const tenant = { adminEmail: 'Admin@Example.com' };
const password = { email: 'dev@example.com' };
const sso = { email: 'sso@example.com', sso: { providerId: 'p1' } };
const admin = { email: 'admin@example.com' };

describe('ssoAllows', () => {
  it('lets everyone act while the tenant does not require SSO', () => {
    for (const user of [password, sso, admin]) {
      expect(ssoAllows(tenant, user)).toBe(true);
      expect(ssoAllows({ ...tenant, requireSso: false }, user)).toBe(true);
    }
  });

  it.each([
    ['a password user', password, false],
    ['an SSO user', sso, true],
    [
      'an SSO user whose provider was deleted',
      { ...sso, sso: { providerId: 'p1', providerRemovedAt: 'then' } },
      false,
    ],
    ['the first admin, by the lower-cased admin email (break-glass)', admin, true],
    [
      'a password user whose email only differs from the admin’s in case',
      { email: 'Admin@Example.com' },
      false,
    ],
  ])('once SSO is required, lets %s act: %s', (_label, user, allowed) => {
    expect(ssoAllows({ ...tenant, requireSso: true }, user)).toBe(allowed);
  });
});
