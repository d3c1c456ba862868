import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '#core/audit/audit.ts';
import { type CallOptions, call } from '../../helpers/api.ts';
import {
  createApiKey,
  createRole,
  createTenant,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../../helpers/tenants.ts';
import { platformAdminToken } from '../../helpers/tokens.ts';
import { errorPaths, expectProblem, inAYear, listAll, type Page, type Verdict } from './helpers.ts';

/** Who makes a mutation: the tenant's admin, the platform operator, or an API key with `secrets:write`. */
type Caller = 'admin' | 'platform' | 'secretsKey';
/** The ids `{name}` stands for in {@link MUTATIONS}: made up front, or read from an earlier answer. */
type Ids = Record<string, string>;
type Mutation = [
  caller: Caller,
  request: string,
  body: unknown,
  action: string,
  resource: string,
  remember?: string,
];

/**
 * Every kind of tenant mutation, each building on the ones before, with the audit record it must
 * write: its action, and the id of its resource, whose type is the action's prefix. A `remember` x
 * keeps the answer's `xId` as `{x}` for the rows after it.
 */
// biome-ignore format: a table, one mutation per row
const MUTATIONS: Mutation[] = [
  // caller      request                         body                                                         action           resource   remember
  ['platform',   'PATCH /tenants/{tenant}',      { name: '{renamed}' },                                       'tenant.update', '{tenant}'],
  ['admin',      'POST /roles',                  { name: '{role}', permissions: ['agents:read'] },            'role.create',   '{role}'],
  ['admin',      'PUT /roles/{role}',            { permissions: ['agents:read', 'tools:read'] },              'role.update',   '{role}'],
  ['admin',      'POST /users',                  { email: '{email}', roles: ['viewer'] },                     'user.invite',   '{user}',   'user'],
  ['admin',      'PATCH /users/{user}',          { roles: ['viewer', '{role}'] },                             'user.update',   '{user}'],
  ['admin',      'PATCH /users/{user}',          { status: 'disabled' },                                      'user.disable',  '{user}'],
  ['admin',      'PATCH /users/{user}',          { status: 'active' },                                        'user.enable',   '{user}'],
  ['admin',      'POST /teams',                  { name: '{teamName}', members: ['{user}'] },                 'team.create',   '{team}',   'team'],
  ['admin',      'PATCH /teams/{team}',          { name: '{renamedTeam}', members: [] },                      'team.update',   '{team}'],
  ['admin',      'DELETE /teams/{team}',         undefined,                                                   'team.delete',   '{team}'],
  ['admin',      'POST /api-keys',               { name: '{keyName}', scopes: ['usage:read'], expiresAt: '{expiresAt}' }, 'apikey.create', '{key}', 'key'],
  ['admin',      'POST /api-keys/{key}/rotate',  { gracePeriodSeconds: 0 },                                   'apikey.rotate', '{key}'],
  ['admin',      'DELETE /api-keys/{key}',       undefined,                                                   'apikey.revoke', '{key}'],
  ['secretsKey', 'PUT /secrets/{secret}',        { value: 'audited-value-1' },                                'secret.create', '{secret}'],
  ['admin',      'PUT /secrets/{secret}',        { value: 'audited-value-2' },                                'secret.update', '{secret}'],
  ['admin',      'DELETE /secrets/{secret}',     undefined,                                                   'secret.delete', '{secret}'],
  ['admin',      'DELETE /users/{user}',         undefined,                                                   'user.delete',   '{user}'],
  ['admin',      'DELETE /roles/{role}',         undefined,                                                   'role.delete',   '{role}'],
];

/** `value` with every `{name}` in its strings replaced by `ids[name]`. */
function filled<T>(value: T, ids: Ids): T {
  if (typeof value === 'string') {
    return value.replace(/\{(\w+)\}/g, (_, name: string) => {
      const id = ids[name];
      if (id === undefined) throw new Error(`no id {${name}} yet`);
      return id;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => filled(v, ids)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filled(v, ids)])) as T;
  }
  return value;
}

