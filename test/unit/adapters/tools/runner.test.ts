import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgsValidator, DispatchingToolRunner, toolRunner } from '#adapters/tools/index.ts';
import { type ToolDefinition, toolSchema } from '#core/catalog/model.ts';
import { type ToolContext, ToolError } from '#core/executions/model-port.ts';
import { compileSchema } from '#shared/json-schema-validator.ts';
import { parse } from '#shared/schema.ts';
import { startServers, type TestServers } from './server.ts';

// Counted, not replaced: every schema still compiles for real.
vi.mock('#shared/json-schema-validator.ts', async (actual) => {
  const real = await actual<typeof import('#shared/json-schema-validator.ts')>();
  return { ...real, compileSchema: vi.fn(real.compileSchema) };
});

let servers: TestServers;

beforeAll(async () => {
  servers = await startServers();
});

afterAll(async () => {
  await servers.close();
});

const ctx: ToolContext = { tenantId: 't1', secret: async () => undefined };

function tool(fields: Record<string, unknown>): ToolDefinition {
  return parse(toolSchema, {
    name: 'Adder',
    type: 'builtin',
    builtin: 'sum',
    inputSchema: { type: 'object' },
    ...fields,
  });
}

const sumTool = tool({
  inputSchema: {
    type: 'object',
    properties: { numbers: { type: 'array', items: { type: 'number' } } },
    required: ['numbers'],
    additionalProperties: false,
  },
});

describe('DispatchingToolRunner', () => {
  const runner = new DispatchingToolRunner({ builtins: { now: () => new Date('2026-01-01T00:00:00Z') } });

  it.each([
    [{ builtin: 'echo' }, { x: 1 }, { x: 1 }],
    [{ builtin: 'sum' }, { numbers: [2, 3] }, { sum: 5 }],
    [{ builtin: 'current_time' }, {}, expect.objectContaining({ iso: '2026-01-01T00:00:00.000Z' })],
    [{ builtin: 'json_extract' }, { json: '{"a":[7]}', path: 'a[0]' }, { found: true, value: 7 }],
    [{ builtin: 'uuid' }, {}, { uuid: expect.any(String) }],
  ])('runs builtin %o', async (fields, args, expected) => {
    // Act
    const result = await runner.run(tool(fields), args, ctx);

    // Assess
    expect(result).toEqual(expected);
  });

  it('runs http tools through the http runner', async () => {
    // Prepare
    const http = parse(toolSchema, {
      name: 'Echo over HTTP',
      type: 'http',
      method: 'GET',
      url: `http://127.0.0.1:${servers.httpPort}/echo/{{args.id}}`,
      inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    });

    // Act
    const result = await runner.run(http, { id: 'abc' }, { ...ctx, egress: ['127.0.0.1'] });

    // Assess
    expect(result).toMatchObject({ method: 'GET', url: '/echo/abc' });
  });

  it('refuses args that fail the input schema, naming every invalid one, before running anything', async () => {
    // Act
    const thrown = await runner
      .run(sumTool, { numbers: [1, 'two'], extra: true }, ctx)
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toBeInstanceOf(ToolError);
    expect(thrown).toMatchObject({ name: 'Tool.Failed' });
    const message = (thrown as Error).message;
    expect(message).toContain('args.numbers[1] must be number');
    expect(message).toContain('args must NOT have additional properties');
  });

  it('reports a missing required arg', async () => {
    // Act
    const thrown = await runner.run(sumTool, {}, ctx).catch((e: unknown) => e);

    // Assess
    expect((thrown as Error).message).toContain("args must have required property 'numbers'");
  });

  it('does not check formats it has no plugin for', async () => {
    // Prepare
    const withFormat = tool({
      builtin: 'echo',
      inputSchema: { type: 'object', properties: { when: { type: 'string', format: 'date-time' } } },
    });

    // Act
    const result = await runner.run(withFormat, { when: 'not a date' }, ctx);

    // Assess
    expect(result).toEqual({ when: 'not a date' });
  });

  it('turns an unexpected error into Tool.Failed', async () => {
    // Prepare: a builtin that throws something other than a ToolError.
    const throwing = new DispatchingToolRunner({
      builtins: {
        now: () => {
          throw new TypeError('clock broke');
        },
      },
    });

    // Act
    const thrown = await throwing.run(tool({ builtin: 'current_time' }), {}, ctx).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBeInstanceOf(ToolError);
    expect(thrown).toMatchObject({ name: 'Tool.Failed' });
    expect((thrown as Error).message).toContain('clock broke');
  });
});

describe('ArgsValidator', () => {
  it('compiles each distinct schema once', async () => {
    // Prepare
    const validator = new ArgsValidator();
    const before = vi.mocked(compileSchema).mock.calls.length;
    const sameSchemaOtherObject = tool({ inputSchema: structuredClone(sumTool.inputSchema) });

    // Act
    await validator.check(sumTool, { numbers: [1] });
    await validator.check(sumTool, { numbers: [2] });
    await validator.check(sameSchemaOtherObject, { numbers: [3] });

    // Assess
    expect(vi.mocked(compileSchema).mock.calls.length - before).toBe(1);
  });

  it('fails a schema that does not compile', async () => {
    // Prepare
    const broken = tool({ inputSchema: { type: 'object', properties: { a: { type: 'no-such-type' } } } });

    // Act / Assess
    await expect(new ArgsValidator().check(broken, {})).rejects.toThrow(/does not compile/);
  });

  it('fails the call as Tool.Failed when the schema cannot be applied to the args', async () => {
    // Prepare: a chain of references deeper than a validation may nest.
    const $defs: Record<string, unknown> = { d600: { type: 'string' } };
    for (let i = 0; i < 600; i++) $defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }] };
    const deep = tool({ inputSchema: { type: 'object', properties: { a: { $ref: '#/$defs/d0' } }, $defs } });

    // Act
    const failure = await new ArgsValidator().check(deep, { a: 'x' }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ToolError);
    expect((failure as ToolError).message).toMatch(
      /has an inputSchema that cannot be applied: the schema nests/,
    );
  });
});

describe('toolRunner', () => {
  it('is one runner per container', () => {
    // Act / Assess
    expect(toolRunner()).toBe(toolRunner());
  });
});
