import { decodePointer } from '#shared/json-pointer.ts';
import { compileSchema, SchemaCompileError, type Validate } from '#shared/json-schema-validator.ts';
import { MAX_SCHEMA_PATTERNS } from '../catalog/json-schema.ts';
import { RegexBudgetExceeded, tenantRegex, withRegexBudget } from '../catalog/tenant-regex.ts';
import type { FieldProblem } from '../errors.ts';

/**
 * Time the schema's patterns may take on one input. Matching is linear and the input is capped
 * by the API's body limit, so this only bites on a schema that applies many patterns to large strings.
 */
export const INPUT_REGEX_BUDGET_MS = 1000;

/** Most compiled schemas kept per container. */
const MAX_COMPILED = 500;

const compiled = new Map<string, Validate>();

/**
 * Problems of `input` against a workflow's `inputSchema`, each named `input.<path>`. Compiled
 * validators are cached by schema text: a version's schema never changes. Patterns run in linear
 * time (functions/core/catalog/tenant-regex.ts).
 */
export async function inputProblems(
  schema: Record<string, unknown> | undefined,
  input: unknown,
): Promise<FieldProblem[]> {
  if (!schema) return [];
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    try {
      // A private copy: the validator keeps the schema, and the caller's object is not ours to keep.
      validate = compileSchema(structuredClone(schema), {
        regExp: tenantRegex,
        maxPatterns: MAX_SCHEMA_PATTERNS,
      });
    } catch (error) {
      // A version saved before a pattern rule may hold a pattern now refused: the caller's 400, not a 500.
      const message = error instanceof Error ? error.message.slice(0, 300) : 'does not compile';
      return [{ path: 'input', message: `the workflow's inputSchema cannot be applied: ${message}` }];
    }
    if (compiled.size > MAX_COMPILED) compiled.clear();
    compiled.set(key, validate);
  }
  const check = validate;
  let valid: boolean;
  try {
    valid = withRegexBudget(INPUT_REGEX_BUDGET_MS, () => check(input) as boolean);
  } catch (error) {
    if (error instanceof RegexBudgetExceeded) {
      return [{ path: 'input', message: `${error.message}; use shorter strings or fewer patterns` }];
    }
    if (error instanceof SchemaCompileError) {
      // A schema that applies itself to one value without end (`{"$ref": "#"}`) fails on use.
      return [{ path: 'input', message: `the workflow's inputSchema cannot be applied: ${error.message}` }];
    }
    throw error;
  }
  if (valid) return [];
  return (validate.errors ?? []).slice(0, 50).map((e) => {
    // A missing or unexpected property is named by the path, like any other field.
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const named =
      e.keyword === 'required'
        ? params.missingProperty
        : e.keyword === 'additionalProperties'
          ? params.additionalProperty
          : undefined;
    const segments = decodePointer(e.instancePath);
    const path = ['input', ...segments, ...(named === undefined ? [] : [named])].join('.');
    return { path, message: e.message };
  });
}
