import {
  AccessDeniedException,
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BedrockProvider, bedrockRuntimeClient, classifyBedrockError } from '#adapters/providers/bedrock.ts';
import { ProviderError } from '#core/executions/model-port.ts';
import { agent, request, toolRoundTrip, weatherTool } from './fixtures.ts';

const client = new BedrockRuntimeClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
});
const bedrock = mockClient(client);
const provider = new BedrockProvider(client);

const haiku = agent({
  provider: 'bedrock',
  model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
  systemPrompt: 'You are helpful.',
  temperature: 0.2,
  maxTokens: 512,
  tools: [weatherTool.toolId],
});

const metadata = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'req-1',
  attempts: 1,
  totalRetryDelay: 0,
});

beforeEach(() => {
  bedrock.reset();
});

describe('BedrockProvider request', () => {
  it('sends the exact Converse input for a conversation with a tool result', async () => {
    // Prepare
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'It is 21 °C.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 50, outputTokens: 8, totalTokens: 58 },
    });

    // Act
    await provider.converse(request(haiku, toolRoundTrip, { tools: [weatherTool] }));

    // Assess
    const calls = bedrock.commandCalls(ConverseCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      system: [{ text: 'You are helpful.' }],
      messages: [
        { role: 'user', content: [{ text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: [
            { text: 'Let me look.' },
            { toolUse: { toolUseId: 'call-1', name: 'get_weather', input: { city: 'Paris' } } },
          ],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'call-1', content: [{ text: '{"tempC":21}' }] } }],
        },
      ],
      inferenceConfig: { temperature: 0.2, maxTokens: 512 },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Current weather of a city',
              inputSchema: { json: weatherTool.inputSchema },
            },
          },
        ],
      },
    });
  });

  it('puts the results of parallel tool calls in one user message and omits what the agent does not set', async () => {
    // Prepare
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [] } } });
    const plain = agent({ provider: 'bedrock', model: 'amazon.nova-micro-v1:0' });

    // Act
    await provider.converse(
      request(plain, [
        { role: 'user', content: 'two cities' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'a', toolId: 'w', args: { city: 'Oslo' } },
            { id: 'b', toolId: 'w', args: { city: 'Rome' } },
          ],
        },
        { role: 'tool', toolCallId: 'a', toolId: 'w', content: 'cold' },
        { role: 'tool', toolCallId: 'b', toolId: 'w', content: 'warm' },
      ]),
    );

    // Assess
    const input = bedrock.commandCalls(ConverseCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('system');
    expect(input).not.toHaveProperty('toolConfig');
    expect(input).not.toHaveProperty('inferenceConfig');
    expect(input?.messages?.[1]?.content).toEqual([
      { toolUse: { toolUseId: 'a', name: 'w', input: { city: 'Oslo' } } },
      { toolUse: { toolUseId: 'b', name: 'w', input: { city: 'Rome' } } },
    ]);
    expect(input?.messages?.[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'a', content: [{ text: 'cold' }] } },
        { toolResult: { toolUseId: 'b', content: [{ text: 'warm' }] } },
      ],
    });
  });
});

describe('BedrockProvider response', () => {
  it('maps text, tool use (back to the tool id), usage and the stop reason', async () => {
    // Prepare
    bedrock.on(ConverseCommand).resolves({
      output: {
        message: {
          role: 'assistant',
          content: [
            { text: 'Checking ' },
            { text: 'now.' },
            { toolUse: { toolUseId: 'tu-9', name: 'get_weather', input: { city: 'Lyon' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 31, outputTokens: 12, totalTokens: 43 },
    });

    // Act
    const response = await provider.converse(
      request(haiku, [{ role: 'user', content: 'Weather in Lyon?' }], { tools: [weatherTool] }),
    );

    // Assess
    expect(response).toEqual({
      text: 'Checking now.',
      toolCalls: [{ id: 'tu-9', toolId: weatherTool.toolId, args: { city: 'Lyon' } }],
      usage: { inputTokens: 31, outputTokens: 12 },
      stopReason: 'tool_use',
    });
  });

  it.each([
    ['end_turn', 'end'],
    ['stop_sequence', 'end'],
    ['tool_use', 'tool_use'],
    ['max_tokens', 'max_tokens'],
    ['model_context_window_exceeded', 'max_tokens'],
    ['content_filtered', 'other'],
    ['guardrail_intervened', 'other'],
  ] as const)('maps stop reason %s to %s', async (stopReason, expected) => {
    // Prepare
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'x' }] } },
      stopReason,
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    });

    // Act
    const response = await provider.converse(request(haiku, [{ role: 'user', content: 'q' }]));

    // Assess
    expect(response.stopReason).toBe(expected);
  });
});

