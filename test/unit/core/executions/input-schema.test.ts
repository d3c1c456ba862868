import { describe, expect, it } from 'vitest';
import { inputProblems } from '#core/executions/input-schema.ts';

describe('workflow input schemas of different tenants', () => {
  it('may share an $id: neither is kept in the shared validator', async () => {
    const one = { $id: 'https://example.com/order', type: 'object', properties: { a: { type: 'number' } } };
    const other = { $id: 'https://example.com/order', type: 'object', properties: { b: { type: 'string' } } };
    expect(await inputProblems(one, { a: 'x' })).toEqual([{ path: 'input.a', message: 'must be number' }]);
    expect(await inputProblems(other, { b: 1 })).toEqual([{ path: 'input.b', message: 'must be string' }]);
  });
});

describe('schemas that cannot be applied to a value', () => {
  // Each level refers to the next: valid to save, deeper than a validation may nest.
  const $defs: Record<string, unknown> = { d600: { type: 'string' } };
  for (let i = 0; i < 600; i++) $defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }] };
  const deep = { type: 'object', properties: { a: { $ref: '#/$defs/d0' } }, $defs };

  it('answer a 400 problem naming input, not a server error', async () => {
    expect(await inputProblems(deep, { a: 'x' })).toEqual([
      {
        path: 'input',
        message:
          "the workflow's inputSchema cannot be applied: the schema nests more than 512 subschemas deep on this value",
      },
    ]);
  });

  it('count the patterns a reference reaches in data keywords against the limit of 100', async () => {
    const patterns = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`^p${i}`, true]));
    const schema = {
      type: 'object',
      default: { patternProperties: patterns },
      additionalProperties: { $ref: '#/default' },
    };
    expect(await inputProblems(schema, {})).toEqual([
      {
        path: 'input',
        message: "the workflow's inputSchema cannot be applied: more than 100 patterns, references followed",
      },
    ]);
  });
});
