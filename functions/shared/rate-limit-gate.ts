import {
  admit,
  type RateLimiter,
  type RateLimitPlans,
  rateLimitHeaders,
  scopesFor,
} from '#core/governance/rate-limit.ts';
import { PLANS, type Plan } from '#core/tenancy/model.ts';
import { HttpError } from './http.ts';
import { logger, metrics } from './observability.ts';
import type { Admission } from './router.ts';

function planOf(value: string | undefined): Plan {
  // A context cached before plans travelled in it gets the tightest plan until it expires.
  return (PLANS as readonly string[]).includes(value ?? '') ? (value as Plan) : 'free';
}

/**
 * The router's admission step for rate limits: counts the request against its tenant and API key,
 * answers 429 with `Retry-After`, `RateLimit` and `RateLimit-Policy` when one is used up, and puts
 * the same headers on admitted replies. If the counters cannot be reached the request goes through:
 * the stage-wide throttle still holds, and an outage of the counters must not take the API down.
 */
export function rateLimitGate(limiter: () => RateLimiter, plans: RateLimitPlans): Admission {
  return async (principal, auth) => {
    if (principal.principalType === 'webhook') return {};
    const scopes = scopesFor(plans, planOf(auth?.tenantPlan), principal);
    let outcome: Awaited<ReturnType<typeof admit>>;
    try {
      outcome = await admit(limiter(), principal.tenantId, scopes);
    } catch (error) {
      logger.warn('Rate limit counters unavailable; request admitted', {
        error: error instanceof Error ? error.message : String(error),
      });
      return {};
    }
    const headers = rateLimitHeaders(outcome.decisions, outcome.reported);
    if (outcome.allowed) return headers;
    metrics.addMetric('RateLimited', 'Count', 1);
    const who = outcome.reported.policy === 'tenant' ? 'This tenant' : 'This API key';
    throw new HttpError(
      429,
      'rate-limited',
      'Too many requests',
      `${who} has used its ${outcome.reported.quota} requests of the current ${outcome.reported.slotSeconds}-second slot; retry after ${outcome.reported.resetSeconds} s.`,
      [],
      { ...headers, 'retry-after': String(outcome.reported.resetSeconds) },
    );
  };
}
