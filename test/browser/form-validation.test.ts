import { describe, expect, it } from 'vitest';
import { validate } from '../../console/src/validation.ts';

// The console's form check, run in Node on the schemas the console build wrote
// (console/src/generated/schemas.js; this project's global setup builds the console when stale).

const step = (extra: Record<string, unknown>) => ({
  name: 'w',
  startAt: 'A',
  steps: { A: { type: 'tool', toolId: 'tool_1', args: {}, ...extra, next: 'B' }, B: { type: 'succeed' } },
});

describe("the console's form check", () => {
  it('reports the fields of the one member a tag names, as the API validates', async () => {
    // Act
    const tool = await validate('Tool', { type: 'http', name: 'x', inputSchema: {}, method: 'GET', url: '' });
    const stepErrors = await validate('Workflow', step({ retry: { maxAttempts: 11 } }));

    // Assess
    expect(tool).toEqual([{ path: 'url', message: 'must NOT have fewer than 1 characters' }]);
    expect(stepErrors).toEqual([{ path: 'steps/A/retry/maxAttempts', message: 'must be <= 10' }]);
  });

  it('names the tag when it names no member', async () => {
    // Act
    const errors = await validate('Tool', { type: 'ftp', name: 'x', inputSchema: {} });

    // Assess
    expect(errors).toEqual([{ path: '', message: 'value of tag "type" must be in oneOf' }]);
  });

  it('applies the request limits first: a value nested past them is answered, not lost', async () => {
    // Prepare
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) deep = { x: deep };

    // Act
    const errors = await validate('Workflow', { ...step({}), inputSchema: deep });

    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toMatch(/^inputSchema(\/x)+$/);
    expect(errors[0]?.message).toMatch(/nested/);
  });

  it('passes a valid definition and names an unknown field', async () => {
    // Act
    const valid = await validate('Workflow', step({}));
    const extra = await validate('Agent', { name: 'a', provider: 'scripted', model: 'm', colour: 'red' });

    // Assess
    expect(valid).toEqual([]);
    expect(extra).toContainEqual({ path: 'colour', message: 'is not a known field' });
  });
});
