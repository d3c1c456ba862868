/**
 * JSON request limits (functions/shared/json-limits.ts) past the boundaries the core tests pin: the
 * values themselves, numbers JSON cannot carry, the problem cap inside one object's keys, and paths.
 */
import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, jsonLimitProblems } from '#shared/json-limits.ts';

describe('JSON_LIMITS', () => {
  it('holds the documented limits, frozen', () => {
    expect(JSON_LIMITS).toEqual({
      maxBodyBytes: 262_144,
      maxDepth: 28,
      maxAbsNumber: 9_007_199_254_740_991,
      minAbsNumber: 1e-100,
      maxPropertyNameLength: 256,
      maxEmailLength: 254,
    });
    expect(Object.isFrozen(JSON_LIMITS)).toBe(true);
  });
});

describe('jsonLimitProblems', () => {
  it('refuses NaN and infinities, and accepts the smallest fraction of either sign', () => {
    expect(jsonLimitProblems({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -1e-100 })).toEqual([
      { path: 'a', message: 'numbers must be within ±9007199254740991' },
      { path: 'b', message: 'numbers must be within ±9007199254740991' },
    ]);
  });

  it('stops at the cap inside one object’s property names, and names the object', () => {
    const bad = { x: { '': 1, [' '.repeat(257)]: 2, ok: 1e300 } };
    expect(jsonLimitProblems(bad, 1)).toEqual([
      { path: 'x', message: 'property names must be 1 to 256 characters' },
    ]);
    expect(jsonLimitProblems(bad, 3).map((p) => p.path)).toEqual(['x', 'x', 'x.ok']);
  });

  it('names array items and nested keys by their path, and checks a bare number', () => {
    expect(jsonLimitProblems([{ a: [0, 2 ** 60] }])).toEqual([
      { path: '0.a.1', message: 'numbers must be within ±9007199254740991' },
    ]);
    expect(jsonLimitProblems(1e-200)).toEqual([
      { path: '', message: 'non-zero numbers must be at least 1e-100 in size' },
    ]);
    expect(jsonLimitProblems('text')).toEqual([]);
  });

  it('reports at most ten problems by default', () => {
    const many = Array.from({ length: 12 }, () => 1e300);
    expect(jsonLimitProblems(many)).toHaveLength(10);
  });
});
