/**
 * Workflow validation: every rule shown firing with its path, valid shapes accepted, and all
 * problems reported at once.
 */
import { describe, expect, it } from 'vitest';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { catalog, EXAMPLES, problemsOf, workflow } from './fixtures.ts';

const agent = (prompt: string, extra: Record<string, unknown> = {}) => ({
  type: 'agent',
  agentId: 'writer',
  prompt,
  ...extra,
});
const tool = (args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'tool',
  toolId: 'weather',
  args,
  ...extra,
});
const succeed = { type: 'succeed' };
const branch = (steps: Record<string, unknown>) => ({ startAt: Object.keys(steps)[0], steps });

interface RuleCase {
  readonly rule: string;
  readonly def: unknown;
  readonly path: string;
  readonly message: RegExp;
}

const RULES: RuleCase[] = [
  {
    rule: 'unknown fields are rejected',
    def: workflow({ a: agent('x', { end: true, colour: 'red' }) }),
    path: 'steps.a.colour',
    message: /unknown field/,
  },
  {
    rule: 'a missing required field is named',
    def: workflow({ a: { type: 'agent', prompt: 'x', end: true } }),
    path: 'steps.a.agentId',
    message: /^required$/,
  },
  {
    rule: 'step ids follow the pattern',
    def: workflow({ a: agent('x', { next: '1b' }), '1b': succeed }),
    path: 'steps.1b',
    message: /invalid key: must start with a letter/,
  },
  {
    rule: 'the step type must be known',
    def: workflow({ a: { type: 'sleep' } }),
    path: 'steps.a.type',
    message: /Invalid discriminator value/,
  },
  {
    rule: 'startAt is required',
    def: { name: 'x', steps: { a: succeed } },
    path: 'startAt',
    message: /^required$/,
  },
  {
    rule: 'startAt must name a step',
    def: workflow({ a: succeed }, 'nope'),
    path: 'startAt',
    message: /unknown step nope/,
  },
  {
    rule: 'next must name a step',
    def: workflow({ a: agent('x', { next: 'ghost' }) }),
    path: 'steps.a.next',
    message: /unknown step ghost/,
  },
  {
    rule: 'a choice next must name a step',
    def: workflow({
      c: { type: 'choice', choices: [{ when: { path: 'input.x', exists: true }, next: 'ghost' }] },
    }),
    path: 'steps.c.choices.0.next',
    message: /unknown step ghost/,
  },
  {
    rule: 'a choice default must name a step',
    def: workflow({
      c: {
        type: 'choice',
        choices: [{ when: { path: 'input.x', exists: true }, next: 'a' }],
        default: 'ghost',
      },
      a: succeed,
    }),
    path: 'steps.c.default',
    message: /unknown step ghost/,
  },
  {
    rule: 'a catch next must name a step',
    def: workflow({ a: agent('x', { end: true, catch: [{ errors: ['States.ALL'], next: 'ghost' }] }) }),
    path: 'steps.a.catch.0.next',
    message: /unknown step ghost/,
  },
  {
    rule: 'transitions stay inside their branch',
    def: workflow({
      p: { type: 'parallel', branches: [branch({ x: agent('x', { next: 'done' }) })], next: 'done' },
      done: succeed,
    }),
    path: 'steps.p.branches.0.steps.x.next',
    message: /step done is in another branch or iterator/,
  },
  {
    rule: 'every step must be reachable from startAt',
    def: workflow({ a: agent('x', { end: true }), orphan: succeed }),
    path: 'steps.orphan',
    message: /unreachable from startAt \(a\)/,
  },
  {
    rule: 'a step needs next or end',
    def: workflow({ a: agent('x') }),
    path: 'steps.a',
    message: /needs "next" or "end": true/,
  },
  {
    rule: 'a step cannot have both next and end',
    def: workflow({ a: agent('x', { next: 'b', end: true }), b: succeed }),
    path: 'steps.a.end',
    message: /has both "next" and "end"/,
  },
  {
    rule: 'a cycle needs a wait or approval step',
    def: workflow({
      a: agent('x', { next: 'b' }),
      b: {
        type: 'choice',
        choices: [{ when: { path: 'input.again', equals: true }, next: 'a' }],
        default: 'done',
      },
      done: succeed,
    }),
    path: 'steps.a',
    message: /cycle a → b → a has no wait or approval step/,
  },
  {
    rule: 'a self-loop is a cycle too',
    def: workflow({ a: tool({}, { next: 'a' }) }),
    path: 'steps.a',
    message: /cycle a → a/,
  },
  {
    rule: 'agents must exist',
    def: workflow({ a: { type: 'agent', agentId: 'ghost', prompt: 'x', end: true } }),
    path: 'steps.a.agentId',
    message: /unknown agent ghost/,
  },
  {
    rule: 'tools must exist',
    def: workflow({ t: { type: 'tool', toolId: 'ghost', args: {}, end: true } }),
    path: 'steps.t.toolId',
    message: /unknown tool ghost/,
  },
  {
    rule: 'a template cannot read a step that runs on only some paths',
    def: workflow({
      route: {
        type: 'choice',
        choices: [{ when: { path: 'input.left', equals: true }, next: 'x' }],
        default: 'y',
      },
      x: agent('x', { next: 'join' }),
      y: agent('y', { next: 'join' }),
      join: agent('{{steps.x.output.text}}', { end: true }),
    }),
    path: 'steps.join.prompt',
    message: /step x is not guaranteed to have run before this step/,
  },
  {
    rule: 'a template cannot read a later step',
    def: workflow({ a: agent('{{steps.b.output.text}}', { next: 'b' }), b: agent('b', { end: true }) }),
    path: 'steps.a.prompt',
    message: /step b is not guaranteed to have run/,
  },
  {
    rule: 'a step cannot read itself',
    def: workflow({ a: agent('{{steps.a.output.text}}', { end: true }) }),
    path: 'steps.a.prompt',
    message: /cannot read its own output/,
  },
  {
    rule: 'a catch handler cannot read the step that failed',
    def: workflow({
      a: tool({}, { next: 'done', catch: [{ errors: ['States.ALL'], next: 'h' }] }),
      h: agent('{{steps.a.output.text}}', { end: true }),
      done: succeed,
    }),
    path: 'steps.h.prompt',
    message: /step a is not guaranteed to have run/,
  },
  {
    rule: 'branches cannot read each other',
    def: workflow({
      p: {
        type: 'parallel',
        branches: [
          branch({ x: agent('x', { end: true }) }),
          branch({ y: agent('{{steps.x.output.text}}', { end: true }) }),
        ],
        end: true,
      },
    }),
    path: 'steps.p.branches.1.steps.y.prompt',
    message: /step x runs in another branch of parallel p/,
  },
  {
    rule: 'iterator steps are not visible after the map',
    def: workflow({
      m: {
        type: 'map',
        itemsPath: 'input.items',
        iterator: branch({ one: agent('{{item}}', { end: true }) }),
        next: 'after',
      },
      after: agent('{{steps.one.output.text}}', { end: true }),
    }),
    path: 'steps.after.prompt',
    message: /step one runs inside the iterator of map m; outside it, read steps.m.output/,
  },
  {
    rule: 'item exists only inside map iterators',
    def: workflow({ a: agent('{{item.city}}', { end: true }) }),
    path: 'steps.a.prompt',
    message: /item is only available inside a map iterator/,
  },
  {
    rule: 'a condition path cannot read a step that has not run',
    def: workflow({
      c: {
        type: 'choice',
        choices: [{ when: { not: { path: 'steps.later.output.ok', equals: true } }, next: 'later' }],
        default: 'done',
      },
      later: agent('x', { next: 'done' }),
      done: succeed,
    }),
    path: 'steps.c.choices.0.when.not.path',
    message: /step later is not guaranteed to have run/,
  },
  {
    rule: 'itemsPath cannot read a step that has not run',
    def: workflow({
      m: {
        type: 'map',
        itemsPath: 'steps.later.output.items',
        iterator: branch({ one: succeed }),
        next: 'later',
      },
      later: agent('x', { end: true }),
    }),
    path: 'steps.m.itemsPath',
    message: /step later is not guaranteed to have run/,
  },
  {
    rule: 'steps without output cannot be read',
    def: workflow({
      w: { type: 'wait', seconds: 1, next: 'a' },
      a: agent('{{steps.w.output}}', { end: true }),
    }),
    path: 'steps.a.prompt',
    message: /step w is a wait step and has no output/,
  },
  {
    rule: 'templates must be terminated',
    def: workflow({ a: agent('Hello {{input.name', { end: true }) }),
    path: 'steps.a.prompt',
    message: /malformed template: unterminated "\{\{" at offset 6/,
  },
  {
    rule: 'templates need a known root',
    def: workflow({ a: agent('{{secrets.key}}', { end: true }) }),
    path: 'steps.a.prompt',
    message: /template \{\{secrets.key\}\}: unknown root "secrets"/,
  },
  {
    rule: 'step templates read steps.<id>.output',
    def: workflow({ b: agent('b', { next: 'a' }), a: agent('{{steps.b.text}}', { end: true }) }),
    path: 'steps.a.prompt',
    message: /expected steps.b.output/,
  },
  {
    rule: 'templates name existing steps',
    def: workflow({ a: agent('{{steps.ghost.output}}', { end: true }) }),
    path: 'steps.a.prompt',
    message: /reads unknown step ghost/,
  },
  {
    rule: 'templates inside nested tool args are checked, with their path',
    def: workflow({ t: tool({ deep: [{ q: '{{nope}}' }] }, { end: true }) }),
    path: 'steps.t.args.deep.0.q',
    message: /unknown root "nope"/,
  },
  {
    rule: 'tool args cannot use keys ending in .$',
    def: workflow({ t: tool({ 'x.$': '$.input' }, { end: true }) }),
    path: 'steps.t.args.x.$',
    message: /reserved/,
  },
  {
    rule: 'inputSchema must describe an object',
    def: workflow({ a: succeed }, 'a', { inputSchema: { type: 'string' } }),
    path: 'inputSchema.type',
    message: /must be "object"/,
  },
  {
    rule: 'inputSchema must compile (JSON Schema 2020-12)',
    def: workflow({ a: succeed }, 'a', {
      inputSchema: { type: 'object', properties: { x: { type: 'strnig' } } },
    }),
    path: 'inputSchema',
    message: /invalid JSON Schema: schema is invalid/,
  },
  {
    rule: 'step ids are unique across branches',
    def: workflow({
      p: { type: 'parallel', branches: [branch({ x: succeed }), branch({ x: succeed })], end: true },
    }),
    path: 'steps.p.branches.1.steps.x',
    message: /step id x is also used at steps.p.branches.0.steps.x/,
  },
  {
    rule: 'States.ALL must be the last catcher',
    def: workflow({
      a: tool(
        {},
        {
          end: true,
          catch: [
            { errors: ['States.ALL'], next: 'h' },
            { errors: ['X'], next: 'h' },
          ],
        },
      ),
      h: succeed,
    }),
    path: 'steps.a.catch.0.errors',
    message: /must be the last/,
  },
  {
    rule: 'a condition has exactly one operator',
    def: workflow({
      c: { type: 'choice', choices: [{ when: { path: 'input.x', equals: 1, exists: true }, next: 'a' }] },
      a: succeed,
    }),
    path: 'steps.c.choices.0.when',
    message: /needs exactly one of .*found 2/,
  },
  {
    rule: 'a condition operand has the right type',
    def: workflow({
      c: { type: 'choice', choices: [{ when: { path: 'input.x', greaterThan: true }, next: 'a' }] },
      a: succeed,
    }),
    path: 'steps.c.choices.0.when.greaterThan',
    message: /must be a number or a string/,
  },
  {
    rule: 'a graph has at least one step',
    def: { name: 'x', startAt: 'a', steps: {} },
    path: 'steps',
    message: /needs at least one step/,
  },
  {
    rule: 'a parallel has at most 10 branches (nested JsonMerge limit)',
    def: workflow({
      p: {
        type: 'parallel',
        branches: Array.from({ length: 11 }, (_, i) => branch({ [`b${i}`]: succeed })),
        end: true,
      },
    }),
    path: 'steps.p.branches',
    message: /<=10/,
  },
];

