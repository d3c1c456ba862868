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
