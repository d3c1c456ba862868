/**
 * Client-side validation with the API's `Agent`, `Tool` and `Workflow` request schemas, as it
 * publishes them in /openapi.json plus the discriminators its validation applies (written to
 * generated/schemas.js by `npm run console:build`, console/scripts/schemas.ts), applied with the API's
 * own validator, which interprets them (no `new Function`, so a strict CSP holds). The API's request
 * limits come first, as on the server. The server validates again, with its own wording; this only
 * answers sooner.
 */
import { jsonLimitProblems } from '../../functions/shared/json-limits.ts';
import type { Validate } from '../../functions/shared/json-schema-validator.ts';

export type SchemaName = 'Agent' | 'Tool' | 'Workflow';

export interface FieldError {
  /** JSON Pointer-like path of the field, e.g. `steps/classify/agentId`; empty for the document. */
  readonly path: string;
  readonly message: string;
}

const compiled = new Map<SchemaName, Validate>();

/** Loaded with the first check (the editor's chunk), compiled once per schema. */
async function validatorOf(schema: SchemaName): Promise<Validate> {
  const known = compiled.get(schema);
  if (known) return known;
  const [{ compileSchema }, { discriminator }, { default: schemas }] = await Promise.all([
    import('../../functions/shared/json-schema-validator.ts'),
    import('../../functions/shared/json-schema-extensions.ts'),
    import('./generated/schemas.js'),
  ]);
  // As functions/shared/schema.ts applies them: the discriminator picks the one member to report, and
  // patterns are plain JavaScript regular expressions. No defaults are filled into the editor's value.
  const validate = compileSchema(schemas[schema], {
    discriminator,
    regExp: (source) => new RegExp(source),
  });
  compiled.set(schema, validate);
  return validate;
}

export async function validate(schema: SchemaName, value: unknown): Promise<FieldError[]> {
  // Nesting, numbers and names the stores cannot hold: the server refuses them before any schema.
  const limits = jsonLimitProblems(value);
  if (limits.length > 0)
    return limits.map((p) => ({ path: p.path.replaceAll('.', '/'), message: p.message }));
  const fn = await validatorOf(schema);
  let valid: boolean;
  try {
    valid = fn(value);
  } catch (error) {
    // A value past the validator's bounds: said here rather than lost (the server answers 400 too).
    return [{ path: '', message: error instanceof Error ? error.message : String(error) }];
  }
  if (valid) return [];
  return (fn.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' && typeof e.params.missingProperty === 'string';
    const extra = e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string';
    const base = e.instancePath.replace(/^\//, '');
    const path =
      missing || extra
        ? [base, String(e.params.missingProperty ?? e.params.additionalProperty)].filter(Boolean).join('/')
        : base;
    return { path, message: extra ? 'is not a known field' : e.message };
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