describe('audit trail', () => {
  const userAgent = `meridian-it/${randomBytes(4).toString('hex')}`;
  let tenant: TestTenant;
  let other: TestTenant;
  let admin: string;
  let platform: string;

  beforeAll(async () => {
    [tenant, other] = await Promise.all([createTenant('audit'), createTenant('audit-other')]);
    admin = await tenant.token();
    platform = await platformAdminToken();
  });

  /** Every record of the tenant, authentication events included. */
  const allRecords = (token: string): Promise<AuditRecord[]> => listAll<AuditRecord>('/audit', { token });
  /** The tenant's mutation records (authentication events, such as an API key's use, left out). */
  const records = async (token: string, query = ''): Promise<AuditRecord[]> =>
    (await listAll<AuditRecord>(`/audit${query}`, { token })).filter(
      (r) => r.action !== 'apikey.used' && r.action !== 'auth.denied',
    );

  it('each successful mutation writes exactly one record with actor, action, resource and request facts', async () => {
    // Prepare
    const secretsKey = await createApiKey(admin, ['secrets:write']);
    const ids: Ids = {
      tenant: tenant.tenantId,
      renamed: uniqueName('audit-renamed'),
      role: uniqueName('audited'),
      email: uniqueEmail('audited'),
      teamName: uniqueName('audited-team'),
      renamedTeam: uniqueName('audited-team2'),
      keyName: uniqueName('audited-key'),
      expiresAt: inAYear(),
      secret: uniqueName('audited-secret'),
    };
    const callers: Record<Caller, { as: CallOptions; actor: Record<string, unknown> }> = {
      admin: { as: { token: admin }, actor: { id: tenant.adminUserId, type: 'user' } },
      platform: { as: { token: platform }, actor: { id: expect.any(String), type: 'platform' } },
      secretsKey: { as: { apiKey: secretsKey.key }, actor: { id: secretsKey.keyId, type: 'apikey' } },
    };
    for (const [caller, request, template, action, resource, remember] of MUTATIONS) {
      const [method = '', path = ''] = filled(request, ids).split(' ');
      const step = `${request} (${action})`;
      const before = await records(admin);
      const startedAt = new Date(Date.now() - 1_000).toISOString();
      // Act
      const body = template === undefined ? undefined : filled(template, ids);
      const response = await call(method, path, {
        ...callers[caller].as,
        headers: { 'user-agent': userAgent },
        ...(body === undefined ? {} : { body }),
      });
      // Assess
      expect(response.status, `${step}: ${response.text}`).toBeLessThan(300);
      if (remember) ids[remember] = String((response.body as Record<string, unknown>)[`${remember}Id`]);
      const after = await records(admin);
      expect(after.length, `${step}: records`).toBe(before.length + 1);
      const [newest] = after;
      expect(newest, step).toMatchObject({
        action,
        resourceType: action.split('.')[0],
        resourceId: filled(resource, ids),
        actor: callers[caller].actor,
        requestId: response.headers.get('apigw-requestid'),
        userAgent,
        sourceIp: expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
      });
      expect(newest?.at && newest.at >= startedAt, `${step}: at`).toBe(true);
      expect(newest?.id && newest.id > (before[0]?.id ?? ''), `${step}: id after the previous`).toBe(true);
    }
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: admin });
    expect(verdict.body).toMatchObject({ ok: true });
  });

  it('a failed mutation writes no record', async () => {
    // Prepare
    const role = await createRole(admin, 'once', ['agents:read']);
    const viewer = await inviteUser(admin, uniqueEmail('audit-viewer'), ['viewer']);
    const before = await records(admin);
    // Act
    const failures = [
      await call('POST', '/roles', { token: admin, body: { name: role, permissions: ['agents:read'] } }),
      await call('POST', '/roles', { token: admin, body: { name: uniqueName('x'), permissions: ['nope'] } }),
      await call('DELETE', '/roles/no-such-role', { token: admin }),
      await call('DELETE', `/roles/${role}`, { token: await viewer.token() }),
      await call('PUT', '/roles/admin', { token: admin, body: { permissions: ['agents:read'] } }),
      await call('PATCH', `/users/${tenant.adminUserId}`, { token: admin, body: { roles: ['viewer'] } }),
    ];
    // Assess
    expect(failures.map((f) => f.status)).toEqual([409, 400, 404, 403, 403, 403]);
    const after = await records(admin);
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  });

  it('filters: actor, action, resource, from and to', async () => {
    // Prepare
    const all = await records(admin);
    expect(all.length).toBeGreaterThan(10);
    const [, middle, , , , , older] = all;
    const from = older?.at ?? '';
    const to = middle?.at ?? '';
    const key = all.find((r) => r.actor.type === 'apikey');
    const user = all.find((r) => r.action === 'user.delete');
    // Act
    const byActor = await records(admin, `?actor=${key?.actor.id}`);
    const byAction = await records(admin, '?action=role.create');
    const byResourceId = await records(admin, `?resource=${user?.resourceId}`);
    const byResourceType = await records(admin, '?resource=secret');
    const byTime = await records(admin, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    const badTime = await call('GET', '/audit?from=yesterday', { token: admin });
    // Assess
    const seqs = (list: AuditRecord[]): string[] => list.map((r) => r.id);
    expect(byActor.length).toBeGreaterThan(0);
    expect(seqs(byActor)).toEqual(seqs(all.filter((r) => r.actor.id === key?.actor.id)));
    expect(byAction.length).toBeGreaterThan(1);
    expect(seqs(byAction)).toEqual(seqs(all.filter((r) => r.action === 'role.create')));
    expect(seqs(byResourceId)).toEqual(seqs(all.filter((r) => r.resourceId === user?.resourceId)));
    expect(byResourceId.map((r) => r.action)).toEqual(
      expect.arrayContaining(['user.invite', 'user.disable', 'user.enable', 'user.delete']),
    );
    expect(seqs(byResourceType)).toEqual(seqs(all.filter((r) => r.resourceType === 'secret')));
    expect(byTime.length).toBeGreaterThanOrEqual(5);
    expect(seqs(byTime)).toEqual(seqs(all.filter((r) => r.at >= from && r.at <= to)));
    expectProblem(badTime, 400, 'validation-error');
  });

  it('pages with limit and nextCursor: every record once, newest first', async () => {
    // Prepare
    const all = await allRecords(admin);
    // Act
    const pages: AuditRecord[][] = [];
    let cursor: string | undefined;
    do {
      const page = await call<Page<AuditRecord>>(
        'GET',
        `/audit?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin },
      );
      expect(page.status, page.text).toBe(200);
      pages.push(page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 100);
    // Assess
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(4);
    const paged = pages.flat().map((r) => r.id);
    expect(paged).toEqual(all.map((r) => r.id));
    expect(paged).toEqual([...paged].sort().reverse());
  });

  it("a cursor of tenant A's audit is refused to tenant B, and on another list (400)", async () => {
    // Prepare
    const first = await call<Page<AuditRecord>>('GET', '/audit?limit=1', { token: admin });
    const cursor = first.body.nextCursor ?? '';
    expect(cursor).not.toBe('');
    // Act
    const otherTenant = await call('GET', `/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: await other.token(),
    });
    const otherList = await call('GET', `/users?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: admin,
    });
    const sameTenant = await call('GET', `/audit?limit=1&cursor=${encodeURIComponent(cursor)}`, {
      token: admin,
    });
    // Assess
    expectProblem(otherTenant, 400, 'validation-error');
    expect(errorPaths(otherTenant)).toEqual(['query.cursor']);
    expectProblem(otherList, 400, 'validation-error');
    expect(sameTenant.status).toBe(200);
  });

  it('GET /audit/verify is ok on an intact chain', async () => {
    // Prepare
    const all = await allRecords(admin);
    // Act
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: admin });
    // Assess
    expect(verdict.status, verdict.text).toBe(200);
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.digested + verdict.body.undigested).toBe(all.length);
  });
});
