import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  BudgetExceededError,
  ConflictError,
  DomainError,
  type FieldProblem,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  QuotaExceededError,
  TenantSuspendedError,
  TransientError,
  UnauthenticatedError,
  ValidationError,
} from '#core/errors.ts';
import { logger } from './observability.ts';

/** Base of every problem `type` URI; the last segment names the problem. */
export const PROBLEM_BASE = 'https://meridian.dev/problems/';

/** An RFC 9457 problem document as Meridian sends it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldProblem[];
  readonly requestId: string;
}

/** An HTTP-level failure raised by the router itself (404, 405, 413, 415, ...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly problems: readonly FieldProblem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', ...SECURITY_HEADERS, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** A problem+json response. */
export function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  requestId: string,
  errors?: readonly FieldProblem[],
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  const body: Problem = {
    type: `${PROBLEM_BASE}${code}`,
    title,
    status,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
    requestId,
  };
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

interface Mapping {
  readonly status: number;
  readonly title: string;
}

function mapDomain(error: DomainError): Mapping {
  if (error instanceof ValidationError) return { status: 400, title: 'Invalid request' };
  if (error instanceof UnauthenticatedError) return { status: 401, title: 'Unauthorized' };
  if (error instanceof TenantSuspendedError) return { status: 403, title: 'Tenant suspended' };
  if (error instanceof ForbiddenError) return { status: 403, title: 'Forbidden' };
  if (error instanceof NotFoundError) return { status: 404, title: 'Not found' };
  if (error instanceof ConflictError) return { status: 409, title: 'Conflict' };
  if (error instanceof PayloadTooLargeError) return { status: 413, title: 'Payload too large' };
  if (error instanceof BudgetExceededError) return { status: 402, title: 'Budget exceeded' };
  if (error instanceof QuotaExceededError) return { status: 429, title: 'Quota exceeded' };
  if (error instanceof TransientError) return { status: 503, title: 'Service unavailable' };
  return { status: 500, title: 'Internal error' };
}

/**
 * The one mapper from thrown errors to responses. Domain and HTTP errors keep their status and
 * message; anything else is ours: logged with its stack, answered with a generic 500 and the request
 * id, so internals and secrets never reach the caller.
 */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError) {
    return problem(error.status, error.code, error.title, error.message, requestId, error.problems, {
      ...error.headers,
    });
  }
  if (error instanceof DomainError) {
    const { status, title } = mapDomain(error);
    const problems = error instanceof ValidationError || error instanceof ConflictError ? error.problems : [];
    const headers: Record<string, string> =
      error instanceof QuotaExceededError && error.retryAfterSeconds !== undefined
        ? { 'retry-after': String(error.retryAfterSeconds) }
        : error instanceof TransientError
          ? { 'retry-after': '1' }
          : {};
    if (status >= 500) logger.error('Request failed', { error });
    return problem(status, error.code, title, error.message, requestId, problems, headers);
  }
  logger.error('Unhandled error', { error: error instanceof Error ? error : String(error) });
  return problem(
    500,
    'internal-error',
    'Internal error',
    'The request could not be completed. Quote the request id when you report it.',
    requestId,
  );
}
