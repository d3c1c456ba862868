/**
 * Limits, checked before anything else so hostile definitions are refused fast. Timings here are
 * guards (an order of magnitude of headroom), not benchmarks.
 */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '#core/errors.ts';
import { validateWorkflow, WORKFLOW_LIMITS } from '#core/workflows/validate.ts';
import { catalog, problemsOf, workflow } from './fixtures.ts';

const FAST_MS = 100;

function timed<T>(act: () => T): { ms: number; error: unknown } {
  const started = performance.now();
  let error: unknown;
  try {
    act();
  } catch (e) {
    error = e;
  }
  return { ms: performance.now() - started, error };
}

/** A valid workflow of one tool step whose args hold `filler`, serialized to exactly `bytes` bytes. */
function workflowOfSize(bytes: number, char = 'x'): unknown {
  const base = workflow({ t: { type: 'tool', toolId: 'weather', args: { pad: '' }, end: true } });
  const baseBytes = new TextEncoder().encode(JSON.stringify(base)).byteLength;
  const charBytes = new TextEncoder().encode(char).byteLength;
  const pad = char.repeat(Math.floor((bytes - baseBytes) / charBytes));
  return workflow({ t: { type: 'tool', toolId: 'weather', args: { pad }, end: true } });
}

function manySteps(count: number): unknown {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < count; i++)
    steps[`s${i}`] = i + 1 < count ? { type: 'wait', seconds: 1, next: `s${i + 1}` } : { type: 'succeed' };
  return workflow(steps, 's0');
}

function nestedParallels(depth: number): unknown {
  let graph: { startAt: string; steps: Record<string, unknown> } = {
    startAt: 'leaf',
    steps: { leaf: { type: 'succeed' } },
  };
  for (let d = depth; d >= 1; d--) {
    graph = { startAt: `p${d}`, steps: { [`p${d}`]: { type: 'parallel', branches: [graph], end: true } } };
  }
  return { name: 'nested', ...graph };
}

function nestedCondition(depth: number): unknown {
  let condition: unknown = { path: 'input.x', exists: true };
  for (let d = 1; d < depth; d++) condition = { not: condition };
  return workflow({
    c: { type: 'choice', choices: [{ when: condition, next: 'a' }] },
    a: { type: 'succeed' },
  });
}

