import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { API_SETTINGS, adapters } from '#adapters/wiring/api.ts';
import { config, rates } from '#shared/config.ts';
import { annotate, logger, metrics, tracedHandler } from '#shared/observability.ts';
import { rateLimitGate } from '#shared/rate-limit-gate.ts';
import { Router } from '#shared/router.ts';
import { apiRoutes } from './routes/index.ts';

// Parsed at cold start: a misconfigured function fails its first request with every problem named.
config(API_SETTINGS);

/** Every route of the API, in one router; every tenant request is counted against its rate limits. */
export const router = new Router(apiRoutes, {
  admit: rateLimitGate(() => adapters().limiter, config([rates]).RATE_LIMITS),
});

/** The ids a request concerns: the tenant the authorizer established, and any path ids. */
function traceIdsOf(event: APIGatewayProxyEventV2): Parameters<typeof annotate>[0] {
  const authorizer = (event.requestContext as { authorizer?: { lambda?: { tenantId?: unknown } } })
    .authorizer;
  const tenantId = authorizer?.lambda?.tenantId;
  return {
    tenantId: typeof tenantId === 'string' ? tenantId : undefined,
    workflowId: event.pathParameters?.workflowId,
    executionId: event.pathParameters?.executionId,
  };
}

/** The API Lambda: one function behind the HTTP API's routes. */
export const handler = tracedHandler(
  'api',
  async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context ?? ({ awsRequestId: event.requestContext.requestId } as Context));
    logger.appendKeys({ requestId: event.requestContext.requestId });
    annotate(traceIdsOf(event));
    try {
      const response = await router.handle(event);
      if (response.statusCode !== undefined && response.statusCode >= 500)
        metrics.addMetric('ServerError', 'Count', 1);
      return response;
    } finally {
      logger.resetKeys();
      // Publishing nothing would log a warning on every request.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  },
);
