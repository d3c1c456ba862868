import type { ToolSpec } from '#core/executions/model-port.ts';

/**
 * Tool names as model APIs accept them. Bedrock and OpenAI both require `^[a-zA-Z0-9_-]{1,64}$`,
 * while tool ids may be up to 128 characters, so each conversation maps toolId ↔ name. The name is
 * derived from the tool's human name (it helps the model choose) and made unique.
 */
export interface ToolNameMap {
  /** The name the model sees for a tool id. */
  nameOf(toolId: string): string;
  /**
   * The tool id behind a name the model used. A name the model made up is passed through unchanged,
   * so the step runner reports "unknown tool" to the model instead of failing the call.
   */
  toolIdOf(name: string): string;
}

/** Longest tool name the provider APIs accept. */
export const MAX_TOOL_NAME_LENGTH = 64;

const INVALID = /[^a-zA-Z0-9_-]+/g;

function sanitize(text: string): string {
  return text
    .replace(INVALID, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_TOOL_NAME_LENGTH);
}

/** Builds the toolId ↔ name map of one request, deterministic in the order of `tools`. */
export function toolNameMap(tools: readonly ToolSpec[]): ToolNameMap {
  const byId = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const tool of tools) {
    if (byId.has(tool.toolId)) continue;
    const base = sanitize(tool.name) || sanitize(tool.toolId) || 'tool';
    let name = base;
    for (let n = 2; byName.has(name); n++) {
      const suffix = `_${n}`;
      name = base.slice(0, MAX_TOOL_NAME_LENGTH - suffix.length) + suffix;
    }
    byId.set(tool.toolId, name);
    byName.set(name, tool.toolId);
  }
  return {
    // An id outside the request (an old call in the history) still gets a valid name.
    nameOf: (toolId) => byId.get(toolId) ?? (sanitize(toolId) || 'tool'),
    toolIdOf: (name) => byName.get(name) ?? name,
  };
}
