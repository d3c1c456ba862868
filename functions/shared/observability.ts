import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one observability module: every handler and adapter logs, counts and traces through these
 * singletons, so log shape, metric namespace and trace annotations stay uniform.
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'meridian';

/** Structured JSON logger; secrets are redacted by {@link redact} before they reach it. */
export const logger = new Logger({ serviceName });

/** EMF metrics; dimensions are kept low-cardinality (no tenant ids). */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Meridian',
});

/** X-Ray tracer; SDK clients are wrapped with it where they are created. */
export const tracer = new Tracer({ serviceName });

const SECRET_KEYS = /(secret|password|token|authorization|api[-_]?key|value|credential)/i;

/**
 * A deep copy of `input` with every secret-looking field masked. Used on audit before/after images
 * and on anything logged that came from a request.
 */
export function redact<T>(input: T, depth = 0): T {
  if (depth > 20 || input === null || typeof input !== 'object') return input;
  if (Array.isArray(input)) return input.map((item) => redact(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    out[key] = SECRET_KEYS.test(key) && value !== undefined ? '***' : redact(value, depth + 1);
  }
  return out as T;
}