describe('BedrockProvider errors', () => {
  it.each([
    [
      'ThrottlingException',
      new ThrottlingException({ message: 'Too many requests', $metadata: metadata(429) }),
      'Provider.Throttled',
      true,
    ],
    [
      'ServiceQuotaExceededException',
      new ServiceQuotaExceededException({ message: 'Quota', $metadata: metadata(400) }),
      'Provider.Throttled',
      true,
    ],
    [
      'ServiceUnavailableException',
      new ServiceUnavailableException({ message: 'Unavailable', $metadata: metadata(503) }),
      'Provider.ServerError',
      true,
    ],
    [
      'InternalServerException',
      new InternalServerException({ message: 'Boom', $metadata: metadata(500) }),
      'Provider.ServerError',
      true,
    ],
    [
      'ModelNotReadyException',
      new ModelNotReadyException({ message: 'Warming up', $metadata: metadata(429) }),
      'Provider.ServerError',
      true,
    ],
    [
      'ModelErrorException',
      new ModelErrorException({ message: 'Model failed', $metadata: metadata(424) }),
      'Provider.ServerError',
      true,
    ],
    [
      'ModelTimeoutException',
      new ModelTimeoutException({ message: 'Too slow', $metadata: metadata(408) }),
      'Provider.Timeout',
      true,
    ],
    [
      'ValidationException',
      new ValidationException({ message: 'Bad input', $metadata: metadata(400) }),
      'Provider.ClientError',
      false,
    ],
    [
      'AccessDeniedException',
      new AccessDeniedException({ message: 'No access', $metadata: metadata(403) }),
      'Provider.ClientError',
      false,
    ],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'No model', $metadata: metadata(404) }),
      'Provider.ClientError',
      false,
    ],
  ])('classifies %s', async (_name, error, expectedName, retryable) => {
    // Prepare
    bedrock.on(ConverseCommand).rejects(error);

    // Act
    const call = provider.converse(request(haiku, [{ role: 'user', content: 'q' }]));

    // Assess
    const thrown = await call.catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ name: expectedName, retryable });
  });

  it.each([
    [503, 'Provider.ServerError'],
    [500, 'Provider.ServerError'],
    [429, 'Provider.Throttled'],
    [400, 'Provider.ClientError'],
  ])('classifies an unmodelled service error with HTTP %i by its status', (status, expectedName) => {
    // Prepare
    const error = new BedrockRuntimeServiceException({
      name: 'SomethingNew',
      $fault: status >= 500 ? 'server' : 'client',
      message: 'new error',
      $metadata: metadata(status),
    });

    // Act
    const classified = classifyBedrockError(error);

    // Assess
    expect(classified).toMatchObject({ name: expectedName, status });
  });

  it('classifies a network error without a status as a server error', () => {
    // Prepare
    const error = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    // Act
    const classified = classifyBedrockError(error);

    // Assess
    expect(classified).toMatchObject({ name: 'Provider.ServerError', retryable: true });
  });

  it('classifies a call aborted by the step signal as a timeout', async () => {
    // Prepare
    const controller = new AbortController();
    bedrock.on(ConverseCommand).callsFake(async () => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });

    // Act
    const call = provider.converse(
      request(haiku, [{ role: 'user', content: 'q' }], { signal: controller.signal }),
    );

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'Provider.Timeout' });
  });
});

describe('bedrockRuntimeClient', () => {
  it('creates the container client once', () => {
    // Act
    const first = bedrockRuntimeClient();
    const second = bedrockRuntimeClient();

    // Assess
    expect(first).toBeInstanceOf(BedrockRuntimeClient);
    expect(second).toBe(first);
  });
});
