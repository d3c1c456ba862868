/**
 * A linear-time matcher for the regular expressions tenants supply: ECMAScript syntax in Unicode
 * mode (what JSON Schema's `pattern` means, and what Ajv compiles with `u`), minus what no
 * linear-time engine can do (backreferences, lookahead, lookbehind), which is refused.
 *
 * The pattern is compiled to a small program and run as a Pike VM (Thompson's construction): every
 * alternative is followed at once, one input character at a time, so a match costs at most
 * program size × input length, whatever the pattern. There is no backtracking to stall on.
 *
 * Sets of characters (`.`, `[...]`, `\d`, `\p{L}`, `\u{1F600}`...) are not reimplemented: each is
 * tested by V8's own RegExp against one code point at a time, which is constant time, so their
 * meaning is exactly JavaScript's. The syntax is checked by V8 first (`new RegExp(source, 'u')`),
 * so this parser only ever reads well-formed patterns.
 */

/** Most program steps a pattern may compile to, once `{n,m}` repetitions are written out. */
export const MAX_PROGRAM_STEPS = 5000;

// How much work (steps visited, whether they read a character or not) a match does between calls
// of its `interrupt` check: about a millisecond, whatever the program.
const CHECK_WORK = 65_536;

const CHAR = 0;
const SPLIT = 1;
const JUMP = 2;
const ASSERT = 3;
const MATCH = 4;

const START = 0;
const END = 1;
const WORD_BOUNDARY = 2;
const NOT_WORD_BOUNDARY = 3;

type Node =
  | { kind: 'set'; test: (cp: number) => boolean }
  | { kind: 'assert'; what: number }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; items: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** A pattern compiled to a program: `test` searches anywhere in the text, like `RegExp.prototype.test`. */
export interface LinearRegex {
  /** `interrupt` runs about every millisecond of a long match, and may throw to stop it. */
  test(text: string, interrupt?: () => void): boolean;
}

function literal(cp: number): (cp: number) => boolean {
  return (candidate) => candidate === cp;
}

// One code point against V8's own set: constant time, whatever the set.
function setOf(source: string): (cp: number) => boolean {
  const native = new RegExp(`^(?:${source})$`, 'u');
  const ascii = new Int8Array(128);
  return (cp) => {
    if (cp < 128) {
      if (ascii[cp] === 0) ascii[cp] = native.test(String.fromCharCode(cp)) ? 1 : -1;
      return ascii[cp] === 1;
    }
    return native.test(String.fromCodePoint(cp));
  };
}

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

