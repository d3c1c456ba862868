import { describe, expect, it } from 'vitest';
import { signWebhook } from '#core/webhooks/webhooks.ts';
import { call, type Problem } from '../helpers/api.ts';
import { createTenant, uniqueName } from '../helpers/tenants.ts';
import {
  createAgent,
  deployWorkflow,
  expectCall,
  getExecution,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/** Webhooks: a signed URL per workflow; bad, stale or replayed deliveries; deletion. */
interface Created {
  readonly webhookId: string;
  readonly url: string;
  readonly secret: string;
  readonly environment: string;
}

const now = () => Math.floor(Date.now() / 1000);

function deliver(webhookId: string, body: string, signature: string | undefined) {
  return call<{ executionId: string } & Partial<Problem>>('POST', `/hooks/${webhookId}`, {
    body,
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-meridian-signature': signature } : {}),
    },
  });
}

describe('webhooks', () => {
  it('start the workflow with the signed body as input; replays return the same execution', async () => {
    // Prepare
    const owner = await createTenant('hooks');
    const token = await owner.token();
    const agentId = await createAgent(token, {
      name: uniqueName('echo'),
      provider: 'scripted',
      model: 'scripted-1',
      script: [{ reply: 'got it' }],
    });
    const workflowId = await deployWorkflow(
      token,
      workflowBody({ ask: { type: 'agent', agentId, prompt: 'order {{input.order}}', end: true } }),
    );
    const made = await expectCall<Created>(201, 'POST', `/workflows/${workflowId}/webhooks`, {
      token,
      body: { environment: 'dev' },
    });
    const body = JSON.stringify({ order: 42 });
    const signature = signWebhook(made.body.secret, now(), body);
    // Act
    const first = await deliver(made.body.webhookId, body, signature);
    const replay = await deliver(made.body.webhookId, body, signature);
    const execution = await waitForStatus({ token }, first.body.executionId, 'SUCCEEDED');
    // Assess
    expect(made.body.url).toMatch(new RegExp(`/hooks/${made.body.webhookId}$`));
    expect(made.body.secret).toMatch(/^whsec_/);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.body.executionId).toBe(first.body.executionId);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(execution.input).toEqual({ order: 42 });
    expect(execution.environment).toBe('dev');
  });

  it('refuse missing, wrong, tampered and stale signatures alike, with 401 and nothing started', async () => {
    // Prepare
    const owner = await createTenant('hooks-bad');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, workflowBody({ done: { type: 'succeed' } }));
    const made = await expectCall<Created>(201, 'POST', `/workflows/${workflowId}/webhooks`, {
      token,
      body: { environment: 'dev' },
    });
    const body = '{"a":1}';
    const cases = [
      undefined,
      signWebhook('whsec_wrong', now(), body),
      signWebhook(made.body.secret, now(), '{"a":2}'),
      signWebhook(made.body.secret, now() - 600, body),
      't=abc,v1=zz',
    ];
    // Act
    const answers = await Promise.all(
      cases.map((signature) => deliver(made.body.webhookId, body, signature)),
    );
    const unknown = await deliver(
      `${owner.tenantId}_habcdefghijklmnop`,
      body,
      signWebhook(made.body.secret, now(), body),
    );
    const executions = await expectCall<{ items: unknown[] }>(
      200,
      'GET',
      `/executions?workflowId=${workflowId}`,
      { token },
    );
    // Assess
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(unknown.status).toBe(401);
    expect(answers[1]?.headers.get('content-type')).toBe('application/problem+json');
    expect(executions.body.items).toHaveLength(0);
  });

  it('stop working once deleted, and never show the secret again', async () => {
    // Prepare
    const owner = await createTenant('hooks-del');
    const token = await owner.token();
    const workflowId = await deployWorkflow(token, workflowBody({ done: { type: 'succeed' } }));
    const made = await expectCall<Created>(201, 'POST', `/workflows/${workflowId}/webhooks`, {
      token,
      body: { environment: 'dev' },
    });
    const body = '{}';
    // Act
    const before = await deliver(made.body.webhookId, body, signWebhook(made.body.secret, now(), body));
    await expectCall(204, 'DELETE', `/webhooks/${made.body.webhookId}`, { token });
    const after = await deliver(made.body.webhookId, body, signWebhook(made.body.secret, now() + 1, body));
    const audit = await call('GET', '/audit?resource=webhook', { token });
    // Assess
    expect(before.status).toBe(202);
    expect((await getExecution({ token }, before.body.executionId)).executionId).toBe(
      before.body.executionId,
    );
    expect(after.status).toBe(401);
    expect(audit.text).not.toContain(made.body.secret);
  });
});
