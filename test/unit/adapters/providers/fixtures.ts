/** Shared fixtures of the provider tests: agents parsed by the real schema, tool specs, a conversation. */
import { type AgentDefinition, agentSchema } from '#core/catalog/model.ts';
import type { ChatMessage, ModelRequest, ToolSpec } from '#core/executions/model-port.ts';
import { parse } from '#shared/schema.ts';

/** An agent as the catalog stores it (parsed by the real schema, defaults applied). */
export function agent(fields: Record<string, unknown>): AgentDefinition {
  return parse(agentSchema, { name: 'Test agent', provider: 'scripted', model: 'script', ...fields });
}

/** A weather tool whose id differs from its name, as the API hands ids out. */
export const weatherTool: ToolSpec = {
  toolId: 'tool_01HWEATHER',
  name: 'get weather',
  description: 'Current weather of a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A conversation after one tool round trip: user, assistant asking for the tool, the tool result. */
export const toolRoundTrip: readonly ChatMessage[] = [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: 'Let me look.',
    toolCalls: [{ id: 'call-1', toolId: weatherTool.toolId, args: { city: 'Paris' } }],
  },
  { role: 'tool', toolCallId: 'call-1', toolId: weatherTool.toolId, content: '{"tempC":21}' },
];

/** A request with the given agent and messages and no tools unless given. */
export function request(
  forAgent: AgentDefinition,
  messages: readonly ChatMessage[],
  extra: Partial<ModelRequest> = {},
): ModelRequest {
  return { agent: forAgent, messages, tools: [], ...extra };
}
