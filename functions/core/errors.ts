/**
 * Domain errors. Use cases throw these; the HTTP layer maps them to problem+json by `instanceof`
 * (functions/shared/http.ts), never by name strings. Adapters translate SDK exceptions into them.
 */

/** One problem with a request field, named by its JSON path (e.g. `steps.a.next`). */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Base class; `code` becomes the last segment of the problem `type` URI. */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

/** The request is malformed or violates a rule; carries every field problem found. */
export class ValidationError extends DomainError {
  readonly code = 'validation-error';
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** The resource does not exist for this tenant (also used for other tenants' ids: never reveal them). */
export class NotFoundError extends DomainError {
  readonly code = 'not-found';
}

/** The resource already exists (duplicate name, email, key) or the change conflicts with its state. */
export class ConflictError extends DomainError {
  readonly code = 'conflict';
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** No valid credential. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated';
}

/** A token that was valid and has expired: the client should refresh it rather than give up. */
export class TokenExpiredError extends UnauthenticatedError {}

/** A valid credential without the permission. */
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

/** The caller's tenant is suspended: every request is refused until a platform admin reactivates it. */
export class TenantSuspendedError extends DomainError {
  readonly code = 'tenant-suspended';
}

/** A body or definition larger than the platform accepts. */
export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload-too-large';
}

/** A monthly budget's hard stop was reached. */
export class BudgetExceededError extends DomainError {
  readonly code = 'budget-exceeded';
}

/** A plan quota or rate limit was reached; `retryAfterSeconds` becomes `Retry-After`. */
export class QuotaExceededError extends DomainError {
  readonly code = 'quota-exceeded';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A dependency failed in a way worth retrying (throttling, a transient conflict). */
export class TransientError extends DomainError {
  readonly code = 'service-unavailable';
}
