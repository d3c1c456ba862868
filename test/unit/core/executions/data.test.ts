import { describe, expect, it } from 'vitest';
import { resolveTemplates, stepsReadBy } from '#core/executions/data.ts';

const data = {
  input: { n: 3, city: 'Paris', tags: ['a', 'b'] },
  steps: { s1: { output: { data: { label: 'refund' } } } },
  outer: { o1: { output: { text: 'outside' } } },
};

describe('resolveTemplates', () => {
  it.each([
    ['{{input.n}}', 3],
    ['{{ input.n }}', 3],
    ['{{input.tags}}', ['a', 'b']],
  ])('keeps the value itself for a lone template %s', (template, expected) => {
    expect(resolveTemplates(template, data)).toEqual(expected);
  });

  it('interpolates templates inside text, objects as JSON and missing values as nothing', () => {
    expect(resolveTemplates('{{input.city}} has {{input.tags}}; {{input.none}}!', data)).toBe(
      'Paris has ["a","b"]; !',
    );
  });

  it('reads earlier steps, including those before a map, and resolves nested arguments', () => {
    expect(
      resolveTemplates({ a: ['{{steps.s1.output.data.label}}', '{{steps.o1.output.text}}'] }, data),
    ).toEqual({
      a: ['refund', 'outside'],
    });
  });
});

describe('stepsReadBy', () => {
  it('names only the steps the templates read', () => {
    expect(
      [...stepsReadBy({ q: '{{steps.s1.output.x}} {{input.y}}', more: ['{{steps.o1.output}}'] })].sort(),
    ).toEqual(['o1', 's1']);
  });
});
