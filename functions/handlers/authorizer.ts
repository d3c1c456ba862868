import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { tokenVerifierFromConfig } from '#adapters/token-verifier.ts';
import { authorizerWiring } from '#adapters/wiring/authorizer.ts';
import { Authenticator } from '#core/access/authenticate.ts';
import { encodeAuthorizerContext } from '#shared/auth-context.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { annotate, logger, tracedHandler } from '#shared/observability.ts';

const { cfg, store } = authorizerWiring();

/**
 * Created once per container: the verifier keeps the JWKS, the authenticator keeps resolved
 * credentials for AUTH_CACHE_TTL_SECONDS (API Gateway cannot cache for us: see lib/constructs/api.ts).
 */
export const authenticator = new Authenticator({
  store,
  verifier: tokenVerifierFromConfig(cfg),
  platformAdminGroup: IDENTITY_SCHEMA.platformAdminGroup,
  cacheTtlMs: cfg.AUTH_CACHE_TTL_SECONDS * 1000,
  auditAuth: (tenantId, event) => store.recordAuthEvent(tenantId, event),
});

type Result = APIGatewaySimpleAuthorizerWithContextResult<Record<string, string | boolean>>;

/**
 * HTTP API REQUEST authorizer (simple responses). It always lets the request through with what it
 * established; an unauthenticated context makes the API answer 401 as problem+json, which the
 * gateway's own deny response could not be.
 */
export const handler = tracedHandler(
  'authorizer',
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
    try {
      const result = await authenticator.authenticate(headers);
      if (!result.authenticated) logger.info('Credential refused', { reason: result.reason });
      else if (result.principal.kind === 'tenant') annotate({ tenantId: result.principal.tenantId });
      return { isAuthorized: true, context: encodeAuthorizerContext(result) };
    } catch (error) {
      // A dependency failed (DynamoDB, JWKS fetch): refuse rather than guess.
      logger.error('Authorizer failed', { error: error instanceof Error ? error : String(error) });
      return {
        isAuthorized: true,
        context: encodeAuthorizerContext({ authenticated: false, reason: 'authorizer-error' }),
      };
    }
  },
);
