/**
 * The tenant pattern engine, loaded with this module: for code that runs tenant patterns
 * synchronously (catalog validation at save). Asynchronous callers await `loadTenantRegex()` from
 * functions/core/catalog/tenant-regex.ts instead, so functions that rarely run a pattern do not
 * evaluate RE2 at cold start.
 */
import { RE2JS } from 're2js';
import { useTenantRegexEngine } from './tenant-regex.ts';

useTenantRegexEngine(RE2JS);

export {
  RegexBudgetExceeded,
  re2RegExpEngine,
  regexProblem,
  tenantRegex,
  withRegexBudget,
} from './tenant-regex.ts';
