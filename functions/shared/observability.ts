import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { ModelUsage } from '#core/executions/step-runner.ts';

/**
 * The one observability module: every handler and adapter logs, counts and traces through these
 * singletons, so log shape, metric namespace and trace annotations stay uniform.
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'meridian';

/** Structured JSON logger; secrets are masked (functions/core/redact.ts) before they reach it. */
export const logger = new Logger({ serviceName });

/** EMF metrics; dimensions are kept low-cardinality (no tenant ids here; see {@link recordModelUsage}). */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Meridian',
});

/** X-Ray tracer; SDK clients are wrapped with it where they are created. */
export const tracer = new Tracer({ serviceName });

/** Ids a trace is annotated with (X-Ray indexes annotations: filter traces by any of them). */
export interface TraceIds {
  readonly tenantId?: string | undefined;
  readonly executionId?: string | undefined;
  readonly workflowId?: string | undefined;
}

/** Annotates the current segment with the ids that are known. */
export function annotate(ids: TraceIds): void {
  for (const [key, value] of Object.entries(ids)) {
    if (typeof value === 'string' && value !== '') tracer.putAnnotation(key, value);
  }
}

/**
 * Runs `fn` in a subsegment named `name` of the current segment, with `annotations`; an error is
 * recorded on it and rethrown. Outside Lambda (tests, the local platform) tracing is off and this
 * only runs `fn`.
 */
export async function inSubsegment<T>(
  name: string,
  annotations: Readonly<Record<string, string>>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = tracer.getSegment();
  const subsegment = parent?.addNewSubsegment(name);
  if (subsegment) tracer.setSegment(subsegment);
  for (const [key, value] of Object.entries(annotations)) tracer.putAnnotation(key, value);
  try {
    return await fn();
  } catch (error) {
    tracer.addErrorAsMetadata(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    subsegment?.close();
    if (parent) tracer.setSegment(parent);
  }
}

/**
 * Wraps a Lambda handler: a `## <name>` subsegment annotated with ColdStart and Service, and a
 * `ColdStart` metric (dimension `function_name`) on a container's first invocation. Responses are
 * not added to the trace: API responses can carry a secret shown once (a new API key).
 */
export function tracedHandler<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    metrics.captureColdStartMetric(process.env.AWS_LAMBDA_FUNCTION_NAME ?? name);
    return inSubsegment(`## ${name}`, {}, async () => {
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      return fn(...args);
    });
  };
}

/** One agent step's model use, as the step runner reports it. */
export type ModelUsageMetric = ModelUsage;

// A separate instance, so the per-tenant dimension set never lands on the invocation's other metrics.
const usageMetrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Meridian',
});

/**
 * Emits `InputTokens`, `OutputTokens` and `ModelCostUsd` in one EMF record with two dimension
 * sets, `provider`+`model` and `tenantId`, besides `service` alone. Cardinality grows with models
 * plus tenants, not models times tenants; the workflow and execution ids go in as EMF properties
 * (searchable in Logs Insights, no metrics of their own).
 */
export function recordModelUsage(usage: ModelUsageMetric): void {
  usageMetrics.addDimensions({ provider: usage.provider, model: usage.model });
  usageMetrics.addDimensions({ tenantId: usage.tenantId });
  usageMetrics.addMetadata('workflowId', usage.workflowId);
  usageMetrics.addMetadata('executionId', usage.executionId);
  usageMetrics.addMetric('InputTokens', 'Count', usage.inputTokens);
  usageMetrics.addMetric('OutputTokens', 'Count', usage.outputTokens);
  usageMetrics.addMetric('ModelCostUsd', 'None', usage.costMicros / 1_000_000);
  usageMetrics.publishStoredMetrics();
}
