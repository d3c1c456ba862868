/** Ids an (unvalidated) definition refers to: every `agentId`, `toolId` and agent `tools` entry. */
export interface References {
  readonly agents: Set<string>;
  readonly tools: Set<string>;
}

const MAX_DEPTH = 64;

/**
 * Collects the agent and tool ids a raw definition names, wherever they are nested (parallel
 * branches, map iterators, script tool calls), so the caller can look them up before validation,
 * which is synchronous and pure. Depth-bounded: hostile nesting is refused by validation anyway.
 */
export function collectReferences(raw: unknown): References {
  const refs: References = { agents: new Set(), tools: new Set() };
  const walk = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'agentId' && typeof child === 'string') refs.agents.add(child);
      else if (key === 'toolId' && typeof child === 'string') refs.tools.add(child);
      else if (key === 'tools' && Array.isArray(child)) {
        for (const t of child) if (typeof t === 'string') refs.tools.add(t);
      } else walk(child, depth + 1);
    }
  };
  walk(raw, 0);
  return refs;
}
