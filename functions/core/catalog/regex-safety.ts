/**
 * Screens tenant-supplied regular expressions (scripted agents' `match`) before anything runs them:
 * length cap, must compile, and no nested quantifiers such as `(a+)+`, the classic catastrophic
 * backtracking shape (ReDoS). The screen is conservative, not a proof of linear time.
 */

/** Longest pattern accepted. */
export const MAX_REGEX_LENGTH = 500;

/** Why a pattern is refused, or undefined when it is acceptable. */
export function regexProblem(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) return `longer than ${MAX_REGEX_LENGTH} characters`;
  try {
    new RegExp(source);
  } catch (error) {
    return `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (hasNestedQuantifier(source)) {
    return 'nested quantifiers such as (a+)+ can take exponential time (ReDoS): rewrite the pattern';
  }
  return undefined;
}

// Length of a repeating quantifier at `i` (`*`, `+`, `{n,}`, `{n,m}` with m > 1), or 0. `?` and
// `{0,1}`/`{1}` do not repeat, so they are not counted.
function repeatingQuantifierAt(source: string, i: number): number {
  const c = source[i];
  if (c === '*' || c === '+') return 1;
  if (c !== '{') return 0;
  const close = source.indexOf('}', i);
  if (close === -1) return 0;
  const body = source.slice(i + 1, close);
  const comma = body.indexOf(',');
  const digits = (s: string) => s.length > 0 && s.length < 10 && [...s].every((ch) => ch >= '0' && ch <= '9');
  if (comma === -1) return digits(body) && Number(body) > 1 ? close - i + 1 : 0;
  const lo = body.slice(0, comma);
  const hi = body.slice(comma + 1);
  if (!digits(lo)) return 0;
  if (hi === '') return close - i + 1;
  return digits(hi) && Number(hi) > 1 ? close - i + 1 : 0;
}

/** True when a group that repeats contains something that repeats too. */
export function hasNestedQuantifier(source: string): boolean {
  // One entry per open group: whether something inside it repeats.
  const groups: boolean[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '[') {
      // Skip the class: quantifier characters inside it are literals.
      i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '(') {
      groups.push(false);
      i++;
      // `(?:`, `(?=`, `(?<name>`: the `?` opens a group kind, it is not a quantifier.
      if (source[i] === '?') i++;
      continue;
    }
    if (c === ')') {
      const innerRepeats = groups.pop() ?? false;
      const q = repeatingQuantifierAt(source, i + 1);
      if (q > 0 && innerRepeats) return true;
      if (groups.length > 0 && (innerRepeats || q > 0)) groups[groups.length - 1] = true;
      i += 1 + q;
      continue;
    }
    const q = repeatingQuantifierAt(source, i);
    if (q > 0) {
      if (groups.length > 0) groups[groups.length - 1] = true;
      i += q;
      continue;
    }
    i++;
  }
  return false;
}
