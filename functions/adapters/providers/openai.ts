import { OPENAI_DEFAULT_BASE_URL } from '#core/catalog/providers.ts';
import type {
  ChatMessage,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ToolCall,
} from '#core/executions/model-port.ts';
import { ProviderError, type ProviderFailure } from '#core/executions/model-port.ts';
import { EgressAllowlist } from '#core/net/egress.ts';
import {
  EgressGuard,
  EgressRefused,
  EgressUnresolved,
  type HostResolver,
  type PinnedResponse,
  pinnedRequest,
  type ResolvedAddress,
  ResponseTooLarge,
} from '../egress-guard.ts';
import { type ToolNameMap, toolNameMap } from './tool-names.ts';

/** Largest response body read (a chat completion is far smaller). */
export const MAX_COMPLETION_BYTES = 16 * 1024 * 1024;

/** Options of {@link OpenAiCompatibleProvider}. */
export interface OpenAiProviderOptions {
  /**
   * Time allowed for one call, headers and body, in milliseconds. The request's own `signal`
   * (the step's deadline) can end it sooner.
   * @default 120000
   */
  readonly timeoutMs?: number;
  /** Resolves the endpoint's host (tests point names anywhere). @default the system resolver */
  readonly resolve?: HostResolver;
  /** Why an address is refused, or undefined to allow it. @default forbiddenAddressClass */
  readonly forbiddenAddress?: (address: string) => string | undefined;
  /** CA certificates trusted for https instead of the bundled ones (a private PKI, tests). */
  readonly ca?: string | Buffer;
}

/** One message of the chat-completions wire format (the fields this provider sends). */
export type OpenAiMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAiToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A tool call on the wire: `arguments` is a JSON string. */
export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure-style gateways, vLLM, Ollama…):
 * `POST {baseUrl}/chat/completions` with tool calls. Errors become classified
 * {@link ProviderError}s: 429 → throttled (Retry-After named in the message), 408 and timeouts →
 * timeout, 5xx and network errors → server, other 4xx → client. The API key never appears in a
 * message, even when the endpoint echoes it back.
 */
export class OpenAiCompatibleProvider implements ModelProvider {
  private readonly timeoutMs: number;
  private readonly guard: EgressGuard;
  private readonly ca: string | Buffer | undefined;

  constructor(options: OpenAiProviderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.guard = new EgressGuard({
      ...(options.resolve ? { resolve: options.resolve } : {}),
      ...(options.forbiddenAddress ? { forbiddenAddress: options.forbiddenAddress } : {}),
    });
    this.ca = options.ca;
  }

