import { describe, expect, it } from 'vitest';
import { compileSchema, MAX_STEPS } from '#shared/json-schema-validator.ts';

// Apart from test/unit/shared/json-schema-validator.test.ts: a million steps, too slow to rerun for
// every mutant of the mutation set that runs that file (scripts/mutation.mjs, set `schema`).

/** `$defs` d0 … dn, each applying the next twice through allOf: 2^(n+2) - 1 steps. */
function chain(n: number) {
  const $defs: Record<string, unknown> = { [`d${n}`]: { type: 'string' } };
  for (let i = 0; i < n; i++) {
    const next = { $ref: `#/$defs/d${i + 1}` };
    $defs[`d${i}`] = { allOf: [next, next] };
  }
  return { type: 'object', properties: { a: { $ref: '#/$defs/d0' } }, $defs };
}

describe('the default bound on one validation', () => {
  it(`allows ${MAX_STEPS} subschemas unless told otherwise`, () => {
    // Prepare: 16 levels take 262,143 steps; 17 take 524,287.
    const passes = compileSchema(chain(16));
    const fails = compileSchema(chain(17));
    // Act / Assess
    expect(MAX_STEPS).toBe(500_000);
    expect(passes({ a: 'x' })).toBe(true);
    expect(() => fails({ a: 'x' })).toThrow(`the schema takes more than ${MAX_STEPS} steps on this value`);
  }, 60_000);
});
