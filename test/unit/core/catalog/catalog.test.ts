/**
 * Agent and Tool definitions: each rule shown firing with its path, defaults, every problem at once,
 * and the ReDoS screen of scripted agents' patterns.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS, validateAgent, validateTool } from '#core/catalog/model.ts';
import { regexProblem } from '#core/catalog/tenant-regex.ts';
import { problemsOf } from '../workflows/fixtures.ts';

const tools = { toolExists: (id: string) => id === 'weather' || id === 'search' };

const scripted = (extra: Record<string, unknown> = {}) => ({
  name: 'Bot',
  provider: 'scripted',
  model: 'script',
  script: [{ match: 'hello', reply: 'hi' }, { reply: 'fallback' }],
  ...extra,
});

const httpTool = (extra: Record<string, unknown> = {}) => ({
  name: 'Weather',
  type: 'http',
  method: 'GET',
  url: 'https://api.example.com/weather?city={{args.city}}',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  ...extra,
});

describe('validateAgent', () => {
  it('accepts a scripted agent and applies defaults', () => {
    // Act
    const agent = validateAgent(scripted({ tools: ['weather'] }), tools);

    // Assess
    expect(agent).toEqual({ ...scripted({ tools: ['weather'] }), maxToolCalls: 8 });
  });

  it('accepts an openai agent with a base URL and a key secret', () => {
    // Prepare
    const input = {
      name: 'GPT',
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:11434/v1',
      apiKeySecret: 'openai.key',
      temperature: 0.2,
      maxTokens: 1000,
    };

    // Act
    const agent = validateAgent(input, tools);

    // Assess
    expect(agent.baseUrl).toBe('http://127.0.0.1:11434/v1');
  });

  describe.each([
    { rule: 'unknown field', input: scripted({ colour: 'red' }), path: 'colour', message: /unknown field/ },
    { rule: 'provider', input: scripted({ provider: 'llama' }), path: 'provider', message: /Invalid option/ },
    {
      rule: 'script required for scripted',
      input: { name: 'x', provider: 'scripted', model: 'm' },
      path: 'script',
      message: /required when provider is "scripted"/,
    },
    {
      rule: 'script only for scripted',
      input: { name: 'x', provider: 'bedrock', model: 'm', script: [{ reply: 'x' }] },
      path: 'script',
      message: /only allowed when provider is "scripted"/,
    },
    {
      rule: 'baseUrl only for openai',
      input: { name: 'x', provider: 'bedrock', model: 'm', baseUrl: 'https://x.example' },
      path: 'baseUrl',
      message: /only allowed when provider is "openai"/,
    },
    {
      rule: 'apiKeySecret only for openai',
      input: scripted({ apiKeySecret: 'k' }),
      path: 'apiKeySecret',
      message: /only allowed when provider is "openai"/,
    },
    {
      rule: 'baseUrl without a query (the tenant must not choose the request path)',
      input: { name: 'x', provider: 'openai', model: 'm', baseUrl: 'https://models.example.com/v1?x=' },
      path: 'baseUrl',
      message: /must not contain "\?" or "#"/,
    },
    {
      rule: 'baseUrl without a fragment',
      input: { name: 'x', provider: 'openai', model: 'm', baseUrl: 'https://models.example.com/v1#' },
      path: 'baseUrl',
      message: /must not contain "\?" or "#"/,
    },
    {
      rule: 'baseUrl https or http',
      input: { name: 'x', provider: 'openai', model: 'm', baseUrl: 'ftp://models.example.com/v1' },
      path: 'baseUrl',
      message: /must be https/,
    },
    {
      rule: 'temperature range',
      input: scripted({ temperature: 2.5 }),
      path: 'temperature',
      message: /Too big/,
    },
    { rule: 'maxTokens range', input: scripted({ maxTokens: 0 }), path: 'maxTokens', message: /Too small/ },
    {
      rule: 'maxToolCalls range',
      input: scripted({ maxToolCalls: 51 }),
      path: 'maxToolCalls',
      message: /Too big/,
    },
    {
      rule: 'tools exist',
      input: scripted({ tools: ['ghost'] }),
      path: 'tools.0',
      message: /unknown tool ghost/,
    },
    {
      rule: 'tools listed once',
      input: scripted({ tools: ['weather', 'weather'] }),
      path: 'tools.1',
      message: /listed twice/,
    },
    {
      rule: 'script regex compiles',
      input: scripted({ script: [{ match: '(unclosed', reply: 'x' }] }),
      path: 'script.0.match',
      message: /not a valid regular expression: .*Unterminated group/,
    },
    {
      rule: 'script regex runs in linear time (no backreferences)',
      input: scripted({ script: [{ reply: 'x' }, { match: '^(a)\\1$', reply: 'x' }] }),
      path: 'script.1.match',
      message: /backreferences are not supported/,
    },
    {
      rule: 'script regex at most 500 characters',
      input: scripted({ script: [{ match: 'a'.repeat(501), reply: 'x' }] }),
      path: 'script.0.match',
      message: /longer than 500/,
    },
    {
      rule: 'script tool calls use the agent’s tools',
      input: scripted({
        tools: ['weather'],
        script: [{ reply: 'x', toolCalls: [{ toolId: 'search', args: {} }] }],
      }),
      path: 'script.0.toolCalls.0.toolId',
      message: /tool search is not in this agent's tools/,
    },
  ])('rule: $rule', ({ input, path, message }) => {
    it(`reports ${path}`, () => {
      // Act
      const problems = problemsOf(() => validateAgent(input, tools));

      // Assess
      expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  });

  it('reports every problem at once', () => {
    // Prepare
    const input = {
      name: '',
      provider: 'bedrock',
      model: 'm',
      tools: ['ghost'],
      temperature: -1,
      baseUrl: 'ftp://x',
      script: [{ match: '(?=a)', reply: 'x' }],
    };

    // Act
    const problems = problemsOf(() => validateAgent(input, tools));

    // Assess
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['baseUrl', 'baseUrl', 'name', 'script', 'script.0.match', 'temperature', 'tools.0'].sort(),
    );
  });
});

describe('validateTool', () => {
  it('accepts an http tool and applies defaults', () => {
    // Act
    const tool = validateTool(httpTool());

    // Assess
    expect(tool).toEqual({ ...httpTool(), timeoutMs: 10_000 });
  });

  it.each(BUILTIN_TOOLS)('accepts the builtin %s', (builtin) => {
    // Act
    const tool = validateTool({ name: builtin, type: 'builtin', builtin, inputSchema: { type: 'object' } });

    // Assess
    expect(tool).toMatchObject({ type: 'builtin', builtin });
  });

  it('accepts http to a private host at save: the run-time guard and the platform allowlist decide', () => {
    // Act
    const tool = validateTool(httpTool({ url: 'http://10.0.0.5:8080/x/{{args.id}}' }));

    // Assess
    expect(tool).toMatchObject({ url: 'http://10.0.0.5:8080/x/{{args.id}}' });
  });

  it('drops a stored allowPrivateNetwork: false, so saved bodies still load', () => {
    // Act
    const tool = validateTool(httpTool({ allowPrivateNetwork: false }));

    // Assess
    expect(tool).not.toHaveProperty('allowPrivateNetwork');
  });

  describe.each([
    { rule: 'unknown field', input: httpTool({ retries: 3 }), path: 'retries', message: /unknown field/ },
    { rule: 'type', input: httpTool({ type: 'grpc' }), path: 'type', message: /Invalid discriminator/ },
    { rule: 'method', input: httpTool({ method: 'TRACE' }), path: 'method', message: /Invalid option/ },
    {
      rule: 'https or http',
      input: httpTool({ url: 'ftp://api.example.com/x' }),
      path: 'url',
      message: /must be https/,
    },
    {
      rule: 'allowPrivateNetwork is removed',
      input: httpTool({ allowPrivateNetwork: true }),
      path: 'allowPrivateNetwork',
      message: /removed: private-network egress is allowlisted per tenant by a platform admin/,
    },
    {
      rule: 'URL parses',
      input: httpTool({ url: 'not a url {{args.x}}' }),
      path: 'url',
      message: /not a valid absolute URL/,
    },
    {
      rule: 'URL has a host',
      input: httpTool({ url: 'file:///etc/passwd' }),
      path: 'url',
      message: /^must have a host$/,
    },
    {
      rule: 'no template in the host',
      input: httpTool({ url: 'https://{{args.host}}/x' }),
      path: 'url',
      message: /not allowed in the scheme or host/,
    },
    {
      rule: 'templates read args only',
      input: httpTool({ url: 'https://api.example.com/{{input.x}}' }),
      path: 'url',
      message: /unknown root "input"/,
    },
    {
      rule: 'templates terminated',
      input: httpTool({ url: 'https://api.example.com/{{args.x' }),
      path: 'url',
      message: /unterminated/,
    },
    {
      rule: 'no credentials in the URL',
      input: httpTool({ url: 'https://user:pw@api.example.com/' }),
      path: 'url',
      message: /must not carry credentials/,
    },
    {
      rule: 'header templates read args only',
      input: httpTool({ headers: { 'X-Trace': '{{steps.a.output}}' } }),
      path: 'headers.X-Trace',
      message: /unknown root "steps"/,
    },
    { rule: 'timeoutMs range', input: httpTool({ timeoutMs: 50 }), path: 'timeoutMs', message: /Too small/ },
    {
      rule: 'builtin name',
      input: { name: 'x', type: 'builtin', builtin: 'rm', inputSchema: { type: 'object' } },
      path: 'builtin',
      message: /Invalid option/,
    },
    {
      rule: 'inputSchema describes an object',
      input: httpTool({ inputSchema: { type: 'array' } }),
      path: 'inputSchema.type',
      message: /must be "object"/,
    },
    {
      rule: 'inputSchema compiles',
      input: httpTool({ inputSchema: { type: 'object', required: 'city' } }),
      path: 'inputSchema',
      message: /invalid JSON Schema/,
    },
    {
      rule: 'inputSchema dialect',
      input: httpTool({
        inputSchema: { type: 'object', $schema: 'http://json-schema.org/draft-04/schema#' },
      }),
      path: 'inputSchema.$schema',
      message: /only JSON Schema 2020-12/,
    },
  ])('rule: $rule', ({ input, path, message }) => {
    it(`reports ${path}`, () => {
      // Act
      const problems = problemsOf(() => validateTool(input));

      // Assess
      expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  });

  it('reports every problem at once', () => {
    // Prepare
    const input = httpTool({
      method: 'FETCH',
      url: 'http://localhost/{{input.x}}',
      timeoutMs: 99_999,
      inputSchema: {},
    });

    // Act
    const problems = problemsOf(() => validateTool(input));

    // Assess
    expect(problems.map((p) => p.path).sort()).toEqual(['inputSchema.type', 'method', 'timeoutMs', 'url']);
  });
});

describe('hostile shapes', () => {
  it('refuses a tool whose inputSchema nests 50,000 deep, fast and without recursion', () => {
    // Prepare
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 50_000; i++) deep = { type: 'object', properties: { x: deep } };
    const started = performance.now();

    // Act
    const problems = problemsOf(() => validateTool(httpTool({ inputSchema: deep })));

    // Assess
    expect(problems[0]?.message).toBe('nested deeper than 64 levels');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses a __proto__ key in scripted tool call args', () => {
    // Prepare
    const args = JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>;
    const input = scripted({
      tools: ['weather'],
      script: [{ reply: 'x', toolCalls: [{ toolId: 'weather', args }] }],
    });

    // Act
    const problems = problemsOf(() => validateAgent(input, tools));

    // Assess
    expect(problems).toEqual([{ path: 'script.0.toolCalls.0.args.__proto__', message: 'reserved key' }]);
  });
});

describe('regex screening', () => {
  it.each([
    ['(a+)+', undefined],
    ['^(a+)+$', undefined],
    ['\\d+(\\.\\d+)?', undefined],
    ['(?<year>\\d{4})', undefined],
    ['(a)\\1', /backreferences are not supported/],
    ['(?<y>a)\\k<y>', /backreferences are not supported/],
    ['(?=a)b', /lookahead and lookbehind are not supported/],
    ['(?<!a)b', /lookahead and lookbehind are not supported/],
  ])('%s gives %s', (pattern, expected) => {
    // Act
    const problem = regexProblem(pattern);

    // Assess
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('accepts a plain pattern', () => {
    // Act
    const problem = regexProblem('^(hi|hello)\\b');

    // Assess
    expect(problem).toBeUndefined();
  });
});
