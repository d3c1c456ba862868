/**
 * Client-side validation with the JSON schemas the API publishes in /openapi.json
 * (`components/schemas/Agent`, `Tool`, `Workflow`): `npm run console:build` compiles them with Ajv
 * into standalone functions (console/scripts/validators.ts), because a strict CSP forbids the
 * `new Function` Ajv needs at run time. The server validates again; this only answers sooner.
 */

export type SchemaName = 'Agent' | 'Tool' | 'Workflow';

export interface FieldError {
  /** JSON Pointer-like path of the field, e.g. `steps/classify/agentId`; empty for the document. */
  readonly path: string;
  readonly message: string;
}

export async function validate(schema: SchemaName, value: unknown): Promise<FieldError[]> {
  const validators = await import('./generated/validators.js');
  const fn = validators[schema];
  if (fn(value)) return [];
  return (fn.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' && typeof e.params.missingProperty === 'string';
    const extra = e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string';
    const base = e.instancePath.replace(/^\//, '');
    const path =
      missing || extra
        ? [base, String(e.params.missingProperty ?? e.params.additionalProperty)].filter(Boolean).join('/')
        : base;
    return { path, message: extra ? 'is not a known field' : (e.message ?? 'is invalid') };
  });
}

/** The first few distinct errors (a oneOf mismatch reports one error per branch). */
export function summarize(errors: readonly FieldError[], max = 8): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    const key = `${e.path} ${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
    if (out.length >= max) break;
  }
  return out;
}