describe('size', () => {
  it('refuses a definition over 1 MB with PayloadTooLargeError, fast', () => {
    // Prepare
    const def = workflowOfSize(WORKFLOW_LIMITS.maxBytes + 1);

    // Act
    const { ms, error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('accepts a definition of exactly 1 MB', () => {
    // Prepare
    const def = workflowOfSize(WORKFLOW_LIMITS.maxBytes);

    // Act
    const act = () => validateWorkflow(def, catalog);

    // Assess
    expect(new TextEncoder().encode(JSON.stringify(def)).byteLength).toBe(WORKFLOW_LIMITS.maxBytes);
    expect(act).not.toThrow();
  });

  it('counts UTF-8 bytes, not characters', () => {
    // Prepare: 0.6 M two-byte characters are 1.2 MB.
    const def = workflowOfSize(1_200_000, 'é');

    // Act
    const { error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it('refuses a 5 MB array of numbers fast', () => {
    // Prepare
    const def = workflow({
      t: { type: 'tool', toolId: 'weather', args: { n: new Array(2_500_000).fill(1) }, end: true },
    });

    // Act
    const { ms, error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe('step count', () => {
  it('refuses 10,000 steps in well under 100 ms', () => {
    // Prepare
    const def = manySteps(10_000);

    // Act
    const { ms, error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      { path: 'steps', message: 'more than 500 steps (counting those inside branches and iterators)' },
    ]);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it.each([
    { count: 500, refused: false },
    { count: 501, refused: true },
  ])('with $count steps refused=$refused', ({ count, refused }) => {
    // Act
    const { error } = timed(() => validateWorkflow(manySteps(count), catalog));

    // Assess
    expect(error === undefined).toBe(!refused);
  });

  it('counts steps inside branches', () => {
    // Prepare
    const inner: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++)
      inner[`b${i}`] = i < 499 ? { type: 'wait', seconds: 1, next: `b${i + 1}` } : { type: 'succeed' };
    const def = workflow({ p: { type: 'parallel', branches: [{ startAt: 'b0', steps: inner }], end: true } });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toEqual([{ path: 'steps', message: expect.stringMatching(/more than 500 steps/) }]);
  });
});

describe('nesting', () => {
  it.each([
    { depth: 8, refused: false },
    { depth: 9, refused: true },
  ])('parallel nesting $depth deep refused=$refused', ({ depth, refused }) => {
    // Act
    const { error } = timed(() => validateWorkflow(nestedParallels(depth), catalog));

    // Assess
    if (!refused) expect(error).toBeUndefined();
    else {
      expect((error as ValidationError).problems).toEqual([
        {
          path: 'steps.p1.branches.0.steps.p2.branches.0.steps.p3.branches.0.steps.p4.branches.0.steps.p5.branches.0.steps.p6.branches.0.steps.p7.branches.0.steps.p8.branches.0.steps.p9',
          message: 'parallel and map steps nest at most 8 levels',
        },
      ]);
    }
  });

  it.each([
    { depth: 16, refused: false },
    { depth: 17, refused: true },
  ])('condition nesting $depth deep refused=$refused', ({ depth, refused }) => {
    // Act
    const { error } = timed(() => validateWorkflow(nestedCondition(depth), catalog));

    // Assess
    if (!refused) expect(error).toBeUndefined();
    else {
      expect((error as ValidationError).problems).toEqual([
        { path: `steps.c.choices.0.when${'.not'.repeat(16)}`, message: 'conditions nest at most 16 levels' },
      ]);
    }
  });

  it('refuses JSON nested 100,000 deep fast, without overflowing the stack', () => {
    // Prepare
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const def = workflow({ t: { type: 'tool', toolId: 'weather', args: { deep }, end: true } });

    // Act
    const { ms, error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems[0]).toEqual({
      path: expect.stringMatching(/^steps\.t\.args\.deep(\.d)+$/),
      message: `nested deeper than ${WORKFLOW_LIMITS.maxJsonDepth} levels`,
    });
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe('reserved keys', () => {
  it('refuses a __proto__ key anywhere (a plain object would drop it silently)', () => {
    // Prepare
    const args = JSON.parse('{"city": "Oslo", "nested": {"__proto__": {"polluted": true}}}') as Record<
      string,
      unknown
    >;
    const def = workflow({ t: { type: 'tool', toolId: 'weather', args, end: true } });

    // Act
    const problems = problemsOf(() => validateWorkflow(def, catalog));

    // Assess
    expect(problems).toEqual([{ path: 'steps.t.args.nested.__proto__', message: 'reserved key' }]);
  });
});

describe('templates per string', () => {
  it.each([
    { count: 100, refused: false },
    { count: 101, refused: true },
  ])('$count templates in one prompt refused=$refused', ({ count, refused }) => {
    // Prepare
    const def = workflow({
      a: { type: 'agent', agentId: 'writer', prompt: '{{input.x}} '.repeat(count), end: true },
    });

    // Act
    const { error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    if (!refused) expect(error).toBeUndefined();
    else
      expect((error as ValidationError).problems).toEqual([
        { path: 'steps.a.prompt', message: 'more than 100 templates in one string' },
      ]);
  });

  it('refuses a huge template count fast', () => {
    // Prepare
    const def = workflow({
      a: { type: 'agent', agentId: 'writer', prompt: '{{'.repeat(400_000), end: true },
    });

    // Act
    const { ms, error } = timed(() => validateWorkflow(def, catalog));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(ms).toBeLessThan(FAST_MS);
  });
});
