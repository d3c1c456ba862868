/**
 * The spec's own consumer: the generated client (clients/client.ts over clients/meridian.d.ts)
 * walks through the README's path, and every answer is checked against the spec by the helper's
 * middleware. The requests are typed by the spec, so a field the spec drops breaks the build here.
 */
import { describe, expect, it } from 'vitest';
import { apiClient, call } from '../helpers/api.ts';
import { uniqueName } from '../helpers/tenants.ts';
import { accessToken } from '../helpers/tokens.ts';
import { waitForStatus } from '../helpers/workflows.ts';

describe('the generated client', () => {
  it('creates an agent and a workflow, promotes, runs and reads the execution, usage, versions and diff', async () => {
    // Arrange
    const api = apiClient({ token: await accessToken('admin') });
    // Act
    const agent = await api.POST('/agents', {
      body: {
        name: uniqueName('client-agent'),
        provider: 'scripted',
        model: 'scripted-1',
        script: [{ reply: 'hello from the client' }],
      },
    });
    const agentId = agent.data?.agentId ?? '';
    const workflow = await api.POST('/workflows', {
      body: {
        name: uniqueName('client-flow'),
        startAt: 'ask',
        steps: { ask: { type: 'agent', agentId, prompt: 'Say hello', end: true } },
      },
    });
    const workflowId = workflow.data?.workflowId ?? '';
    const v2 = await api.PUT('/workflows/{workflowId}', {
      params: { path: { workflowId } },
      body: {
        name: uniqueName('client-flow'),
        startAt: 'ask',
        steps: { ask: { type: 'agent', agentId, prompt: 'Say hello twice', end: true } },
      },
    });
    const promotion = await api.POST('/workflows/{workflowId}/promotions', {
      params: { path: { workflowId } },
      body: { version: 2, environment: 'dev' },
    });
    const started = await api.POST('/workflows/{workflowId}/executions', {
      params: { path: { workflowId } },
      body: { input: { topic: 'contracts' } },
    });
    const executionId = started.data?.executionId ?? '';
    await waitForStatus({ token: await accessToken('admin') }, executionId, 'SUCCEEDED');
    const detail = await api.GET('/executions/{executionId}', { params: { path: { executionId } } });
    const versions = await api.GET('/workflows/{workflowId}/versions', {
      params: { path: { workflowId }, query: { limit: 10 } },
    });
    const diff = await api.GET('/workflows/{workflowId}/diff', {
      params: { path: { workflowId }, query: { from: 1, to: 2 } },
    });
    const usage = await api.GET('/usage', {});
    // Assess
    expect(agent.response.status).toBe(201);
    expect(agent.response.headers.get('location')).toBe(`/agents/${agentId}`);
    expect(agent.data?.provider).toBe('scripted');
    expect(workflow.response.status).toBe(201);
    expect(v2.data?.version).toBe(2);
    expect(promotion.response.status).toBe(200);
    expect(promotion.data?.status).toBe('applied');
    expect(started.response.status).toBe(202);
    expect(started.response.headers.get('location')).toBe(`/executions/${executionId}`);
    expect(detail.data?.status).toBe('SUCCEEDED');
    expect(detail.data?.workflowVersion).toBe(2);
    expect(detail.data?.input).toEqual({ topic: 'contracts' });
    expect(detail.data?.steps.map((s) => [s.stepId, s.status])).toEqual([['ask', 'SUCCEEDED']]);
    expect(versions.data?.items.map((v) => v.version)).toEqual([2, 1]);
    expect(diff.data?.changed).toEqual([{ stepId: 'ask', fields: ['prompt'] }]);
    expect(usage.data?.total.executions).toBeGreaterThanOrEqual(1);
  });

  it('types and checks errors as problem+json', async () => {
    // Arrange
    const api = apiClient({ token: await accessToken('viewer') });
    // Act
    const denied = await api.POST('/agents', {
      body: {
        name: uniqueName('denied'),
        provider: 'scripted',
        model: 'scripted-1',
        script: [{ reply: 'x' }],
      },
    });
    const missing = await api.GET('/agents/{agentId}', { params: { path: { agentId: 'no-such-agent' } } });
    // Assess
    // Errors are problem+json, or API Gateway's `{message}` for its own 429: narrow by a field.
    const problem = denied.error && 'status' in denied.error ? denied.error : undefined;
    const notFound = missing.error && 'type' in missing.error ? missing.error : undefined;
    expect(denied.response.status).toBe(403);
    expect(problem?.status).toBe(403);
    expect(problem?.requestId).toMatch(/.+/);
    expect(missing.response.status).toBe(404);
    expect(notFound?.type).toBe('https://meridian.dev/problems/not-found');
  });
});

describe('the response check', () => {
  it('fails a call whose answer the spec does not declare', async () => {
    // Arrange: a path no operation matches answers a problem, which is declared...
    const known = await call('GET', '/no-such-route', { token: await accessToken('admin') });
    // Act: ...but the contract refuses a status the operation does not declare (there is no 418).
    const { contractOf } = await import('../helpers/api.ts');
    const { inject } = await import('vitest');
    const contract = await contractOf(inject('apiUrl'));
    const undeclared = contract.check('GET', '/health', 418, 'application/json', {}, '{}');
    const wrongBody = contract.check('GET', '/health', 200, 'application/json', { status: 'nope' }, '{}');
    const rightBody = contract.check(
      'GET',
      '/health',
      200,
      'application/json',
      { status: 'ok', extra: 1 },
      '{}',
    );
    // Assess
    expect(known.status).toBe(404);
    expect(undeclared.join()).toContain('status 418 is not declared');
    expect(wrongBody.join()).toContain('body/status');
    expect(rightBody).toEqual([]);
  });
});
