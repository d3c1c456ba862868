/**
 * The linear-time matcher (functions/core/catalog/linear-regex.ts) answers what V8's RegExp answers
 * in Unicode mode, on generated patterns and inputs, and refuses what it cannot run in linear time.
 */
import { describe, expect, it } from 'vitest';
import { compileLinearRegex, MAX_PROGRAM_STEPS } from '#core/catalog/linear-regex.ts';

// Mutation testing (scripts/mutation.mjs sets MUTATION_TESTS) instruments the code: slower, not wrong.
const SLACK = process.env.MUTATION_TESTS === undefined ? 1 : 8;

// A fixed-seed generator (mulberry32), so a failure names a pattern that fails again.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  'a',
  'b',
  '1',
  '.',
  '[ab]',
  '[^a]',
  '[a-c\\d]',
  '[]',
  '[^]',
  '\\d',
  '\\D',
  '\\w',
  '\\W',
  '\\s',
  '\\S',
  '\\p{L}',
  '\\P{L}',
  '\\u{1F600}',
  '😀',
  '\\uD83D\\uDE00',
  '\\u0061',
  '\\x62',
  '\\n',
  '\\.',
  '-',
  'é',
];
const ASSERTIONS = ['^', '$', '\\b', '\\B'];
const QUANTIFIERS = ['', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '{0,2}', '*?', '+?', '??', '{2,}?'];
const TEXT = ['a', 'b', '1', ' ', '\n', '😀', 'é', '_', '-', '.', 'Z', '\uD83D', '*', '?'];

function generate(next: () => number, depth: number): string {
  const pick = <T>(from: readonly T[]): T => from[Math.floor(next() * from.length)] as T;
  const parts: string[] = [];
  const length = 1 + Math.floor(next() * 4);
  for (let i = 0; i < length; i++) {
    const roll = next();
    if (roll < 0.12) {
      parts.push(pick(ASSERTIONS));
      continue;
    }
    let atom = pick(ATOMS);
    if (roll > 0.75 && depth < 3) {
      const inner = Array.from({ length: 1 + Math.floor(next() * 3) }, () => generate(next, depth + 1)).join(
        '|',
      );
      atom = `${pick(['(', '(?:', '(?<g>'])}${inner})`;
    }
    parts.push(atom + pick(QUANTIFIERS));
  }
  return parts.join('');
}

/**
 * Whether V8's first match starts inside a surrogate pair. In Unicode mode the specification
 * advances a search by whole code points (AdvanceStringIndex), but V8 tries the middle of a pair
 * for a pattern that starts with an assertion: `/\B/u.test('b😀1')` is true there, matching
 * between the two halves of 😀. This matcher follows the specification.
 */
function midPair(native: RegExp, text: string): boolean {
  const found = native.exec(text);
  if (!found) return false;
  const high = text.charCodeAt(found.index - 1);
  return (
    high >= 0xd800 &&
    high <= 0xdbff &&
    text.charCodeAt(found.index) >= 0xdc00 &&
    text.charCodeAt(found.index) <= 0xdfff
  );
}

