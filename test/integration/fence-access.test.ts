import { beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '#core/webhooks/webhooks.ts';
import { type ApiResponse, call, type Problem } from '../helpers/api.ts';
import {
  authCacheTimeoutMs,
  createApiKey,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';
import {
  approvalOf,
  approvalWorkflowBody,
  createWorkflow,
  deployWorkflow,
  expectCall,
  getExecution,
  httpToolBody,
  waitForApprovalStep,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * The access holes end to end on the local platform: each
 * case was reproduced on the code before the fix and must stay closed. Two tenants, each made here.
 */

function expectProblem(response: ApiResponse<unknown>, status: number, type?: string): Problem {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = response.body as Problem;
  if (type) expect(problem.type).toBe(`https://meridian.dev/problems/${type}`);
  return problem;
}

interface KeyView {
  keyId: string;
  key: string;
  rotatedBy?: string;
}

let tenantA: TestTenant;
let tenantB: TestTenant;

beforeAll(async () => {
  [tenantA, tenantB] = await Promise.all([
    createTenant('fence-a', 'enterprise'),
    createTenant('fence-b', 'enterprise'),
  ]);
});

describe('API keys: rotation takeover', () => {
  it('a holder of only apikeys:manage can neither rotate nor revoke the admin’s key; the admin’s key keeps working', async () => {
    // Prepare
    const admin = await tenantA.token();
    const adminKey = await createApiKey(admin, ['tenant:admin', 'users:manage', 'apikeys:manage']);
    const role = await createRole(admin, 'keys-only', ['apikeys:manage']);
    const keyman = await inviteUser(admin, uniqueEmail('keyman'), [role]);
    const token = await keyman.token();
    // Act
    const rotated = await call('POST', `/api-keys/${adminKey.keyId}/rotate`, { token, body: {} });
    const revoked = await call('DELETE', `/api-keys/${adminKey.keyId}`, { token });
    // Assess
    expectProblem(rotated, 403, 'forbidden');
    expectProblem(revoked, 403, 'forbidden');
    expect((await call('GET', '/users', { apiKey: adminKey.key })).status).toBe(200);
  });

  it('the keyholder manages their own key, and another admin holding its scopes rotates it with the audit naming them', async () => {
    // Prepare
    const admin = await tenantA.token();
    const role = await createRole(admin, 'keys-read', ['apikeys:manage', 'workflows:read']);
    const keyman = await inviteUser(admin, uniqueEmail('keyman'), [role]);
    const own = await createApiKey(await keyman.token(), ['workflows:read']);
    // Act
    const mine = await call<KeyView>('POST', `/api-keys/${own.keyId}/rotate`, {
      token: await keyman.token(),
      body: {},
    });
    const byAdmin = await call<KeyView>('POST', `/api-keys/${own.keyId}/rotate`, { token: admin, body: {} });
    // Assess
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body.rotatedBy).toBe(keyman.userId);
    expect(byAdmin.status, byAdmin.text).toBe(200);
    expect(byAdmin.body.rotatedBy).toBe(tenantA.adminUserId);
    const audit = await expectCall<{
      items: { action: string; resourceId: string; after?: { rotatedBy?: string } }[];
    }>(200, 'GET', `/audit?action=apikey.rotate&resource=${own.keyId}`, { token: admin });
    expect(audit.body.items.map((r) => r.after?.rotatedBy).sort()).toEqual(
      [keyman.userId, tenantA.adminUserId].sort(),
    );
  });
});

/** A user holding `developer` plus a custom role that lets them make keys. */
async function keyMakingDeveloper(admin: string) {
  const role = await createRole(admin, 'key-maker', ['apikeys:manage']);
  return inviteUser(admin, uniqueEmail('dev'), ['developer', role]);
}

describe('API keys outlive their creator', () => {
  it('disabling the creator stops their key within the cache TTL, and enabling them does not bring it back', async () => {
    // Prepare
    const admin = await tenantA.token();
    const dev = await keyMakingDeveloper(admin);
    const key = await createApiKey(await dev.token(), ['workflows:read']);
    expect((await call('GET', '/workflows', { apiKey: key.key })).status).toBe(200);
    // Act
    await expectCall(200, 'PATCH', `/users/${dev.userId}`, { token: admin, body: { status: 'disabled' } });
    // Assess
    await eventually(
      async () => expectProblem(await call('GET', '/workflows', { apiKey: key.key }), 401, 'unauthenticated'),
      { timeoutMs: authCacheTimeoutMs() },
    );
    await expectCall(200, 'PATCH', `/users/${dev.userId}`, { token: admin, body: { status: 'active' } });
    await new Promise((resolve) => setTimeout(resolve, authCacheTimeoutMs() - 4_000 + 200));
    expectProblem(await call('GET', '/workflows', { apiKey: key.key }), 401, 'unauthenticated');
  });

  it('deleting the creator stops their key', async () => {
    // Prepare
    const admin = await tenantA.token();
    const dev = await keyMakingDeveloper(admin);
    const key = await createApiKey(await dev.token(), ['workflows:read']);
    // Act
    await expectCall(204, 'DELETE', `/users/${dev.userId}`, { token: admin });
    // Assess
    await eventually(
      async () => expectProblem(await call('GET', '/workflows', { apiKey: key.key }), 401, 'unauthenticated'),
      { timeoutMs: authCacheTimeoutMs() },
    );
  });

  it('a demoted creator’s key loses the permissions the creator lost', async () => {
    // Prepare
    const admin = await tenantA.token();
    const dev = await keyMakingDeveloper(admin);
    const key = await createApiKey(await dev.token(), ['workflows:read', 'agents:write']);
    // Act
    await expectCall(200, 'PATCH', `/users/${dev.userId}`, { token: admin, body: { roles: ['viewer'] } });
    // Assess
    await eventually(
      async () => {
        const me = await expectCall<{ permissions: string[] }>(200, 'GET', '/me', {
          apiKey: key.key,
        });
        expect(me.body.permissions).toEqual(['workflows:read']);
      },
      { timeoutMs: authCacheTimeoutMs() },
    );
    expectProblem(
      await call('POST', '/agents', {
        apiKey: key.key,
        body: { name: uniqueName('a'), provider: 'scripted', model: 'scripted-1', script: [{ reply: 'x' }] },
      }),
      403,
      'forbidden',
    );
  });
});

async function deliver(webhookId: string, body: Record<string, unknown>, secret: string) {
  const raw = JSON.stringify(body);
  return call<{ executionId: string } & Partial<Problem>>('POST', `/hooks/${webhookId}`, {
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-meridian-signature': signWebhook(secret, Math.floor(Date.now() / 1000), raw),
    },
  });
}

describe('webhooks', () => {
  it('a run started through a webhook is requested for its creator, who cannot approve it', async () => {
    // Prepare
    const admin = await tenantA.token();
    const workflowId = await deployWorkflow(admin, approvalWorkflowBody());
    const hook = await expectCall<{ webhookId: string; secret: string }>(
      201,
      'POST',
      `/workflows/${workflowId}/webhooks`,
      { token: admin, body: { environment: 'dev' } },
    );
    // Act
    const started = await deliver(hook.body.webhookId, { n: 1 }, hook.body.secret);
    expect(started.status, started.text).toBe(202);
    await waitForApprovalStep({ token: admin }, started.body.executionId);
    const approval = await approvalOf({ token: admin }, started.body.executionId);
    const decided = await call('POST', `/approvals/${approval.approvalId}/decision`, {
      token: admin,
      body: { decision: 'approve' },
    });
    // Assess
    expectProblem(decided, 403, 'forbidden');
    const execution = await getExecution({ token: admin }, started.body.executionId);
    expect(execution.status).toBe('WAITING_APPROVAL');
  });

  it('creating a webhook needs executions:start as well as workflows:write', async () => {
    // Prepare
    const admin = await tenantA.token();
    const workflowId = await deployWorkflow(admin, approvalWorkflowBody());
    const role = await createRole(admin, 'writer-only', ['workflows:write', 'workflows:read']);
    const writer = await inviteUser(admin, uniqueEmail('writer'), [role]);
    // Act
    const made = await call('POST', `/workflows/${workflowId}/webhooks`, {
      token: await writer.token(),
      body: { environment: 'dev' },
    });
    // Assess
    expect(expectProblem(made, 403, 'forbidden').detail).toMatch(/executions:start/);
  });

  it('a suspended tenant’s webhook starts nothing; tenant B’s webhook still works', async () => {
    // Prepare
    const suspendedTenant = await createTenant('fence-suspended');
    const token = await suspendedTenant.token();
    const workflowId = await deployWorkflow(token, approvalWorkflowBody());
    const hook = await expectCall<{ webhookId: string; secret: string }>(
      201,
      'POST',
      `/workflows/${workflowId}/webhooks`,
      { token, body: { environment: 'dev' } },
    );
    const tokenB = await tenantB.token();
    const workflowB = await deployWorkflow(tokenB, approvalWorkflowBody());
    const hookB = await expectCall<{ webhookId: string; secret: string }>(
      201,
      'POST',
      `/workflows/${workflowB}/webhooks`,
      { token: tokenB, body: { environment: 'dev' } },
    );
    await expectCall(200, 'PATCH', `/tenants/${suspendedTenant.tenantId}`, {
      token: await platformAdminToken(),
      body: { status: 'suspended' },
    });
    // Act
    const refused = await deliver(hook.body.webhookId, { n: 1 }, hook.body.secret);
    const other = await deliver(hookB.body.webhookId, { n: 1 }, hookB.body.secret);
    // Assess
    expectProblem(refused, 403, 'tenant-suspended');
    expect(other.status, other.text).toBe(202);
  });
});

describe('roles', () => {
  it('a roles:manage holder cannot rewrite a custom role the tenant admin holds', async () => {
    // Prepare
    const admin = await tenantA.token();
    const shared = await createRole(admin, 'shared', ['workflows:read']);
    await expectCall(200, 'PATCH', `/users/${tenantA.adminUserId}`, {
      token: await (await inviteUser(admin, uniqueEmail('admin2'), ['admin'])).token(),
      body: { roles: ['admin', shared] },
    });
    const managerRole = await createRole(admin, 'role-manager', [
      'roles:manage',
      'workflows:read',
      'workflows:write',
    ]);
    const manager = await inviteUser(admin, uniqueEmail('rolemgr'), [managerRole]);
    // Act
    const rewritten = await call('PUT', `/roles/${shared}`, {
      token: await manager.token(),
      body: { permissions: ['workflows:read', 'workflows:write'] },
    });
    // Assess
    expectProblem(rewritten, 403, 'forbidden');
    const role = await expectCall<{ permissions: string[] }>(200, 'GET', `/roles/${shared}`, {
      token: admin,
    });
    expect(role.body.permissions).toEqual(['workflows:read']);
  });

  it('a user cannot change their own roles through their own API key', async () => {
    // Prepare
    const admin = await tenantA.token();
    const managerRole = await createRole(admin, 'user-manager', [
      'users:manage',
      'apikeys:manage',
      'workflows:read',
    ]);
    const manager = await inviteUser(admin, uniqueEmail('usermgr'), [managerRole]);
    const key = await createApiKey(await manager.token(), [
      'users:manage',
      'apikeys:manage',
      'workflows:read',
    ]);
    // A role the key could grant, so only the self-change guard stands in the way.
    const extra = await createRole(admin, 'extra', ['workflows:read']);
    // Act
    const viaToken = await call('PATCH', `/users/${manager.userId}`, {
      token: await manager.token(),
      body: { roles: [managerRole, extra] },
    });
    const viaKey = await call('PATCH', `/users/${manager.userId}`, {
      apiKey: key.key,
      body: { roles: [managerRole, extra] },
    });
    // Assess
    expectProblem(viaToken, 403, 'forbidden');
    expectProblem(viaKey, 403, 'forbidden');
    const user = await expectCall<{ roles: string[] }>(200, 'GET', `/users/${manager.userId}`, {
      token: admin,
    });
    expect(user.body.roles).toEqual([managerRole]);
  });
});

/** `{"a":{"a":…}}` nested `depth` objects deep around `leaf`. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

interface Operation {
  'x-meridian-permission': string;
  requestBody?: unknown;
}

describe('bad input is 400 problem+json naming the field, on every body-taking route', () => {
  const bodies: [string, string, string][] = [
    ['JSON nested 40 levels deep', JSON.stringify({ deep: nested(40) }), 'deep'],
    ['an integer beyond 2^53', '{"big": 9007199254740993}', 'big'],
    ['1e300', '{"huge": 1e300}', 'huge'],
    ['an empty property name', '{"named": {"": 1}}', 'named'],
  ];

  it.each(bodies)('%s', async (_name, body, field) => {
    // Prepare
    const doc = await expectCall<{ paths: Record<string, Record<string, Operation>> }>(
      200,
      'GET',
      '/openapi.json',
    );
    const operations = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([method, op]) => ({ method: method.toUpperCase(), path, auth: op['x-meridian-permission'] })),
    );
    const tenantToken = await tenantA.token();
    const platform = await platformAdminToken();
    // Act
    const answers = await Promise.all(
      operations.map(async (op) => {
        const path = op.path.replace(/\{\w+\}/g, 'x0');
        const token = op.auth === 'public' ? undefined : op.auth === 'platform' ? platform : tenantToken;
        const response = await call<Problem>(op.method, path, {
          ...(token ? { token } : {}),
          body,
          headers: { 'content-type': 'application/json' },
        });
        return { route: `${op.method} ${op.path}`, response };
      }),
    );
    // Assess
    expect(operations.length).toBeGreaterThan(20);
    for (const { route, response } of answers) {
      expect(response.status, `${route}: ${response.text}`).toBe(400);
      expect(response.headers.get('content-type'), route).toMatch(/^application\/problem\+json/);
      expect(response.body.errors?.[0]?.path, route).toMatch(new RegExp(`^${field}`));
    }
  });

  it('the limits are declared in /openapi.json', async () => {
    // Act
    const doc = await expectCall<{
      'x-meridian-request-limits': Record<string, number>;
      paths: Record<string, Record<string, { requestBody?: { 'x-meridian-limits'?: unknown } }>>;
    }>(200, 'GET', '/openapi.json');
    // Assess
    expect(doc.body['x-meridian-request-limits']).toMatchObject({
      maxBodyBytes: 262_144,
      maxDepth: 28,
      maxAbsNumber: Number.MAX_SAFE_INTEGER,
    });
    expect(doc.body.paths['/workflows']?.post?.requestBody?.['x-meridian-limits']).toEqual(
      doc.body['x-meridian-request-limits'],
    );
  });

  describe('the inputs that crashed with 500', () => {
    let workflowId: string;
    beforeAll(async () => {
      workflowId = await deployWorkflow(await tenantA.token(), approvalWorkflowBody());
    });

    it.each([
      ['an execution input nested 40 deep', () => ({ input: { deep: nested(40) } }), 'input.deep'],
      ['an execution input of 1e300', () => ({ input: { n: 1e300 } }), 'input.n'],
      ['an execution input beyond 2^53', () => ({ input: { n: 2 ** 60 } }), 'input.n'],
    ])('%s', async (_name, body, field) => {
      // Act
      const response = await call('POST', `/workflows/${workflowId}/executions`, {
        token: await tenantA.token(),
        body: body(),
      });
      // Assess
      const problem = expectProblem(response, 400, 'validation-error');
      expect(problem.errors?.[0]?.path).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
    });

    it('an empty property name in a workflow inputSchema', async () => {
      // Act
      const response = await call('POST', '/workflows', {
        token: await tenantA.token(),
        body: {
          ...approvalWorkflowBody(),
          inputSchema: { type: 'object', properties: { '': { type: 'string' } } },
        },
      });
      // Assess
      const problem = expectProblem(response, 400, 'validation-error');
      expect(problem.errors?.[0]?.path).toBe('inputSchema.properties');
    });

    it.each([
      ['POST /users', 'POST', '/users', (email: string) => ({ email, roles: ['viewer'] }), 'email', false],
      [
        'POST /tenants',
        'POST',
        '/tenants',
        (email: string) => ({ name: uniqueName('long'), plan: 'free', adminEmail: email }),
        'adminEmail',
        true,
      ],
    ])('a 2,000-character email on %s', async (_name, method, path, body, field, platformRoute) => {
      // Prepare
      const email = `${'a'.repeat(1_980)}@example.com`;
      // Act
      const response = await call(method, path, {
        token: platformRoute ? await platformAdminToken() : await tenantA.token(),
        body: body(email),
      });
      // Assess
      const problem = expectProblem(response, 400, 'validation-error');
      expect(problem.errors?.map((e) => e.path)).toContain(field);
    });
  });
});

describe('enumeration', () => {
  it('inviting an email that exists in another tenant answers exactly as a new address, and leaves that login alone', async () => {
    // Prepare
    const tokenB = await tenantB.token();
    const person = await inviteUser(tokenB, uniqueEmail('elsewhere'), ['viewer']);
    const admin = await tenantA.token();
    // Act
    const fresh = await call<Record<string, unknown>>('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('fresh'), roles: ['viewer'] },
    });
    const existing = await call<Record<string, unknown>>('POST', '/users', {
      token: admin,
      body: { email: person.email, roles: ['viewer'] },
    });
    // Assess: the same status, the same fields of the same types
    expect(existing.status, existing.text).toBe(fresh.status);
    expect(existing.status).toBe(201);
    const shape = (body: Record<string, unknown>) =>
      Object.entries(body)
        .map(([k, v]) => `${k}:${Array.isArray(v) ? 'array' : typeof v}`)
        .sort();
    expect(shape(existing.body)).toEqual(shape(fresh.body));
    expect(String(existing.body.userId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(existing.headers.get('location')).toBe(`/users/${existing.body.userId}`);
    const read = await expectCall<Record<string, unknown>>(200, 'GET', `/users/${existing.body.userId}`, {
      token: admin,
    });
    expect(shape(read.body)).toEqual(shape(fresh.body));

    // Disabling and deleting the record in tenant A never touches the login in tenant B.
    await expectCall(200, 'PATCH', `/users/${existing.body.userId}`, {
      token: admin,
      body: { status: 'disabled' },
    });
    await expectCall(204, 'DELETE', `/users/${existing.body.userId}`, { token: admin });
    const me = await expectCall<{ tenantId: string }>(200, 'GET', '/me', { token: await person.token() });
    expect(me.body.tenantId).toBe(tenantB.tenantId);
  });

  it('takes about as long as inviting a new address', async () => {
    // Prepare: five addresses with a login in tenant B, five new ones
    const tokenB = await tenantB.token();
    const elsewhere = await Promise.all(
      Array.from({ length: 5 }, () => inviteUser(tokenB, uniqueEmail('timing'), ['viewer'])),
    );
    const admin = await tenantA.token();
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await call('POST', '/users', { token: admin, body: { email, roles: ['viewer'] } });
      expect(response.status, response.text).toBe(201);
      return performance.now() - started;
    };
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    // Act: alternate, so load on the machine falls on both alike
    const fresh: number[] = [];
    const existing: number[] = [];
    for (const person of elsewhere) {
      fresh.push(await timed(uniqueEmail('timing-new')));
      existing.push(await timed(person.email));
    }
    // Assess: locally both take 100-450 ms on a loaded machine; the bound only catches a path that
    // is grossly slower or faster (a different number of calls to the directory or the table).
    expect(Math.abs(median(existing) - median(fresh)), JSON.stringify({ fresh, existing })).toBeLessThan(500);
  });

  it('an email already used in the same tenant is still 409', async () => {
    // Prepare
    const admin = await tenantA.token();
    const email = uniqueEmail('twice');
    await expectCall(201, 'POST', '/users', { token: admin, body: { email, roles: ['viewer'] } });
    // Act
    const again = await call('POST', '/users', { token: admin, body: { email, roles: ['viewer'] } });
    // Assess
    expectProblem(again, 409, 'conflict');
  });
});

/** An OpenAI-compatible agent bound to `secret` (nothing is called until a run). */
const openaiAgent = (secret: string, extra: Record<string, unknown> = {}) => ({
  name: uniqueName('gpt'),
  provider: 'openai',
  model: 'gpt-4o-mini',
  apiKeySecret: secret,
  ...extra,
});

interface Binding {
  field: string;
  secret: string;
  boundBy: string;
}

describe('secret use', () => {
  it('a developer cannot bind a secret that allows only admins, to an agent or a tool', async () => {
    // Prepare
    const admin = await tenantA.token();
    const secret = uniqueName('prod-key');
    await expectCall(201, 'PUT', `/secrets/${secret}`, { token: admin, body: { value: 'sk-prod' } });
    const dev = await inviteUser(admin, uniqueEmail('dev'), ['developer']);
    const token = await dev.token();
    // Act
    const agent = await call('POST', '/agents', { token, body: openaiAgent(secret) });
    const tool = await call('POST', '/tools', {
      token,
      body: httpToolBody('https://example.com/hook', { authSecret: secret }),
    });
    const unknown = await call('POST', '/agents', { token, body: openaiAgent(uniqueName('no-such')) });
    // Assess
    expect(expectProblem(agent, 403, 'forbidden').detail).toMatch(/apiKeySecret/);
    expect(expectProblem(tool, 403, 'forbidden').detail).toMatch(/authSecret/);
    // A missing secret answers the same way: names are not probed through bindings.
    expectProblem(unknown, 403, 'forbidden');
  });

  it('a secret that allows developers is bound by one, and the versions record who bound it', async () => {
    // Prepare
    const admin = await tenantA.token();
    const secret = uniqueName('dev-key');
    const written = await expectCall<{ allowedRoles: string[] }>(201, 'PUT', `/secrets/${secret}`, {
      token: admin,
      body: { value: 'sk-dev', allowedRoles: ['developer'] },
    });
    const dev = await inviteUser(admin, uniqueEmail('dev'), ['developer']);
    // Act
    const agent = await expectCall<{ agentId: string; secretBindings: Binding[] }>(201, 'POST', '/agents', {
      token: await dev.token(),
      body: openaiAgent(secret),
    });
    const version = await expectCall<{ secretBindings: Binding[] }>(
      200,
      'GET',
      `/agents/${agent.body.agentId}/versions/1`,
      { token: admin },
    );
    // Assess
    expect(written.body.allowedRoles).toEqual(['developer']);
    const expected = [{ field: 'apiKeySecret', secret, boundBy: dev.userId }];
    expect(agent.body.secretBindings).toEqual(expected);
    expect(version.body.secretBindings).toEqual(expected);
  });

  it('without secrets:use, a role the secret allows is not enough', async () => {
    // Prepare
    const admin = await tenantA.token();
    const role = await createRole(admin, 'agent-writer', ['agents:write', 'agents:read']);
    const secret = uniqueName('key');
    await expectCall(201, 'PUT', `/secrets/${secret}`, {
      token: admin,
      body: { value: 'sk', allowedRoles: [role] },
    });
    const writer = await inviteUser(admin, uniqueEmail('writer'), [role]);
    // Act
    const agent = await call('POST', '/agents', { token: await writer.token(), body: openaiAgent(secret) });
    // Assess
    expect(expectProblem(agent, 403, 'forbidden').detail).toMatch(/secrets:use/);
  });

  it('a developer cannot re-point an admin’s agent that uses an admin-only secret', async () => {
    // Prepare
    const admin = await tenantA.token();
    const secret = uniqueName('prod-key');
    await expectCall(201, 'PUT', `/secrets/${secret}`, { token: admin, body: { value: 'sk-prod' } });
    const made = await expectCall<{ agentId: string }>(201, 'POST', '/agents', {
      token: admin,
      body: openaiAgent(secret),
    });
    const dev = await inviteUser(admin, uniqueEmail('dev'), ['developer']);
    // Act
    const repointed = await call('PUT', `/agents/${made.body.agentId}`, {
      token: await dev.token(),
      body: openaiAgent(secret, { baseUrl: 'https://attacker.example/v1' }),
    });
    // Assess
    expectProblem(repointed, 403, 'forbidden');
    const agent = await expectCall<{ version: number }>(200, 'GET', `/agents/${made.body.agentId}`, {
      token: admin,
    });
    expect(agent.body.version).toBe(1);
  });

  it('allowedRoles must name existing roles, and the list shows them', async () => {
    // Prepare
    const admin = await tenantA.token();
    const secret = uniqueName('key');
    // Act
    const bad = await call('PUT', `/secrets/${secret}`, {
      token: admin,
      body: { value: 'v', allowedRoles: ['developer', 'no-such-role'] },
    });
    await expectCall(201, 'PUT', `/secrets/${secret}`, { token: admin, body: { value: 'v' } });
    const listed = await expectCall<{ items: { name: string; allowedRoles: string[] }[] }>(
      200,
      'GET',
      '/secrets?limit=100',
      { token: admin },
    );
    // Assess
    expect(expectProblem(bad, 400, 'validation-error').errors?.map((e) => e.path)).toEqual([
      'allowedRoles.1',
    ]);
    expect(listed.body.items.find((m) => m.name === secret)?.allowedRoles).toEqual(['admin']);
  });

  it('the approval of a prod promotion lists the secrets the version uses', async () => {
    // Prepare
    const admin = await tenantA.token();
    const agentSecret = uniqueName('agent-key');
    const toolSecret = uniqueName('tool-key');
    for (const name of [agentSecret, toolSecret])
      await expectCall(201, 'PUT', `/secrets/${name}`, { token: admin, body: { value: 'sk' } });
    const agent = await expectCall<{ agentId: string }>(201, 'POST', '/agents', {
      token: admin,
      body: openaiAgent(agentSecret),
    });
    const tool = await expectCall<{ toolId: string }>(201, 'POST', '/tools', {
      token: admin,
      body: httpToolBody('https://example.com/hook', { authSecret: toolSecret }),
    });
    const workflowId = await createWorkflow(
      admin,
      workflowBody({
        ask: { type: 'agent', agentId: agent.body.agentId, prompt: 'hi', next: 'call' },
        call: { type: 'tool', toolId: tool.body.toolId, args: {}, end: true },
      }),
    );
    // Act
    const requested = await expectCall<{ approval: { secrets: string[] } }>(
      202,
      'POST',
      `/workflows/${workflowId}/promotions`,
      { token: admin, body: { version: 1, environment: 'prod' } },
    );
    // Assess
    expect(requested.body.approval.secrets).toEqual([agentSecret, toolSecret].sort());
  });
});
