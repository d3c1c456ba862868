import { RegexBudgetExceeded, tenantRegex, withRegexBudget } from '#core/catalog/tenant-regex.ts';
import type {
  ChatMessage,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ToolCall,
  Usage,
} from '#core/executions/model-port.ts';
import { ProviderError } from '#core/executions/model-port.ts';

/**
 * Time the script's `match` patterns may take on one turn. Each match is linear in a prompt
 * capped by the step payload, so this only bites on many long patterns over a long prompt.
 */
export const SCRIPT_REGEX_BUDGET_MS = 1000;

/** Rough token count of a text: one token per four characters, rounded up (deterministic). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageText(message: ChatMessage): string {
  if (message.role === 'assistant' && message.toolCalls && message.toolCalls.length > 0) {
    return message.content + JSON.stringify(message.toolCalls);
  }
  return message.content;
}

/**
 * The `scripted` provider (docs/api.md): answers from the agent's `script`, for local runs, demos and
 * tests; it costs nothing.
 *
 * - The prompt is the content of the last `user` message.
 * - The first rule whose `match` regex (linear time, functions/core/catalog/tenant-regex.ts) matches the prompt wins; a rule without `match` always
 *   matches; with no match the reply echoes the prompt.
 * - Tool use terminates: when the rule has `toolCalls` and the last message is not a `tool` result,
 *   the response asks for those calls (empty text, `stopReason: 'tool_use'`, ids `scripted-<turn>-<i>`).
 *   Once the conversation ends with `tool` results, the same rule answers with its `reply` and no
 *   tool calls, so the step runner's loop ends after one round of tool calls.
 * - Usage is the rule's `usage`, or else an estimate of ceil(characters / 4) for the whole
 *   conversation (input) and the answer (output).
 */
export class ScriptedProvider implements ModelProvider {
  async converse(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal?.aborted) throw new ProviderError('timeout', 'scripted call aborted');
    const prompt = lastUserPrompt(request.messages);
    let rule: NonNullable<typeof request.agent.script>[number] | undefined;
    try {
      rule = withRegexBudget(SCRIPT_REGEX_BUDGET_MS, () =>
        request.agent.script?.find(
          (candidate) => candidate.match === undefined || tenantRegex(candidate.match).test(prompt),
        ),
      );
    } catch (error) {
      // A pattern saved before a pattern rule (or one over budget) fails the step, never the platform.
      const why =
        error instanceof RegexBudgetExceeded ? error.message : `a match pattern is refused: ${String(error)}`;
      throw new ProviderError('client', `scripted agent: ${why}`);
    }
    const last = request.messages.at(-1);
    const afterToolResults = last?.role === 'tool';
    const toolCalls: ToolCall[] =
      rule?.toolCalls && !afterToolResults
        ? rule.toolCalls.map((call, i) => ({
            id: `scripted-${turnOf(request.messages)}-${i}`,
            toolId: call.toolId,
            args: { ...call.args },
          }))
        : [];
    const text = toolCalls.length > 0 ? '' : (rule?.reply ?? prompt);
    const usage: Usage = rule?.usage ?? {
      inputTokens: estimateTokens(
        (request.agent.systemPrompt ?? '') + request.messages.map(messageText).join(''),
      ),
      outputTokens: estimateTokens(toolCalls.length > 0 ? JSON.stringify(toolCalls) : text),
    };
    return { text, toolCalls, usage, stopReason: toolCalls.length > 0 ? 'tool_use' : 'end' };
  }
}

function lastUserPrompt(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return message.content;
  }
  return '';
}

// Which assistant turn this answer is: makes tool call ids unique within a conversation.
function turnOf(messages: readonly ChatMessage[]): number {
  return messages.filter((message) => message.role === 'assistant').length;
}