describe('answers what V8 answers (Unicode mode)', () => {
  it('but never starts a match inside a surrogate pair, as the specification says', () => {
    expect(compileLinearRegex('\\B').test('b😀1')).toBe(false);
    expect(midPair(/\B/u, 'b😀1')).toBe(true);
    expect(compileLinearRegex('\\B').test('b😀')).toBe(true);
  });

  // Instrumented by mutation testing, it takes about ten times as long.
  it('on 3,000 generated patterns, each against 24 generated texts', { timeout: 120_000 }, () => {
    const next = random(20261130);
    let compared = 0;
    let skippedMidPair = 0;
    const disagreements: string[] = [];
    for (let p = 0; p < 3000; p++) {
      let source = generate(next, 0);
      // Only one group may be named g; the others become plain groups.
      const named = source.indexOf('(?<g>') + 1;
      source = source.slice(0, named) + source.slice(named).replaceAll('(?<g>', '(');
      let native: RegExp;
      try {
        native = new RegExp(source, 'u');
      } catch {
        continue; // a quantified assertion: refused by both (see below)
      }
      const linear = compileLinearRegex(source);
      for (let t = 0; t < 24; t++) {
        const text = Array.from(
          { length: Math.floor(next() * 7) },
          () => TEXT[Math.floor(next() * TEXT.length)],
        ).join('');
        compared++;
        if (linear.test(text) === native.test(text)) continue;
        if (midPair(native, text)) {
          skippedMidPair++;
          continue;
        }
        disagreements.push(`${source} on ${JSON.stringify(text)}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(compared).toBeGreaterThan(40_000);
    expect(skippedMidPair).toBeLessThan(compared / 1000);
  });

  it.each([
    ['^(a*)*b$', 'aaab', true],
    ['^(a*)*b$', 'aaa', false],
    ['^(|a)+$', 'aa', true],
    ['^a{0}$', '', true],
    ['^a{3,5}$', 'aa', false],
    ['^a{3,5}$', 'aaa', true],
    ['^a{3,5}$', 'aaaaa', true],
    ['^a{3,5}$', 'aaaaaa', false],
    ['^a{2,}$', 'a', false],
    ['^a{2,}$', 'aaaa', true],
    ['^ab|cd$', 'abx', true],
    ['^ab|cd$', 'xcd', true],
    ['^ab|cd$', 'xab', false],
    ['^(?:ab|cd)$', 'abcd', false],
    ['\\bfoo\\b', 'a foo.', true],
    ['\\bfoo\\b', 'afoo', false],
    ['\\Bfoo', 'afoo', true],
    ['^.$', '😀', true],
    ['^..$', '😀', false],
    ['^\\uD83D\\uDE00$', '😀', true],
    ['^\\uD83D$', '\uD83D', true],
    ['^.$', '\n', false],
    ['^[^]$', '\n', true],
    ['^\\s$', '\u00a0', true],
    ['^\\p{Lu}+$', 'ÉA', true],
    ['', 'anything', true],
    ['|', '', true],
    ['a^', 'a', false],
    ['$a', 'a', false],
    ['x*$', 'abc', true],
    ['^a{2}$', 'aaa', false],
    ['^a{2}$', 'aa', true],
    ['^a*?$', 'a*', false],
    ['^a+?b??$', 'aab', true],
    ['^\\cJ$', '\n', true],
    ['^.$', '\uFFFF', true],
    ['^\uFFFFa$', '\uFFFFa', true],
    ['^\\u{10000}$', '\u{10000}', true],
    ['^[😀-😂]$', '😁', true],
    ['^\\p{Emoji_Presentation}$', '😀', true],
  ])('%s on %j is %s', (source, text, expected) => {
    expect(compileLinearRegex(source).test(text)).toBe(expected);
    expect(new RegExp(source, 'u').test(text)).toBe(expected);
  });

  // An escaped high surrogate followed by an escaped low one is one character; anything else is two.
  it.each([
    '\\uD800\\uDC00',
    '\\uDBFF\\uDFFF',
    '\\uD83D\\uDE00',
    '\\uD7FF\\uDC00',
    '\\uDC00\\uDC00',
    '\\uD800\\uDBFF',
    '\\uDBFF\\uE000',
    '\\uD83Da\\uDE00',
    '\\u0061\\u0062',
  ])('^%s$ on its own characters, and on each alone', (escaped) => {
    const source = `^${escaped}$`;
    const text = JSON.parse(`"${escaped.replaceAll('\\\\', '\\')}"`) as string;
    const native = new RegExp(source, 'u');
    const linear = compileLinearRegex(source);
    for (const candidate of [text, ...[...text], text.slice(0, 1), text.slice(1)]) {
      expect(linear.test(candidate)).toBe(native.test(candidate));
    }
    expect(linear.test(text)).toBe(true);
  });

  it.each(['/', '0', '9', ':', '@', 'A', 'Z', '[', '_', '`', 'a', 'z', '{', 'é'])(
    'word boundaries around %j',
    (char) => {
      for (const source of ['\\b', '\\B', `^\\b\\${char}`, `\\${char}\\b$`, `\\B\\${char}\\B`]) {
        let native: RegExp;
        try {
          native = new RegExp(source, 'u');
        } catch {
          // A letter or digit cannot be escaped in Unicode mode: match it as itself.
          const plain = source.replaceAll(`\\${char}`, char);
          expect(compileLinearRegex(plain).test(char)).toBe(new RegExp(plain, 'u').test(char));
          continue;
        }
        expect(compileLinearRegex(source).test(char)).toBe(native.test(char));
        expect(compileLinearRegex(source).test(`${char}${char}`)).toBe(native.test(`${char}${char}`));
      }
    },
  );
});

describe('takes time linear in the input', () => {
  it.each(['^(a+)+$', '^(a|a)*$', '^(\\w+\\s?)*$', '(x+x+)+y', '^(a|aa)+$', '(.*a){12}'])(
    '%s on 100,000 characters then a mismatch',
    (source) => {
      const re = compileLinearRegex(source);
      const started = performance.now();
      expect(re.test(`${'a'.repeat(100_000)}!`)).toBe(source === '(.*a){12}');
      // A backtracking engine takes seconds on 30 characters of these; this allows a slow machine.
      expect(performance.now() - started).toBeLessThan(5000 * SLACK);
    },
    60_000,
  );

  it('stops an anchored pattern at its first mismatch; an unanchored one reads on', () => {
    const calls = { anchored: 0, unanchored: 0 };
    // One step visited per character: 200,001 units, three checks.
    const text = `b${'x'.repeat(200_000)}`;
    expect(compileLinearRegex('^a').test(text, () => calls.anchored++)).toBe(false);
    expect(compileLinearRegex('a').test(text, () => calls.unanchored++)).toBe(false);
    expect(calls).toEqual({ anchored: 0, unanchored: 3 });
    // Anchored only when the whole pattern opens with `^`.
    expect(compileLinearRegex('^a|x').test(text)).toBe(true);
    expect(compileLinearRegex('(?:^a)|x').test(text)).toBe(true);
  });

  it('calls the interrupt check every 65,536 steps visited in one match, and stops when it throws', () => {
    let calls = 0;
    // Four steps visited a character (the character, the jump, the split, the end's test): 800,000.
    compileLinearRegex('^a*$').test('a'.repeat(200_000), () => {
      calls++;
    });
    expect(calls).toBe(12);
    // Exactly 65,536 steps (16,384 characters) is one check; one character fewer is none.
    const at = (length: number) => {
      let made = 0;
      compileLinearRegex('^a*$').test('a'.repeat(length), () => {
        made++;
      });
      return made;
    };
    expect([at(16_383), at(16_384)]).toEqual([0, 1]);
    expect(() =>
      compileLinearRegex('b').test('a'.repeat(70_000), () => {
        throw new Error('stop');
      }),
    ).toThrow('stop');
  });

  it('counts work, not characters: a program running many threads is checked as often as it works', () => {
    const calls = { many: 0, empty: 0, one: 0 };
    // Up to 200 threads a character on 2,000 characters, against one thread.
    compileLinearRegex('.{0,199}z').test('a'.repeat(2000), () => calls.many++);
    // Steps that read no character count too: 1,600 empty alternatives walked at every position.
    compileLinearRegex('(?:(?:|)){1600}z').test('a'.repeat(2000), () => calls.empty++);
    compileLinearRegex('z').test('a'.repeat(2000), () => calls.one++);
    expect(calls).toEqual({ many: 17, empty: 142, one: 0 });
  }, 60_000);
});

describe('refuses what it cannot run in linear time, saying why', () => {
  it.each([
    ['(a)\\1', /^backreferences are not supported/],
    ['(?<x>a)\\k<x>', /^backreferences are not supported/],
    [`${'(a)'.repeat(9)}\\9`, /^backreferences are not supported/],
    ['(?=a)', /^lookahead and lookbehind are not supported/],
    ['(?!a)', /^lookahead and lookbehind are not supported/],
    ['(?<=a)b', /^lookahead and lookbehind are not supported/],
    ['(?<!a)b', /^lookahead and lookbehind are not supported/],
    ['(', /^not a valid regular expression: Invalid regular expression: \/\(\/u?: Unterminated group/],
    ['a{2,1}', /^not a valid regular expression/],
    ['\\-', /^not a valid regular expression/],
    ['\\1', /^not a valid regular expression/],
    ['^*', /^not a valid regular expression/],
    [`(a{100}){100}`, /^too large once its repetitions are written out \(more than 5000 steps\)$/],
  ])('%s', (source, message) => {
    expect(() => compileLinearRegex(source)).toThrow(message);
    expect(() => compileLinearRegex(source)).toThrow(SyntaxError);
  });

  it(`accepts a program of ${MAX_PROGRAM_STEPS} steps, not one more`, () => {
    // `^`, `$` and the final match are a step each, and each `a` another. Anchored, so one thread
    // runs (unanchored, a thread would start at every `a`: program × input).
    const longest = compileLinearRegex(`^a{${MAX_PROGRAM_STEPS - 3}}$`);
    expect(longest.test('a'.repeat(MAX_PROGRAM_STEPS - 3))).toBe(true);
    expect(longest.test('a'.repeat(MAX_PROGRAM_STEPS - 4))).toBe(false);
    expect(() => compileLinearRegex(`^a{${MAX_PROGRAM_STEPS - 2}}$`)).toThrow(/too large/);
  });

  it.each(['(?:){9007199254740991}', '(?:(?:){99999}){99999}', '(){1000000}', '(?:x{0}){100000000}'])(
    'refuses %s fast: repetitions that write no step still count',
    (source) => {
      const started = performance.now();
      expect(() => compileLinearRegex(source)).toThrow(/^too large once its repetitions are written out/);
      expect(performance.now() - started).toBeLessThan(1000 * SLACK);
    },
  );

  it('counts every node compiled, up to four times the step bound', () => {
    // The root, the repetition, then one empty group per repetition.
    const most = 4 * MAX_PROGRAM_STEPS - 2;
    expect(compileLinearRegex(`(?:){${most}}`).test('')).toBe(true);
    expect(() => compileLinearRegex(`(?:){${most + 1}}`)).toThrow(/too large/);
  });

  it('cuts V8’s detail to 200 characters', () => {
    const message = (() => {
      try {
        compileLinearRegex(`(${'a'.repeat(480)}`);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toHaveLength('not a valid regular expression: '.length + 200);
  });
});
