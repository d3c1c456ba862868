import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoExecutionStore } from '#adapters/dynamo/execution-store.ts';
import { Table } from '#adapters/dynamo/table.ts';
import type { Execution } from '#core/executions/model.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call, type Problem } from '../helpers/api.ts';
import { ALLOWED_LOOPBACK, allowEgress } from '../helpers/egress.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createTenant, eventually, inviteUser, type TestTenant, uniqueEmail } from '../helpers/tenants.ts';
import {
  auditRecords,
  builtinToolBody,
  createTool,
  deployWorkflow,
  type ExecutionView,
  getExecution,
  httpToolBody,
  type LocalServer,
  startExecution,
  startLocalServer,
  stepOf,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/**
 * `POST /executions/{id}/redrive` on the local platform: a tool that fails the first time it is
 * called for a key, so the first run fails and a redrive succeeds. The resume runs only what did not
 * finish: the step records' attempts say what ran again.
 */

interface Redriven {
  readonly executionId: string;
  readonly status: string;
  readonly redriveCount: number;
  readonly redrivenAt?: string;
}

let a: TestTenant;
let b: TestTenant;
let server: LocalServer;
/** Keys the server already failed once: the next request for a key succeeds. */
const failedOnce = new Set<string>();
/** Keys whose successful answer is held back, so a redrive is still RUNNING while a test asks again. */
const slow = new Set<string>();
/** Keys `/slow` was called for, and those whose first (late) answer was sent. */
const slowSeen = new Set<string>();
const slowFinished = new Set<string>();

function redrive(token: string, executionId: string, key?: string) {
  return call<Redriven & Problem>('POST', `/executions/${executionId}/redrive`, {
    token,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });
}

/** A workflow `prep` (echo) → `call` (the flaky HTTP tool, keyed by the input's `key`). */
async function flakyWorkflow(token: string): Promise<string> {
  const echo = await createTool(token, builtinToolBody('echo', 'redrive-echo'));
  const flaky = await createTool(token, httpToolBody(`${server.url}/flaky`, {}, 'redrive-flaky'));
  return deployWorkflow(
    token,
    workflowBody({
      prep: { type: 'tool', toolId: echo, args: { key: '{{input.key}}' }, next: 'call' },
      call: { type: 'tool', toolId: flaky, args: { key: '{{input.key}}' }, end: true },
    }),
  );
}

async function failedRun(token: string, workflowId: string, key: string): Promise<ExecutionView> {
  const executionId = await startExecution({ token }, workflowId, { key });
  return waitForStatus({ token }, executionId, 'FAILED', 30_000);
}

const callsFor = (key: string) =>
  server.requestsTo('/flaky').filter((r) => (JSON.parse(r.body) as { key?: string }).key === key).length;

beforeAll(async () => {
  [a, b] = await Promise.all([
    createTenant('redrive-a', 'enterprise'),
    createTenant('redrive-b', 'enterprise'),
  ]);
  server = await startLocalServer(async (request) => {
    const { key = '' } = JSON.parse(request.body || '{}') as { key?: string };
    if (request.path === '/slow') {
      // The first call answers after the workflow's 1 s timeout; later ones at once.
      if (slowSeen.has(key)) return { status: 200, body: { ok: true, attempt: 2 } };
      slowSeen.add(key);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      slowFinished.add(key);
      return { status: 200, body: { ok: true, attempt: 1 } };
    }
    if (!failedOnce.has(key)) {
      failedOnce.add(key);
      // A map's failing item answers late, so its other item has surely succeeded when the map fails.
      return { status: 503, body: { error: 'try again' }, delayMs: key.startsWith('map') ? 500 : 0 };
    }
    return { status: 200, body: { ok: true, key }, ...(slow.has(key) ? { delayMs: 1_500 } : {}) };
  }, ALLOWED_LOOPBACK);
  await allowEgress(a.tenantId);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('redrive', () => {
  let workflowId: string;

  beforeAll(async () => {
    workflowId = await flakyWorkflow(await a.token());
  }, 60_000);

  it('resumes from the failed step: the earlier step is not run again, the failed one counts its second attempt', async () => {
    const token = await a.token();
    const failed = await failedRun(token, workflowId, 'resume');
    expect(stepOf(failed, 'prep')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(stepOf(failed, 'call')).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(failed.error?.error).toBe('Tool.HttpError');

    const first = await redrive(token, failed.executionId, 'resume-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.headers.get('location')).toBe(`/executions/${failed.executionId}`);
    expect(first.body).toMatchObject({ executionId: failed.executionId, status: 'RUNNING', redriveCount: 1 });

    const done = await waitForStatus({ token }, failed.executionId, 'SUCCEEDED', 30_000);
    expect(stepOf(done, 'prep')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(stepOf(done, 'call')).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(done.error).toBeUndefined();
    expect(done.endedAt).toBeDefined();
    expect(done.output).toMatchObject({ call: { ok: true, key: 'resume' } });
    expect(done).toMatchObject({ redriveCount: 1, redrivenAt: first.body.redrivenAt });
    expect(callsFor('resume')).toBe(2);

    const audit = await auditRecords(
      { token },
      { action: 'execution.redrive', resource: failed.executionId },
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      before: { status: 'FAILED', redriveCount: 0 },
      after: { status: 'RUNNING', redriveCount: 1 },
      actor: { id: a.adminUserId },
    });
  }, 60_000);

  it('is idempotent: the same key, or any request while the redrive runs, answers that redrive', async () => {
    const token = await a.token();
    slow.add('twice');
    const failed = await failedRun(token, workflowId, 'twice');
    const first = await redrive(token, failed.executionId, 'twice-1');
    expect(first.status).toBe(202);
    const [again, keyless, otherKey] = await Promise.all([
      redrive(token, failed.executionId, 'twice-1'),
      redrive(token, failed.executionId),
      redrive(token, failed.executionId, 'twice-2'),
    ]);
    for (const replay of [again, keyless, otherKey]) {
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.redriveCount).toBe(1);
    }
    const done = await waitForStatus({ token }, failed.executionId, 'SUCCEEDED', 30_000);
    expect(done.redriveCount).toBe(1);
    expect(stepOf(done, 'call').attempts).toBe(2);
    expect(callsFor('twice')).toBe(2);
    // Once it succeeded, the first key still answers its redrive; a new request is refused.
    const late = await redrive(token, failed.executionId, 'twice-1');
    expect(late.status).toBe(202);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.body).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(
      await auditRecords({ token }, { action: 'execution.redrive', resource: failed.executionId }),
    ).toHaveLength(1);
  }, 60_000);

  it('refuses executions that did not fail (409) and bad keys (400)', async () => {
    const token = await a.token();
    const echo = await createTool(token, builtinToolBody('echo', 'redrive-ok'));
    const fine = await deployWorkflow(
      token,
      workflowBody({ only: { type: 'tool', toolId: echo, args: {}, end: true } }),
    );
    const executionId = await startExecution({ token }, fine, {});
    await waitForStatus({ token }, executionId, 'SUCCEEDED');
    const refused = await redrive(token, executionId);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toEqual([{ path: 'status', message: 'is SUCCEEDED' }]);
    expect((await getExecution({ token }, executionId)).status).toBe('SUCCEEDED');

    const bad = await redrive(token, executionId, 'has space');
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.path)).toEqual(['Idempotency-Key']);
  }, 60_000);

  it('another tenant gets 404, someone without executions:start 403, and neither redrives it', async () => {
    const token = await a.token();
    const failed = await failedRun(token, workflowId, 'fenced');
    const foreign = await redrive(await b.token(), failed.executionId);
    expect(foreign.status).toBe(404);
    const viewer = await inviteUser(token, uniqueEmail('redrive-viewer'), ['viewer']);
    const forbidden = await redrive(await viewer.token(), failed.executionId);
    expect(forbidden.status).toBe(403);
    const after = await getExecution({ token }, failed.executionId);
    expect(after.status).toBe('FAILED');
    expect(after.redriveCount).toBeUndefined();
    expect(stepOf(after, 'call').attempts).toBe(1);
    expect(callsFor('fenced')).toBe(1);
  }, 60_000);

  it('resumes a TIMED_OUT execution at the step it timed out in; the late first attempt does not overwrite the second', async () => {
    const token = await a.token();
    const slowOnce = await createTool(token, httpToolBody(`${server.url}/slow`, {}, 'redrive-slow'));
    const timed = await deployWorkflow(
      token,
      workflowBody(
        { call: { type: 'tool', toolId: slowOnce, args: { key: '{{input.key}}' }, end: true } },
        { timeoutSeconds: 1 },
      ),
    );
    const executionId = await startExecution({ token }, timed, { key: 'timeout' });
    const timedOut = await waitForStatus({ token }, executionId, 'TIMED_OUT', 30_000);
    expect(timedOut.error?.error).toBe('States.Timeout');
    expect((await redrive(token, executionId)).status).toBe(202);
    const done = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    expect(stepOf(done, 'call')).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    // The first attempt's answer arrives after the redriven one: the record stays the second's.
    await eventually(() => expect(slowFinished.has('timeout')).toBe(true), { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stepOf(await getExecution({ token }, executionId), 'call')).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
    });
  }, 60_000);

  it('inside a map, only the failed iteration runs again', async () => {
    const token = await a.token();
    const flaky = await createTool(token, httpToolBody(`${server.url}/flaky`, {}, 'redrive-map'));
    const mapped = await deployWorkflow(
      token,
      workflowBody({
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'visit',
            steps: { visit: { type: 'tool', toolId: flaky, args: { key: '{{item}}' }, end: true } },
          },
          end: true,
        },
      }),
    );
    // The first item's key already failed once (so it succeeds now); the second fails first.
    failedOnce.add('map-ok');
    const executionId = await startExecution({ token }, mapped, { items: ['map-ok', 'map-flaky'] });
    const failed = await waitForStatus({ token }, executionId, 'FAILED', 30_000);
    expect(stepOf(failed, 'visit[0]')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(stepOf(failed, 'visit[1]')).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect((await redrive(token, executionId)).status).toBe(202);
    const done = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    expect(stepOf(done, 'visit[0]')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(stepOf(done, 'visit[1]')).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(callsFor('map-ok')).toBe(1);
    expect(callsFor('map-flaky')).toBe(2);
  }, 60_000);
});

