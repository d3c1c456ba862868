/**
 * Structured diff of two workflow versions.
 */
import { describe, expect, it } from 'vitest';
import { diffWorkflows } from '#core/workflows/diff.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { EXAMPLES } from './fixtures.ts';

function edit(
  def: WorkflowDefinition,
  change: (copy: { [key: string]: unknown }) => void,
): WorkflowDefinition {
  const copy = structuredClone(def) as unknown as { [key: string]: unknown };
  change(copy);
  return copy as unknown as WorkflowDefinition;
}

type Steps = Record<string, Record<string, unknown>>;
const steps = (copy: { [key: string]: unknown }) => copy.steps as Steps;

describe('diffWorkflows', () => {
  it('finds nothing between equal versions', () => {
    // Act
    const diff = diffWorkflows(EXAMPLES.retryCatch, structuredClone(EXAMPLES.retryCatch));

    // Assess
    expect(diff).toEqual({ added: [], removed: [], changed: [], topLevel: [] });
  });

  describe.each([
    {
      change: 'a nested retry number',
      edit: (c: { [key: string]: unknown }) => {
        (steps(c).call?.retry as Record<string, unknown>).maxAttempts = 5;
      },
      expected: { changed: [{ stepId: 'call', fields: ['retry.maxAttempts'] }] },
    },
    {
      change: 'a new optional field and a catcher target',
      edit: (c: { [key: string]: unknown }) => {
        const call = steps(c).call as Record<string, unknown>;
        call.timeoutSeconds = 30;
        (call.catch as Record<string, unknown>[])[0] = { errors: ['Tool.Failed'], next: 'broken' };
      },
      expected: { changed: [{ stepId: 'call', fields: ['catch.0.next', 'timeoutSeconds'] }] },
    },
    {
      change: 'added and removed steps',
      edit: (c: { [key: string]: unknown }) => {
        delete steps(c).broken;
        steps(c).audit = { type: 'succeed' };
      },
      expected: { added: ['audit'], removed: ['broken'] },
    },
    {
      change: 'top-level fields',
      edit: (c: { [key: string]: unknown }) => {
        c.name = 'renamed';
        c.inputSchema = { type: 'object' };
      },
      expected: { topLevel: [{ field: 'inputSchema' }, { field: 'name' }] },
    },
  ])('when changing $change', ({ edit: change, expected }) => {
    it('reports it with field paths', () => {
      // Prepare
      const after = edit(EXAMPLES.retryCatch, change);

      // Act
      const diff = diffWorkflows(EXAMPLES.retryCatch, after);

      // Assess
      expect(diff).toEqual({ added: [], removed: [], changed: [], topLevel: [], ...expected });
    });
  });

  it('diffs steps inside branches and iterators, and membership of branches', () => {
    // Prepare
    const after = edit(EXAMPLES.parallel, (c) => {
      const fan = steps(c).fan as { branches: { startAt: string; steps: Steps }[] };
      const news = fan.branches[1]?.steps;
      if (news?.summary) news.summary.prompt = 'Shorter: {{steps.news.output.text}}';
      fan.branches[2] = { startAt: 'nap', steps: { nap: { type: 'wait', seconds: 9, end: true } } };
    });

    // Act
    const diff = diffWorkflows(EXAMPLES.parallel, after);

    // Assess
    expect(diff).toEqual({
      added: ['nap'],
      removed: ['pause'],
      changed: [
        { stepId: 'fan', fields: ['branches.2.startAt', 'branches.2.steps.0'] },
        { stepId: 'summary', fields: ['prompt'] },
      ],
      topLevel: [],
    });
  });

  it('reports a step moved into another scope', () => {
    // Prepare
    const before: WorkflowDefinition = {
      name: 'x',
      startAt: 'p',
      steps: {
        p: { type: 'parallel', branches: [{ startAt: 'a', steps: { a: { type: 'succeed' } } }], next: 'b' },
        b: { type: 'succeed' },
      },
    };
    const after: WorkflowDefinition = {
      name: 'x',
      startAt: 'p',
      steps: {
        p: {
          type: 'parallel',
          branches: [
            { startAt: 'a', steps: { a: { type: 'wait', seconds: 1, next: 'b' }, b: { type: 'succeed' } } },
          ],
          end: true,
        },
      },
    };

    // Act
    const diff = diffWorkflows(before, after);

    // Assess
    expect(diff.changed).toEqual([
      { stepId: 'a', fields: ['next', 'seconds', 'type'] },
      { stepId: 'b', fields: ['scope'] },
      { stepId: 'p', fields: ['branches.0.steps.1', 'end', 'next'] },
    ]);
  });

  it('is deterministic whatever the order of steps', () => {
    // Prepare
    const reordered = {
      ...EXAMPLES.choice,
      steps: Object.fromEntries(Object.entries(EXAMPLES.choice.steps).reverse()),
    };
    const changed = edit(EXAMPLES.choice, (c) => {
      delete steps(c).urgent;
      steps(c).zeta = { type: 'succeed' };
      steps(c).alpha = { type: 'succeed' };
    });

    // Act
    const a = JSON.stringify(diffWorkflows(EXAMPLES.choice, changed));
    const b = JSON.stringify(diffWorkflows(reordered, changed));

    // Assess
    expect(b).toBe(a);
    expect(JSON.parse(a).added).toEqual(['alpha', 'zeta']);
  });
});
