/**
 * The step-type table and the one walk over nested graphs (functions/core/workflows/steps.ts): the
 * traits each type has (docs/api.md, "Definitions"), raw input read tolerantly, both walk orders,
 * paths, depths, owners, and a walk skipped or stopped by its visitor.
 */
import { describe, expect, it } from 'vitest';
import { STEP_TYPES } from '#core/workflows/model.ts';
import {
  childGraphs,
  type GraphVisit,
  STEP_TRAITS,
  type StepVisit,
  traitsOf,
  walkGraphs,
} from '#core/workflows/steps.ts';

describe('STEP_TRAITS', () => {
  it('has an entry for every step type and none else', () => {
    // Assess
    expect(Object.keys(STEP_TRAITS).sort()).toEqual([...STEP_TYPES].sort());
  });

  it.each([
    // type, transitions, output, pauses, catches
    ['agent', 'next', true, false, true],
    ['tool', 'next', true, false, true],
    ['choice', 'choices', false, false, false],
    ['parallel', 'next', false, false, false],
    ['map', 'next', true, false, false],
    ['approval', 'next', true, true, true],
    ['wait', 'next', false, true, false],
    ['succeed', 'succeed', false, false, false],
    ['fail', 'fail', false, false, false],
  ] as const)(
    '%s: leaves by %s, output %s, pauses %s, catches %s',
    (type, transitions, output, pauses, catches) => {
      // Act
      const traits = traitsOf(type);

      // Assess
      expect(traits).toMatchObject({ transitions, output, pauses, catches });
    },
  );

  it('names the nested graphs, data reads and catalog entries of the types that have them', () => {
    // Act
    const pick = (key: 'children' | 'reads' | 'catalog') =>
      Object.fromEntries(
        STEP_TYPES.flatMap((type) => (traitsOf(type)?.[key] ? [[type, traitsOf(type)?.[key]]] : [])),
      );

    // Assess
    expect(pick('children')).toEqual({
      parallel: { kind: 'branch', field: 'branches' },
      map: { kind: 'iterator', field: 'iterator' },
    });
    expect(pick('reads')).toEqual({
      agent: { field: 'prompt', as: 'template' },
      tool: { field: 'args', as: 'args' },
      choice: { field: 'choices', as: 'conditions' },
      map: { field: 'itemsPath', as: 'path' },
    });
    expect(pick('catalog')).toEqual({
      agent: { kind: 'agent', field: 'agentId' },
      tool: { kind: 'tool', field: 'toolId' },
    });
  });

  it('knows no other type, not even the names on every object', () => {
    // Assess
    for (const type of ['bogus', 'constructor', 'toString', '__proto__', '', 42, undefined, null]) {
      expect(traitsOf(type)).toBeUndefined();
    }
  });
});

describe('childGraphs', () => {
  const graph = { startAt: 'a', steps: {} };

  it('lists a parallel branches and a map iterator with their places', () => {
    // Assess
    expect(childGraphs({ type: 'parallel', branches: [graph, graph] })).toEqual([
      { kind: 'branch', at: 'branches.0', holder: graph },
      { kind: 'branch', at: 'branches.1', holder: graph },
    ]);
    expect(childGraphs({ type: 'map', iterator: graph })).toEqual([
      { kind: 'iterator', at: 'iterator', holder: graph },
    ]);
  });

  it('leaves out what is not a graph, and the other types', () => {
    // Assess
    expect(childGraphs({ type: 'parallel', branches: [1, null, [], graph] })).toEqual([
      { kind: 'branch', at: 'branches.3', holder: graph },
    ]);
    expect(childGraphs({ type: 'parallel', branches: graph })).toEqual([]);
    expect(childGraphs({ type: 'map', iterator: [graph] })).toEqual([]);
    expect(childGraphs({ type: 'map', branches: [graph] })).toEqual([]);
    expect(childGraphs({ type: 'tool', iterator: graph, branches: [graph] })).toEqual([]);
    expect(childGraphs({ branches: [graph] })).toEqual([]);
    expect(childGraphs('parallel')).toEqual([]);
    expect(childGraphs(null)).toEqual([]);
  });
});

/** `p` (parallel: `a`; `m` map: `i`), then `z`, in a workflow. */
const nested = {
  startAt: 'p',
  steps: {
    p: {
      type: 'parallel',
      branches: [
        { startAt: 'a', steps: { a: { type: 'wait' } } },
        {
          startAt: 'm',
          steps: { m: { type: 'map', iterator: { startAt: 'i', steps: { i: { type: 'tool' } } } } },
        },
      ],
    },
    z: { type: 'succeed' },
  },
};

