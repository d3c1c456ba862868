/**
 * Every regular expression a tenant supplies (a workflow or tool `inputSchema` `pattern` or
 * `patternProperties` key, a scripted agent's `match`) runs on RE2 (re2js): matching takes time
 * linear in the input, so no pattern can stall the platform the way `^(a+)+$` stalls a
 * backtracking engine. Patterns use JavaScript syntax (translated to RE2's); what RE2 cannot do in
 * linear time (backreferences, lookahead, lookbehind) is refused at save, naming the field.
 *
 * Linear is not free: a match costs about pattern size × input size. So patterns are capped in
 * length (and count per schema, see json-schema.ts), inputs are capped by the API's body limit,
 * and loops over tenant patterns run under an explicit time budget ({@link withRegexBudget}).
 *
 * The engine is loaded on demand ({@link loadTenantRegex}): the step runner and schedule fire run
 * tenant patterns only for some steps and workflows, so their cold start does not evaluate RE2.
 * Code that runs patterns synchronously (catalog validation at save) imports
 * functions/core/catalog/tenant-regex-static.ts, which loads it with the module.
 */
import type { RE2JS } from 're2js';

let engine: typeof RE2JS | undefined;

/** Loads the RE2 engine (once per container); every asynchronous caller awaits it first. */
export async function loadTenantRegex(): Promise<void> {
  engine ??= (await import('re2js')).RE2JS;
}

/** Whether the engine is loaded: a caller that is may skip the `await` (and its turn of the event loop). */
export const tenantRegexLoaded = (): boolean => engine !== undefined;

/** Sets the engine a module imported statically (functions/core/catalog/tenant-regex-static.ts). */
export function useTenantRegexEngine(re2: typeof RE2JS): void {
  engine = re2;
}

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
 * deadline throws {@link RegexBudgetExceeded}. Each single match is already linear and bounded by
 * the length caps, so checking between matches bounds the whole loop.
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

// An unescaped `\k` is a named backreference; re2js's translation would quietly turn it into a
// literal `k`, so it is refused here instead.
function hasNamedBackreference(source: string): boolean {
  for (let i = 0; i < source.length; i++) {
    if (source[i] !== '\\') continue;
    if (source[i + 1] === 'k') return true;
    i++;
  }
  return false;
}

const LOOKAROUND = /\(\?<?[=!]/;

// A programming error, never a tenant's (so never reported as a problem with the pattern): the
// caller neither awaited loadTenantRegex() nor imported tenant-regex-static.ts.
function loaded(): typeof RE2JS {
  if (!engine) throw new Error('the tenant pattern engine is not loaded');
  return engine;
}

function compile(source: string): RE2JS {
  const re2 = loaded();
  if (source.length > MAX_REGEX_LENGTH) throw new SyntaxError(`longer than ${MAX_REGEX_LENGTH} characters`);
  if (hasNamedBackreference(source)) {
    throw new SyntaxError('backreferences are not supported (patterns run on a linear-time RE2 engine)');
  }
  if (LOOKAROUND.test(source)) {
    throw new SyntaxError(
      'lookahead and lookbehind are not supported (patterns run on a linear-time RE2 engine)',
    );
  }
  try {
    return re2.compile(re2.translateRegExp(source));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`not a valid RE2 regular expression: ${detail.slice(0, 200)}`);
  }
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
        return re.test(text);
      },
      // Ajv keys compiled patterns by their string form: each must be distinct, like a RegExp's.
      toString: () => `/${source}/`,
    };
    // Bounded so a long-lived container serving many tenants does not grow without limit.
    if (cache.size >= 1000) cache.clear();
    cache.set(source, found);
  }
  return found;
}

/** Why a tenant pattern is refused, or undefined when RE2 runs it. */
export function regexProblem(source: string): string | undefined {
  loaded();
  try {
    tenantRegex(source);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Ajv's `code.regExp` engine on RE2: every `pattern`, `patternProperties` key and `propertyNames`
 * pattern of a schema compiled with it runs in linear time under the current budget.
 */
export const re2RegExpEngine = Object.assign((pattern: string, _flags: string) => tenantRegex(pattern), {
  code: 'tenantRegex',
});
