import { z } from 'zod';
import { adapters } from '#adapters/container.ts';
import { readinessProbes } from '#adapters/readiness.ts';
import { describeCaller } from '#core/platform/me.ts';
import { readiness } from '#core/platform/readiness.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { authErrors } from './schemas.ts';

const READY_TIMEOUT_MS = 2_000;

const checkSchema = z.object({ name: z.string(), ok: z.boolean(), ms: z.number() });

/** Liveness, readiness and the caller's identity. */
export const platformRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    tag: 'platform',
    auth: 'public',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
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
        schema: z.object({ status: z.enum(['ready', 'degraded']), checks: z.array(checkSchema) }),
      },
      503: {
        description: 'A dependency does not answer',
        schema: z.object({ status: z.literal('degraded'), checks: z.array(checkSchema) }),
      },
    },
    handler: async () => {
      const body = await readiness({
        probes: readinessProbes(config()),
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
        schema: z.object({
          tenantId: z.string().optional(),
          tenant: z.object({ name: z.string(), plan: z.string(), status: z.string() }).optional(),
          principal: z.object({
            id: z.string(),
            type: z.enum(['user', 'apikey', 'platform']),
            email: z.string().optional(),
          }),
          roles: z.array(z.string()),
          permissions: z.array(z.string()),
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
