/**
 * The routes served without the authorizer, and why each may be public: the one list the CDK's HTTP
 * API (lib/constructs/api.ts), the local gateway (bin/local/gateway.ts) and the tests read. The route
 * declarations say `auth: 'public'` for exactly these (test/unit/shared/public-routes.test.ts).
 */

/** A public route of the HTTP API, in API Gateway's route syntax (`{name}` path parameters). */
export interface PublicRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Why it may be public: recorded as the cdk-nag acknowledgement of the unauthorized route. */
  readonly reason: string;
}

export const PUBLIC_ROUTES: readonly PublicRoute[] = Object.freeze([
  {
    method: 'GET',
    path: '/health',
    reason: 'Liveness probe for load checks and uptime monitors; returns no data.',
  },
  {
    method: 'GET',
    path: '/health/ready',
    reason: 'Readiness probe (table and bucket reachable); returns only up/down per dependency, no data.',
  },
  {
    method: 'GET',
    path: '/openapi.json',
    reason:
      'The public API description that clients and the docs are generated from; contains no tenant data.',
  },
  {
    method: 'POST',
    path: '/hooks/{webhookId}',
    reason:
      'Inbound webhooks from third parties that cannot obtain a Cognito token or API key; the handler must authenticate every call by the HMAC in X-Meridian-Signature, keyed with that webhook secret.',
  },
]);

/** A route's key as API Gateway writes it: `GET /health`, `POST /hooks/{webhookId}`. */
export function routeKeyOf(route: Pick<PublicRoute, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Every public route key. */
export const PUBLIC_ROUTE_KEYS: readonly string[] = PUBLIC_ROUTES.map(routeKeyOf);
