import { type DataRef, parseDataPath, scanTemplates } from '../workflows/templates.ts';

/**
 * Reads the data a template or path names from a running workflow's state. Inside a map iterator,
 * steps that ran before the map are under `outer` (see compile.ts), so `steps.x` looks there too.
 */
export function readRef(state: Readonly<Record<string, unknown>>, ref: DataRef): unknown {
  let value: unknown;
  if (ref.root === 'steps' && ref.stepId !== undefined) {
    const steps = (state.steps ?? {}) as Record<string, unknown>;
    const outer = (state.outer ?? {}) as Record<string, unknown>;
    const step = (steps[ref.stepId] ?? outer[ref.stepId]) as { output?: unknown } | undefined;
    value = step?.output;
  } else {
    value = state[ref.root];
  }
  for (const segment of ref.segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/**
 * Resolves `{{...}}` templates in a value. A string that is exactly one template takes the value as
 * it is (numbers stay numbers, objects stay objects); templates inside longer text are interpolated
 * (objects as JSON, missing values as empty text).
 */
export function resolveTemplates(
  value: unknown,
  data: Readonly<Record<string, unknown>>,
  roots = ['input', 'steps', 'item', 'args'] as const,
): unknown {
  if (typeof value === 'string') {
    const { matches } = scanTemplates(value, 100);
    if (matches.length === 0) return value;
    const lookup = (expression: string): unknown => {
      const parsed = parseDataPath(expression, roots);
      return parsed.ok ? readRef(data, parsed.ref) : undefined;
    };
    const only = matches[0];
    if (
      matches.length === 1 &&
      only &&
      value.trim() === `{{${only.expression}}}`.trim() &&
      value.startsWith('{{') &&
      value.endsWith('}}')
    ) {
      return lookup(only.expression);
    }
    return value.replace(/\{\{([^{}]{1,300})\}\}/g, (_, expression: string) => {
      const found = lookup(expression.trim());
      if (found === undefined || found === null) return '';
      return typeof found === 'object' ? JSON.stringify(found) : String(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, data, roots));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, data, roots)]));
  }
  return value;
}
