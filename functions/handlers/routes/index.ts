import { buildOpenApi } from '#shared/openapi.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { record, t } from '#shared/schema.ts';
import { accessRoutes } from './access.ts';
import { definitionRoutes } from './definitions.ts';
import { egressRoutes } from './egress.ts';
import { executionRoutes } from './executions.ts';
import { identityRoutes } from './identity.ts';
import { lifecycleRoutes } from './lifecycle.ts';
import { notificationRoutes } from './notifications.ts';
import { platformRoutes } from './platform.ts';
import { scheduleRoutes } from './schedules.ts';
import { secretAndAuditRoutes } from './secrets-audit.ts';
import { tenantRoutes } from './tenants.ts';
import { webhookRoutes } from './webhooks.ts';
import { workflowRoutes } from './workflows.ts';

let document: Record<string, unknown> | undefined;

const openApiRoute = defineRoute({
  method: 'GET',
  path: '/openapi.json',
  summary: 'This API as OpenAPI 3.1, generated from the schemas that validate requests',
  tag: 'platform',
  auth: 'public',
  responses: {
    200: {
      description: 'The OpenAPI document',
      schema: t.Object(
        {
          openapi: t.String(),
          info: t.Object({ title: t.String(), version: t.String() }, { additionalProperties: t.Unknown() }),
          paths: record(t.Object({}, { additionalProperties: t.Unknown() })),
        },
        { additionalProperties: t.Unknown() },
      ),
    },
  },
  handler: async () => ({ status: 200, body: openApiDocument() }),
});

/** Every route of the API, in the order the router tries them. */
export const apiRoutes: readonly Route[] = [
  ...platformRoutes,
  ...tenantRoutes,
  ...egressRoutes,
  ...accessRoutes,
  ...secretAndAuditRoutes,
  ...definitionRoutes,
  ...workflowRoutes,
  ...executionRoutes,
  ...webhookRoutes,
  ...notificationRoutes,
  ...scheduleRoutes,
  ...identityRoutes,
  ...lifecycleRoutes,
  openApiRoute,
];

/**
 * The API's OpenAPI document, built once. Kept apart from the Lambda entry point (which reads its
 * configuration at load) so that `npm run openapi` can write the spec without one.
 */
export function openApiDocument(): Record<string, unknown> {
  document ??= buildOpenApi(apiRoutes, { title: 'Meridian API', version: '1.0.0' });
  return document;
}
