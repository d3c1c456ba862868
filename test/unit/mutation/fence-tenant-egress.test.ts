/**
 * The platform admin's egress allowlist use cases (functions/core/tenancy/egress.ts): reading a
 * tenant's list, and replacing it with every bad entry named, the list normalized and the change
 * audited in the tenant's chain with the list before and after.
 */
import { describe, expect, it, vi } from 'vitest';
import type { AuditContext } from '#core/audit/audit.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { PlatformPrincipal, RequestMeta } from '#core/principal.ts';
import { getEgress, setEgress } from '#core/tenancy/egress.ts';
import type { Tenant } from '#core/tenancy/model.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import type { TenantDeps } from '#core/tenancy/tenants.ts';
import { fakeTenants } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };
const ADMIN: PlatformPrincipal = { kind: 'platform', principalId: 'ops-sub' };

function tenant(overrides: Partial<Tenant> = {}): Tenant {
  return {
    tenantId: T,
    name: 'a',
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@x.io',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-02T00:00:00.000Z',
    ...overrides,
  };
}

function deps(stored: Tenant | undefined) {
  const writes: Array<{ next: Tenant; previous: Tenant; audit: AuditContext }> = [];
  const store = {
    getTenant: vi.fn(async (id: string) => (id === T ? stored : undefined)),
    updateTenant: vi.fn(async (next: Tenant, previous: Tenant, audit: AuditContext) => {
      writes.push({ next, previous, audit });
    }),
  };
  const d: TenantDeps = { store: fakeTenants(store), directory: {} as IdentityDirectory };
  return { d, writes };
}

describe('getEgress', () => {
  it('shows the stored list, or an empty one when none was set, and 404 for an unknown tenant', async () => {
    // Prepare
    const withList = deps(tenant({ egressAllowlist: ['10.0.0.0/8'] })).d;
    const without = deps(tenant()).d;
    // Act
    const listed = await getEgress(withList, T);
    const none = await getEgress(without, T);
    // Assess
    expect(listed).toEqual({ tenantId: T, allow: ['10.0.0.0/8'], updatedAt: '2026-01-02T00:00:00.000Z' });
    expect(none).toEqual({ tenantId: T, allow: [], updatedAt: '2026-01-02T00:00:00.000Z' });
    await expect(getEgress(without, 'tother')).rejects.toThrow(new NotFoundError('No tenant tother.'));
  });
});

describe('setEgress', () => {
  it('stores the normalized list and audits the list before and after', async () => {
    // Prepare
    const previous = tenant();
    const { d, writes } = deps(previous);
    // Act
    const view = await setEgress(d, ADMIN, META, T, [' DB.Corp.Example ', 'db.corp.example', '10.1.0.0/16']);
    // Assess
    const allow = ['db.corp.example', '10.1.0.0/16'];
    expect(view).toEqual({ tenantId: T, allow, updatedAt: NOW });
    expect(writes).toEqual([
      {
        next: { ...previous, egressAllowlist: allow, updatedAt: NOW },
        previous,
        audit: {
          tenantId: T,
          actor: { id: 'ops-sub', type: 'platform' },
          meta: META,
          draft: {
            action: 'tenant.egress.update',
            resourceType: 'tenant',
            resourceId: T,
            before: { egressAllowlist: [] },
            after: { egressAllowlist: allow },
          },
        },
      },
    ]);
  });

  it('audits the previous list when one was set', async () => {
    // Prepare
    const { d, writes } = deps(tenant({ egressAllowlist: ['old.example'] }));
    // Act
    await setEgress(d, ADMIN, META, T, []);
    // Assess
    expect(writes[0]?.audit.draft.before).toEqual({ egressAllowlist: ['old.example'] });
    expect(writes[0]?.next.egressAllowlist).toEqual([]);
  });

  it('names each bad entry and writes nothing', async () => {
    // Prepare
    const { d, writes } = deps(tenant());
    // Act
    const attempt = setEgress(d, ADMIN, META, T, ['ok.example', '', '0.0.0.0/0']);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toMatchObject({
      message: 'Invalid egress allowlist: 2 problem(s)',
      problems: [
        { path: 'allow.1', message: 'must not be empty' },
        { path: 'allow.2', message: 'prefix too wide: list the private ranges you mean' },
      ],
    });
    expect(writes).toEqual([]);
  });

  it('answers 404 for an unknown tenant', async () => {
    // Prepare
    const { d, writes } = deps(undefined);
    // Act
    const attempt = setEgress(d, ADMIN, META, T, ['ok.example']);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    expect(writes).toEqual([]);
  });
});
