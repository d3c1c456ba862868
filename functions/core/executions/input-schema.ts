import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { decodePointer } from '#shared/json-pointer.ts';
import { linearRegExpEngine, RegexBudgetExceeded, withRegexBudget } from '../catalog/tenant-regex.ts';
import type { FieldProblem } from '../errors.ts';

/**
 * Time the schema's patterns may take on one input. Matching is linear and the input is capped
 * by the API's body limit, so this only bites on a schema that applies many patterns to large strings.
 */
export const INPUT_REGEX_BUDGET_MS = 1000;

let ajv: Promise<Ajv2020> | undefined;
const compiled = new Map<string, { schema: Record<string, unknown>; validate: ValidateFunction }>();

/**
 * Problems of `input` against a workflow's `inputSchema`, each named `input.<path>`. Compiled
 * validators are cached by schema text: a version's schema never changes. Patterns run in linear
 * time (functions/core/catalog/tenant-regex.ts). Ajv is loaded on the first schema, so schedule
 * fire, starting workflows without one, never loads it.
 */
export async function inputProblems(
  schema: Record<string, unknown> | undefined,
  input: unknown,
): Promise<FieldProblem[]> {
  if (!schema) return [];
  const key = JSON.stringify(schema);
  let validate = compiled.get(key)?.validate;
  if (!validate) {
    ajv ??= import('ajv/dist/2020.js').then(
      ({ Ajv2020 }) =>
        new Ajv2020({
          strict: false,
          allErrors: true,
          validateFormats: false,
          // Never keep a tenant's schema (or its $id) in the shared instance: another tenant's
          // schema with the same $id would then fail to compile in this container.
          addUsedSchema: false,
          code: { regExp: linearRegExpEngine },
        }),
      (error: unknown) => {
        ajv = undefined; // the next start tries again, not the same failure for the container's life
        throw error;
      },
    );
    const instance = await ajv;
    try {
      validate = instance.compile(schema);
    } catch (error) {
      // A version saved before a pattern rule may hold a pattern now refused: the caller's 400, not a 500.
      const message = error instanceof Error ? error.message.slice(0, 300) : 'does not compile';
      return [{ path: 'input', message: `the workflow's inputSchema cannot be applied: ${message}` }];
    }
    if (compiled.size > 500) {
      // Ajv keeps each compiled schema by object: dropped from its cache too, or it grows for good.
      for (const entry of compiled.values()) instance.removeSchema(entry.schema);
      compiled.clear();
    }
    compiled.set(key, { schema, validate });
  }
  const check = validate;
  let valid: boolean;
  try {
    valid = withRegexBudget(INPUT_REGEX_BUDGET_MS, () => check(input) as boolean);
  } catch (error) {
    if (error instanceof RegexBudgetExceeded) {
      return [{ path: 'input', message: `${error.message}; use shorter strings or fewer patterns` }];
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
    return { path, message: e.message ?? 'invalid' };
  });
}