/** Records every visit as `graph <path> <kind> <depth> <owner>.<at>` and `step <path> <depth>`. */
function trace(
  root: Record<string, unknown>,
  order?: 'nested' | 'stack',
  step?: (v: StepVisit<string>) => 'skip' | 'stop' | undefined,
) {
  const seen: string[] = [];
  walkGraphs<string>(
    root,
    {
      graph: (visit: GraphVisit<string>) => {
        seen.push(
          `graph ${visit.path || '-'} ${visit.kind} ${visit.depth} ${visit.owner ? `${visit.owner.id}.${visit.at} in ${visit.owner.graph}` : '-'}`,
        );
        return visit.path || 'root';
      },
      step: (visit) => {
        seen.push(`step ${visit.path} ${visit.depth} in ${visit.graph} (${visit.children.length})`);
        return step?.(visit);
      },
    },
    order,
  );
  return seen;
}

describe('walkGraphs', () => {
  it('enters a step nested graphs right after the step, by default', () => {
    // Assess
    expect(trace(nested)).toEqual([
      'graph - workflow 0 -',
      'step steps.p 0 in root (2)',
      'graph steps.p.branches.0 branch 1 p.branches.0 in root',
      'step steps.p.branches.0.steps.a 1 in steps.p.branches.0 (0)',
      'graph steps.p.branches.1 branch 1 p.branches.1 in root',
      'step steps.p.branches.1.steps.m 1 in steps.p.branches.1 (1)',
      'graph steps.p.branches.1.steps.m.iterator iterator 2 m.iterator in steps.p.branches.1',
      'step steps.p.branches.1.steps.m.iterator.steps.i 2 in steps.p.branches.1.steps.m.iterator (0)',
      'step steps.z 0 in root (0)',
    ]);
  });

  it('in stack order visits a graph steps first, then the last graph found first', () => {
    // Assess
    expect(trace(nested, 'stack')).toEqual([
      'graph - workflow 0 -',
      'step steps.p 0 in root (2)',
      'step steps.z 0 in root (0)',
      'graph steps.p.branches.1 branch 1 p.branches.1 in root',
      'step steps.p.branches.1.steps.m 1 in steps.p.branches.1 (1)',
      'graph steps.p.branches.1.steps.m.iterator iterator 2 m.iterator in steps.p.branches.1',
      'step steps.p.branches.1.steps.m.iterator.steps.i 2 in steps.p.branches.1.steps.m.iterator (0)',
      'graph steps.p.branches.0 branch 1 p.branches.0 in root',
      'step steps.p.branches.0.steps.a 1 in steps.p.branches.0 (0)',
    ]);
  });

  it.each(['nested', 'stack'] as const)(
    'in %s order, skips a step nested graphs or stops the walk when asked',
    (order) => {
      // Act
      const skipped = trace(nested, order, (v) => (v.path === 'steps.p' ? 'skip' : undefined));
      const stopped = trace(nested, order, (v) => (v.path.endsWith('.m') ? 'stop' : undefined));

      // Assess
      expect(skipped).toEqual([
        'graph - workflow 0 -',
        'step steps.p 0 in root (2)',
        'step steps.z 0 in root (0)',
      ]);
      expect(stopped.at(-1)).toBe('step steps.p.branches.1.steps.m 1 in steps.p.branches.1 (1)');
      expect(stopped.some((line) => line.includes('.i '))).toBe(false);
    },
  );

  it('skips a graph whose visitor returns false, with its steps and nested graphs', () => {
    // Arrange
    const ids: string[] = [];

    // Act
    walkGraphs(nested, {
      graph: ({ kind }) => kind !== 'branch',
      step: ({ id }) => {
        ids.push(id);
        return undefined;
      },
    });

    // Assess
    expect(ids).toEqual(['p', 'z']);
  });

  it('visits every key of raw steps, and nested graphs of objects only', () => {
    // Arrange
    const raw = {
      steps: {
        x: 'not a step',
        y: null,
        p: { type: 'parallel', branches: [{ steps: 'none' }, { steps: { b: 1 } }] },
      },
    };

    // Assess
    expect(trace(raw)).toEqual([
      'graph - workflow 0 -',
      'step steps.x 0 in root (0)',
      'step steps.y 0 in root (0)',
      'step steps.p 0 in root (2)',
      'graph steps.p.branches.0 branch 1 p.branches.0 in root',
      'graph steps.p.branches.1 branch 1 p.branches.1 in root',
      'step steps.p.branches.1.steps.b 1 in steps.p.branches.1 (0)',
    ]);
    expect(trace({ steps: [] })).toEqual(['graph - workflow 0 -']);
  });
});
