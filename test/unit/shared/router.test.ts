import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { buildOpenApi } from '#shared/openapi.ts';
import { defineRoute, MAX_BODY_BYTES, Router } from '#shared/router.ts';
import { int, t } from '#shared/schema.ts';
import { apiEvent, tenantAuth } from '../../helpers/events.ts';

const routes = [
  defineRoute({
    method: 'GET',
    path: '/public',
    summary: 'public',
    tag: 't',
    auth: 'public',
    responses: { 200: { description: 'ok' } },
    handler: async () => ({ status: 200, body: { ok: true } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/things',
    summary: 'create',
    tag: 't',
    auth: 'agents:write',
    body: t.Object(
      { name: t.String({ minLength: 1 }), count: t.Optional(int()) },
      { additionalProperties: false },
    ),
    responses: { 201: { description: 'created' } },
    handler: async ({ body, principal }) => ({
      status: 201,
      body: { ...body, tenantId: principal.tenantId },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/things/{thingId}',
    summary: 'read',
    tag: 't',
    auth: 'agents:read',
    params: t.Object({ thingId: t.String() }, { additionalProperties: false }),
    responses: { 200: { description: 'ok' } },
    handler: async ({ params }) => {
      if (params.thingId === 'missing') throw new NotFoundError('No thing missing.');
      if (params.thingId === 'busy') throw new ConflictError('busy');
      if (params.thingId === 'boom') throw new Error('secret internal detail: password=hunter2');
      return { status: 200, body: { thingId: params.thingId } };
    },
  }),
];
const router = new Router(routes);
const writer = tenantAuth(['agents:write', 'agents:read']);

async function call(options: Parameters<typeof apiEvent>[0]) {
  const res = await router.handle(apiEvent(options));
  return {
    status: res.statusCode,
    headers: res.headers ?? {},
    body: res.body ? JSON.parse(res.body) : undefined,
  };
}

describe('Router', () => {
  it('serves a public route without credentials', async () => {
    // Act
    const res = await call({ path: '/public' });
    // Assess
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  });

  it.each([
    ['no credential', undefined, 401, 'unauthenticated'],
    ['a refused credential', { authenticated: false, reason: 'invalid-token' }, 401, 'unauthenticated'],
    [
      'a dependency failure in the authorizer',
      { authenticated: false, reason: 'authorizer-error' },
      503,
      'service-unavailable',
    ],
    ['a user without the permission', tenantAuth(['agents:read']), 403, 'forbidden'],
    [
      'a suspended tenant',
      tenantAuth(['agents:write'], { tenantStatus: 'suspended' }),
      403,
      'tenant-suspended',
    ],
    [
      'a tenant in a status that is not active',
      tenantAuth(['agents:write'], { tenantStatus: 'closing' }),
      403,
      'tenant-suspended',
    ],
    [
      'a tenant context without a status',
      tenantAuth(['agents:write'], { tenantStatus: undefined }),
      403,
      'tenant-suspended',
    ],
    [
      'a platform admin on a tenant route',
      { authenticated: true, principalType: 'platform' as const, principalId: 'p' },
      403,
      'forbidden',
    ],
  ])('refuses %s with %i problem+json', async (_name, auth, status, code) => {
    // Act
    const res = await call({
      method: 'POST',
      path: '/things',
      body: '{"name":"a"}',
      ...(auth ? { auth } : {}),
    });
    // Assess
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      type: `https://meridian.dev/problems/${code}`,
      status,
      requestId: 'req-test-1',
    });
  });

  it('passes the tenant from the credential, never from the body', async () => {
    // Act
    const res = await call({ method: 'POST', path: '/things', body: '{"name":"a"}', auth: writer });
    // Assess
    expect(res).toMatchObject({ status: 201, body: { name: 'a', tenantId: 'tabcdefghijklmnop' } });
  });

  it('rejects unknown fields naming each one', async () => {
    // Act
    const res = await call({
      method: 'POST',
      path: '/things',
      body: '{"name":"a","tenantId":"tother","x":1}',
      auth: writer,
    });
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'tenantId', message: 'unknown field' },
      { path: 'x', message: 'unknown field' },
    ]);
  });

  it('names every invalid field at once', async () => {
    // Act
    const res = await call({
      method: 'POST',
      path: '/things',
      body: '{"name":"","count":1.5}',
      auth: writer,
    });
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['name', 'count']);
  });

  it.each([
    ['malformed JSON', '{"name":', 'application/json', 400, 'malformed-json'],
    ['a wrong content type', 'name=a', 'application/x-www-form-urlencoded', 415, 'unsupported-media-type'],
    [
      'a body over 256 KB',
      JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) }),
      'application/json',
      413,
      'payload-too-large',
    ],
  ])('answers %s with a clear problem', async (_name, body, type, status, code) => {
    // Act
    const res = await call({
      method: 'POST',
      path: '/things',
      body,
      headers: { 'content-type': type },
      auth: writer,
    });
    // Assess
    expect(res.status).toBe(status);
    expect(res.body.type).toBe(`https://meridian.dev/problems/${code}`);
    expect(res.body.detail.length).toBeGreaterThan(10);
  });

  it('answers an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    // Act
    const missing = await call({ path: '/nope', auth: writer });
    const wrong = await call({ method: 'DELETE', path: '/things', auth: writer });
    // Assess
    expect(missing.status).toBe(404);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
  });

  it('maps domain errors by class and hides internals of unexpected ones', async () => {
    // Act
    const notFound = await call({ path: '/things/missing', auth: writer });
    const conflict = await call({ path: '/things/busy', auth: writer });
    const boom = await call({ path: '/things/boom', auth: writer });
    // Assess
    expect(notFound.status).toBe(404);
    expect(conflict.status).toBe(409);
    expect(boom.status).toBe(500);
    expect(JSON.stringify(boom.body)).not.toContain('hunter2');
    expect(boom.body.requestId).toBe('req-test-1');
  });

  it('decodes base64 bodies as API Gateway sends them', async () => {
    // Act
    const res = await call({
      method: 'POST',
      path: '/things',
      body: '{"name":"b"}',
      base64: true,
      auth: writer,
    });
    // Assess
    expect(res).toMatchObject({ status: 201, body: { name: 'b' } });
  });
});

describe('buildOpenApi', () => {
  it('publishes every route with its permission and request schema', () => {
    // Act
    const doc = buildOpenApi(routes, { title: 't', version: '1' }) as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-meridian-permission': string; requestBody?: unknown }>>;
    };
    // Assess
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/things']?.post?.['x-meridian-permission']).toBe('agents:write');
    expect(JSON.stringify(doc.paths['/things']?.post?.requestBody)).toContain('"additionalProperties":false');
    expect(doc.paths['/things/{thingId}']?.get).toBeDefined();
  });
});
