/**
 * The validator's limits, pinned without a clock (limits.test.ts also asserts that hostile input is
 * refused fast, which instrumented code on a loaded machine cannot promise, so it is outside the
 * mutation set): each limit at its boundary, the exact problems and their paths, the cap of 20
 * problems, and the size estimate that refuses input nested too deep to serialize safely.
 */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '#core/errors.ts';
import { validateWorkflow, WORKFLOW_LIMITS } from '#core/workflows/validate.ts';
import { catalog, problemsOf, workflow } from '../core/workflows/fixtures.ts';

const MAX = WORKFLOW_LIMITS.maxBytes;
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/** What `validateWorkflow` threw, or undefined. */
function thrown(input: unknown): unknown {
  try {
    validateWorkflow(input, catalog);
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A valid workflow of one tool step whose args hold a pad of `char`, serialized to `size` bytes. */
function workflowOfSize(size: number, char = 'x'): unknown {
  const base = workflow({ t: { type: 'tool', toolId: 'weather', args: { pad: '' }, end: true } });
  const charBytes = new TextEncoder().encode(char).byteLength;
  const pad = char.repeat(Math.floor((size - bytes(base)) / charBytes));
  return workflow({ t: { type: 'tool', toolId: 'weather', args: { pad }, end: true } });
}

/** `{d: {d: ... {}}}` with the empty object `levels` objects below the outermost one. */
function nest(levels: number): unknown {
  let value: unknown = {};
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
}

/**
 * An object (not a workflow) whose `deep` field holds an empty object exactly at the JSON depth limit,
 * and whose other fields make everything above that limit serialize to `above` bytes. Strings of
 * ASCII, empty objects and single digits serialize to exactly what the validator's estimate counts,
 * and the empty object at the limit (2 bytes) is not walked, so the estimate is `above`.
 */
function deepBeside(above: number, order: 'list last' | 'deep last'): unknown {
  // The root is at depth 0, `deep` at 1: 127 levels below it put the empty object at depth 128.
  const deep = nest(WORKFLOW_LIMITS.maxJsonDepth - 1);
  const list = new Array(1000).fill(0);
  const build = (text: string) =>
    order === 'list last'
      ? { deep, list, text }
      : { list, deep: { d: nest(WORKFLOW_LIMITS.maxJsonDepth - 2), text } };
  const base = bytes(build('')) - 2;
  return build('x'.repeat(above - base));
}

describe('the limits themselves', () => {
  it('are 1 MiB, 500 steps, 8 levels of parallel and map, 100 templates, 16 condition and 128 JSON levels', () => {
    // Assess
    expect(WORKFLOW_LIMITS).toEqual({
      maxBytes: 1024 * 1024,
      maxSteps: 500,
      maxNestingDepth: 8,
      maxTemplatesPerString: 100,
      maxConditionDepth: 16,
      maxJsonDepth: 128,
    });
    expect(Object.isFrozen(WORKFLOW_LIMITS)).toBe(true);
  });
});

describe('size', () => {
  it('accepts exactly 1 MiB and refuses one byte more, with a message naming the limit', () => {
    // Prepare
    const fits = workflowOfSize(MAX);
    const over = workflowOfSize(MAX + 1);

    // Act
    const accepted = thrown(fits);
    const refused = thrown(over);

    // Assess
    expect(bytes(fits)).toBe(MAX);
    expect(bytes(over)).toBe(MAX + 1);
    expect(accepted).toBeUndefined();
    expect(refused).toBeInstanceOf(PayloadTooLargeError);
    expect((refused as Error).message).toBe('The workflow definition is larger than 1048576 bytes.');
  });

  it('counts UTF-8 bytes: 600,000 two-byte characters are too large', () => {
    // Act
    const error = thrown(workflowOfSize(1_200_000, 'é'));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it.each(['list last', 'deep last'] as const)(
    'refuses input nested too deep as too large once what lies above the limit passes 1 MiB (%s)',
    (order) => {
      // Prepare
      const fits = deepBeside(MAX, order);
      const over = deepBeside(MAX + 1, order);

      // Act
      const atLimit = thrown(fits);
      const beyond = thrown(over);

      // Assess: at the limit only the depth is wrong; one byte more and the size is.
      expect(bytes(fits)).toBe(MAX + 2);
      expect(atLimit).toBeInstanceOf(ValidationError);
      expect((atLimit as ValidationError).problems).toEqual([
        {
          path: `deep${'.d'.repeat(127)}`,
          message: 'nested deeper than 128 levels',
        },
      ]);
      expect(beyond).toBeInstanceOf(PayloadTooLargeError);
    },
  );

  it('refuses a large array of numbers as too large', () => {
    // Act
    const error = thrown({ name: 'x', list: new Array(MAX).fill(1) });

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('JSON depth', () => {
  it('accepts an object at depth 127 and refuses one at 128, naming its path', () => {
    // Prepare: steps 1, t 2, args 3, deep 4.
    const at = (levels: number) =>
      workflow({ t: { type: 'tool', toolId: 'weather', args: { deep: nest(levels) }, end: true } });

    // Act
    const shallow = thrown(at(122));
    const deep = problemsOf(() => validateWorkflow(at(124), catalog));

    // Assess
    expect(shallow).toBeUndefined();
    expect(deep).toEqual([
      { path: `steps.t.args.deep${'.d'.repeat(124)}`, message: 'nested deeper than 128 levels' },
    ]);
  });

  it('counts arrays as levels too, with indexes in the path', () => {
    // Prepare
    let list: unknown = [];
    for (let i = 0; i < 127; i++) list = [list, 0];

    // Act
    const problems = problemsOf(() => validateWorkflow({ list }, catalog));

    // Assess
    expect(problems).toEqual([{ path: `list${'.0'.repeat(127)}`, message: 'nested deeper than 128 levels' }]);
  });

  it('reports at most 20 problems, and says how many more there are in the message', () => {
    // Prepare: 25 objects nested too deep.
    const input = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, nest(127)]));

    // Act
    const error = thrown(input) as ValidationError;

    // Assess
    expect(error.problems).toHaveLength(20);
    expect(error.problems[0]).toEqual({
      path: `k0${'.d'.repeat(127)}`,
      message: 'nested deeper than 128 levels',
    });
    expect(error.message).toBe(
      `Workflow exceeds limits: k0${'.d'.repeat(127)}: nested deeper than 128 levels (and 19 more)`,
    );
  });
});

describe('reserved keys', () => {
  it('refuses __proto__ at the top and without walking what it holds', () => {
    // Prepare
    const input = JSON.parse(
      `{"name": "x", "__proto__": {"templates": "${'{{a}}'.repeat(101)}"}}`,
    ) as unknown;

    // Act
    const error = thrown(input) as ValidationError;

    // Assess
    expect(error.problems).toEqual([{ path: '__proto__', message: 'reserved key' }]);
    expect(error.message).toBe('Workflow exceeds limits: __proto__: reserved key');
  });

  it('reports at most 20 of them', () => {
    // Prepare
    const keys = Array.from({ length: 25 }, (_, i) => `"k${i}": {"__proto__": 1}`).join(', ');

    // Act
    const problems = problemsOf(() => validateWorkflow(JSON.parse(`{${keys}}`), catalog));

    // Assess
    expect(problems).toHaveLength(20);
    expect(problems[19]).toEqual({ path: 'k19.__proto__', message: 'reserved key' });
  });
});

describe('templates per string', () => {
  it.each([
    { count: 100, problems: [] },
    { count: 101, problems: [{ path: 'steps.a.prompt', message: 'more than 100 templates in one string' }] },
  ])('$count templates in one prompt', ({ count, problems }) => {
    // Prepare
    const def = workflow({
      a: { type: 'agent', agentId: 'writer', prompt: '{{input.x}} '.repeat(count), end: true },
    });

    // Act
    const error = thrown(def);

    // Assess
    expect(error === undefined ? [] : (error as ValidationError).problems).toEqual(problems);
  });

  it('reports at most 20 strings', () => {
    // Prepare
    const many = '{{input.x}}'.repeat(101);
    const input = { name: 'x', list: Array.from({ length: 25 }, () => many) };

    // Act
    const problems = problemsOf(() => validateWorkflow(input, catalog));

    // Assess
    expect(problems).toHaveLength(20);
    expect(new Set(problems.map((p) => p.message))).toEqual(
      new Set(['more than 100 templates in one string']),
    );
  });
});

/** A chain of `count` wait steps ending in a succeed step. */
function chain(count: number, prefix = 's'): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    steps[`${prefix}${i}`] =
      i + 1 < count ? { type: 'wait', seconds: 1, next: `${prefix}${i + 1}` } : { type: 'succeed' };
  }
  return steps;
}

const TOO_MANY = {
  path: 'steps',
  message: 'more than 500 steps (counting those inside branches and iterators)',
};

describe('step count', () => {
  it.each([
    { count: 500, problems: [] },
    { count: 501, problems: [TOO_MANY] },
    { count: 2000, problems: [TOO_MANY] },
  ])('$count steps', ({ count, problems }) => {
    // Act
    const error = thrown(workflow(chain(count), 's0'));

    // Assess
    expect(error === undefined ? [] : (error as ValidationError).problems).toEqual(problems);
  });

  it('counts the steps of every branch and iterator', () => {
    // Prepare: 1 + 200 + 200 + 1 + 99 = 501.
    const def = workflow({
      p: {
        type: 'parallel',
        branches: [
          { startAt: 'a0', steps: chain(200, 'a') },
          { startAt: 'b0', steps: chain(200, 'b') },
        ],
        next: 'm',
      },
      m: {
        type: 'map',
        itemsPath: 'input.items',
        iterator: { startAt: 'c0', steps: chain(99, 'c') },
        end: true,
      },
    });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toEqual([TOO_MANY]);
  });
});

/** `depth` parallels (or maps) nested in one another around a succeed step. */
function nested(depth: number, kind: 'parallel' | 'map'): unknown {
  let graph: { startAt: string; steps: Record<string, unknown> } = {
    startAt: 'leaf',
    steps: { leaf: { type: 'succeed' } },
  };
  for (let d = depth; d >= 1; d--) {
    const step =
      kind === 'parallel'
        ? { type: 'parallel', branches: [graph], end: true }
        : { type: 'map', itemsPath: 'input.x', iterator: graph, end: true };
    graph = { startAt: `p${d}`, steps: { [`p${d}`]: step } };
  }
  return { name: 'nested', ...graph };
}

describe('parallel and map nesting', () => {
  it.each(['parallel', 'map'] as const)('accepts 8 levels of %s and refuses 9, naming the ninth', (kind) => {
    // Prepare
    const inner = kind === 'parallel' ? 'branches.0' : 'iterator';
    const ninth = `${Array.from({ length: 8 }, (_, i) => `steps.p${i + 1}.${inner}`).join('.')}.steps.p9`;

    // Act
    const eight = thrown(nested(8, kind));
    const nine = problemsOf(() => validateWorkflow(nested(9, kind), catalog));
    const ten = problemsOf(() => validateWorkflow(nested(10, kind), catalog));

    // Assess: what lies below the ninth level is not walked, so ten levels give one problem too.
    expect(eight).toBeUndefined();
    expect(nine).toEqual([{ path: ninth, message: 'parallel and map steps nest at most 8 levels' }]);
    expect(ten).toEqual(nine);
  });
});

describe('condition nesting', () => {
  const choice = (when: unknown) =>
    workflow({ c: { type: 'choice', choices: [{ when, next: 'a' }] }, a: { type: 'succeed' } });
  const leaf = { path: 'input.x', exists: true };
  const wrap = (depth: number, around: (inner: unknown) => unknown) => {
    let condition: unknown = leaf;
    for (let d = 1; d < depth; d++) condition = around(condition);
    return condition;
  };

  it.each([
    { op: 'not', around: (c: unknown) => ({ not: c }), step: '.not' },
    { op: 'and', around: (c: unknown) => ({ and: [leaf, c] }), step: '.and.1' },
    { op: 'or', around: (c: unknown) => ({ or: [c] }), step: '.or.0' },
  ])('accepts 16 levels of $op and refuses 17, naming the seventeenth', ({ around, step }) => {
    // Act
    const sixteen = thrown(choice(wrap(16, around)));
    const seventeen = problemsOf(() => validateWorkflow(choice(wrap(17, around)), catalog));

    // Assess
    expect(sixteen).toBeUndefined();
    expect(seventeen).toEqual([
      { path: `steps.c.choices.0.when${step.repeat(16)}`, message: 'conditions nest at most 16 levels' },
    ]);
  });

  it("reports a graph's own steps before the graphs nested in them", () => {
    // Prepare
    const deep = wrap(17, (c) => ({ not: c }));
    const deepChoice = { type: 'choice', choices: [{ when: deep, next: 'z' }], default: 'z' };
    const def = workflow({
      p: {
        type: 'parallel',
        branches: [{ startAt: 'b', steps: { b: deepChoice, z: { type: 'succeed' } } }],
        next: 'c',
      },
      c: deepChoice,
      z: { type: 'succeed' },
    });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    const message = 'conditions nest at most 16 levels';
    expect(problems).toEqual([
      { path: `steps.c.choices.0.when${'.not'.repeat(16)}`, message },
      { path: `steps.p.branches.0.steps.b.choices.0.when${'.not'.repeat(16)}`, message },
    ]);
  });

  it('reports one problem per choice rule, however many of its operands nest too deep', () => {
    // Prepare
    const deep = wrap(17, (c) => ({ not: c }));
    const def = workflow({
      c: {
        type: 'choice',
        choices: [
          { when: { and: [deep, deep] }, next: 'a' },
          { when: deep, next: 'a' },
        ],
      },
      a: { type: 'succeed' },
    });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems.map((p) => p.path)).toEqual([
      `steps.c.choices.0.when.and.1${'.not'.repeat(15)}`,
      `steps.c.choices.1.when${'.not'.repeat(16)}`,
    ]);
  });
});
