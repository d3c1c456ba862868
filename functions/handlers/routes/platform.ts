import { DescribeUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetBucketLocationCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { cognitoClient, dynamoDocumentClient, s3Client } from '#adapters/aws-clients.ts';
import { adapters } from '#adapters/container.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { oneOf, t } from '#shared/schema.ts';
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
