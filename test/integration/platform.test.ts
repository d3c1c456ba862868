import { describe, expect, inject, it } from 'vitest';
import { call, type Problem } from '../helpers/api.ts';
import { accessToken, idToken, platformAdminToken } from '../helpers/tokens.ts';

/** Asserts a problem+json answer with `status`, whose requestId is the gateway's request id. */
function expectProblem(response: Awaited<ReturnType<typeof call<Problem>>>, status: number): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(response.body.requestId).toBe(response.headers.get('apigw-requestid'));
}

describe('local platform: public routes', () => {
  it('GET /health is 200', async () => {
    const response = await call('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /health/ready checks the table, the bucket and the identity provider', async () => {
    const response = await call<{ status: string; checks: { name: string; ok: boolean }[] }>(
      'GET',
      '/health/ready',
    );
    expect(response.status, response.text).toBe(200);
    expect(response.body.status).toBe('ready');
    const checks = Object.fromEntries(response.body.checks.map((check) => [check.name, check.ok]));
    expect(checks).toEqual({ table: true, bucket: true, identity: true });
  });

  it('GET /openapi.json is an OpenAPI 3.1 document', async () => {
    const response = await call<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(response.body.paths)).toContain('/me');
  });

  it('`/` matches no HTTP API route: API Gateway’s own 404', async () => {
    const response = await call('GET', '/');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: 'Not Found' });
  });
});

describe('local platform: authentication', () => {
  it('is 401 problem+json without a credential', async () => {
    expectProblem(await call<Problem>('GET', '/me'), 401);
  });

  it('is 401 problem+json with a garbage bearer token', async () => {
    expectProblem(await call<Problem>('GET', '/me', { token: 'not-a-jwt' }), 401);
  });

  it('is 401 with an id token (only access tokens are credentials)', async () => {
    expectProblem(await call<Problem>('GET', '/me', { token: await idToken('admin') }), 401);
  });

  it('GET /me with the demo admin’s token returns the demo tenant', async () => {
    const response = await call<{ tenantId: string; roles: string[] }>('GET', '/me', {
      token: await accessToken('admin'),
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.tenantId).toBe(inject('demo').tenant.tenantId);
    expect(response.body.roles).toContain('admin');
  });

  it('every demo user can sign in and sees the same tenant', async () => {
    for (const role of ['developer', 'operator', 'viewer'] as const) {
      const response = await call<{ tenantId: string; roles: string[] }>('GET', '/me', {
        token: await accessToken(role),
      });
      expect(response.status, `${role}: ${response.text}`).toBe(200);
      expect(response.body.tenantId).toBe(inject('demo').tenant.tenantId);
      expect(response.body.roles).toEqual([role]);
    }
  });

  it('the platform admin sees the demo tenant in GET /tenants', async () => {
    const response = await call<{ items: { tenantId: string; name: string }[] }>('GET', '/tenants', {
      token: await platformAdminToken(),
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.items.map((tenant) => tenant.tenantId)).toContain(inject('demo').tenant.tenantId);
  });
});

describe('local platform: request errors (problem+json)', () => {
  it('an unknown route is 404', async () => {
    expectProblem(await call<Problem>('GET', '/no-such-route', { token: await accessToken('admin') }), 404);
  });

  it('a known path with the wrong method is 405', async () => {
    expectProblem(await call<Problem>('DELETE', '/me', { token: await accessToken('admin') }), 405);
  });

  it('malformed JSON is 400', async () => {
    const response = await call<Problem>('POST', '/users', {
      token: await accessToken('admin'),
      headers: { 'content-type': 'application/json' },
      body: '{"email": ',
    });
    expectProblem(response, 400);
  });

  it('a non-JSON content type is 415', async () => {
    const response = await call<Problem>('POST', '/users', {
      token: await accessToken('admin'),
      headers: { 'content-type': 'text/plain' },
      body: 'email=someone@example.com',
    });
    expectProblem(response, 415);
  });

  it('a body over 256 KB is 413', async () => {
    const response = await call<Problem>('POST', '/users', {
      token: await accessToken('admin'),
      body: { email: 'big@demo.meridian.local', roles: ['viewer'], padding: 'x'.repeat(300 * 1024) },
    });
    expectProblem(response, 413);
  });
});
