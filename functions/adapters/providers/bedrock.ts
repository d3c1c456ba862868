import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConflictException,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type InferenceConfiguration,
  InternalServerException,
  type Message,
  ModelErrorException,
  ModelNotReadyException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  type ToolUseBlock,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import type {
  ChatMessage,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ToolCall,
} from '#core/executions/model-port.ts';
import { ProviderError, type ProviderFailure } from '#core/executions/model-port.ts';
import { tracer } from '#shared/observability.ts';
import { type ToolNameMap, toolNameMap } from './tool-names.ts';

let shared: BedrockRuntimeClient | undefined;

/** The container's Bedrock Runtime client, created once and wrapped by the tracer. */
export function bedrockRuntimeClient(): BedrockRuntimeClient {
  shared ??= tracer.captureAWSv3Client(new BedrockRuntimeClient({}));
  return shared;
}

/**
 * Amazon Bedrock through the Converse API, with tool use. Errors are translated into classified
 * {@link ProviderError}s by `instanceof` on the SDK's exception classes.
 */
export class BedrockProvider implements ModelProvider {
  /** @param client injected in tests; defaults to the container's shared client. */
  constructor(private readonly client?: BedrockRuntimeClient) {}

  async converse(request: ModelRequest): Promise<ModelResponse> {
    const names = toolNameMap(request.tools);
    const input = toConverseInput(request, names);
    let output: ConverseCommandOutput;
    try {
      output = await (this.client ?? bedrockRuntimeClient()).send(
        new ConverseCommand(input),
        request.signal ? { abortSignal: request.signal } : {},
      );
    } catch (error) {
      throw classifyBedrockError(error, request.signal);
    }
    return fromConverseOutput(output, names);
  }
}

/** The Converse request for a provider-neutral request (exported for tests and the bench). */
export function toConverseInput(request: ModelRequest, names: ToolNameMap): ConverseCommandInput {
  const { agent, tools } = request;
  const inference: InferenceConfiguration = {
    ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
    ...(agent.maxTokens !== undefined ? { maxTokens: agent.maxTokens } : {}),
  };
  return {
    modelId: agent.model,
    messages: toBedrockMessages(request.messages, names),
    ...(agent.systemPrompt ? { system: [{ text: agent.systemPrompt }] } : {}),
    ...(Object.keys(inference).length > 0 ? { inferenceConfig: inference } : {}),
    ...(tools.length > 0
      ? {
          toolConfig: {
            tools: tools.map((tool) => ({
              toolSpec: {
                name: names.nameOf(tool.toolId),
                ...(tool.description ? { description: tool.description } : {}),
                inputSchema: { json: toDocument(tool.inputSchema) },
              },
            })),
          },
        }
      : {}),
  };
}

// Converse wants alternating user/assistant messages, and all results of one assistant turn's tool
// calls in the next user message: adjacent messages of the same role are merged into one.
function toBedrockMessages(messages: readonly ChatMessage[], names: ToolNameMap): Message[] {
  const out: Message[] = [];
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = contentOf(message, names);
    // Converse refuses empty content; an empty assistant turn carries nothing the model needs.
    if (blocks.length === 0) continue;
    const previous = out.at(-1);
    if (previous?.role === role && previous.content) previous.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function contentOf(message: ChatMessage, names: ToolNameMap): ContentBlock[] {
  switch (message.role) {
    case 'user':
      return [{ text: message.content }];
    case 'tool':
      return [{ toolResult: { toolUseId: message.toolCallId, content: [{ text: message.content }] } }];
    case 'assistant': {
      const blocks: ContentBlock[] = message.content ? [{ text: message.content }] : [];
      for (const call of message.toolCalls ?? []) {
        blocks.push({
          toolUse: { toolUseId: call.id, name: names.nameOf(call.toolId), input: toDocument(call.args) },
        });
      }
      return blocks;
    }
  }
}

/** Maps a Converse response to the provider-neutral response. */
export function fromConverseOutput(output: ConverseCommandOutput, names: ToolNameMap): ModelResponse {
  const content = output.output && 'message' in output.output ? (output.output.message?.content ?? []) : [];
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    if (block.text !== undefined) text += block.text;
    else if (block.toolUse) {
      const { toolUseId, name, input } = block.toolUse;
      toolCalls.push({
        id: toolUseId ?? `bedrock-${toolCalls.length}`,
        toolId: names.toolIdOf(name ?? ''),
        args: isRecord(input) ? input : {},
      });
    }
  }
  return {
    text,
    toolCalls,
    usage: { inputTokens: output.usage?.inputTokens ?? 0, outputTokens: output.usage?.outputTokens ?? 0 },
    stopReason: stopReasonOf(output.stopReason),
  };
}

function stopReasonOf(reason: string | undefined): ModelResponse['stopReason'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'end';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    default:
      return 'other';
  }
}

/**
 * Classifies an error thrown by the Bedrock client: throttling (and quota) → `throttled`;
 * unavailable, internal, model-not-ready and model errors → `server`; model timeout or our own
 * abort → `timeout`; validation, access, missing model, conflict → `client`. Anything else is
 * classified by its HTTP status (429, ≥ 500, other 4xx); an error without one (network) is `server`.
 */
export function classifyBedrockError(error: unknown, signal?: AbortSignal): ProviderError {
  if (error instanceof ProviderError) return error;
  const detail = describe(error);
  const status = statusOf(error);
  const fail = (failure: ProviderFailure) =>
    new ProviderError(failure, `Bedrock ${failure === 'client' ? 'refused' : 'failed'}: ${detail}`, status);
  if (signal?.aborted) return new ProviderError('timeout', `Bedrock call aborted: ${detail}`, status);
  // A quota error is Bedrock's tokens-per-minute limit: waiting helps, like throttling.
  if (error instanceof ThrottlingException || error instanceof ServiceQuotaExceededException)
    return fail('throttled');
  if (error instanceof ModelTimeoutException) return fail('timeout');
  if (
    error instanceof ServiceUnavailableException ||
    error instanceof InternalServerException ||
    error instanceof ModelNotReadyException ||
    error instanceof ModelErrorException
  )
    return fail('server');
  if (
    error instanceof ValidationException ||
    error instanceof AccessDeniedException ||
    error instanceof ResourceNotFoundException ||
    error instanceof ConflictException
  )
    return fail('client');
  if (status === 429) return fail('throttled');
  if (status === 408) return fail('timeout');
  if (status !== undefined && status >= 400 && status < 500) return fail('client');
  return fail('server');
}

function statusOf(error: unknown): number | undefined {
  if (!isRecord(error) || !isRecord(error.$metadata)) return undefined;
  const status = error.$metadata.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

// AWS error messages carry no credentials; cap them so a huge message does not bloat the step record.
function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return 'unknown error';
}

/** A JSON value as the SDK's document type. */
type Document = Exclude<ToolUseBlock['input'], undefined>;

// Args and schemas are JSON already; this rebuilds them as the SDK's document type without casts,
// dropping what JSON cannot carry (undefined, functions) the way JSON.stringify would.
function toDocument(value: unknown): Document {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toDocument);
  if (isRecord(value)) {
    const out: { [key: string]: Document } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined && typeof item !== 'function') out[key] = toDocument(item);
    }
    return out;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
