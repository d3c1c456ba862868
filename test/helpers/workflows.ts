/**
 * Agents, tools, workflows and executions for integration tests: request bodies, calls that fail
 * loudly when the platform answers something unexpected, bounded waits for execution statuses and
 * pending approvals, and small local HTTP servers (an HTTP tool's endpoint, a fake OpenAI-compatible
 * model server) that record what they receive.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiResponse, type CallOptions, call } from './api.ts';
import { eventually, uniqueName } from './tenants.ts';

/** Environments a workflow version can be promoted to. */
export type Environment = 'dev' | 'staging' | 'prod';

/** Execution statuses (docs/api.md). */
export type ExecutionStatus =
  | 'RUNNING'
  | 'WAITING_APPROVAL'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TIMED_OUT';

/** An error as executions and steps show it. */
export interface ErrorView {
  readonly error: string;
  readonly cause: string;
}

/** Token counts. */
export interface UsageView {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** One step of `GET /executions/{id}`. */
export interface StepView {
  readonly stepId: string;
  readonly stepKey: string;
  readonly type: string;
  readonly status: string;
  readonly attempts: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly output?: unknown;
  readonly error?: ErrorView;
  readonly usage?: UsageView;
  readonly costUsd?: string;
  readonly ref?: { readonly id: string; readonly version: number };
}

/** `GET /executions/{id}`. */
export interface ExecutionView {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly environment: Environment;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: Record<string, unknown>;
  readonly error?: ErrorView;
  readonly usage: UsageView;
  readonly costUsd: string;
  readonly costMicros: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly startedBy: string;
  readonly redriveCount?: number;
  readonly redrivenAt?: string;
  readonly steps?: readonly StepView[];
}

/** An approval as `GET /approvals` and the decision route show it. */
export interface ApprovalView {
  readonly approvalId: string;
  readonly kind: 'step' | 'promotion';
  readonly status: 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';
  readonly workflowId: string;
  readonly executionId?: string;
  readonly stepId?: string;
  readonly version?: number;
  readonly environment?: Environment;
  readonly requestedBy: string;
  readonly message?: string;
  readonly decidedBy?: string;
  readonly comment?: string;
}

/** A definition head (agent, tool or workflow) as the API returns it. */
export interface HeadView {
  readonly version: number;
  readonly name: string;
  readonly environments?: Partial<Record<Environment, number>>;
  readonly [field: string]: unknown;
}

/** Exact agent and tool versions a workflow version pins. */
export interface PinsView {
  readonly agents: Record<string, number>;
  readonly tools: Record<string, number>;
}

/** One version (`GET .../versions/{n}`). */
export interface VersionView {
  readonly version: number;
  readonly definition: Record<string, unknown>;
  readonly pins?: PinsView;
  readonly asl?: { StartAt: string; States: Record<string, Record<string, unknown>> };
  readonly rolledBackFrom?: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** A list response. */
export interface ListView<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** Calls the API and fails with the answer's text unless it has `status`. */
export async function expectCall<T>(
  status: number,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const response = await call<T>(method, path, options);
  if (response.status !== status) {
    throw new Error(
      `${method} ${path}: expected ${status}, got ${response.status} ${response.text.slice(0, 800)}`,
    );
  }
  return response;
}

// ------------------------------------------------------------------------------------------------
// Bodies

/** One rule of a scripted agent's script. */
export interface ScriptRule {
  readonly match?: string;
  readonly reply: string;
  readonly usage?: UsageView;
}

/** A scripted agent (deterministic replies; free). */
export function scriptedAgentBody(script: readonly ScriptRule[], label = 'agent'): Record<string, unknown> {
  return { name: uniqueName(label), provider: 'scripted', model: 'scripted-1', script };
}

/** A builtin tool (`echo`, `sum`, ...). */
export function builtinToolBody(builtin: string, label = builtin): Record<string, unknown> {
  return { name: uniqueName(label), type: 'builtin', builtin, inputSchema: { type: 'object' } };
}

/** An HTTP tool (POST with the args as JSON body unless `method` says otherwise). */
export function httpToolBody(
  url: string,
  extra: Record<string, unknown> = {},
  label = 'http-tool',
): Record<string, unknown> {
  return {
    name: uniqueName(label),
    type: 'http',
    method: 'POST',
    url,
    inputSchema: { type: 'object' },
    timeoutMs: 5_000,
    ...extra,
  };
}

/** A workflow around `steps`, starting at `startAt` (default: the first step). */
export function workflowBody(
  steps: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  label = 'workflow',
): Record<string, unknown> {
  return { name: uniqueName(label), startAt: Object.keys(steps)[0], steps, ...extra };
}

/** The smallest valid workflow: one `succeed` step. */
export function succeedWorkflowBody(label = 'workflow'): Record<string, unknown> {
  return workflowBody({ done: { type: 'succeed' } }, {}, label);
}

/** A workflow that waits for one approval (then succeeds). */
export function approvalWorkflowBody(
  approval: Record<string, unknown> = {},
  label = 'approval-flow',
): Record<string, unknown> {
  return workflowBody(
    {
      approve: { type: 'approval', message: 'Go ahead?', next: 'done', ...approval },
      done: { type: 'succeed' },
    },
    {},
    label,
  );
}

// ------------------------------------------------------------------------------------------------
// Calls

/** Creates an agent; returns its id. */
export async function createAgent(token: string, body: Record<string, unknown>): Promise<string> {
  return (await expectCall<{ agentId: string }>(201, 'POST', '/agents', { token, body })).body.agentId;
}

/** Creates a tool; returns its id. */
export async function createTool(token: string, body: Record<string, unknown>): Promise<string> {
  return (await expectCall<{ toolId: string }>(201, 'POST', '/tools', { token, body })).body.toolId;
}

/** Creates a workflow (version 1); returns its id. */
export async function createWorkflow(token: string, body: Record<string, unknown>): Promise<string> {
  return (await expectCall<{ workflowId: string }>(201, 'POST', '/workflows', { token, body })).body
    .workflowId;
}

/** Promotes `version` to `dev` or `staging` (applied at once). */
export async function promote(
  token: string,
  workflowId: string,
  version: number,
  environment: Exclude<Environment, 'prod'>,
): Promise<void> {
  await expectCall(200, 'POST', `/workflows/${workflowId}/promotions`, {
    token,
    body: { version, environment },
  });
}

/** Creates a workflow and promotes version 1 to dev; returns its id. */
export async function deployWorkflow(token: string, body: Record<string, unknown>): Promise<string> {
  const workflowId = await createWorkflow(token, body);
  await promote(token, workflowId, 1, 'dev');
  return workflowId;
}

/** Options of {@link startExecution}. */
export interface StartOptions {
  readonly environment?: Environment;
  readonly idempotencyKey?: string;
}

/** `POST /workflows/{id}/executions`, whatever it answers. */
export function postExecution(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  workflowId: string,
  input: Record<string, unknown>,
  options: StartOptions = {},
): Promise<ApiResponse<{ executionId: string; status: ExecutionStatus }>> {
  return call('POST', `/workflows/${workflowId}/executions`, {
    ...credential,
    body: { input, ...(options.environment ? { environment: options.environment } : {}) },
    ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
  });
}

/** Starts an execution (202 expected); returns its id. */
export async function startExecution(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  workflowId: string,
  input: Record<string, unknown> = {},
  options: StartOptions = {},
): Promise<string> {
  const response = await postExecution(credential, workflowId, input, options);
  if (response.status !== 202) {
    throw new Error(`start ${workflowId}: ${response.status} ${response.text.slice(0, 800)}`);
  }
  return response.body.executionId;
}

/** `GET /executions/{id}` (200 expected). */
export async function getExecution(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  executionId: string,
): Promise<ExecutionView> {
  return (await expectCall<ExecutionView>(200, 'GET', `/executions/${executionId}`, credential)).body;
}

/** Statuses after which nothing changes an execution. */
export const FINAL_STATUSES: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

/**
 * Polls `GET /executions/{id}` until its status is `status` (bounded; default 15 s) and returns it.
 * Fails as soon as the execution reaches another final status, with the execution in the message.
 */
export async function waitForStatus(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  executionId: string,
  status: ExecutionStatus,
  timeoutMs = 15_000,
): Promise<ExecutionView> {
  const execution = await eventually(
    async () => {
      const current = await getExecution(credential, executionId);
      if (current.status !== status && !FINAL_STATUSES.includes(current.status)) {
        throw new Error(
          `execution ${executionId} is still ${current.status}, not ${status}: ${JSON.stringify(current).slice(0, 3000)}`,
        );
      }
      return current;
    },
    { timeoutMs, intervalMs: 100 },
  );
  if (execution.status !== status) {
    throw new Error(
      `execution ${executionId} ended ${execution.status}, not ${status}: ${JSON.stringify(execution).slice(0, 3000)}`,
    );
  }
  return execution;
}

/**
 * Waits (bounded) until the execution waits for an approval AND its approval step's record says so
 * (the status moves first, the step record follows), so snapshots taken afterwards are stable.
 */
export async function waitForApprovalStep(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  executionId: string,
  timeoutMs = 15_000,
): Promise<ExecutionView> {
  await waitForStatus(credential, executionId, 'WAITING_APPROVAL', timeoutMs);
  return eventually(
    async () => {
      const current = await getExecution(credential, executionId);
      const waiting = (current.steps ?? []).some(
        (s) => s.type === 'approval' && s.status === 'WAITING_APPROVAL',
      );
      if (current.status !== 'WAITING_APPROVAL' || !waiting) {
        throw new Error(`execution ${executionId} has no waiting approval step: ${JSON.stringify(current)}`);
      }
      return current;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Every pending approval of the caller's tenant (all pages). */
export async function pendingApprovals(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
): Promise<ApprovalView[]> {
  const out: ApprovalView[] = [];
  let cursor: string | undefined;
  do {
    const page = await expectCall<ListView<ApprovalView>>(
      200,
      'GET',
      `/approvals?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      credential,
    );
    out.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

/** Waits (bounded) until `executionId` has a pending step approval, and returns it. */
export async function approvalOf(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  executionId: string,
  timeoutMs = 15_000,
): Promise<ApprovalView> {
  return eventually(
    async () => {
      const found = (await pendingApprovals(credential)).find((a) => a.executionId === executionId);
      if (!found) throw new Error(`no pending approval for execution ${executionId} yet`);
      return found;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** One audit record (`GET /audit`). */
export interface AuditView {
  readonly seq: number;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly actor: { readonly id: string; readonly type: string };
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Every audit record matching `filter` (`actor`, `action`, `resource`), all pages, newest first. */
export async function auditRecords(
  credential: Pick<CallOptions, 'token' | 'apiKey'>,
  filter: Readonly<Record<string, string>>,
): Promise<AuditView[]> {
  const out: AuditView[] = [];
  const query = new URLSearchParams({ ...filter, limit: '100' });
  let cursor: string | undefined;
  do {
    if (cursor) query.set('cursor', cursor);
    const page = await expectCall<ListView<AuditView>>(200, 'GET', `/audit?${query}`, credential);
    out.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

/** The step record with `stepKey` (a step id, or `id[i]` inside a map); fails when missing. */
export function stepOf(execution: ExecutionView, stepKey: string): StepView {
  const step = (execution.steps ?? []).find((s) => s.stepKey === stepKey);
  if (!step) {
    throw new Error(
      `execution ${execution.executionId} has no step ${stepKey}; it has ${(execution.steps ?? []).map((s) => s.stepKey).join(', ')}`,
    );
  }
  return step;
}

// ------------------------------------------------------------------------------------------------
// Local HTTP servers

/** One request a {@link LocalServer} received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What a {@link LocalServer} handler answers. */
export interface LocalReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Answer after this long (ms). */
  readonly delayMs?: number;
}

/** A local HTTP server on 127.0.0.1 that records every request. */
export interface LocalServer {
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests to paths starting with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[];
  /** Most requests in flight at once so far, by path prefix (the path up to its second `/`). */
  maxInFlight(prefix: string): number;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (free port) answering with `handler`. Bodies are JSON-encoded;
 * `headers` default to `content-type: application/json`. `host` picks another loopback address
 * (egress.ts's ALLOWED_LOOPBACK for servers a tenant's platform allowlist lets it reach).
 */
export async function startLocalServer(
  handler: (request: RecordedRequest, index: number) => LocalReply | Promise<LocalReply>,
  host = '127.0.0.1',
): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const groupOf = (path: string): string => `/${path.split('/')[1] ?? ''}`;
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const group = groupOf(recorded.path);
      const now = (inFlight.get(group) ?? 0) + 1;
      inFlight.set(group, now);
      maxInFlight.set(group, Math.max(maxInFlight.get(group) ?? 0, now));
      const index = requests.push(recorded) - 1;
      void (async () => {
        let reply: LocalReply;
        try {
          reply = await handler(recorded, index);
        } catch (error) {
          reply = { status: 599, body: { error: String(error) } };
        }
        if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
        inFlight.set(group, (inFlight.get(group) ?? 1) - 1);
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    requestsTo: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    maxInFlight: (prefix) => maxInFlight.get(prefix) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A chat-completions answer of an OpenAI-compatible server. */
export function chatCompletion(text: string, usage: UsageView): Record<string, unknown> {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
    },
  };
}
