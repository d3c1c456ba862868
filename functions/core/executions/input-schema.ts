import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FieldProblem } from '../errors.ts';

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/**
 * Problems of `input` against a workflow's `inputSchema`, each named `input.<path>`. Compiled
 * validators are cached by schema text: a version's schema never changes.
 */
export function inputProblems(schema: Record<string, unknown> | undefined, input: unknown): FieldProblem[] {
  if (!schema) return [];
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    ajv ??= new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    validate = ajv.compile(schema);
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, validate);
  }
  if (validate(input)) return [];
  return (validate.errors ?? []).slice(0, 50).map((e) => {
    const missing =
      e.keyword === 'required'
        ? `.${String((e.params as { missingProperty?: string }).missingProperty)}`
        : '';
    const path = `input${e.instancePath.replace(/\//g, '.')}${missing}`;
    return { path, message: e.message ?? 'invalid' };
  });
}