class Parser {
  private at = 0;

  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.alternation();
    // V8 has checked the syntax: the only way to stop early is an unbalanced `)`, which it refuses.
    return node;
  }

  private peek(offset = 0): string {
    return this.source.charAt(this.at + offset);
  }

  private alternation(): Node {
    const items = [this.sequence()];
    while (this.peek() === '|') {
      this.at++;
      items.push(this.sequence());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: 'alt', items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.at < this.source.length && this.peek() !== '|' && this.peek() !== ')') {
      items.push(this.quantified(this.atom()));
    }
    return { kind: 'seq', items };
  }

  private quantified(node: Node): Node {
    let min: number;
    let max: number;
    const next = this.peek();
    if (next === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (next === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (next === '?') [min, max] = [0, 1];
    else if (next === '{') {
      const bounds = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at)) as RegExpExecArray;
      min = Number(bounds[1]);
      max = bounds[2] === undefined ? min : bounds[3] ? Number(bounds[3]) : Number.POSITIVE_INFINITY;
      this.at += bounds[0].length - 1;
    } else return node;
    this.at++;
    // A lazy quantifier matches the same strings as a greedy one; only which match is reported differs.
    if (this.peek() === '?') this.at++;
    return { kind: 'repeat', node, min, max };
  }

  private atom(): Node {
    const start = this.at;
    const char = this.source.charAt(this.at++);
    if (char === '(') return this.group();
    if (char === '^') return { kind: 'assert', what: START };
    if (char === '$') return { kind: 'assert', what: END };
    if (char === '.') return { kind: 'set', test: setOf('.') };
    if (char === '[') {
      while (this.peek() !== ']') this.at += this.peek() === '\\' ? 2 : 1;
      this.at++;
      return { kind: 'set', test: setOf(this.source.slice(start, this.at)) };
    }
    if (char === '\\') return this.escape(start);
    const cp = this.source.codePointAt(start) as number;
    this.at = start + (cp > 0xffff ? 2 : 1);
    return { kind: 'set', test: literal(cp) };
  }

  private group(): Node {
    if (this.peek() === '?') {
      const kind = this.peek(1);
      if (kind === ':') this.at += 2;
      else if (kind === '<' && this.peek(2) !== '=' && this.peek(2) !== '!') {
        this.at = this.source.indexOf('>', this.at) + 1;
      } else if (kind === '=' || kind === '!' || kind === '<') {
        throw new SyntaxError(
          'lookahead and lookbehind are not supported (patterns run on a linear-time engine)',
        );
      } else {
        throw new SyntaxError('only (?:...) and (?<name>...) groups are supported');
      }
    }
    const node = this.alternation();
    this.at++; // `)`
    return node;
  }

  private escape(start: number): Node {
    const char = this.source.charAt(this.at++);
    if (char === 'b') return { kind: 'assert', what: WORD_BOUNDARY };
    if (char === 'B') return { kind: 'assert', what: NOT_WORD_BOUNDARY };
    if (char === 'k' || (char >= '1' && char <= '9')) {
      throw new SyntaxError('backreferences are not supported (patterns run on a linear-time engine)');
    }
    if (char === 'u') {
      if (this.peek() === '{') this.at = this.source.indexOf('}', this.at) + 1;
      else {
        const unit = Number.parseInt(this.source.slice(this.at, this.at + 4), 16);
        this.at += 4;
        // In Unicode mode an escaped surrogate pair is one character.
        const low = /^\\u([0-9a-fA-F]{4})/.exec(this.source.slice(this.at));
        if (isHighSurrogate(unit) && low && isLowSurrogate(Number.parseInt(low[1] as string, 16)))
          this.at += 6;
      }
    } else if (char === 'x') this.at += 2;
    else if (char === 'c') this.at += 1;
    else if (char === 'p' || char === 'P') this.at = this.source.indexOf('}', this.at) + 1;
    return { kind: 'set', test: setOf(this.source.slice(start, this.at)) };
  }
}

/** Most nodes compiled, counting each written-out repetition: a bound on compile time. */
const MAX_COMPILE_VISITS = 4 * MAX_PROGRAM_STEPS;

function tooLarge(): SyntaxError {
  return new SyntaxError(
    `too large once its repetitions are written out (more than ${MAX_PROGRAM_STEPS} steps)`,
  );
}

class Program {
  readonly op: number[] = [];
  readonly x: number[] = [];
  readonly y: number[] = [];
  // Only CHAR steps have a set.
  readonly sets: (((cp: number) => boolean) | undefined)[] = [];

  // Nodes compiled so far, steps or not: `(?:){9007199254740991}` writes no step, yet would loop.
  private visits = 0;

  emit(op: number, x = 0, y = 0, set?: (cp: number) => boolean): number {
    if (this.op.length >= MAX_PROGRAM_STEPS) throw tooLarge();
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    this.sets.push(set);
    return this.op.length - 1;
  }

  compile(node: Node): void {
    // Each step takes at least one visit, so this bound refuses no program the step bound accepts
    // that is not mostly empty repetitions, and keeps compiling linear in the bound.
    if (++this.visits > MAX_COMPILE_VISITS) throw tooLarge();
    switch (node.kind) {
      case 'set':
        this.emit(CHAR, 0, 0, node.test);
        return;
      case 'assert':
        this.emit(ASSERT, node.what);
        return;
      case 'seq':
        for (const item of node.items) this.compile(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        node.items.forEach((item, i) => {
          if (i === node.items.length - 1) {
            this.compile(item);
            return;
          }
          const split = this.emit(SPLIT);
          this.x[split] = split + 1;
          this.compile(item);
          jumps.push(this.emit(JUMP));
          this.y[split] = this.op.length;
        });
        for (const jump of jumps) this.x[jump] = this.op.length;
        return;
      }
      case 'repeat': {
        for (let i = 0; i < node.min; i++) this.compile(node.node);
        if (node.max === Number.POSITIVE_INFINITY) {
          const split = this.emit(SPLIT);
          this.x[split] = split + 1;
          this.compile(node.node);
          this.emit(JUMP, split);
          this.y[split] = this.op.length;
          return;
        }
        const splits: number[] = [];
        for (let i = node.min; i < node.max; i++) {
          const split = this.emit(SPLIT);
          this.x[split] = split + 1;
          splits.push(split);
          this.compile(node.node);
        }
        for (const split of splits) this.y[split] = this.op.length;
        return;
      }
    }
  }
}

