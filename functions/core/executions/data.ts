import { type DataRef, parseDataPath, scanTemplates } from '../workflows/templates.ts';

const ROOTS = ['input', 'steps', 'item', 'args'] as const;

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
  roots = ROOTS,
): unknown {
  if (typeof value === 'string') {
    const { matches } = scanTemplates(value, 100);
    if (matches.length === 0) return value;
    const lookup = (expression: string): unknown => {
      const parsed = parseDataPath(expression, roots);
      return parsed.ok ? readRef(data, parsed.ref) : undefined;
    };
    const spans = matches.map((m) => ({ ...m, end: value.indexOf('}}', m.offset + 2) + 2 }));
    const [only] = spans;
    if (spans.length === 1 && only && only.offset === 0 && only.end === value.length)
      return lookup(only.expression);
    let out = '';
    let from = 0;
    for (const span of spans) {
      const found = lookup(span.expression);
      out += value.slice(from, span.offset);
      out +=
        found === undefined || found === null
          ? ''
          : typeof found === 'object'
            ? JSON.stringify(found)
            : String(found);
      from = span.end;
    }
    return out + value.slice(from);
  }
  if (Array.isArray(value)) return value.map((v) => resolveTemplates(v, data, roots));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTemplates(v, data, roots)]));
  }
  return value;
}

/** The steps whose outputs the templates in `value` read (so only those need fetching). */
export function stepsReadBy(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const { expression } of scanTemplates(value, 100).matches) {
      const parsed = parseDataPath(expression, ROOTS);
      if (parsed.ok && parsed.ref.stepId !== undefined) out.add(parsed.ref.stepId);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) stepsReadBy(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) stepsReadBy(v, out);
  }
  return out;
}
