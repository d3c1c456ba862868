import { adapters } from '#adapters/wiring/api.ts';
import { getExport, requestExport } from '#core/tenancy/exports.ts';
import { getRetention, RETENTION_DAYS, setRetention } from '#core/tenancy/retention.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { int, nullable, t } from '#shared/schema.ts';
import { authErrors, created, idParam } from './schemas.ts';
import { exportView, retentionView } from './views.ts';

/** A tenant's own data lifecycle: exports of its data and how long executions are kept. */
export const lifecycleRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: '/tenant/exports',
    summary:
      "Export the tenant's data as JSONL (definitions, versions, executions with steps, usage, audit; never secret values)",
    tag: 'tenant',
    auth: 'tenant:admin',
    responses: {
      202: { description: 'Started; poll the Location', schema: exportView, headers: created },
      ...authErrors,
    },
    handler: async ({ principal, meta }) => {
      const job = await requestExport(adapters().exports, { principal, meta });
      return { status: 202, body: job, headers: { location: `/tenant/exports/${job.exportId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/tenant/exports/{exportId}',
    summary: 'Status of an export, with a download link valid for 15 minutes once it completed',
    tag: 'tenant',
    auth: 'tenant:admin',
    params: t.Object({ exportId: idParam }, { additionalProperties: false }),
    responses: {
      200: { description: 'The export', schema: exportView },
      ...authErrors,
      404: { description: 'No such export' },
    },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getExport(adapters().exports, principal.tenantId, params.exportId),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/tenant/retention',
    summary: 'How long executions are kept after they end',
    tag: 'tenant',
    auth: 'tenant:admin',
    responses: { 200: { description: 'The retention', schema: retentionView }, ...authErrors },
    handler: async ({ principal }) => ({
      status: 200,
      body: await getRetention({ store: adapters().store }, principal.tenantId),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/tenant/retention',
    summary:
      'Set how long executions (records, steps, artifacts) are kept after they end, in days; null keeps them',
    tag: 'tenant',
    auth: 'tenant:admin',
    body: t.Object(
      {
        executionRetentionDays: nullable(int({ minimum: RETENTION_DAYS.min, maximum: RETENTION_DAYS.max })),
      },
      { additionalProperties: false },
    ),
    responses: { 200: { description: 'Set', schema: retentionView }, ...authErrors },
    handler: async ({ principal, meta, body }) => ({
      status: 200,
      body: await setRetention({ store: adapters().store }, { principal, meta }, body.executionRetentionDays),
    }),
  }),
];
