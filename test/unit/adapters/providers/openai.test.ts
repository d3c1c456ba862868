import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_COMPLETION_BYTES,
  OpenAiCompatibleProvider,
  retryAfterSeconds,
} from '#adapters/providers/openai.ts';
import { type ModelProvider, type ModelRequest, ProviderError } from '#core/executions/model-port.ts';
import { agent, request, toolRoundTrip, weatherTool } from './fixtures.ts';

const API_KEY = 'sk-test-0123456789abcdefSECRET';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

interface Canned {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Never answer (the client must time out). */
  readonly hang?: boolean;
  /** Declare a longer body than is sent, then drop the connection. */
  readonly cut?: boolean;
}

let server: Server;
let baseUrl: string;
let recorded: Recorded[] = [];
let answers: Canned[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      recorded.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(text),
      });
      const answer = answers.shift() ?? { status: 500, body: { error: { message: 'no canned answer' } } };
      if (answer.hang) return;
      if (answer.cut) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"cho', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  recorded = [];
  answers = [];
});

function gpt(fields: Record<string, unknown> = {}) {
  return agent({
    provider: 'openai',
    model: 'gpt-4o-mini',
    baseUrl,
    apiKeySecret: 'openai-key',
    systemPrompt: 'You are helpful.',
    temperature: 0.3,
    maxTokens: 256,
    tools: [weatherTool.toolId],
    ...fields,
  });
}

function completion(
  message: Record<string, unknown>,
  finishReason: string,
  usage = { prompt_tokens: 40, completion_tokens: 9 },
) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage,
  };
}

/** The test server listens on 127.0.0.1: as a platform admin would, allowlist it for the tenant. */
function allowingLocal(real: OpenAiCompatibleProvider): ModelProvider {
  return { converse: (r: ModelRequest) => real.converse({ egress: ['127.0.0.1'], ...r }) };
}

const provider = allowingLocal(new OpenAiCompatibleProvider({ timeoutMs: 2_000 }));

describe('OpenAiCompatibleProvider tool-call round trip', () => {
  it('sends the tools and maps the tool call the model asks for', async () => {
    // Prepare
    answers.push({
      body: completion(
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_abc',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        'tool_calls',
      ),
    });

    // Act
    const response = await provider.converse(
      request(gpt(), [{ role: 'user', content: 'Weather in Paris?' }], {
        tools: [weatherTool],
        apiKey: API_KEY,
      }),
    );

    // Assess
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(recorded[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(recorded[0]?.headers['content-type']).toBe('application/json');
    expect(recorded[0]?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather of a city',
            parameters: weatherTool.inputSchema,
          },
        },
      ],
      temperature: 0.3,
      max_tokens: 256,
    });
    expect(response).toEqual({
      text: '',
      toolCalls: [{ id: 'call_abc', toolId: weatherTool.toolId, args: { city: 'Paris' } }],
      usage: { inputTokens: 40, outputTokens: 9 },
      stopReason: 'tool_use',
    });
  });

  it('sends the assistant tool_calls and the tool result back, and maps the final answer', async () => {
    // Prepare
    answers.push({
      body: completion({ role: 'assistant', content: 'It is 21 °C in Paris.' }, 'stop', {
        prompt_tokens: 70,
        completion_tokens: 11,
      }),
    });

    // Act
    const response = await provider.converse(
      request(gpt(), toolRoundTrip, { tools: [weatherTool], apiKey: API_KEY }),
    );

    // Assess
    expect(recorded[0]?.body).toHaveProperty('messages', [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          {
            id: 'call-1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call-1', content: '{"tempC":21}' },
    ]);
    expect(response).toEqual({
      text: 'It is 21 °C in Paris.',
      toolCalls: [],
      usage: { inputTokens: 70, outputTokens: 11 },
      stopReason: 'end',
    });
  });

  it('sends no Authorization header without a key and tolerates a trailing slash in baseUrl', async () => {
    // Prepare
    answers.push({ body: completion({ role: 'assistant', content: 'hi' }, 'length') });

    // Act
    const response = await provider.converse(
      request(gpt({ baseUrl: `${baseUrl}/`, systemPrompt: undefined }), [{ role: 'user', content: 'hello' }]),
    );

    // Assess
    expect(recorded[0]?.url).toBe('/v1/chat/completions');
    expect(recorded[0]?.headers).not.toHaveProperty('authorization');
    expect(recorded[0]?.body).not.toHaveProperty('tools');
    expect(response.stopReason).toBe('max_tokens');
  });
});

