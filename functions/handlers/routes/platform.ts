import { DescribeUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetBucketLocationCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { cognitoClient, dynamoDocumentClient, s3Client } from '#adapters/aws-clients.ts';
import { adapters } from '#adapters/container.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { authErrors } from './schemas.ts';

const READY_TIMEOUT_MS = 2_000;

async function check(
  name: string,
  probe: () => Promise<unknown>,
): Promise<{ name: string; ok: boolean; ms: number }> {
  const started = performance.now();
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS).unref()),
    ]);
    return { name, ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    logger.warn('Readiness check failed', {
      check: name,
      error: error instanceof Error ? error.message : String(error),
    });
    return { name, ok: false, ms: Math.round(performance.now() - started) };
  }
}

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
      const cfg = config();
      const checks = await Promise.all([
        check('table', () =>
          dynamoDocumentClient().send(
            new GetCommand({ TableName: cfg.TABLE_NAME, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
          ),
        ),
        // GetBucketLocation, not HeadBucket: HeadBucket is authorized as s3:ListBucket, which would let
        // the API's own role list every tenant's archive keys.
        check('bucket', () =>
          s3Client().send(new GetBucketLocationCommand({ Bucket: cfg.AUDIT_BUCKET_NAME })),
        ),
        check('identity', () =>
          cognitoClient().send(new DescribeUserPoolCommand({ UserPoolId: cfg.USER_POOL_ID })),
        ),
      ]);
      const ok = checks.every((c) => c.ok);
      return { status: ok ? 200 : 503, body: { status: ok ? 'ready' : 'degraded', checks } };
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
    handler: async ({ principal }) => {
      if (principal.kind === 'platform') {
        return {
          status: 200,
          body: {
            principal: {
              id: principal.principalId,
              type: 'platform',
              ...(principal.email ? { email: principal.email } : {}),
            },
            roles: [],
            permissions: ['platform:admin'],
          },
        };
      }
      const tenant = await adapters().store.getTenant(principal.tenantId);
      return {
        status: 200,
        body: {
          tenantId: principal.tenantId,
          ...(tenant ? { tenant: { name: tenant.name, plan: tenant.plan, status: tenant.status } } : {}),
          principal: {
            id: principal.principalId,
            type: principal.principalType,
            ...(principal.email ? { email: principal.email } : {}),
          },
          roles: principal.roles,
          permissions: [...principal.permissions].sort(),
        },
      };
    },
  }),
];
