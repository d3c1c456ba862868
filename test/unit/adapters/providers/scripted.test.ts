import { describe, expect, it } from 'vitest';
import { estimateTokens, ScriptedProvider } from '#adapters/providers/scripted.ts';
import type { ChatMessage } from '#core/executions/model-port.ts';
import { agent, request, weatherTool } from './fixtures.ts';

const provider = new ScriptedProvider();

describe('ScriptedProvider rule selection', () => {
  it('answers with the first rule whose match matches the prompt', async () => {
    // Prepare
    const scripted = agent({
      script: [
        { match: 'refund', reply: 'first' },
        { match: 'refund|return', reply: 'second' },
      ],
    });

    // Act
    const response = await provider.converse(
      request(scripted, [{ role: 'user', content: 'I want a refund' }]),
    );

    // Assess
    expect(response).toMatchObject({ text: 'first', toolCalls: [], stopReason: 'end' });
  });

  it('skips non-matching rules and lets a rule without match catch the rest', async () => {
    // Prepare
    const scripted = agent({ script: [{ match: '^hello', reply: 'greeting' }, { reply: 'fallback' }] });

    // Act
    const response = await provider.converse(request(scripted, [{ role: 'user', content: 'say hello' }]));

    // Assess
    expect(response.text).toBe('fallback');
  });

  it('echoes the prompt when no rule matches', async () => {
    // Prepare
    const scripted = agent({ script: [{ match: '^never$', reply: 'x' }] });

    // Act
    const response = await provider.converse(
      request(scripted, [{ role: 'user', content: 'anything at all' }]),
    );

    // Assess
    expect(response.text).toBe('anything at all');
  });

  it('matches against the last user message only', async () => {
    // Prepare
    const scripted = agent({ script: [{ match: 'old', reply: 'matched old' }, { reply: 'latest' }] });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'old question' },
      { role: 'assistant', content: 'old answer' },
      { role: 'user', content: 'new question' },
    ];

    // Act
    const response = await provider.converse(request(scripted, messages));

    // Assess
    expect(response.text).toBe('latest');
  });
});

describe('ScriptedProvider tool calls', () => {
  const scripted = agent({
    tools: [weatherTool.toolId],
    script: [
      {
        match: 'weather',
        reply: 'It is 21 °C.',
        toolCalls: [{ toolId: weatherTool.toolId, args: { city: 'Paris' } }],
      },
    ],
  });

  it('asks for the rule tool calls on the first turn, with ids unique per turn', async () => {
    // Prepare
    const messages: ChatMessage[] = [{ role: 'user', content: 'weather in Paris' }];

    // Act
    const response = await provider.converse(request(scripted, messages, { tools: [weatherTool] }));

    // Assess
    expect(response).toEqual({
      text: '',
      toolCalls: [{ id: 'scripted-0-0', toolId: weatherTool.toolId, args: { city: 'Paris' } }],
      usage: expect.any(Object),
      stopReason: 'tool_use',
    });
  });

  it('answers with the reply and no tool calls once the tool results are in, so the loop ends', async () => {
    // Prepare
    const messages: ChatMessage[] = [
      { role: 'user', content: 'weather in Paris' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'scripted-0-0', toolId: weatherTool.toolId, args: {} }],
      },
      { role: 'tool', toolCallId: 'scripted-0-0', toolId: weatherTool.toolId, content: '{"tempC":21}' },
    ];

    // Act
    const response = await provider.converse(request(scripted, messages, { tools: [weatherTool] }));

    // Assess
    expect(response).toMatchObject({ text: 'It is 21 °C.', toolCalls: [], stopReason: 'end' });
  });
});

describe('ScriptedProvider usage', () => {
  it('reports the rule usage when the rule gives one', async () => {
    // Prepare
    const scripted = agent({ script: [{ reply: 'ok', usage: { inputTokens: 120, outputTokens: 30 } }] });

    // Act
    const response = await provider.converse(request(scripted, [{ role: 'user', content: 'hi' }]));

    // Assess
    expect(response.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
  });

  it('estimates ceil(characters / 4) for the system prompt and messages in, the reply out', async () => {
    // Prepare: 10 + 7 characters in, 5 out.
    const scripted = agent({ systemPrompt: 'Be brief. ', script: [{ reply: 'short' }] });

    // Act
    const response = await provider.converse(request(scripted, [{ role: 'user', content: 'a query' }]));

    // Assess
    expect(response.usage).toEqual({ inputTokens: 5, outputTokens: 2 });
    expect(estimateTokens('')).toBe(0);
  });

  it('gives the same answer to the same request every time', async () => {
    // Prepare
    const scripted = agent({ script: [{ match: 'x', reply: 'y' }] });
    const req = request(scripted, [{ role: 'user', content: 'xyz' }]);

    // Act
    const [first, second] = await Promise.all([provider.converse(req), provider.converse(req)]);

    // Assess
    expect(second).toEqual(first);
  });

  it('fails as a timeout when the step signal is already aborted', async () => {
    // Prepare
    const scripted = agent({ script: [{ reply: 'y' }] });

    // Act
    const call = provider.converse(
      request(scripted, [{ role: 'user', content: 'x' }], { signal: AbortSignal.abort() }),
    );

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'Provider.Timeout' });
  });
});