  async converse(request: ModelRequest): Promise<ModelResponse> {
    const names = toolNameMap(request.tools);
    const url = endpointOf(request.agent.baseUrl ?? OPENAI_DEFAULT_BASE_URL);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    const redact = redactor(request.apiKey);
    const timedOut = () => {
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : 'the step was aborted';
      return new ProviderError('timeout', `OpenAI-compatible call timed out: ${why}`);
    };
    // The same guard as HTTP tools: https, public addresses after DNS (or the tenant's platform
    // allowlist), and the connection pinned to the checked addresses.
    const allowlist = new EgressAllowlist(request.egress ?? []);
    let addresses: readonly ResolvedAddress[];
    try {
      this.guard.checkScheme(url, allowlist);
      addresses = await this.guard.addresses(url, allowlist, signal);
    } catch (error) {
      if (signal.aborted) throw timedOut();
      if (error instanceof EgressRefused)
        throw new ProviderError('client', `OpenAI-compatible endpoint refused: ${error.message}`);
      if (error instanceof EgressUnresolved)
        throw new ProviderError('server', `OpenAI-compatible call failed: ${error.message}`);
      throw error;
    }
    let response: PinnedResponse;
    try {
      response = await this.post(
        url,
        addresses,
        request.apiKey,
        JSON.stringify(toChatCompletionsBody(request, names)),
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw timedOut();
      if (error instanceof ProviderError) throw error;
      throw new ProviderError('server', `OpenAI-compatible call failed: ${redact(networkDetail(error))}`);
    }
    const { status, headers } = response;
    const bodyText = response.body.toString('utf8');
    // A redirect would resend the key elsewhere: an API endpoint has no reason to redirect.
    if (status >= 300 && status < 400)
      throw new ProviderError(
        'client',
        `OpenAI-compatible endpoint answered HTTP ${status}: redirects are not followed`,
        status,
      );
    if (status < 200 || status >= 300) throw httpError(status, headers['retry-after'], bodyText, redact);
    return fromChatCompletion(bodyText, names);
  }

  // One POST to the checked addresses only; the body is read up to MAX_COMPLETION_BYTES.
  private async post(
    url: URL,
    addresses: readonly ResolvedAddress[],
    apiKey: string | undefined,
    body: string,
    signal: AbortSignal,
  ): Promise<PinnedResponse> {
    try {
      return await pinnedRequest({
        url,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: Buffer.from(body),
        addresses,
        signal,
        ca: this.ca,
        maxBytes: MAX_COMPLETION_BYTES,
        reads: () => true,
      });
    } catch (error) {
      if (error instanceof ResponseTooLarge)
        throw new ProviderError(
          'server',
          `OpenAI-compatible response is larger than ${MAX_COMPLETION_BYTES} bytes`,
        );
      throw error;
    }
  }
}

/** `<baseUrl>/chat/completions`; a base URL with a query or fragment (saved before they were refused) is refused. */
function endpointOf(baseUrl: string): URL {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ProviderError('client', 'OpenAI-compatible baseUrl is not a valid URL');
  }
  if (baseUrl.includes('?') || baseUrl.includes('#'))
    throw new ProviderError('client', 'OpenAI-compatible baseUrl must not contain "?" or "#"');
  return new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}/chat/completions`);
}

export function toChatCompletionsBody(request: ModelRequest, names: ToolNameMap): Record<string, unknown> {
  const { agent, tools } = request;
  const messages: OpenAiMessage[] = agent.systemPrompt
    ? [{ role: 'system', content: agent.systemPrompt }]
    : [];
  for (const message of request.messages) messages.push(toOpenAiMessage(message, names));
  return {
    model: agent.model,
    messages,
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            type: 'function',
            function: {
              name: names.nameOf(tool.toolId),
              ...(tool.description ? { description: tool.description } : {}),
              parameters: tool.inputSchema,
            },
          })),
        }
      : {}),
    ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
    // `max_tokens` rather than `max_completion_tokens`: the one every compatible server understands.
    ...(agent.maxTokens !== undefined ? { max_tokens: agent.maxTokens } : {}),
  };
}

function toOpenAiMessage(message: ChatMessage, names: ToolNameMap): OpenAiMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      return {
        role: 'assistant',
        content: message.content === '' && calls.length > 0 ? null : message.content,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: names.nameOf(call.toolId), arguments: JSON.stringify(call.args) },
              })),
            }
          : {}),
      };
    }
  }
}

/** Parses a chat-completions response body; a body that is not one is a `server` failure. */
export function fromChatCompletion(bodyText: string, names: ToolNameMap): ModelResponse {
  const body = parseJson(bodyText);
  const choices = isRecord(body) && Array.isArray(body.choices) ? body.choices : [];
  const choice: unknown = choices[0];
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new ProviderError('server', 'OpenAI-compatible endpoint returned no choices[0].message');
  }
  const message = choice.message;
  const toolCalls: ToolCall[] = [];
  const rawCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const [i, raw] of rawCalls.entries()) {
    const fn = isRecord(raw) && isRecord(raw.function) ? raw.function : undefined;
    if (!isRecord(raw) || !fn || typeof fn.name !== 'string') {
      throw new ProviderError('server', `OpenAI-compatible endpoint returned a malformed tool call ${i}`);
    }
    // Models occasionally emit invalid JSON arguments; a retry usually fixes it, so `server`.
    const args = typeof fn.arguments === 'string' && fn.arguments !== '' ? parseJson(fn.arguments) : {};
    if (!isRecord(args)) {
      throw new ProviderError(
        'server',
        `tool call ${i} (${fn.name}) has arguments that are not a JSON object`,
      );
    }
    toolCalls.push({
      id: typeof raw.id === 'string' ? raw.id : `call-${i}`,
      toolId: names.toolIdOf(fn.name),
      args,
    });
  }
  const usage = isRecord(body) && isRecord(body.usage) ? body.usage : {};
  return {
    text: typeof message.content === 'string' ? message.content : '',
    toolCalls,
    usage: { inputTokens: count(usage.prompt_tokens), outputTokens: count(usage.completion_tokens) },
    stopReason: finishReasonOf(choice.finish_reason, toolCalls.length > 0),
  };
}

function finishReasonOf(reason: unknown, hasToolCalls: boolean): ModelResponse['stopReason'] {
  switch (reason) {
    case 'stop':
      // Some compatible servers say "stop" even when they return tool calls.
      return hasToolCalls ? 'tool_use' : 'end';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    default:
      return hasToolCalls ? 'tool_use' : 'other';
  }
}

function httpError(
  status: number,
  retryAfterHeader: string | undefined,
  bodyText: string,
  redact: (text: string) => string,
): ProviderError {
  const failure: ProviderFailure =
    status === 429 ? 'throttled' : status === 408 ? 'timeout' : status >= 500 ? 'server' : 'client';
  let message = `OpenAI-compatible endpoint answered HTTP ${status}`;
  if (failure === 'throttled') {
    const retryAfter = retryAfterSeconds(retryAfterHeader);
    if (retryAfter !== undefined) message += `; retry after ${retryAfter} s`;
  }
  // 401/403 bodies tend to quote (part of) the key: say nothing more than the status for them.
  if (status !== 401 && status !== 403) {
    const detail = errorDetail(bodyText);
    if (detail) message += `: ${redact(detail)}`;
  }
  return new ProviderError(failure, message, status);
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

// The provider's own error text (`{error: {message}}`) is useful; cap it.
function errorDetail(bodyText: string): string | undefined {
  const body = parseJson(bodyText);
  const error = isRecord(body) ? body.error : undefined;
  const text = isRecord(error) ? error.message : typeof error === 'string' ? error : undefined;
  return typeof text === 'string' && text !== '' ? text.slice(0, 300) : undefined;
}

// Removes the key, and anything shaped like an OpenAI key, from text that goes into a message.
function redactor(apiKey: string | undefined): (text: string) => string {
  return (text) => {
    let out = apiKey && apiKey.length > 0 ? text.split(apiKey).join('***') : text;
    out = out.replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, 'sk-***');
    return out;
  };
}

function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = error.cause;
  const own = (error as { code?: unknown }).code;
  const code =
    typeof own === 'string'
      ? ` (${own})`
      : isRecord(cause) && typeof cause.code === 'string'
        ? ` (${cause.code})`
        : '';
  return `${error.message}${code}`.slice(0, 300);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
