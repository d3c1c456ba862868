import { beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import { type ApiResponse, type CallOptions, call, type Problem } from '../helpers/api.ts';
import {
  createApiKey,
  createRole,
  createTenant,
  inviteUser,
  type TestApiKey,
  type TestTenant,
  type TestUser,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';
import { bodyOf, type Owner, PUBLIC_ROUTES, ROUTES, type RouteRow } from './routes-matrix.ts';

/**
 * The isolation matrix, over every authenticated route (routes-matrix.ts): another tenant's ids are
 * 404 and stay unchanged, a missing permission is 403, a missing or bad credential is 401, platform
 * operators only reach /tenants and tenant principals never do. A guard test keeps the matrix
 * complete against /openapi.json.
 */

let tenantA: TestTenant;
let tenantB: TestTenant;
let ownerA: Owner;
let ownerB: Owner;
/** Tenant A users whose only (custom) role holds one unrelated permission each. */
let narrowUsers: { user: TestUser; permission: Permission }[];
/** Tenant A keys holding every permission but one, by the permission they lack. */
const keysLacking = new Map<Permission, TestApiKey>();
/** A tenant A key holding every permission. */
let fullKeyA: TestApiKey;

const isPermission = (auth: RouteRow['permission']): auth is Permission =>
  (PERMISSIONS as readonly string[]).includes(auth);
const hasParams = (row: RouteRow): boolean => row.path.includes('{');
const label = (row: RouteRow): string => `${row.method} ${row.path}`;
/** The route's path with every parameter replaced by a well-formed id that names nothing. */
const dummyPath = (row: RouteRow): string => row.path.replace(/\{\w+\}/g, 'zz0000000000000000');

function ownerOf(tenant: TestTenant): Owner {
  return { tenantId: tenant.tenantId, token: () => tenant.token(), platformToken: platformAdminToken };
}

async function send(row: RouteRow, path: string, options: CallOptions): Promise<ApiResponse<Problem>> {
  const body = row.method === 'GET' || row.method === 'DELETE' ? undefined : bodyOf(row);
  return call<Problem>(row.method, path, { ...options, ...(body === undefined ? {} : { body }) });
}

function expectProblem(response: ApiResponse<Problem>, status: number, code: string, who: string): void {
  expect(response.status, `${who}: ${response.text}`).toBe(status);
  expect(response.headers.get('content-type'), who).toContain('application/problem+json');
  expect(response.body.type, who).toMatch(new RegExp(`/${code}$`));
}

function expectSuccess(response: ApiResponse<unknown>, who: string): void {
  expect(response.status, `${who}: ${response.text}`).toBeGreaterThanOrEqual(200);
  expect(response.status, `${who}: ${response.text}`).toBeLessThan(300);
}

beforeAll(async () => {
  // Prepare: two tenants, and in A principals that lack exactly what each route needs. Enterprise,
  // so the matrix's hundreds of requests a second never meet the per-tenant rate limit on a fast machine.
  [tenantA, tenantB] = await Promise.all([
    createTenant('iso-a', 'enterprise'),
    createTenant('iso-b', 'enterprise'),
  ]);
  ownerA = ownerOf(tenantA);
  ownerB = ownerOf(tenantB);
  const adminA = await tenantA.token();
  const unrelated: Permission[] = ['usage:read', 'budgets:manage'];
  narrowUsers = await Promise.all(
    unrelated.map(async (permission) => {
      const role = await createRole(adminA, 'iso-narrow', [permission]);
      return { user: await inviteUser(adminA, uniqueEmail('iso-narrow'), [role]), permission };
    }),
  );
  const needed = [...new Set(ROUTES.map((row) => row.permission).filter(isPermission))];
  await Promise.all([
    ...needed.map(async (permission) => {
      keysLacking.set(
        permission,
        await createApiKey(
          adminA,
          PERMISSIONS.filter((p) => p !== permission),
        ),
      );
    }),
    createApiKey(adminA, [...PERMISSIONS]).then((key) => {
      fullKeyA = key;
    }),
  ]);
});

describe('the matrix covers the whole API', () => {
  it('every route /openapi.json lists, except the public ones, has a row with its permission', async () => {
    // Prepare
    const listed = new Map<string, string>();
    // Act
    const response = await call<{
      paths: Record<string, Record<string, { 'x-meridian-permission': string }>>;
    }>('GET', '/openapi.json');
    // Assess
    expect(response.status).toBe(200);
    for (const [path, operations] of Object.entries(response.body.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        listed.set(`${method.toUpperCase()} ${path}`, operation['x-meridian-permission']);
      }
    }
    const rows = new Map(ROUTES.map((row) => [label(row), row.permission]));
    const missing = [...listed.keys()].filter((route) => !PUBLIC_ROUTES.includes(route) && !rows.has(route));
    expect(missing, 'routes without a row in test/integration/routes-matrix.ts').toEqual([]);
    const madePublic = [...listed].filter(
      ([route, auth]) => auth === 'public' && !PUBLIC_ROUTES.includes(route),
    );
    expect(madePublic, 'public routes the contract does not list as public').toEqual([]);
    const wrongPermission = [...rows]
      .filter(([route, permission]) => listed.has(route) && listed.get(route) !== permission)
      .map(([route, permission]) => `${route}: matrix ${permission}, API ${listed.get(route)}`);
    expect(wrongPermission).toEqual([]);
  });

  it('every row of the matrix names a route the API has (no stale rows)', async () => {
    // Act
    const response = await call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    // Assess
    const listed = new Set(
      Object.entries(response.body.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect(ROUTES.map(label).filter((route) => !listed.has(route))).toEqual([]);
    expect(new Set(ROUTES.map(label)).size, 'duplicate rows').toBe(ROUTES.length);
  });

  it('rows with path parameters have a setup', () => {
    // Assess
    expect(ROUTES.filter((row) => hasParams(row) && !row.setup).map(label)).toEqual([]);
  });
});

describe.each(ROUTES.map((row) => ({ row, name: label(row) })))('$name', ({ row }) => {
  it('refuses a missing or bad credential with 401', async () => {
    // Prepare
    const path = dummyPath(row);
    const adminToken = await tenantA.token();
    const [header = '', payload = '', signature = ''] = adminToken.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const credentials: [string, CallOptions][] = [
      ['no credential', {}],
      ['a garbage bearer token', { token: 'garbage' }],
      ['an access token with a forged signature', { token: forged }],
      ['a garbage API key', { apiKey: 'mk_garbage' }],
      [
        'a well-formed API key that does not exist',
        { apiKey: `mk_${tenantA.tenantId}_k0000000000000000_${'A'.repeat(43)}` },
      ],
    ];
    for (const [who, options] of credentials) {
      // Act
      const response = await send(row, path, options);
      // Assess
      expectProblem(response, 401, 'unauthenticated', who);
    }
  });

  if (row.permission === 'platform') {
    it('is allowed to the platform operator', async () => {
      // Prepare
      const target = row.setup ? await row.setup(ownerB) : { path: row.path };
      // Act
      const response = await send(row, target.path, { token: await platformAdminToken() });
      // Assess
      expectSuccess(response, 'platform admin');
    });

    it('is 403 for tenant principals, which change nothing', async () => {
      // Prepare
      const target = row.setup ? await row.setup(ownerB) : { path: row.path };
      const before = await target.snapshot?.();
      const callers: [string, CallOptions][] = [
        ['tenant admin', { token: await tenantA.token() }],
        ['tenant API key with every permission', { apiKey: fullKeyA.key }],
      ];
      for (const [who, options] of callers) {
        // Act
        const response = await send(row, target.path, options);
        // Assess
        expectProblem(response, 403, 'forbidden', who);
      }
      expect(await target.snapshot?.()).toEqual(before);
    });
    return;
  }

  if (row.permission === 'any') {
    it('is allowed to every authenticated caller: tenant user, tenant API key, platform operator', async () => {
      // Prepare
      const callers: [string, CallOptions][] = [
        ['tenant admin', { token: await tenantA.token() }],
        ['tenant API key', { apiKey: fullKeyA.key }],
        ['platform admin', { token: await platformAdminToken() }],
      ];
      for (const [who, options] of callers) {
        // Act
        const response = await send(row, row.path, options);
        // Assess
        expectSuccess(response, who);
      }
    });
    return;
  }

  it("is allowed to the tenant's admin on the tenant's own resources", async () => {
    // Prepare
    const target = row.setup ? await row.setup(ownerA) : { path: row.path };
    // Act
    const response = await send(row, target.path, { token: await tenantA.token() });
    // Assess
    expectSuccess(response, 'own admin');
    if (!hasParams(row) && target.marker) expect(response.text).toContain(target.marker);
  });

  if (row.setup) {
    const setup = row.setup;
    const foreignStatus = row.foreignStatus ?? (hasParams(row) ? 404 : 200);
    it(`answers another tenant's admin and full API key with ${foreignStatus}, changing nothing`, async () => {
      const callers: [string, () => Promise<CallOptions>][] = [
        ["tenant A's admin", async () => ({ token: await tenantA.token() })],
        ["tenant A's API key with every permission", async () => ({ apiKey: fullKeyA.key })],
      ];
      for (const [who, credential] of callers) {
        // Prepare: a fresh resource in tenant B for each caller
        const target = await setup(ownerB);
        const before = await target.snapshot?.();
        // Act
        const response = await send(row, target.path, await credential());
        // Assess
        expect(response.status, `${who}: ${response.text}`).toBe(foreignStatus);
        if (foreignStatus === 404) expectProblem(response, 404, 'not-found', who);
        if (foreignStatus < 300) {
          expect(response.text, who).not.toContain(tenantB.tenantId);
          if (!hasParams(row) && target.marker) expect(response.text, who).not.toContain(target.marker);
        }
        expect(await target.snapshot?.(), `${who}: tenant B's resource, re-read by B`).toEqual(before);
      }
    });
  }

  const permission = row.permission;
  if (isPermission(permission)) {
    it(`is 403 without ${permission} (custom-role user, API key lacking the scope)`, async () => {
      // Prepare
      const narrow = narrowUsers.find((candidate) => candidate.permission !== permission);
      const key = keysLacking.get(permission);
      if (!narrow || !key) throw new Error(`no principal lacking ${permission}`);
      const callers: [string, CallOptions][] = [
        [`user with only ${narrow.permission}`, { token: await narrow.user.token() }],
        [`API key with every scope but ${permission}`, { apiKey: key.key }],
      ];
      for (const [who, options] of callers) {
        // Act
        const response = await send(row, dummyPath(row), options);
        // Assess
        expectProblem(response, 403, 'forbidden', who);
      }
    });
  }

  it('is 403 for the platform operator (tenant routes only)', async () => {
    // Act
    const response = await send(row, dummyPath(row), { token: await platformAdminToken() });
    // Assess
    expectProblem(response, 403, 'forbidden', 'platform admin');
  });
});

describe("references to another tenant's resources", () => {
  it('a team, member or role of another tenant is unknown (400 naming the field), never linked', async () => {
    // Prepare
    const adminA = await tenantA.token();
    const adminB = await tenantB.token();
    const teamB = await call<{ teamId: string }>('POST', '/teams', {
      token: adminB,
      body: { name: uniqueName('iso-ref-team') },
    });
    const userB = await inviteUser(adminB, uniqueEmail('iso-ref'), ['viewer']);
    const roleB = await createRole(adminB, 'iso-ref', ['agents:read']);
    const userA = await inviteUser(adminA, uniqueEmail('iso-ref'), ['viewer']);
    // Act
    const inviteWithTeam = await call<Problem>('POST', '/users', {
      token: adminA,
      body: { email: uniqueEmail('iso-ref'), roles: ['viewer'], teams: [teamB.body.teamId] },
    });
    const inviteWithRole = await call<Problem>('POST', '/users', {
      token: adminA,
      body: { email: uniqueEmail('iso-ref'), roles: [roleB] },
    });
    const teamWithMember = await call<Problem>('POST', '/teams', {
      token: adminA,
      body: { name: uniqueName('iso-ref-team'), members: [userB.userId] },
    });
    const patchTeams = await call<Problem>('PATCH', `/users/${userA.userId}`, {
      token: adminA,
      body: { teams: [teamB.body.teamId] },
    });
    const patchRoles = await call<Problem>('PATCH', `/users/${userA.userId}`, {
      token: adminA,
      body: { roles: ['viewer', roleB] },
    });
    // Assess
    const named = (response: ApiResponse<Problem>): string[] =>
      (response.body.errors ?? []).map((e) => e.path);
    expectProblem(inviteWithTeam, 400, 'validation-error', 'invite with a team of B');
    expect(named(inviteWithTeam)).toEqual(['teams.0']);
    expectProblem(inviteWithRole, 400, 'validation-error', 'invite with a role of B');
    expect(named(inviteWithRole)).toEqual(['roles.0']);
    expectProblem(teamWithMember, 400, 'validation-error', 'team with a member of B');
    expect(named(teamWithMember)).toEqual(['members.0']);
    expectProblem(patchTeams, 400, 'validation-error', 'user into a team of B');
    expect(named(patchTeams)).toEqual(['teams.0']);
    expectProblem(patchRoles, 400, 'validation-error', 'user given a role of B');
    expect(named(patchRoles)).toEqual(['roles.1']);
    const teamOfB = await call<{ members: string[] }>('GET', `/teams/${teamB.body.teamId}`, {
      token: adminB,
    });
    expect(teamOfB.body.members).toEqual([]);
    const unchangedB = await call<{ teams: string[] }>('GET', `/users/${userB.userId}`, { token: adminB });
    expect(unchangedB.body.teams).toEqual([]);
  });
});

describe('list cursors are bound to their tenant and list', () => {
  it("every paged tenant list refuses tenant B's cursor to tenant A (400 naming query.cursor)", async () => {
    // Prepare: the paged lists, from the API's own description
    const spec = await call<{ paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }>(
      'GET',
      '/openapi.json',
    );
    const paged = Object.entries(spec.body.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => (operation.parameters ?? []).some((p) => p.name === 'cursor'))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const rows = ROUTES.filter((row) => paged.includes(label(row)) && isPermission(row.permission));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const withoutQuery = (path: string): string => path.split('?')[0] ?? path;
    for (const row of rows) {
      // Two fresh items in B, so a page of one has a next page. A list under a resource (its
      // versions) gets one resource with two versions in B, and A pages its own such resource.
      const madeB = await row.setup?.(ownerB);
      if (!hasParams(row)) await row.setup?.(ownerB);
      const madeA = hasParams(row) ? await row.setup?.(ownerA) : undefined;
      const pathB = hasParams(row) && madeB ? withoutQuery(madeB.path) : row.path;
      const pathA = hasParams(row) && madeA ? withoutQuery(madeA.path) : row.path;
      const first = await call<{ nextCursor?: string }>('GET', `${pathB}?limit=1`, {
        token: await tenantB.token(),
      });
      const cursor = first.body.nextCursor;
      expect(cursor, `${label(row)}: B's first page of one has a next page`).toBeDefined();
      const page = `?limit=1&cursor=${encodeURIComponent(cursor ?? '')}`;
      // Act
      const foreign = await call<Problem>('GET', `${pathA}${page}`, { token: await tenantA.token() });
      const own = await call('GET', `${pathB}${page}`, { token: await tenantB.token() });
      // Assess
      expectProblem(foreign, 400, 'validation-error', `${label(row)} with B's cursor as A`);
      expect(
        (foreign.body.errors ?? []).map((e) => e.path),
        label(row),
      ).toEqual(['query.cursor']);
      expect(own.status, `${label(row)} with B's cursor as B: ${own.text}`).toBe(200);
    }
  });

  it('a forged cursor naming another partition of the own tenant is 400, not 500', async () => {
    // Prepare: a real cursor of A's user list, re-pointed at A's audit partition
    await inviteUser(await tenantA.token(), uniqueEmail('iso-cursor'), ['viewer']);
    const first = await call<{ nextCursor?: string }>('GET', '/users?limit=1', {
      token: await tenantA.token(),
    });
    const decoded = JSON.parse(Buffer.from(first.body.nextCursor ?? '', 'base64url').toString('utf8')) as {
      k: Record<string, unknown>;
    };
    const forged = (k: Record<string, unknown>): string =>
      Buffer.from(JSON.stringify({ ...decoded, k }), 'utf8').toString('base64url');
    const cursors = [
      forged({ ...decoded.k, pk: `${String(decoded.k.pk)}#AUDIT` }),
      forged({ ...decoded.k, sk: 42 }),
      forged({ ...decoded.k, extra: 'attribute' }),
    ];
    for (const cursor of cursors) {
      // Act
      const response = await call<Problem>('GET', `/users?limit=1&cursor=${cursor}`, {
        token: await tenantA.token(),
      });
      // Assess
      expectProblem(response, 400, 'validation-error', Buffer.from(cursor, 'base64url').toString('utf8'));
    }
  });
});
