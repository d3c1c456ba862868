import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, jsonLimitProblems } from '#shared/json-limits.ts';

/** The request-body limits of functions/shared/json-limits.ts, at and just past each boundary. */

/** An object `levels` deep counting the outermost (`{"a":{"a":…{}}}`). */
function deep(levels: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < levels; i += 1) value = { a: value };
  return value;
}

describe('jsonLimitProblems', () => {
  it.each([
    ['the deepest allowed nesting', deep(JSON_LIMITS.maxDepth)],
    ['arrays at the deepest allowed nesting', [[[]]]],
    ['the largest safe integer', { n: Number.MAX_SAFE_INTEGER, m: -Number.MAX_SAFE_INTEGER }],
    ['the smallest allowed fraction, and zero', { n: JSON_LIMITS.minAbsNumber, z: 0, f: 0.5 }],
    ['the longest property name', { ['k'.repeat(JSON_LIMITS.maxPropertyNameLength)]: 1 }],
    ['strings, booleans and null', { s: '', b: true, n: null }],
  ])('accepts %s', (_name, value) => {
    // Act
    const problems = jsonLimitProblems(value);
    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    [
      'one level too deep',
      { x: deep(JSON_LIMITS.maxDepth) },
      `x${'.a'.repeat(JSON_LIMITS.maxDepth - 1)}`,
      new RegExp(`nested deeper than ${JSON_LIMITS.maxDepth}`),
    ],
    [
      'an array one level too deep',
      { x: [deep(JSON_LIMITS.maxDepth - 1)] },
      `x.0${'.a'.repeat(JSON_LIMITS.maxDepth - 2)}`,
      /nested/,
    ],
    ['2^53', { n: 2 ** 53 }, 'n', /within ±9007199254740991/],
    ['-2^53', { list: [1, -(2 ** 53)] }, 'list.1', /within/],
    ['1e300', { n: 1e300 }, 'n', /within/],
    ['a fraction too small', { n: -1e-101 }, 'n', /at least 1e-100/],
    [
      'an empty property name',
      { schema: { properties: { '': {} } } },
      'schema.properties',
      /1 to 256 characters/,
    ],
    [
      'a property name one too long',
      { ['k'.repeat(JSON_LIMITS.maxPropertyNameLength + 1)]: 1 },
      '',
      /1 to 256/,
    ],
  ])('refuses %s, naming the field', (_name, value, path, message) => {
    // Act
    const problems = jsonLimitProblems(value);
    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(path);
    expect(problems[0]?.message).toMatch(message);
  });

  it('reports at most `max` problems and survives nesting far past the limit', () => {
    // Prepare
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`n${i}`, 1e300]));
    // Act
    const capped = jsonLimitProblems(many, 3);
    const huge = jsonLimitProblems(deep(100_000));
    // Assess
    expect(capped.map((p) => p.path)).toEqual(['n0', 'n1', 'n2']);
    expect(huge).toHaveLength(1);
  });
});
