import { describe, expect, it } from 'vitest';
import { ScriptedProvider } from '#adapters/providers/scripted.ts';
import { ArgsValidator } from '#adapters/tools/index.ts';
import { jsonSchemaProblems, MAX_SCHEMA_PATTERNS } from '#core/catalog/json-schema.ts';
import type { AgentDefinition, ToolDefinition } from '#core/catalog/model.ts';
import {
  RegexBudgetExceeded,
  regexProblem,
  tenantRegex,
  withRegexBudget,
} from '#core/catalog/tenant-regex.ts';
import { inputProblems } from '#core/executions/input-schema.ts';

// 26 characters then a mismatch: a backtracking engine takes seconds on these (2^26 paths).
const CATASTROPHIC = `${'a'.repeat(26)}!`;
// Under mutation testing (scripts/mutation.mjs sets MUTATION_TESTS) the code is instrumented and the
// shared machine loaded, so a 250 ms bound failed for mutants that were only slow (equivalent ones
// in canonicalJson among them) and counted them killed. A backtracking engine still takes seconds
// (7 to 13 s on the development machine for these inputs), far beyond the relaxed bound.
const SLACK = process.env.MUTATION_TESTS === undefined ? 1 : 8;
const FAST_MS = 250 * SLACK;

async function timedAsync<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe('tenant patterns run in linear time', () => {
  it.each(['^(a+)+$', '^(a|a)*$', '^(\\w+\\s?)*$', '(x+x+)+y'])(
    'workflow inputSchema pattern %s answers a catastrophic input fast, as a 400 problem',
    async (pattern) => {
      const schema = { type: 'object', properties: { text: { type: 'string', pattern } } };
      const { result, ms } = await timedAsync(() => inputProblems(schema, { text: CATASTROPHIC }));
      expect(ms).toBeLessThan(FAST_MS);
      expect(result).toEqual([{ path: 'input.text', message: `must match pattern "${pattern}"` }]);
    },
  );

  it('stays linear on a 200 KB input', async () => {
    const schema = { type: 'object', properties: { text: { type: 'string', pattern: '^(a+)+$' } } };
    const { result, ms } = await timedAsync(() => inputProblems(schema, { text: `${'a'.repeat(200_000)}!` }));
    expect(result).toHaveLength(1);
    expect(ms).toBeLessThan(1000 * SLACK);
    expect(await inputProblems(schema, { text: 'aaaa' })).toEqual([]);
  });

  it('keeps each pattern of a schema apart', async () => {
    const schema = {
      type: 'object',
      properties: { x: { type: 'string', pattern: '^a$' }, y: { type: 'string', pattern: '^b$' } },
    };
    expect(await inputProblems(schema, { x: 'a', y: 'b' })).toEqual([]);
    expect(await inputProblems(schema, { x: 'a', y: 'a' })).toEqual([
      { path: 'input.y', message: 'must match pattern "^b$"' },
    ]);
  });

  it('patternProperties keys run in linear time too', async () => {
    const schema = { type: 'object', patternProperties: { '^(a+)+$': { type: 'number' } } };
    const { result, ms } = await timedAsync(() =>
      inputProblems(schema, { [CATASTROPHIC]: 'x', aaa: 'not a number' }),
    );
    expect(ms).toBeLessThan(FAST_MS);
    expect(result).toEqual([{ path: 'input.aaa', message: 'must be number' }]);
  });

  it("a scripted agent's match answers fast on a catastrophic prompt", async () => {
    const agent = {
      name: 'a',
      provider: 'scripted',
      model: 'scripted-1',
      maxToolCalls: 1,
      script: [
        { match: '^(a|a)*$', reply: 'matched' },
        { match: '!$', reply: 'bang' },
      ],
    } as AgentDefinition;
    const provider = new ScriptedProvider();
    const { result, ms } = await timedAsync(() =>
      provider.converse({ agent, messages: [{ role: 'user', content: CATASTROPHIC }], tools: [] }),
    );
    expect(ms).toBeLessThan(FAST_MS);
    expect(result.text).toBe('bang');
  });

  it("tool args are checked against the tool's patterns in linear time", async () => {
    const tool = {
      name: 't',
      type: 'builtin',
      builtin: 'echo',
      inputSchema: { type: 'object', properties: { q: { type: 'string', pattern: '^(a+)+$' } } },
    } as ToolDefinition;
    const validator = new ArgsValidator();
    await validator.check(tool, { q: 'aaa' }); // compiles: the timing below is of matching alone
    const { ms } = await timedAsync(async () => {
      await expect(validator.check(tool, { q: CATASTROPHIC })).rejects.toThrow(/args\.q must match pattern/);
    });
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe('patterns no linear-time engine can run are refused at save, naming the field', () => {
  it.each([
    ['a backreference', '^(a)\\1$', /backreferences are not supported/],
    ['a named backreference', '(?<x>a)\\k<x>', /backreferences are not supported/],
    ['a lookahead', '^(?=.*\\d).+$', /lookahead and lookbehind are not supported/],
    ['a lookbehind', '(?<=\\$)\\d+', /lookahead and lookbehind are not supported/],
    ['a pattern over 500 characters', 'a'.repeat(501), /longer than 500 characters/],
  ])('%s in inputSchema properties', (_name, pattern, message) => {
    const schema = {
      type: 'object',
      properties: { code: { type: 'array', items: { type: 'string', pattern } } },
    };
    expect(jsonSchemaProblems(schema, 'inputSchema')).toEqual([
      { path: 'inputSchema.properties.code.items.pattern', message: expect.stringMatching(message) },
    ]);
  });

  it('a patternProperties key, named by its own path', () => {
    const schema = { type: 'object', patternProperties: { '(?!x)': {} } };
    expect(jsonSchemaProblems(schema, 'inputSchema')).toEqual([
      { path: 'inputSchema.patternProperties.(?!x)', message: expect.stringMatching(/lookahead/) },
    ]);
  });

  it('ignores pattern-shaped data in const/enum/default and properties named pattern', () => {
    const schema = {
      type: 'object',
      properties: { pattern: { type: 'string', default: '(?=x)' } },
      default: { pattern: '(?=x)' },
      examples: [{ pattern: '\\1' }],
    };
    expect(jsonSchemaProblems(schema, 'inputSchema')).toEqual([]);
  });

  it(`refuses more than ${MAX_SCHEMA_PATTERNS} patterns in one schema`, () => {
    const properties = Object.fromEntries(
      Array.from({ length: MAX_SCHEMA_PATTERNS + 1 }, (_, i) => [`p${i}`, { type: 'string', pattern: 'a' }]),
    );
    expect(jsonSchemaProblems({ type: 'object', properties }, 'inputSchema')).toEqual([
      {
        path: 'inputSchema',
        message: `has ${MAX_SCHEMA_PATTERNS + 1} patterns; at most ${MAX_SCHEMA_PATTERNS} are accepted`,
      },
    ]);
  });

  it(`counts against the ${MAX_SCHEMA_PATTERNS} the patterns a reference reaches in a data keyword`, () => {
    const patterns = Object.fromEntries(
      Array.from({ length: MAX_SCHEMA_PATTERNS + 1 }, (_, i) => [`^p${i}`, true]),
    );
    const schema = {
      type: 'object',
      default: { patternProperties: patterns },
      additionalProperties: { $ref: '#/default' },
    };
    expect(jsonSchemaProblems(schema, 'inputSchema')).toEqual([
      {
        path: 'inputSchema',
        message: `invalid JSON Schema: more than ${MAX_SCHEMA_PATTERNS} patterns, references followed`,
      },
    ]);
  });

  it('accepts the JavaScript syntax that runs in linear time (named groups, \\u escapes, classes)', () => {
    for (const pattern of ['(?<year>\\d{4})-\\d{2}', '^\\u00e9+$', '^[^\\]]+$', '^\\S+@\\S+$']) {
      expect(regexProblem(pattern)).toBeUndefined();
    }
    expect(tenantRegex('^\\u00e9+$').test('ééé')).toBe(true);
    expect(tenantRegex('(?<year>\\d{4})').test('in 2026')).toBe(true);
    expect(tenantRegex('^a/b$').test('a/b')).toBe(true);
  });
});

describe('patterns mean what JSON Schema says: ECMAScript, Unicode mode', () => {
  it.each([
    ['^.$', '😀', []],
    ['^\\s$', '\u00a0', []],
    ['^\\p{L}+$', 'Ünïcödé', []],
    ['^\\w+$', 'é', [{ path: 'input.t', message: 'must match pattern "^\\w+$"' }]],
  ])('%s on %j', async (pattern, text, problems) => {
    const schema = { type: 'object', properties: { t: { type: 'string', pattern } } };
    expect(jsonSchemaProblems(schema, 'inputSchema')).toEqual([]);
    expect(await inputProblems(schema, { t: text })).toEqual(problems);
  });
});

describe('schemas saved before the pattern rules', () => {
  it('a stored inputSchema with a lookahead answers 400 naming input at start, not 500', async () => {
    const stored = { type: 'object', properties: { code: { type: 'string', pattern: '^(?=a)a$' } } };
    expect(await inputProblems(stored, { code: 'a' })).toEqual([
      { path: 'input', message: expect.stringMatching(/inputSchema cannot be applied: .*lookahead/) },
    ]);
  });
});

describe('the time budget', () => {
  it('stops matching once the budget is spent', () => {
    const re = tenantRegex('a');
    expect(withRegexBudget(1000, () => re.test('a'))).toBe(true);
    expect(() => withRegexBudget(-1, () => re.test('a'))).toThrow(RegexBudgetExceeded);
    // Outside any budget, matching is unbounded again.
    expect(re.test('a')).toBe(true);
  });

  it('input validation over budget is a 400 problem naming input, not a crash', async () => {
    const schema = { type: 'object', properties: { text: { type: 'string', pattern: 'b' } } };
    expect(await inputProblems(schema, { text: 'b' })).toEqual([]);
    // Compiled now, so validation runs synchronously inside the outer (spent) budget.
    const problems = await withRegexBudget(-1, () => inputProblems(schema, { text: 'abc' }));
    expect(problems).toEqual([
      { path: 'input', message: expect.stringMatching(/longer than its 1000 ms budget/) },
    ]);
  });

  it('a scripted turn over budget fails the step as a client error', async () => {
    const agent = {
      name: 'a',
      provider: 'scripted',
      model: 'scripted-1',
      maxToolCalls: 1,
      script: [{ match: 'x', reply: 'x' }],
    } as AgentDefinition;
    const run = withRegexBudget(-1, () =>
      new ScriptedProvider().converse({ agent, messages: [{ role: 'user', content: 'x' }], tools: [] }),
    );
    await expect(run).rejects.toMatchObject({ failure: 'client', message: expect.stringMatching(/budget/) });
  });
});

describe('input problems name the field', () => {
  it('decodes ~ in the instance path', async () => {
    const schema = { type: 'object', properties: { 'x~y': { type: 'number' } } };
    expect(await inputProblems(schema, { 'x~y': 's' })).toEqual([
      { path: 'input.x~y', message: 'must be number' },
    ]);
  });

  it('names an unexpected property and decodes JSON pointer escapes', async () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { 'a/b': { type: 'object', additionalProperties: false, properties: {} } },
    };
    expect(await inputProblems(schema, { 'a/b': { 'x~y': 1 }, extra: 2 })).toEqual([
      { path: 'input.extra', message: 'must NOT have additional properties' },
      { path: 'input.a/b.x~y', message: 'must NOT have additional properties' },
    ]);
  });
});
