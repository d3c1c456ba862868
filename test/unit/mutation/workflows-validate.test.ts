/**
 * The validator's graph rules, each pinned by the exact list of problems it reports (validate.test.ts
 * checks that a rule fires; these check that nothing else does): transitions and their targets,
 * reachability, cycles, the catalog, data flow through choices, catches, parallels, maps and loops,
 * and the error's message.
 */
import { describe, expect, it } from 'vitest';
import type { FieldProblem } from '#core/errors.ts';
import { ValidationError } from '#core/errors.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { catalog, workflow } from '../core/workflows/fixtures.ts';

const agent = (prompt: string, extra: Record<string, unknown> = {}) => ({
  type: 'agent',
  agentId: 'writer',
  prompt,
  ...extra,
});
const succeed = { type: 'succeed' };
const branch = (steps: Record<string, unknown>) => ({ startAt: Object.keys(steps)[0], steps });
const choice = (path: string, next: string, otherwise?: string) => ({
  type: 'choice',
  choices: [{ when: { path, exists: true }, next }],
  ...(otherwise === undefined ? {} : { default: otherwise }),
});
const problem = (path: string, message: string): FieldProblem => ({ path, message });
const cycle = (ids: string) => `cycle ${ids} has no wait or approval step, so it could loop without pause`;
const notRun = (what: string, id: string) =>
  `${what}: step ${id} is not guaranteed to have run before this step`;

/** The problems `validateWorkflow` reports, [] when it accepts the definition. */
function problems(def: unknown): readonly FieldProblem[] {
  try {
    validateWorkflow(def, catalog);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
}

/** Forty agent steps in a row: reads across the 32-step boundary of the availability sets. */
function forty(): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < 40; i++) {
    const prompt =
      i === 39 ? '{{steps.s33.output}} {{steps.s0.output}}' : i === 20 ? '{{steps.s39.output}}' : 'x';
    steps[`s${i}`] = agent(prompt, i < 39 ? { next: `s${i + 1}` } : { end: true });
  }
  return steps;
}

