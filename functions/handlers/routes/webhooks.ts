import { adapters } from '#adapters/wiring/api.ts';
import { ENVIRONMENTS } from '#core/versioning/model.ts';
import { createWebhook, deleteWebhook, listWebhooks, receiveWebhook } from '#core/webhooks/webhooks.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { meta, oneOf, t } from '#shared/schema.ts';
import { jsonObject } from './definitions.ts';
import { authErrors, created, idParam, pageOf, pageQuery, replayed } from './schemas.ts';
import { executionStarted, pageOfItems } from './views.ts';

/** The public base URL the caller reached (API Gateway always serves https). */
function baseUrl(headers: Readonly<Record<string, string | undefined>>): string {
  const host = headers.host ?? 'localhost';
  const local = /^(127\.|localhost|\[::1\])/.test(host);
  return `${headers['x-forwarded-proto'] ?? (local ? 'http' : 'https')}://${host}`;
}

const webhookView = meta(
  t.Object({
    webhookId: t.String(),
    workflowId: t.String(),
    environment: oneOf(ENVIRONMENTS),
    description: t.Optional(t.String()),
    url: t.String(),
    createdAt: t.String(),
    createdBy: t.String(),
  }),
  { id: 'Webhook' },
);

/** Webhooks: create, list and delete (authenticated), and the signed public endpoint that starts a run. */
export const webhookRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}/webhooks',
    summary: "List a workflow's webhooks (their URLs; secrets are shown only at creation)",
    tag: 'webhooks',
    auth: 'workflows:read',
    params: t.Object({ workflowId: idParam }, { additionalProperties: false }),
    query: pageQuery,
    responses: {
      200: { description: 'Webhooks', schema: pageOfItems(webhookView) },
      ...authErrors,
      404: { description: 'No such workflow' },
    },
    handler: async ({ principal, params, query, headers }) => {
      const page = await listWebhooks(
        adapters().webhooks,
        principal.tenantId,
        params.workflowId,
        pageOf(query),
      );
      return {
        status: 200,
        body: {
          ...page,
          items: page.items.map(({ webhookId, hook }) => ({
            webhookId,
            workflowId: hook.workflowId,
            environment: hook.environment,
            ...(hook.description ? { description: hook.description } : {}),
            url: `${baseUrl(headers)}/hooks/${webhookId}`,
            createdAt: hook.createdAt,
            createdBy: hook.createdBy,
          })),
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/webhooks',
    summary:
      'Create a webhook that starts the workflow; returns its URL and signing secret once. Needs executions:start too: runs it starts are requested for its creator',
    tag: 'webhooks',
    auth: 'workflows:write',
    params: t.Object({ workflowId: idParam }, { additionalProperties: false }),
    body: t.Object(
      {
        environment: t.Optional(oneOf(ENVIRONMENTS)),
        description: t.Optional(t.String({ maxLength: 500 })),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: {
        description: 'Created',
        schema: t.Object({
          webhookId: t.String(),
          workflowId: t.String(),
          environment: oneOf(ENVIRONMENTS),
          url: t.String(),
          secret: t.String(),
          description: t.Optional(t.String()),
          createdAt: t.String(),
        }),
        headers: created,
      },
      ...authErrors,
      404: { description: 'No such workflow' },
    },
    handler: async ({ principal, meta, params, body, headers }) => {
      const { webhookId, hook, secret } = await createWebhook(
        adapters().webhooks,
        { principal, meta },
        params.workflowId,
        body ?? {},
      );
      return {
        status: 201,
        body: {
          webhookId,
          workflowId: hook.workflowId,
          environment: hook.environment,
          ...(hook.description ? { description: hook.description } : {}),
          url: `${baseUrl(headers)}/hooks/${webhookId}`,
          secret,
          createdAt: hook.createdAt,
        },
        headers: { location: `/webhooks/${webhookId}` },
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/webhooks/{webhookId}',
    summary: 'Delete a webhook; its URL stops working at once',
    tag: 'webhooks',
    auth: 'workflows:write',
    params: t.Object(
      { webhookId: t.String({ minLength: 1, maxLength: 64 }) },
      { additionalProperties: false },
    ),
    responses: { 204: { description: 'Deleted' }, ...authErrors, 404: { description: 'No such webhook' } },
    handler: async ({ principal, meta, params }) => {
      await deleteWebhook(adapters().webhooks, { principal, meta }, params.webhookId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/hooks/{webhookId}',
    summary:
      'Start the webhook’s workflow with the JSON body as input. Signed: X-Meridian-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">, within 5 minutes; replays return the same execution',
    tag: 'webhooks',
    auth: 'public',
    params: t.Object(
      { webhookId: t.String({ minLength: 1, maxLength: 64 }) },
      { additionalProperties: false },
    ),
    body: jsonObject,
    headers: [
      {
        name: 'X-Meridian-Signature',
        required: true,
        description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">',
      },
    ],
    responses: {
      202: {
        description: 'Started (or the same execution, on a replay)',
        schema: executionStarted,
        headers: replayed,
      },
      400: { description: 'The body is not a JSON object' },
      401: { description: 'Missing, invalid or stale signature, or no such webhook' },
      403: { description: 'The webhook’s tenant is suspended (tenant-suspended)' },
    },
    handler: async ({ params, body, headers, rawBody, meta }) => {
      const { execution, created } = await receiveWebhook(adapters().webhooks, params.webhookId, {
        signature: headers['x-meridian-signature'],
        rawBody,
        body,
        meta,
        nowSeconds: Math.floor(Date.parse(meta.now) / 1000),
      });
      return {
        status: 202,
        body: { executionId: execution.executionId, status: execution.status },
        ...(created ? {} : { headers: { 'idempotent-replayed': 'true' } }),
      };
    },
  }),
];
