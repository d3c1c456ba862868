import type { AgentDefinition, ToolDefinition } from '../catalog/model.ts';

/** Token counts of one model call or of a whole step. */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** A tool the model may call, described for the provider. */
export interface ToolSpec {
  /** The tool's id: what the model names when it calls it. */
  readonly toolId: string;
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments. */
  readonly inputSchema: Record<string, unknown>;
}

/** A call the model asks for. */
export interface ToolCall {
  /** The provider's id for this call (echoed back with the result). */
  readonly id: string;
  readonly toolId: string;
  readonly args: Record<string, unknown>;
}

/** One message of a conversation, provider-neutral. */
export type ChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly toolId: string; readonly content: string };

/** What the step runner asks a provider for. */
export interface ModelRequest {
  readonly agent: AgentDefinition;
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolSpec[];
  /** The API key of an OpenAI-compatible endpoint, already read from the tenant's secret. */
  readonly apiKey?: string;
  /** The tenant's private-network egress allowlist, set by a platform admin (net/egress.ts). */
  readonly egress?: readonly string[];
  /** Abort when the step's time is up. */
  readonly signal?: AbortSignal;
}

/** A provider's answer. */
export interface ModelResponse {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly usage: Usage;
  readonly stopReason: 'end' | 'tool_use' | 'max_tokens' | 'other';
}

/** A model provider (Bedrock Converse, OpenAI-compatible chat completions, scripted). */
export interface ModelProvider {
  converse(request: ModelRequest): Promise<ModelResponse>;
}

/** Why a provider call failed: throttling, timeouts and 5xx are retryable; other 4xx are not. */
export type ProviderFailure = 'throttled' | 'server' | 'timeout' | 'client' | 'circuit-open';

/**
 * A classified provider failure. Its `name` is what Step Functions matches in Retry/Catch
 * (`Provider.Throttled`, `Provider.ServerError`, `Provider.Timeout`, `Provider.ClientError`,
 * `Provider.CircuitOpen`), so workflows can retry the retryable ones only.
 */
export class ProviderError extends Error {
  override readonly name: string;
  constructor(
    readonly failure: ProviderFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = {
      throttled: 'Provider.Throttled',
      server: 'Provider.ServerError',
      timeout: 'Provider.Timeout',
      client: 'Provider.ClientError',
      'circuit-open': 'Provider.CircuitOpen',
    }[failure];
  }

  /** Whether trying again later can succeed. */
  get retryable(): boolean {
    return this.failure === 'throttled' || this.failure === 'server' || this.failure === 'timeout';
  }
}

/** What a tool run may use besides its arguments. */
export interface ToolContext {
  readonly tenantId: string;
  /** The tenant's private-network egress allowlist, set by a platform admin (net/egress.ts). */
  readonly egress?: readonly string[];
  /** Reads one of the tenant's secrets (for `authSecret`). */
  readonly secret: (name: string) => Promise<string | undefined>;
  readonly signal?: AbortSignal;
}

/** Runs HTTP and built-in tools. */
export interface ToolRunner {
  run(tool: ToolDefinition, args: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
}

/**
 * A tool failure, named for Retry/Catch: `Tool.Refused` (SSRF guard, bad URL: not retryable),
 * `Tool.Timeout`, `Tool.TooLarge`, `Tool.HttpError` (with the status), `Tool.Failed`.
 */
export class ToolError extends Error {
  override readonly name: string;
  constructor(
    readonly failure: 'refused' | 'timeout' | 'too-large' | 'http' | 'failed',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = {
      refused: 'Tool.Refused',
      timeout: 'Tool.Timeout',
      'too-large': 'Tool.TooLarge',
      http: 'Tool.HttpError',
      failed: 'Tool.Failed',
    }[failure];
  }
}