describe('the execution store’s redrive writes, on DynamoDB Local', () => {
  const db = localDocumentClient();
  const store = new DynamoExecutionStore(
    new Table(LOCAL_NAMES.tableName, { platform: db, forTenant: async () => db }),
  );
  const audit = (tenantId: string) => ({
    tenantId,
    actor: { id: 'u1', type: 'user' as const },
    meta: { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 'test', now: new Date().toISOString() },
    draft: { action: 'execution.redrive', resourceType: 'execution', resourceId: 'x' },
  });

  it('moves only from FAILED at the count read, keeps the key’s record, and puts everything back when abandoned', async () => {
    const token = await a.token();
    const workflowId = await flakyWorkflow(token);
    const run = await failedRun(token, workflowId, 'store');
    const prior = (await store.get(a.tenantId, run.executionId)) as Execution;
    const record = {
      redriveId: 'rstorestorestore1',
      redriveCount: 1,
      redrivenAt: '2026-11-30T00:00:00.000Z',
      redrivenBy: 'u1',
    };
    const change = {
      previousCount: 0,
      redrivenAt: record.redrivenAt,
      reservedMicros: 42,
      reserveBaseMicros: 2,
      record,
    };

    expect(await store.redrive(a.tenantId, run.executionId, change, audit(a.tenantId))).toBe(true);
    expect(await store.get(a.tenantId, run.executionId)).toMatchObject({
      status: 'RUNNING',
      redriveCount: 1,
      redrivenAt: record.redrivenAt,
      reservedMicros: 42,
      reserveBaseMicros: 2,
      givenBackMicros: 0,
    });
    expect((await store.get(a.tenantId, run.executionId))?.reservationSettled).toBeUndefined();
    const moved = (await store.get(a.tenantId, run.executionId)) as Execution;
    expect(moved.error).toBeUndefined();
    expect(moved.endedAt).toBeUndefined();
    expect(await store.getRedrive(a.tenantId, run.executionId, record.redriveId)).toMatchObject(record);
    // Not FAILED any more, and the count moved on: a second redrive of the same count loses.
    expect(
      await store.redrive(a.tenantId, run.executionId, { ...change, record: undefined }, audit(a.tenantId)),
    ).toBe(false);
    // The record is not a step: the detail's steps are unchanged.
    expect((await store.steps(a.tenantId, run.executionId)).map((s) => s.stepKey).sort()).toEqual([
      'call',
      'prep',
    ]);

    await store.abandonRedrive(a.tenantId, run.executionId, prior, record.redriveId);
    expect(await store.get(a.tenantId, run.executionId)).toEqual(prior);
    expect(await store.getRedrive(a.tenantId, run.executionId, record.redriveId)).toBeUndefined();
    // Another tenant's id reaches nothing: its partition is its own.
    expect(await store.getRedrive(b.tenantId, run.executionId, record.redriveId)).toBeUndefined();
    expect(await store.redrive(b.tenantId, run.executionId, change, audit(b.tenantId))).toBe(false);
  }, 60_000);
});
