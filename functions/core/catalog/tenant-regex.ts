/**
 * Every regular expression a tenant supplies (a workflow or tool `inputSchema` `pattern` or
 * `patternProperties` key, a scripted agent's `match`) runs on the linear-time matcher of
 * functions/core/catalog/linear-regex.ts: matching takes time linear in the input, so no pattern
 * can stall the platform the way `^(a+)+$` stalls a backtracking engine. Patterns use ECMAScript
 * syntax in Unicode mode, what JSON Schema's `pattern` means; what no linear-time engine can do
 * (backreferences, lookahead, lookbehind) is refused at save, naming the field.
 *
 * Linear is not free: a match costs about program size × input size. So patterns are capped in
 * length (and count per schema, see json-schema.ts) and in program size, inputs are capped by the
 * API's body limit, and matching runs under an explicit time budget ({@link withRegexBudget}),
 * checked before each match and about every millisecond of work within one.
 */
import { compileLinearRegex, type LinearRegex } from './linear-regex.ts';

/** Longest pattern accepted. */
export const MAX_REGEX_LENGTH = 500;

/** A compiled tenant pattern: `test` searches anywhere in the text, like `RegExp.prototype.test`. */
export interface TenantRegex {
  test(text: string): boolean;
  toString(): string;
}

/** Thrown when the current {@link withRegexBudget} ran out before a match. */
export class RegexBudgetExceeded extends Error {
  override readonly name = 'RegexBudgetExceeded';
  constructor(readonly budgetMs: number) {
    super(`pattern matching took longer than its ${budgetMs} ms budget`);
  }
}

let deadline = Number.POSITIVE_INFINITY;
let budgetMs = 0;

/**
 * Runs `work` (synchronous) with at most `ms` of pattern matching: a match that starts after the
 * deadline, or is still running past it, throws {@link RegexBudgetExceeded}.
 */
export function withRegexBudget<T>(ms: number, work: () => T): T {
  const saved = { deadline, budgetMs };
  deadline = Math.min(deadline, performance.now() + ms);
  budgetMs = ms;
  try {
    return work();
  } finally {
    deadline = saved.deadline;
    budgetMs = saved.budgetMs;
  }
}

function checkBudget(): void {
  if (performance.now() > deadline) throw new RegexBudgetExceeded(budgetMs);
}

function compile(source: string): LinearRegex {
  if (source.length > MAX_REGEX_LENGTH) throw new SyntaxError(`longer than ${MAX_REGEX_LENGTH} characters`);
  return compileLinearRegex(source);
}

const cache = new Map<string, TenantRegex>();

/** Compiles a tenant pattern (cached); throws `SyntaxError` saying why it is refused. */
export function tenantRegex(source: string): TenantRegex {
  let found = cache.get(source);
  if (!found) {
    const re = compile(source);
    found = {
      test: (text) => {
        checkBudget();
        return re.test(text, checkBudget);
      },
      // Shown as a RegExp is, in messages and logs.
      toString: () => `/${source}/`,
    };
    // Bounded so a long-lived container serving many tenants does not grow without limit.
    if (cache.size >= 1000) cache.clear();
    cache.set(source, found);
  }
  return found;
}

/** Why a tenant pattern is refused, or undefined when it is accepted. */
export function regexProblem(source: string): string | undefined {
  try {
    tenantRegex(source);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