describe.each(RULES)('rule: $rule', ({ def, path, message }) => {
  it(`reports ${path}`, () => {
    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe.each([
  { field: 'maxAttempts', value: 11 },
  { field: 'maxAttempts', value: -1 },
  { field: 'intervalSeconds', value: 0 },
  { field: 'intervalSeconds', value: 3601 },
  { field: 'backoffRate', value: 0.5 },
  { field: 'backoffRate', value: 11 },
  { field: 'maxDelaySeconds', value: 0 },
  { field: 'maxDelaySeconds', value: 86_401 },
])('retry.$field = $value', ({ field, value }) => {
  it('is out of range', () => {
    // Prepare
    const def = workflow({ a: agent('x', { end: true, retry: { maxAttempts: 1, [field]: value } }) });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toContainEqual({
      path: `steps.a.retry.${field}`,
      message: expect.stringMatching(/Too (big|small)/),
    });
  });
});

describe.each([
  { where: 'agent', step: agent('x', { end: true, timeoutSeconds: 0 }), path: 'steps.s.timeoutSeconds' },
  { where: 'agent', step: agent('x', { end: true, timeoutSeconds: 86_401 }), path: 'steps.s.timeoutSeconds' },
  { where: 'wait', step: { type: 'wait', seconds: 0, end: true }, path: 'steps.s.seconds' },
  {
    where: 'map',
    step: {
      type: 'map',
      itemsPath: 'input.x',
      maxConcurrency: 41,
      iterator: branch({ i: succeed }),
      end: true,
    },
    path: 'steps.s.maxConcurrency',
  },
])('$where numbers', ({ step, path }) => {
  it(`refuses ${path} out of range`, () => {
    // Act
    const problems = problemsOf(() => validateWorkflow(workflow({ s: step }), catalog));

    // Assess
    expect(problems.map((p) => p.path)).toContain(path);
  });
});

describe('valid shapes', () => {
  it.each(Object.entries(EXAMPLES))('accepts the %s example', (_name, def) => {
    // Act
    const parsed = validateWorkflow(def, catalog);

    // Assess
    expect(parsed).toEqual(def);
  });

  describe.each([
    {
      shape: 'a step that runs on every path before the reader (diamond)',
      def: workflow({
        a: agent('a', { next: 'route' }),
        route: {
          type: 'choice',
          choices: [{ when: { path: 'input.l', equals: 1 }, next: 'x' }],
          default: 'y',
        },
        x: agent('{{steps.a.output.text}}', { next: 'join' }),
        y: agent('y', { next: 'join' }),
        join: agent('{{steps.a.output.text}}', { end: true }),
      }),
    },
    {
      shape: 'a branch reading a step before the parallel, and a step after it reading branch outputs',
      def: workflow({
        a: agent('a', { next: 'p' }),
        p: {
          type: 'parallel',
          branches: [
            branch({
              x: agent('{{steps.a.output.text}}', { next: 'x2' }),
              x2: agent('{{steps.x.output.text}}', { end: true }),
            }),
            branch({ y: agent('{{steps.a.output.text}}', { end: true }) }),
          ],
          next: 'after',
        },
        after: agent('{{steps.x2.output.text}} {{steps.y.output.text}}', { end: true }),
      }),
    },
    {
      shape: 'a catch handler reading what ran before the failing step',
      def: workflow({
        a: agent('a', { next: 'b' }),
        b: tool({}, { end: true, catch: [{ errors: ['States.ALL'], next: 'h' }] }),
        h: agent('{{steps.a.output.text}}', { end: true }),
      }),
    },
    {
      shape: 'a map reading items and outer steps, then its own output',
      def: workflow({
        a: agent('a', { next: 'm' }),
        m: {
          type: 'map',
          itemsPath: 'steps.a.output.data.list',
          iterator: branch({ one: agent('{{item.name}} {{steps.a.output.text}}', { end: true }) }),
          next: 'after',
        },
        after: agent('{{steps.m.output.0.one.output.text}}', { end: true }),
      }),
    },
    {
      shape: 'a cycle through an approval',
      def: workflow({
        draft: agent('d', { next: 'review' }),
        review: { type: 'approval', next: 'decide' },
        decide: {
          type: 'choice',
          choices: [{ when: { path: 'steps.review.output.decision', equals: 'reject' }, next: 'draft' }],
          default: 'done',
        },
        done: succeed,
      }),
    },
    {
      shape: 'templates with spaces and array indexes',
      def: workflow({ a: agent('{{ input.list.0.name }} and {{input}}', { end: true }) }),
    },
  ])('$shape', ({ def }) => {
    it('is accepted', () => {
      // Act
      const act = () => validateWorkflow(def, catalog);

      // Assess
      expect(act).not.toThrow();
    });
  });
});

describe('all problems at once', () => {
  it('reports every problem of a definition in one error, each with its path', () => {
    // Prepare
    const def = {
      name: 'broken',
      startAt: 'a',
      colour: 'blue',
      steps: {
        a: {
          type: 'agent',
          agentId: 'ghost',
          prompt: 'Hi {{input.name',
          retry: { maxAttempts: 99 },
          next: 'b',
        },
        b: { type: 'tool', toolId: 'weather', args: { q: '{{steps.c.output.text}}' } },
        c: { type: 'succeed' },
        orphan: { type: 'wait', seconds: 5, end: true },
      },
    };

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'colour',
        'steps.a.agentId',
        'steps.a.prompt',
        'steps.a.retry.maxAttempts',
        'steps.b',
        'steps.b.args.q',
        'steps.c',
        'steps.orphan',
      ].sort(),
    );
  });
});

describe('a definition that is not an object', () => {
  // A JSON body of `null` (or none) reaches the validator as it is: it is refused as invalid, not
  // crashed on by the graph rules, which read the raw definition's fields.
  it.each([
    ['null', null, 'Invalid input: expected object, received null'],
    ['no definition', undefined, 'required'],
    ['an array', [], 'Invalid input: expected object, received array'],
    ['a number', 7, 'Invalid input: expected object, received number'],
    ['a boolean', true, 'Invalid input: expected object, received boolean'],
  ])('refuses %s with one problem at the root', (_name, def, message) => {
    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toEqual([{ path: '', message }]);
  });
});
