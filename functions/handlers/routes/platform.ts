import { readinessProbes } from '#adapters/readiness.ts';
import { adapters } from '#adapters/wiring/api.ts';
import { describeCaller } from '#core/platform/me.ts';
import { readiness } from '#core/platform/readiness.ts';
import { auditBucket, config, core, userPool } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { oneOf, t } from '#shared/schema.ts';
import { authErrors } from './schemas.ts';

const READY_TIMEOUT_MS = 2_000;

const checkSchema = t.Object({ name: t.String(), ok: t.Boolean(), ms: t.Number() });

/** Liveness, readiness and the caller's identity. */
export const platformRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    tag: 'platform',
    auth: 'public',
    responses: { 200: { description: 'Alive', schema: t.Object({ status: t.Literal('ok') }) } },
    handler: async () => ({ status: 200, body: { status: 'ok' } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/health/ready',
    summary: 'Readiness: table, bucket and identity answer',
    tag: 'platform',
    auth: 'public',
    responses: {
      200: {
        description: 'Ready',
        schema: t.Object({ status: oneOf(['ready', 'degraded']), checks: t.Array(checkSchema) }),
      },
      503: {
        description: 'A dependency does not answer',
        schema: t.Object({ status: t.Literal('degraded'), checks: t.Array(checkSchema) }),
      },
    },
    handler: async () => {
      const body = await readiness({
        probes: readinessProbes(config([core, auditBucket, userPool])),
        timeoutMs: READY_TIMEOUT_MS,
        onFailure: (check, error) => logger.warn('Readiness check failed', { check, error }),
      });
      return { status: body.status === 'ready' ? 200 : 503, body };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/me',
    summary: 'The caller: tenant, principal, roles and effective permissions',
    tag: 'platform',
    auth: 'any',
    responses: {
      200: {
        description: 'The caller',
        schema: t.Object({
          tenantId: t.Optional(t.String()),
          tenant: t.Optional(t.Object({ name: t.String(), plan: t.String(), status: t.String() })),
          principal: t.Object({
            id: t.String(),
            type: oneOf(['user', 'apikey', 'platform']),
            email: t.Optional(t.String()),
          }),
          roles: t.Array(t.String()),
          permissions: t.Array(t.String()),
        }),
      },
      ...authErrors,
    },
    handler: async ({ principal }) => ({
      status: 200,
      body: await describeCaller({ tenants: adapters().store }, principal),
    }),
  }),
];
