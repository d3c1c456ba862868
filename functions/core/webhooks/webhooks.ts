import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import type { AuditContext } from '../audit/audit.ts';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors.ts';
import { type StartResult, startExecution } from '../executions/start.ts';
import { newId } from '../ids.ts';
import type { RequestMeta, TenantPrincipal } from '../principal.ts';
import { actingUser } from '../tenancy/api-keys.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { SecretVault } from '../tenancy/ports.ts';
import type { Environment } from '../versioning/model.ts';
import type { DefinitionStore } from '../versioning/ports.ts';

/** A webhook: a signed URL that starts one workflow in one environment. */
export interface Webhook {
  readonly hookId: string;
  readonly workflowId: string;
  readonly environment: Environment;
  readonly description?: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** Persistence of webhooks (the signing secret lives in the vault, never here). */
export interface WebhookStore {
  create(tenantId: string, hook: Webhook, audit: AuditContext): Promise<void>;
  get(tenantId: string, hookId: string): Promise<Webhook | undefined>;
  delete(tenantId: string, hook: Webhook, audit: AuditContext): Promise<void>;
  /** A workflow's webhooks, oldest first. */
  listForWorkflow(tenantId: string, workflowId: string, page: PageRequest): Promise<Page<Webhook>>;
}

/** What webhook use cases need. */
export interface WebhookDeps {
  readonly webhooks: WebhookStore;
  readonly definitions: DefinitionStore;
  readonly vault: SecretVault;
  readonly executions: ExecutionDeps;
}

/** Signatures older or newer than this are refused (replays outside the window cannot be deduplicated). */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** The vault name of a webhook's secret: `/` cannot appear in tenants' own secret names. */
const secretName = (hookId: string) => `webhooks/${hookId}`;

/** `<tenantId>_<hookId>`: the public id carries its tenant, so a call needs no index to find it. */
export function formatWebhookId(tenantId: string, hookId: string): string {
  return `${tenantId}_${hookId}`;
}

/** Splits a public webhook id, or undefined when it is not shaped like one. */
export function parseWebhookId(webhookId: string): { tenantId: string; hookId: string } | undefined {
  const match = /^(t[a-z0-9]{16})_(h[a-z0-9]{16})$/.exec(webhookId);
  return match?.[1] && match[2] ? { tenantId: match[1], hookId: match[2] } : undefined;
}

function mac(secret: string, t: number, body: string): Buffer {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest();
}

/** The `X-Meridian-Signature` value for `body` at unix time `t`: `t=<t>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${mac(secret, t, body).toString('hex')}`;
}

/**
 * Creates a webhook for a workflow; the secret is returned once. A webhook starts runs in its
 * creator's name, so making one needs `executions:start` as well as the route's `workflows:write`.
 */
export async function createWebhook(
  deps: Pick<WebhookDeps, 'webhooks' | 'definitions' | 'vault'>,
  caller: Caller,
  workflowId: string,
  input: { environment?: Environment | undefined; description?: string | undefined },
): Promise<{ webhookId: string; hook: Webhook; secret: string }> {
  const tenantId = caller.principal.tenantId;
  if (!caller.principal.permissions.has('executions:start')) {
    throw new ForbiddenError('Creating a webhook also needs the permission executions:start.');
  }
  if (!(await deps.definitions.getHead(tenantId, 'workflow', workflowId)))
    throw new NotFoundError(`No workflow ${workflowId}.`);
  const hook: Webhook = {
    hookId: newId('h'),
    workflowId,
    environment: input.environment ?? 'prod',
    ...(input.description ? { description: input.description } : {}),
    createdAt: caller.meta.now,
    // The person, also when they act through an API key: runs started by the hook are theirs.
    createdBy: actingUser(caller),
  };
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  await deps.vault.put(tenantId, secretName(hook.hookId), secret);
  const webhookId = formatWebhookId(tenantId, hook.hookId);
  await deps.webhooks.create(
    tenantId,
    hook,
    audited(caller, {
      action: 'webhook.create',
      resourceType: 'webhook',
      resourceId: webhookId,
      after: hook,
    }),
  );
  return { webhookId, hook, secret };
}

/** A workflow's webhooks (never their secrets); another tenant's workflow is not found. */
export async function listWebhooks(
  deps: Pick<WebhookDeps, 'webhooks' | 'definitions'>,
  tenantId: string,
  workflowId: string,
  page: PageRequest,
): Promise<Page<{ webhookId: string; hook: Webhook }>> {
  if (!(await deps.definitions.getHead(tenantId, 'workflow', workflowId)))
    throw new NotFoundError(`No workflow ${workflowId}.`);
  const found = await deps.webhooks.listForWorkflow(tenantId, workflowId, page);
  return {
    ...found,
    items: found.items.map((hook) => ({ webhookId: formatWebhookId(tenantId, hook.hookId), hook })),
  };
}

/** Deletes a webhook of the caller's tenant (another tenant's id is simply not found). */
export async function deleteWebhook(
  deps: Pick<WebhookDeps, 'webhooks' | 'vault'>,
  caller: Caller,
  webhookId: string,
): Promise<void> {
  const parts = parseWebhookId(webhookId);
  const tenantId = caller.principal.tenantId;
  const hook =
    parts && parts.tenantId === tenantId ? await deps.webhooks.get(tenantId, parts.hookId) : undefined;
  if (!hook) throw new NotFoundError(`No webhook ${webhookId}.`);
  await deps.webhooks.delete(
    tenantId,
    hook,
    audited(caller, {
      action: 'webhook.delete',
      resourceType: 'webhook',
      resourceId: webhookId,
      before: hook,
    }),
  );
  await deps.vault.delete(tenantId, secretName(hook.hookId));
}

function parseSignature(header: string | undefined): { t: number; v1: string } | undefined {
  if (!header || header.length > 512) return undefined;
  const fields = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(fields.get('t'));
  const v1 = fields.get('v1') ?? '';
  return Number.isInteger(t) && /^[0-9a-f]{64}$/.test(v1) ? { t, v1 } : undefined;
}

/**
 * A signed call: verifies `X-Meridian-Signature` within the time window and starts the webhook's
 * workflow with the JSON body as input. The execution is named from the signature, so a replayed
 * delivery returns the same execution instead of starting another. Every refusal is the same 401:
 * an unknown webhook and a bad signature look alike.
 */
export async function receiveWebhook(
  deps: WebhookDeps,
  webhookId: string,
  request: {
    signature: string | undefined;
    rawBody: string;
    body: unknown;
    meta: RequestMeta;
    nowSeconds: number;
  },
): Promise<StartResult> {
  const refused = () =>
    new UnauthenticatedError('The webhook signature is missing, invalid or outside its time window.');
  const parts = parseWebhookId(webhookId);
  const signature = parseSignature(request.signature);
  if (!parts || !signature || Math.abs(request.nowSeconds - signature.t) > SIGNATURE_WINDOW_SECONDS)
    throw refused();
  const hook = await deps.webhooks.get(parts.tenantId, parts.hookId);
  const secret = hook ? await deps.vault.get(parts.tenantId, secretName(hook.hookId)) : undefined;
  if (!hook || !secret) throw refused();
  // parseSignature admits only 64 hex digits, so both sides are 32 bytes.
  if (!timingSafeEqual(mac(secret, signature.t, request.rawBody), Buffer.from(signature.v1, 'hex')))
    throw refused();
  if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
    throw new ValidationError('The webhook body must be a JSON object: it becomes the execution input.', [
      { path: '', message: 'expected an object' },
    ]);
  }
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: parts.tenantId,
    principalId: webhookId,
    principalType: 'webhook',
    roles: [],
    permissions: new Set(['executions:start']),
    // The run is requested for the webhook's creator, so they cannot approve it themselves.
    onBehalfOf: hook.createdBy,
  };
  return startExecution(
    deps.executions,
    { principal, meta: request.meta },
    hook.workflowId,
    { input: request.body as Record<string, unknown>, environment: hook.environment },
    `webhook:${signature.t}:${signature.v1}`,
  );
}