describe('OpenAiCompatibleProvider errors', () => {
  const ask = () => provider.converse(request(gpt(), [{ role: 'user', content: 'q' }], { apiKey: API_KEY }));

  it('classifies 429 as throttled and names Retry-After', async () => {
    // Prepare
    answers.push({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { message: 'Rate limit reached' } },
    });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ name: 'Provider.Throttled', status: 429, retryable: true });
    expect((thrown as Error).message).toContain('retry after 7 s');
  });

  it.each([500, 502, 503])('classifies %i as a server error', async (status) => {
    // Prepare
    answers.push({ status, body: { error: { message: 'upstream trouble' } } });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError', status, retryable: true });
  });

  it('classifies 400 as a client error with the endpoint message, the key redacted', async () => {
    // Prepare
    answers.push({ status: 400, body: { error: { message: `Invalid model for key ${API_KEY}` } } });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ClientError', status: 400, retryable: false });
    expect((thrown as Error).message).toContain('Invalid model for key');
    expect((thrown as Error).message).not.toContain(API_KEY);
    expect((thrown as Error).message).not.toContain('SECRET');
  });

  it('never repeats a 401 body, which tends to quote the key', async () => {
    // Prepare
    answers.push({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${API_KEY.slice(0, 12)}****` } },
    });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ClientError', status: 401 });
    expect((thrown as Error).message).not.toContain(API_KEY.slice(0, 12));
  });

  it('classifies 408 as a timeout', async () => {
    // Prepare
    answers.push({ status: 408, body: {} });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.Timeout', status: 408 });
  });

  it('times out when the endpoint hangs', async () => {
    // Prepare
    answers.push({ hang: true });
    const impatient = allowingLocal(new OpenAiCompatibleProvider({ timeoutMs: 150 }));

    // Act
    const thrown = await impatient
      .converse(request(gpt(), [{ role: 'user', content: 'q' }], { apiKey: API_KEY }))
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.Timeout', retryable: true });
    expect((thrown as Error).message).toContain('150 ms');
  });

  it('times out when the step signal aborts the call', async () => {
    // Prepare
    answers.push({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    // Act
    const thrown = await provider
      .converse(
        request(gpt(), [{ role: 'user', content: 'q' }], { apiKey: API_KEY, signal: controller.signal }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.Timeout' });
  });

  it('classifies a refused connection as a server error without the key in the message', async () => {
    // Prepare: a port that was just closed refuses connections.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    // Act
    const thrown = await provider
      .converse(
        request(gpt({ baseUrl: `http://127.0.0.1:${port}/v1` }), [{ role: 'user', content: 'q' }], {
          apiKey: API_KEY,
        }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError', retryable: true });
    expect((thrown as Error).message).toContain('ECONNREFUSED');
    expect((thrown as Error).message).not.toContain(API_KEY);
  });

  it('classifies a response larger than it reads as a server error', async () => {
    // Prepare: the declared length is over the cap; nothing that large is sent.
    answers.push({ status: 200, headers: { 'content-length': String(MAX_COMPLETION_BYTES + 1) }, body: '' });

    // Act
    const thrown = await provider
      .converse(request(gpt(), [{ role: 'user', content: 'q' }], { apiKey: API_KEY }))
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError', retryable: true });
    expect((thrown as Error).message).toBe(
      `OpenAI-compatible response is larger than ${MAX_COMPLETION_BYTES} bytes`,
    );
  });

  it('classifies a response cut off halfway as a server error', async () => {
    // Prepare
    answers.push({ cut: true });

    // Act
    const thrown = await provider
      .converse(request(gpt(), [{ role: 'user', content: 'q' }], { apiKey: API_KEY }))
      .catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError', retryable: true });
    expect((thrown as Error).message).toMatch(
      /^OpenAI-compatible call failed: response from 127\.0\.0\.1:\d+ was cut off$/,
    );
  });

  it('classifies a 200 that is not a chat completion as a server error', async () => {
    // Prepare
    answers.push({ status: 200, body: '<html>gateway</html>' });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError' });
  });

  it('classifies tool call arguments that are not a JSON object as a server error', async () => {
    // Prepare
    answers.push({
      body: completion(
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } },
          ],
        },
        'tool_calls',
      ),
    });

    // Act
    const thrown = await ask().catch((e: unknown) => e);

    // Assess
    expect(thrown).toMatchObject({ name: 'Provider.ServerError' });
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    ['12', 12],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
    [' ', undefined],
  ])('reads %s as %s', (header, expected) => {
    // Prepare
    const now = Date.parse('2026-01-01T00:00:00Z');

    // Act
    const seconds = retryAfterSeconds(header, now);

    // Assess
    expect(seconds).toBe(expected);
  });
});