const CASES: Array<[string, unknown, FieldProblem[]]> = [
  [
    'an empty branch, and its startAt naming no step',
    workflow({ p: { type: 'parallel', branches: [{ startAt: 'x', steps: {} }], end: true } }),
    [
      problem('steps.p.branches.0.steps', 'needs at least one step'),
      problem('steps.p.branches.0.startAt', 'unknown step x'),
    ],
  ],
  [
    'default and choices on a step that is not a choice are unknown fields, not transitions',
    workflow({ a: agent('x', { end: true, default: 'ghost', choices: [{ when: {}, next: 'ghost2' }] }) }),
    [problem('steps.a.default', 'unknown field'), problem('steps.a.choices', 'unknown field')],
  ],
  [
    'catch on a wait step is an unknown field, not a transition',
    workflow({
      w: { type: 'wait', seconds: 1, end: true, catch: [{ errors: ['States.ALL'], next: 'ghost' }] },
    }),
    [problem('steps.w.catch', 'unknown field')],
  ],
  [
    'an unknown startAt, and then no step is called unreachable',
    workflow({ a: agent('x', { next: 'b' }), b: succeed }, 'nope'),
    [problem('startAt', 'unknown step nope')],
  ],
  [
    'a startAt that is not a string: a schema problem, and no step is called unreachable',
    { name: 't', startAt: 5, steps: { a: succeed, b: succeed } },
    [problem('startAt', 'Invalid input: expected string, received number')],
  ],
  [
    'a cycle of three, named from its first step',
    workflow({
      a: agent('x', { next: 'b' }),
      b: agent('y', { next: 'c' }),
      c: choice('input.x', 'a', 'd'),
      d: succeed,
    }),
    [problem('steps.a', cycle('a → b → c → a'))],
  ],
  [
    'a cycle that does not include the start',
    workflow({
      s: agent('x', { next: 'c' }),
      c: choice('input.x', 'd', 'e'),
      d: agent('d', { next: 'c' }),
      e: succeed,
    }),
    [problem('steps.c', cycle('c → d → c'))],
  ],
  [
    'two cycles, each reported',
    workflow({
      a: agent('x', { next: 'b' }),
      b: choice('input.x', 'a', 'c'),
      c: { type: 'tool', toolId: 'weather', args: {}, next: 'd' },
      d: choice('input.y', 'c', 'e'),
      e: succeed,
    }),
    [problem('steps.c', cycle('c → d → c')), problem('steps.a', cycle('a → b → a'))],
  ],
  [
    'a cycle through a wait step',
    workflow({
      a: agent('x', { next: 'w' }),
      w: { type: 'wait', seconds: 5, next: 'b' },
      b: choice('input.x', 'a', 'e'),
      e: succeed,
    }),
    [],
  ],
  [
    'a cycle through a step of unknown type: refused by the schema, and still without a pause',
    workflow({ a: { type: 'bogus', next: 'b' }, b: agent('x', { next: 'a' }) }),
    [
      problem(
        'steps.a.type',
        "Invalid discriminator value. Expected 'agent' | 'tool' | 'choice' | 'parallel' | 'map' | 'approval' | 'wait' | 'succeed' | 'fail'",
      ),
      problem('steps.a', cycle('a → b → a')),
    ],
  ],
  // Each field is read the way its step type reads it (steps.ts, `reads`), and only when it has the
  // shape that way needs; the schema alone reports a field of the wrong shape.
  [
    'a map itemsPath is a path, not a template',
    workflow({ m: { type: 'map', itemsPath: '{{', iterator: branch({ i: succeed }), end: true } }),
    [problem('steps.m.itemsPath', 'path {{: unknown root "{{": use input., steps.')],
  ],
  [
    'a map itemsPath that is not a string',
    workflow({ m: { type: 'map', itemsPath: 42, iterator: branch({ i: succeed }), end: true } }),
    [problem('steps.m.itemsPath', 'Invalid input: expected string, received number')],
  ],
  [
    'an agent prompt that is not a string',
    workflow({ a: agent(42 as unknown as string, { end: true }) }),
    [problem('steps.a.prompt', 'Invalid input: expected string, received number')],
  ],
  [
    'an agent prompt that is an object is not read as args',
    workflow({ a: agent({ k: '{{' } as unknown as string, { end: true }) }),
    [problem('steps.a.prompt', 'Invalid input: expected string, received object')],
  ],
  [
    'tool args that are a string are not read as a template',
    workflow({ t: { type: 'tool', toolId: 'weather', args: '{{', end: true } }),
    [problem('steps.t.args', 'Invalid input: expected record, received string')],
  ],
  [
    'tool args that are a list are not read as choice rules',
    workflow({ t: { type: 'tool', toolId: 'weather', args: [{ when: { path: 'nope.x' } }], end: true } }),
    [problem('steps.t.args', 'Invalid input: expected record, received array')],
  ],
  [
    'an agent without agentId: required, and no catalog lookup of a missing id',
    workflow({ a: { type: 'agent', prompt: 'x', end: true } }),
    [problem('steps.a.agentId', 'required')],
  ],
  [
    'a choice without choices',
    workflow({ c: { type: 'choice', default: 'e' }, e: succeed }),
    [problem('steps.c.choices', 'required')],
  ],
  [
    'a choice rule without next is no transition',
    workflow({
      c: { type: 'choice', choices: [{ when: { path: 'input.x', exists: true } }], default: 'e' },
      e: succeed,
    }),
    [problem('steps.c.choices.0.next', 'required')],
  ],
  [
    'a choice that loops to itself',
    workflow({ c: choice('input.x', 'c', 'e'), e: succeed }),
    [problem('steps.c', cycle('c → c'))],
  ],
  ['a choice without a default', workflow({ c: choice('input.x', 'e'), e: succeed }), []],
  [
    'reads of steps without output: wait, parallel, choice, succeed',
    workflow({
      w: { type: 'wait', seconds: 1, next: 'p' },
      p: { type: 'parallel', branches: [branch({ x: succeed })], next: 'c' },
      c: {
        type: 'choice',
        choices: [{ when: { path: 'steps.w.output', exists: true }, next: 'a' }],
        default: 'a',
      },
      a: agent('{{steps.p.output}} {{steps.c.output}} {{steps.x.output}}', { end: true }),
    }),
    [
      problem('steps.c.choices.0.when.path', 'path steps.w.output: step w is a wait step and has no output'),
      problem('steps.a.prompt', 'template {{steps.p.output}}: step p is a parallel step and has no output'),
      problem('steps.a.prompt', 'template {{steps.c.output}}: step c is a choice step and has no output'),
      problem('steps.a.prompt', 'template {{steps.x.output}}: step x is a succeed step and has no output'),
    ],
  ],
  [
    'a branch step read after the parallel when the branch may skip it',
    workflow({
      p: {
        type: 'parallel',
        branches: [branch({ r: choice('input.x', 'x', 'y'), x: agent('x', { end: true }), y: succeed })],
        next: 'after',
      },
      after: agent('{{steps.x.output}}', { end: true }),
    }),
    [
      problem(
        'steps.after.prompt',
        'template {{steps.x.output}}: step x (in a branch of parallel p) is not guaranteed to have completed before this step',
      ),
    ],
  ],
  [
    'a branch step every successful end of its branch has run, beside a branch that only fails',
    workflow({
      p: {
        type: 'parallel',
        branches: [
          branch({
            r: choice('input.x', 'x', 'y'),
            x: agent('x', { next: 'z' }),
            y: agent('y', { next: 'z' }),
            z: agent('z', { end: true }),
          }),
          branch({ f: { type: 'fail', error: 'E' } }),
        ],
        next: 'after',
      },
      after: agent('{{steps.z.output}} {{steps.x.output}} {{steps.f.output}}', { end: true }),
    }),
    [
      problem(
        'steps.after.prompt',
        'template {{steps.x.output}}: step x (in a branch of parallel p) is not guaranteed to have completed before this step',
      ),
      problem('steps.after.prompt', 'template {{steps.f.output}}: step f is a fail step and has no output'),
    ],
  ],
  [
    'a nested iterator reads the outer iteration’s steps; after it, only the inner map’s output',
    workflow({
      m: {
        type: 'map',
        itemsPath: 'input.items',
        iterator: branch({
          i: agent('{{item}}', { next: 'n' }),
          n: {
            type: 'map',
            itemsPath: 'item.list',
            iterator: branch({ j: agent('{{steps.i.output.text}} {{item}}', { end: true }) }),
            next: 'k',
          },
          k: agent('{{steps.j.output}} {{steps.n.output}}', { end: true }),
        }),
        end: true,
      },
    }),
    [
      problem(
        'steps.m.iterator.steps.k.prompt',
        'template {{steps.j.output}}: step j runs inside the iterator of map n; outside it, read steps.n.output',
      ),
    ],
  ],
  [
    'tool args: reserved keys and templates at any depth, with their paths',
    workflow({
      t: {
        type: 'tool',
        toolId: 'weather',
        args: { list: ['{{bad}}', { 'k.$': 'x', inner: ['{{steps.t.output}}'] }] },
        end: true,
      },
    }),
    [
      problem('steps.t.args.list.1.k.$', 'keys ending in ".$" are reserved'),
      problem(
        'steps.t.args.list.1.inner.0',
        'template {{steps.t.output}}: a step cannot read its own output',
      ),
      problem('steps.t.args.list.0', 'template {{bad}}: unknown root "bad": use input., steps.'),
    ],
  ],
  [
    'condition paths inside or and and',
    workflow({
      c: {
        type: 'choice',
        choices: [
          {
            when: {
              or: [{ path: 'steps.ghost.output', exists: true }, { and: [{ path: 'item.x', exists: true }] }],
            },
            next: 'a',
          },
        ],
        default: 'a',
      },
      a: succeed,
    }),
    [
      problem(
        'steps.c.choices.0.when.or.1.and.0.path',
        'path item.x: item is only available inside a map iterator',
      ),
      problem('steps.c.choices.0.when.or.0.path', 'path steps.ghost.output reads unknown step ghost'),
    ],
  ],
  [
    'a catch handler reached also after the step succeeded still cannot read it',
    workflow({
      a: agent('a', { next: 'b' }),
      b: {
        type: 'tool',
        toolId: 'weather',
        args: {},
        catch: [{ errors: ['States.ALL'], next: 'h' }],
        next: 'c',
      },
      c: agent('{{steps.b.output}}', { next: 'h' }),
      h: agent('{{steps.a.output}} {{steps.b.output}}', { end: true }),
    }),
    [problem('steps.h.prompt', notRun('template {{steps.b.output}}', 'b'))],
  ],
  [
    'an approval’s catch handler cannot read the approval; its next step can',
    workflow({
      ok: { type: 'approval', catch: [{ errors: ['States.ALL'], next: 'h' }], next: 'done' },
      h: agent('{{steps.ok.output}}', { end: true }),
      done: agent('{{steps.ok.output.decision}}', { end: true }),
    }),
    [problem('steps.h.prompt', notRun('template {{steps.ok.output}}', 'ok'))],
  ],
  [
    'an iterator step reading a step after its map',
    workflow({
      m: {
        type: 'map',
        itemsPath: 'input.items',
        iterator: branch({ i: agent('{{steps.k.output}}', { end: true }) }),
        next: 'k',
      },
      k: agent('k', { end: true }),
    }),
    [problem('steps.m.iterator.steps.i.prompt', notRun('template {{steps.k.output}}', 'k'))],
  ],
  [
    'a branch step reading a step before its parallel, and one after it',
    workflow({
      a: agent('a', { next: 'p' }),
      p: {
        type: 'parallel',
        branches: [branch({ x: agent('{{steps.a.output}} {{steps.after.output}}', { end: true }) })],
        next: 'after',
      },
      after: agent('x', { end: true }),
    }),
    [problem('steps.p.branches.0.steps.x.prompt', notRun('template {{steps.after.output}}', 'after'))],
  ],
  [
    'a loop: a step read before it runs in the loop body, and after the loop',
    workflow({
      a: agent('a', { next: 'w' }),
      w: { type: 'wait', seconds: 1, next: 'b' },
      b: agent('{{steps.a.output}} {{steps.e.output}}', { next: 'e' }),
      e: agent('e', { next: 'c' }),
      c: {
        type: 'choice',
        choices: [{ when: { path: 'steps.e.output.again', exists: true }, next: 'w' }],
        default: 'd',
      },
      d: agent('{{steps.b.output}} {{steps.e.output}}', { end: true }),
    }),
    [problem('steps.b.prompt', notRun('template {{steps.e.output}}', 'e'))],
  ],
  [
    'reads across the 32nd step',
    workflow(forty(), 's0'),
    [problem('steps.s20.prompt', notRun('template {{steps.s39.output}}', 's39'))],
  ],
  [
    'an unreachable step: its reads of unknown steps and itself are still refused, but not of steps that may not have run',
    workflow({
      a: agent('a', { end: true }),
      orphan: agent('{{steps.a.output}} {{steps.zz.output}} {{steps.orphan.output}} {{item}}', { end: true }),
    }),
    [
      problem('steps.orphan', 'unreachable from startAt (a)'),
      problem('steps.orphan.prompt', 'template {{steps.zz.output}} reads unknown step zz'),
      problem('steps.orphan.prompt', 'template {{steps.orphan.output}}: a step cannot read its own output'),
      problem('steps.orphan.prompt', 'template {{item}}: item is only available inside a map iterator'),
    ],
  ],
  [
    'an unreachable step inside a branch',
    workflow({ p: { type: 'parallel', branches: [branch({ x: succeed, orphan: succeed })], end: true } }),
    [problem('steps.p.branches.0.steps.orphan', 'unreachable from startAt (x)')],
  ],
  [
    'an iterator step reusing an id of the workflow',
    workflow({
      a: agent('x', { next: 'm' }),
      m: { type: 'map', itemsPath: 'input.i', iterator: branch({ a: succeed }), end: true },
    }),
    [
      problem(
        'steps.m.iterator.steps.a',
        'step id a is also used at steps.a; ids must be unique in the whole workflow, branches and iterators included',
      ),
    ],
  ],
  [
    'a transition into a branch',
    workflow({
      a: agent('x', { next: 'x' }),
      p: { type: 'parallel', branches: [branch({ x: succeed })], end: true },
    }),
    [
      problem(
        'steps.a.next',
        'step x is in another branch or iterator (steps.p.branches.0.steps.x); transitions stay inside their own graph',
      ),
      problem('steps.p', 'unreachable from startAt (a)'),
    ],
  ],
  [
    'each step naming an unknown agent or tool, however often the same one',
    workflow({
      a: { type: 'agent', agentId: 'ghost', prompt: 'x', next: 'b' },
      b: { type: 'agent', agentId: 'ghost', prompt: 'x', next: 'c' },
      c: { type: 'tool', toolId: 'nope', args: {}, next: 'd' },
      d: { type: 'tool', toolId: 'nope', args: {}, end: true },
    }),
    [
      problem('steps.a.agentId', 'unknown agent ghost'),
      problem('steps.b.agentId', 'unknown agent ghost'),
      problem('steps.c.toolId', 'unknown tool nope'),
      problem('steps.d.toolId', 'unknown tool nope'),
    ],
  ],
  [
    'an itemsPath reading item outside an iterator, or an unknown root',
    workflow({
      m: { type: 'map', itemsPath: 'item.list', iterator: branch({ x: succeed }), next: 'n' },
      n: { type: 'map', itemsPath: 'nope', iterator: branch({ y: succeed }), end: true },
    }),
    [
      problem('steps.m.itemsPath', 'path item.list: item is only available inside a map iterator'),
      problem('steps.n.itemsPath', 'path nope: unknown root "nope": use input., steps.'),
    ],
  ],
];