const isWordUnit = (unit: number): boolean =>
  (unit >= 0x30 && unit <= 0x39) ||
  (unit >= 0x41 && unit <= 0x5a) ||
  (unit >= 0x61 && unit <= 0x7a) ||
  unit === 0x5f;

function assertionHolds(what: number, text: string, at: number): boolean {
  if (what === START) return at === 0;
  if (what === END) return at === text.length;
  // Word characters are ASCII in Unicode mode without `i`, so code units suffice.
  // Before the start and past the end, charCodeAt is NaN: not a word character.
  const boundary = isWordUnit(text.charCodeAt(at - 1)) !== isWordUnit(text.charCodeAt(at));
  return what === WORD_BOUNDARY ? boundary : !boundary;
}

/**
 * Compiles `source` (ECMAScript syntax, Unicode mode). Throws `SyntaxError` saying why a pattern is
 * refused: invalid syntax, a backreference, a lookaround, or a program over {@link MAX_PROGRAM_STEPS}.
 */
export function compileLinearRegex(source: string): LinearRegex {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    // V8's message quotes the whole pattern: cut, so a problem stays short.
    throw new SyntaxError(`not a valid regular expression: ${(error as Error).message.slice(0, 200)}`);
  }
  const program = new Program();
  const root = new Parser(source).parse();
  program.compile(root);
  program.emit(MATCH);
  // A pattern that opens with `^` can only match from the start: no thread need start later.
  const first = root.kind === 'seq' ? root.items[0] : root;
  const anchored = first?.kind === 'assert' && first.what === START;
  const { op, x, y, sets } = program;
  const size = op.length;

  return {
    test(text, interrupt) {
      // Threads of the current and next position, deduplicated by a per-position mark.
      let work = 0;
      let current = new Int32Array(size);
      let next = new Int32Array(size);
      let currentCount = 0;
      let nextCount = 0;
      const marks = new Int32Array(size).fill(-1);
      let generation = 0;

      // Follows every step that reads nothing from `pc` at `at`; true once MATCH is reached.
      const add = (list: Int32Array, count: number, pc: number, at: number): number => {
        const pending = [pc];
        while (pending.length > 0) {
          const step = pending.pop() as number;
          work++;
          if (marks[step] === generation) continue;
          marks[step] = generation;
          const code = op[step];
          if (code === CHAR) list[count++] = step;
          else if (code === MATCH) return -1;
          else if (code === JUMP) pending.push(x[step] as number);
          else if (code === SPLIT) {
            pending.push(y[step] as number, x[step] as number);
          } else if (assertionHolds(x[step] as number, text, at)) pending.push(step + 1);
        }
        return count;
      };

      let at = 0;
      for (;;) {
        // A match may start at any position: a fresh thread joins the ones already running.
        if (at === 0 || !anchored) currentCount = add(current, currentCount, 0, at);
        if (currentCount < 0) return true;
        if (at >= text.length || (anchored && currentCount === 0)) return false;
        if (interrupt && work >= CHECK_WORK) {
          work = 0;
          interrupt();
        }
        const cp = text.codePointAt(at) as number;
        const after = at + (cp > 0xffff ? 2 : 1);
        generation++;
        nextCount = 0;
        for (let i = 0; i < currentCount; i++) {
          const pc = current[i] as number;
          if ((sets[pc] as (cp: number) => boolean)(cp)) {
            nextCount = add(next, nextCount, pc + 1, after);
            if (nextCount < 0) return true;
          }
        }
        [current, next] = [next, current];
        currentCount = nextCount;
        at = after;
      }
    },
  };
}
