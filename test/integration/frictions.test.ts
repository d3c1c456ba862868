/**
 * Frictions a new user met with the first contract (issue 12), each fixed: the 401 challenge, an API
 * key's default expiry, a number budget, the diff naming a missing version.
 */
import { describe, expect, it } from 'vitest';
import { call, type Problem } from '../helpers/api.ts';
import { createTenant, uniqueName } from '../helpers/tenants.ts';
import { accessToken } from '../helpers/tokens.ts';
import { createWorkflow, expectCall, succeedWorkflowBody } from '../helpers/workflows.ts';

const DAY_MS = 86_400_000;

describe('frictions of the first contract', () => {
  it('a refused token gets WWW-Authenticate: Bearer error="invalid_token"; no credential a bare Bearer challenge', async () => {
    // Act
    const garbage = await call<Problem>('GET', '/me', { token: 'not-a-jwt' });
    const none = await call<Problem>('GET', '/me');
    // Assess
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The access token is not valid"',
    );
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('an API key created without expiresAt expires in 90 days', async () => {
    // Arrange
    const token = await accessToken('admin');
    const before = Date.now();
    // Act
    const created = await expectCall<{ expiresAt: string; key: string }>(201, 'POST', '/api-keys', {
      token,
      body: { name: uniqueName('default-expiry'), scopes: ['agents:read'] },
    });
    // Assess
    const expires = Date.parse(created.body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 90 * DAY_MS - 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * DAY_MS + 60_000);
    expect(created.body.key).toMatch(/^mk_/);
  });

  it('PUT /budget accepts a number amount and shows it as a decimal string', async () => {
    // Arrange
    const owner = await createTenant('budget-number');
    const token = await owner.token();
    // Act
    const set = await expectCall<{ monthlyLimitUsd: string }>(200, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: 250.5 },
    });
    const negative = await expectCall<Problem>(400, 'PUT', '/budget', {
      token,
      body: { monthlyLimitUsd: -1 },
    });
    // Assess
    expect(set.body.monthlyLimitUsd).toBe('250.500000');
    expect(negative.body.errors?.map((e) => e.path)).toEqual(['monthlyLimitUsd']);
  });

  it('GET /workflows/{id}/diff without `to` (or `from`) names the missing parameter', async () => {
    // Arrange
    const token = await accessToken('admin');
    const workflowId = await createWorkflow(token, succeedWorkflowBody('diff-params'));
    // Act
    const noTo = await call<Problem>('GET', `/workflows/${workflowId}/diff?from=1`, { token });
    const neither = await call<Problem>('GET', `/workflows/${workflowId}/diff`, { token });
    // Assess
    expect(noTo.status).toBe(400);
    expect(noTo.body.errors).toEqual([
      { path: 'query.to', message: 'required: the version number to compare to' },
    ]);
    expect(neither.body.errors?.map((e) => e.path)).toEqual(['query.from', 'query.to']);
    expect(neither.text).not.toContain('NaN');
  });
});