/** Shapes only hostile or broken clients send: the schema names them, and the graph rules skip them. */
const ODD: Array<[string, unknown, FieldProblem[]]> = [
  [
    'steps that are a long string',
    { name: 't', startAt: 'a', steps: 'x'.repeat(600) },
    [
      problem('steps', 'Invalid input: expected record, received string'),
      problem('startAt', 'unknown step a'),
    ],
  ],
  [
    'no steps',
    { name: 't', startAt: 'a' },
    [problem('steps', 'required'), problem('startAt', 'unknown step a')],
  ],
  [
    'steps that are null, a string, a number',
    workflow({ a: agent('x', { next: 'b' }), b: null, c: 'x', d: 5 }, 'a'),
    [
      problem('steps.b', 'Invalid input: expected object, received null'),
      problem('steps.c', 'Invalid input: expected object, received string'),
      problem('steps.d', 'Invalid input: expected object, received number'),
      problem('steps.a.next', 'unknown step b'),
    ],
  ],
  [
    'branches, iterators, choices, conditions, args and catchers that are not objects',
    workflow({
      p: { type: 'parallel', branches: [null, 'x', { startAt: 'y', steps: { y: succeed } }], next: 'm' },
      m: { type: 'map', itemsPath: 'input.x', iterator: null, next: 'n' },
      n: { type: 'map', itemsPath: 'input.x', iterator: 'x', next: 'c' },
      c: {
        type: 'choice',
        choices: [
          null,
          'x',
          { when: null, next: 'd' },
          { when: 'x', next: 'd' },
          { when: { and: [null, 'x', { path: 'input.a', exists: true }], or: 'x', not: null }, next: 'd' },
        ],
        default: 'd',
      },
      d: { type: 'tool', toolId: 'weather', args: 'x', catch: [null, { errors: ['X'], next: 5 }], end: true },
    }),
    [
      problem('steps.p.branches.0', 'Invalid input: expected object, received null'),
      problem('steps.p.branches.1', 'Invalid input: expected object, received string'),
      problem('steps.m.iterator', 'Invalid input: expected object, received null'),
      problem('steps.n.iterator', 'Invalid input: expected object, received string'),
      problem('steps.c.choices.0', 'Invalid input: expected object, received null'),
      problem('steps.c.choices.1', 'Invalid input: expected object, received string'),
      problem('steps.c.choices.2.when', 'must be a condition object'),
      problem('steps.c.choices.3.when', 'must be a condition object'),
      problem('steps.c.choices.4.when.or', 'unknown field'),
      problem('steps.c.choices.4.when.not', 'unknown field'),
      problem('steps.c.choices.4.when.and.0', 'must be a condition object'),
      problem('steps.c.choices.4.when.and.1', 'must be a condition object'),
      problem('steps.d.args', 'Invalid input: expected record, received string'),
      problem('steps.d.catch.0', 'Invalid input: expected object, received null'),
      problem('steps.d.catch.1.next', 'Invalid input: expected string, received number'),
    ],
  ],
  [
    'the start of a loop reading a step of the loop',
    workflow({
      a: agent('{{steps.b.output}}', { next: 'w' }),
      w: { type: 'wait', seconds: 1, next: 'b' },
      b: agent('b', { next: 'c' }),
      c: choice('input.x', 'a', 'e'),
      e: succeed,
    }),
    [problem('steps.a.prompt', notRun('template {{steps.b.output}}', 'b'))],
  ],
];

