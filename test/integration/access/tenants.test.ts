import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '#core/audit/audit.ts';
import { call, type Problem } from '../../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createApiKey,
  createTenant,
  eventually,
  uniqueEmail,
  uniqueName,
} from '../../helpers/tenants.ts';
import { accessToken, platformAdminToken } from '../../helpers/tokens.ts';
import { bodyOf, ROUTES } from '../routes-matrix.ts';
import { expectProblem, listAll, meBecomes, statusOf, type TenantView } from './helpers.ts';

describe('tenants (platform operators)', () => {
  let platform: string;
  beforeAll(async () => {
    platform = await platformAdminToken();
  });

  it('POST /tenants creates the tenant and its admin: 201 with Location', async () => {
    // Prepare
    const name = uniqueName('acme');
    const adminEmail = uniqueEmail('Acme-Admin');
    // Act
    const created = await call<TenantView>('POST', '/tenants', {
      token: platform,
      body: { name, plan: 'free', adminEmail },
    });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/tenants/${created.body.tenantId}`);
    expect(created.body).toMatchObject({
      name,
      plan: 'free',
      status: 'active',
      adminEmail: adminEmail.toLowerCase(),
    });
    expect(created.body.tenantId).toMatch(/^t[a-z0-9]{16}$/);
  });

  it('GET /tenants lists it, GET /tenants/{id} reads it, PATCH renames and changes the plan', async () => {
    // Prepare
    const tenant = await createTenant('lifecycle', 'free');
    // Act
    const listed = await listAll<TenantView>('/tenants', { token: platform });
    const read = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    const renamed = uniqueName('renamed');
    const patched = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { name: renamed, plan: 'enterprise' },
    });
    const reread = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    // Assess
    expect(listed.map((t) => t.tenantId)).toContain(tenant.tenantId);
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject({ tenantId: tenant.tenantId, name: tenant.name, plan: 'free' });
    expect(patched.status, patched.text).toBe(200);
    expect(reread.body).toMatchObject({ name: renamed, plan: 'enterprise', status: 'active' });
    expect(reread.body.updatedAt >= read.body.updatedAt).toBe(true);
  });

  it('an unknown or malformed tenant id is 404; an admin email already in use is 409', async () => {
    // Prepare
    const existing = inject('demo').users[0]?.username ?? 'admin@demo.meridian.local';
    // Act
    const unknown = await call('GET', '/tenants/t0000000000000000', { token: platform });
    const malformed = await call('GET', '/tenants/not-a-tenant', { token: platform });
    const duplicate = await call('POST', '/tenants', {
      token: platform,
      body: { name: uniqueName('dup'), plan: 'pro', adminEmail: existing },
    });
    // Assess
    expectProblem(unknown, 404, 'not-found');
    expectProblem(malformed, 404, 'not-found');
    expectProblem(duplicate, 409, 'conflict');
  });

  it('PATCH status suspended refuses the tenant on every route (tenant-suspended), API keys too; reactivating restores it', async () => {
    // Prepare
    const tenant = await createTenant('suspend');
    const admin = { token: await tenant.token() };
    const key = { apiKey: (await createApiKey(admin.token, ['usage:read', 'users:manage'])).key };
    expect(await statusOf('GET', '/users', key)).toBe(200);
    // Act
    const suspended = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { status: 'suspended' },
    });
    // Assess
    expect(suspended.status, suspended.text).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    await eventually(async () => expectProblem(await call('GET', '/me', admin), 403, 'tenant-suspended'), {
      timeoutMs: authCacheTimeoutMs(),
    });
    await eventually(async () => expectProblem(await call('GET', '/users', key), 403, 'tenant-suspended'), {
      timeoutMs: authCacheTimeoutMs(),
    });
    for (const row of ROUTES) {
      const path = row.path.replace(/\{\w+\}/g, 'zz0000000000000000');
      const body = row.method === 'GET' || row.method === 'DELETE' ? undefined : bodyOf(row);
      const response = await call<Problem>(row.method, path, {
        ...admin,
        ...(body === undefined ? {} : { body }),
      });
      expect(response.status, `${row.method} ${row.path}: ${response.text}`).toBe(403);
      expect(response.body.type, `${row.method} ${row.path}`).toMatch(/\/tenant-suspended$/);
    }
    // Other tenants and the operator are unaffected.
    expect(await statusOf('GET', '/me', { token: await accessToken('admin') })).toBe(200);
    const read = await call<TenantView>('GET', `/tenants/${tenant.tenantId}`, { token: platform });
    expect(read.body.status).toBe('suspended');

    // Act: reactivate
    const reactivated = await call<TenantView>('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { status: 'active' },
    });
    // Assess
    expect(reactivated.status, reactivated.text).toBe(200);
    await meBecomes(admin, 200);
    await eventually(async () => expect(await statusOf('GET', '/users', key)).toBe(200), {
      timeoutMs: authCacheTimeoutMs(),
    });
    const actions = (await listAll<AuditRecord>('/audit?action=tenant.suspend', admin)).concat(
      await listAll<AuditRecord>('/audit?action=tenant.activate', admin),
    );
    expect(actions.map((r) => [r.action, r.actor.type]).sort()).toEqual([
      ['tenant.activate', 'platform'],
      ['tenant.suspend', 'platform'],
    ]);
  });
});
