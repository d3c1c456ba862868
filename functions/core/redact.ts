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