describe('odd shapes', () => {
  it.each(ODD)('%s', (_name, def, expected) => {
    // Act
    const found = problems(def);

    // Assess
    expect(found).toEqual(expected);
  });
});

describe('exact problems', () => {
  it.each(CASES)('%s', (_name, def, expected) => {
    // Act
    const found = problems(def);

    // Assess
    expect(found).toEqual(expected);
  });
});

describe('the error', () => {
  it('names the first problem and counts the others', () => {
    // Act
    let error: unknown;
    try {
      validateWorkflow(workflow({ a: agent('{{x}} {{y}} {{z}}', { end: true }) }), catalog);
    } catch (e) {
      error = e;
    }

    // Assess
    expect((error as Error).message).toBe(
      'Invalid workflow: steps.a.prompt: template {{x}}: unknown root "x": use input., steps. (and 2 more)',
    );
  });

  it('names one problem alone, and the definition itself when the problem has no path', () => {
    // Act
    const one = (() => {
      try {
        validateWorkflow(workflow({ a: agent('{{x}}', { end: true }) }), catalog);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const root = (() => {
      try {
        validateWorkflow('x', catalog);
      } catch (e) {
        return (e as Error).message;
      }
    })();

    // Assess
    expect(one).toBe(
      'Invalid workflow: steps.a.prompt: template {{x}}: unknown root "x": use input., steps.',
    );
    expect(root).toBe('Invalid workflow: definition: Invalid input: expected object, received string');
  });

  it('returns the parsed definition when there is no problem', () => {
    // Prepare
    const def = workflow({ a: agent('{{input.x}}', { end: true }) });

    // Act
    const parsed = validateWorkflow(def, catalog);

    // Assess
    expect(parsed).toEqual(def);
  });
});

describe('the catalog', () => {
  it('asks about each agent and tool once', () => {
    // Prepare
    const asked: string[] = [];
    const counting = {
      agentExists: (id: string) => {
        asked.push(`agent ${id}`);
        return id === 'writer';
      },
      toolExists: (id: string) => {
        asked.push(`tool ${id}`);
        return false;
      },
    };
    const def = workflow({
      a: { type: 'agent', agentId: 'writer', prompt: 'x', next: 'b' },
      b: { type: 'agent', agentId: 'writer', prompt: 'x', next: 'c' },
      c: { type: 'tool', toolId: 'weather', args: {}, next: 'd' },
      d: { type: 'tool', toolId: 'weather', args: {}, end: true },
    });

    // Act
    let found: readonly FieldProblem[] = [];
    try {
      validateWorkflow(def, counting);
    } catch (e) {
      found = (e as ValidationError).problems;
    }

    // Assess
    expect(asked).toEqual(['agent writer', 'tool weather']);
    expect(found).toEqual([
      problem('steps.c.toolId', 'unknown tool weather'),
      problem('steps.d.toolId', 'unknown tool weather'),
    ]);
  });
});

describe('more rules', () => {
  it('wants next or end on tool, parallel, map, approval and wait steps too', () => {
    // Prepare
    const def = workflow({
      t: { type: 'tool', toolId: 'weather', args: {} },
      p: { type: 'parallel', branches: [branch({ b: succeed })] },
      m: { type: 'map', itemsPath: 'input.x', iterator: branch({ i: succeed }) },
      a: { type: 'approval' },
      w: { type: 'wait', seconds: 1 },
    });

    // Act
    const found = problems(def).filter((p) => p.message === 'needs "next" or "end": true');

    // Assess
    expect(found.map((p) => p.path)).toEqual(['steps.t', 'steps.p', 'steps.m', 'steps.a', 'steps.w']);
  });

  it('finds a step not guaranteed on a longer path that joins later (availability needs a second pass)', () => {
    // Prepare: breadth-first, n is met from a before p is; only the second pass sees p's side.
    const def = workflow({
      s: choice('input.x', 'a', 'b'),
      a: agent('a', { next: 'n' }),
      b: agent('b', { next: 'p' }),
      p: agent('p', { next: 'n' }),
      n: agent('{{steps.a.output}}', { end: true }),
    });

    // Act
    const found = problems(def);

    // Assess
    expect(found).toEqual([problem('steps.n.prompt', notRun('template {{steps.a.output}}', 'a'))]);
  });

  it('stops walking branches once 20 structure problems are found', () => {
    // Prepare: 25 branches, each with a condition nested too deep.
    let deep: unknown = { path: 'input.x', exists: true };
    for (let d = 1; d < 17; d++) deep = { not: deep };
    const def = workflow({
      p: {
        type: 'parallel',
        branches: Array.from({ length: 25 }, (_, i) =>
          branch({
            [`c${i}`]: { type: 'choice', choices: [{ when: deep, next: `e${i}` }] },
            [`e${i}`]: succeed,
          }),
        ),
        end: true,
      },
    });

    // Act
    const found = problems(def);

    // Assess
    expect(found).toHaveLength(20);
    expect(new Set(found.map((p) => p.message))).toEqual(new Set(['conditions nest at most 16 levels']));
  });
});
