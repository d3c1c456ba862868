/**
 * Limits every JSON request body meets before any route sees it, declared in the OpenAPI document
 * (`x-meridian-request-limits`). Each keeps a body inside what the stores can hold, so a body the API
 * accepts can always be written: DynamoDB nests attributes at most 32 deep (the audit record and the
 * run state wrap a body in a few more levels), takes numbers only up to 38 digits between 1e-130 and
 * 1e126 (and the SDK refuses integers it cannot represent exactly), and has no empty attribute names.
 */
export const JSON_LIMITS = Object.freeze({
  /** The largest body, in bytes (API Gateway's own limit is 10 MB). */
  maxBodyBytes: 256 * 1024,
  /**
   * Objects and arrays nested at most this deep; the body itself is level 1. DynamoDB's 32 less room
   * for the levels a store wraps around a body (an item attribute, an audit record's `after`).
   */
  maxDepth: 28,
  /** No number beyond ±(2^53 − 1): larger integers lose precision in JavaScript. */
  maxAbsNumber: Number.MAX_SAFE_INTEGER,
  /** No non-zero number smaller than this in magnitude. */
  minAbsNumber: 1e-100,
  /** Property names are 1 to this many characters. */
  maxPropertyNameLength: 256,
  /** Email addresses (they become part of a DynamoDB key) are at most this long (RFC 5321). */
  maxEmailLength: 254,
});

/** One field that breaks a limit. */
export interface LimitProblem {
  readonly path: string;
  readonly message: string;
}

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);

/**
 * The fields of `value` (parsed JSON) that break {@link JSON_LIMITS}, at most `max` of them. The walk
 * stops at the depth limit, so it cannot itself overflow the stack.
 */
export function jsonLimitProblems(value: unknown, max = 10): LimitProblem[] {
  const out: LimitProblem[] = [];
  const visit = (node: unknown, path: string, depth: number): void => {
    if (out.length >= max) return;
    if (typeof node === 'number') {
      const size = Math.abs(node);
      if (!Number.isFinite(node) || size > JSON_LIMITS.maxAbsNumber)
        out.push({ path, message: `numbers must be within ±${JSON_LIMITS.maxAbsNumber}` });
      else if (size !== 0 && size < JSON_LIMITS.minAbsNumber)
        out.push({ path, message: `non-zero numbers must be at least ${JSON_LIMITS.minAbsNumber} in size` });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (depth > JSON_LIMITS.maxDepth) {
      out.push({ path, message: `nested deeper than ${JSON_LIMITS.maxDepth} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        visit(item, join(path, i), depth + 1);
      });
      return;
    }
    for (const [key, item] of Object.entries(node)) {
      if (key.length === 0 || key.length > JSON_LIMITS.maxPropertyNameLength) {
        out.push({
          path,
          message: `property names must be 1 to ${JSON_LIMITS.maxPropertyNameLength} characters`,
        });
        if (out.length >= max) return;
        continue;
      }
      visit(item, join(path, key), depth + 1);
    }
  };
  visit(value, '', 1);
  return out;
}
