/**
 * The tenant pattern rules (functions/core/catalog/tenant-regex.ts), past what the core tests pin:
 * negative lookarounds and escaped backslashes, the length of a refusal's detail, the compiled
 * pattern cache, and nested time budgets (a clock stub, so no test depends on the machine's speed).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_REGEX_LENGTH,
  RegexBudgetExceeded,
  regexProblem,
  tenantRegex,
  withRegexBudget,
} from '#core/catalog/tenant-regex.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('what is refused, and why', () => {
  it.each([
    ['a negative lookahead', '^(?!x)a'],
    ['a negative lookbehind', '(?<!x)a'],
  ])('refuses %s', (_name, pattern) => {
    expect(regexProblem(pattern)).toBe(
      'lookahead and lookbehind are not supported (patterns run on a linear-time engine)',
    );
  });

  it.each([
    ['an escaped backslash before k', '^\\\\k$', '\\k', true],
    ['a plain k', '^k$', 'k', true],
    ['a named group that is not a lookbehind', '^(?<n>a)$', 'a', true],
  ])('accepts %s', (_name, pattern, text, matches) => {
    expect(regexProblem(pattern)).toBeUndefined();
    expect(tenantRegex(pattern).test(text)).toBe(matches);
  });

  it('refuses a named backreference after other escapes', () => {
    expect(regexProblem('\\d(?<x>a)\\k<x>')).toBe(
      'backreferences are not supported (patterns run on a linear-time engine)',
    );
  });

  it('accepts a pattern of exactly the longest length', () => {
    expect(regexProblem('a'.repeat(MAX_REGEX_LENGTH))).toBeUndefined();
    expect(regexProblem('a'.repeat(MAX_REGEX_LENGTH + 1))).toBe(`longer than ${MAX_REGEX_LENGTH} characters`);
  });

  it('cuts the engine’s detail to 200 characters', () => {
    // Prepare: an unclosed group, whose V8 message quotes the whole pattern.
    const pattern = `(${'a'.repeat(480)}`;
    // Act
    const problem = regexProblem(pattern) ?? '';
    // Assess
    expect(problem.startsWith('not a valid regular expression: Invalid regular expression: /(aaa')).toBe(
      true,
    );
    expect(problem).toHaveLength('not a valid regular expression: '.length + 200);
  });
});

describe('compiled patterns', () => {
  it('are cached by their text, searched anywhere, and shown as /source/', () => {
    const first = tenantRegex('b+c');
    expect(tenantRegex('b+c')).toBe(first);
    expect(first.test('abbcd')).toBe(true);
    expect(first.test('ac')).toBe(false);
    expect(String(first)).toBe('/b+c/');
  });

  it('are kept up to 1,000 at once: the insert that finds 1,000 starts the cache afresh', () => {
    let unique = 0;
    // Inserts new patterns until `probe` is no longer the cached one; how many it took.
    const insertsUntilEvicted = (probe: string): number => {
      const kept = tenantRegex(probe);
      for (let inserts = 1; inserts <= 3000; inserts++) {
        tenantRegex(`cache-${unique++}`);
        if (tenantRegex(probe) !== kept) return inserts;
      }
      return Number.POSITIVE_INFINITY;
    };
    // Prepare: run until a clear, whatever earlier tests left. The cache then holds the pattern
    // whose insert cleared it and the probe, compiled again.
    expect(insertsUntilEvicted('probe')).toBeLessThanOrEqual(1000);
    // Act: 998 more fill it to 1,000; the next insert clears it
    const inserts = insertsUntilEvicted('probe');
    // Assess
    expect(inserts).toBe(999);
  });
});

describe('time budgets', () => {
  it('say their budget, and a nested budget cannot outlast the outer one', () => {
    // Prepare
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const re = tenantRegex('a');
    // Act
    const error = withRegexBudget(50, () =>
      withRegexBudget(10_000, () => {
        now += 51;
        try {
          re.test('a');
          return undefined;
        } catch (thrown) {
          return thrown;
        }
      }),
    );
    // Assess
    expect(error).toBeInstanceOf(RegexBudgetExceeded);
    expect(error).toMatchObject({
      name: 'RegexBudgetExceeded',
      budgetMs: 10_000,
      message: 'pattern matching took longer than its 10000 ms budget',
    });
  });

  it('allow a match exactly at the deadline, and restore the outer budget after an inner one', () => {
    // Prepare
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const re = tenantRegex('a');
    // Act and assess
    withRegexBudget(100, () => {
      withRegexBudget(10, () => {
        now += 10;
        expect(re.test('a')).toBe(true);
      });
      now += 50;
      expect(re.test('a')).toBe(true);
      now += 41;
      expect(() => re.test('a')).toThrow(new RegexBudgetExceeded(100));
    });
    expect(re.test('a')).toBe(true);
  });
});
