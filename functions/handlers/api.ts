import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config } from '#shared/config.ts';
import { logger, metrics } from '#shared/observability.ts';
import { Router } from '#shared/router.ts';
import { apiRoutes } from './routes/index.ts';

// Parsed at cold start: a misconfigured function fails its first request with every problem named.
config();

/** Every route of the API, in one router. */
export const router = new Router(apiRoutes);

/** The API Lambda: one function behind the HTTP API's routes. */
export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context ?? ({ awsRequestId: event.requestContext.requestId } as Context));
  logger.appendKeys({ requestId: event.requestContext.requestId });
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
}
