/**
 * Templates (`{{input.city}}`, `{{steps.classify.output.data.label}}`, `{{item.id}}`, and in http
 * tools `{{args.q}}`) and data paths (`input.items`, `steps.a.output.text`): their syntax, parsed
 * without regular expressions that could backtrack, and their translation to JSONPath.
 */

/** Roots a data path may start with. `args` exists only inside http tool definitions. */
export type DataRoot = 'input' | 'steps' | 'item' | 'args';

/** A parsed data path. For `steps`, `stepId` names the step and `segments` follow `output`. */
export interface DataRef {
  readonly root: DataRoot;
  /** The step read, for root `steps`. */
  readonly stepId?: string;
  /** Segments after the root (after `steps.<id>.output` for steps); numbers are array indexes. */
  readonly segments: readonly (string | number)[];
}

/** One `{{...}}` found in a string. */
export interface TemplateMatch {
  /** The expression between the braces, trimmed. */
  readonly expression: string;
  /** Offset of the opening `{{`. */
  readonly offset: number;
}

/** Longest data path accepted. */
export const MAX_PATH_LENGTH = 256;
/** Most segments in one data path. */
export const MAX_PATH_SEGMENTS = 32;

const STEP_ID = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INDEX = /^(0|[1-9][0-9]{0,5})$/;

/**
 * Parses a data path such as `steps.classify.output.data.label`. `roots` lists the roots allowed
 * here. Returns the reference, or a message saying what is wrong.
 */
export function parseDataPath(
  path: string,
  roots: readonly DataRoot[],
): { ok: true; ref: DataRef } | { ok: false; message: string } {
  if (path.length === 0) return { ok: false, message: 'empty path' };
  if (path.length > MAX_PATH_LENGTH)
    return { ok: false, message: `path longer than ${MAX_PATH_LENGTH} characters` };
  const parts = path.split('.');
  if (parts.length > MAX_PATH_SEGMENTS)
    return { ok: false, message: `more than ${MAX_PATH_SEGMENTS} segments` };
  const [root, ...rest] = parts;
  if (!(roots as readonly string[]).includes(root ?? '')) {
    return { ok: false, message: `unknown root "${root}": use ${roots.map((r) => `${r}.`).join(', ')}` };
  }
  let stepId: string | undefined;
  let tail = rest;
  if (root === 'steps') {
    const [id, output, ...more] = rest;
    if (id === undefined || !STEP_ID.test(id))
      return { ok: false, message: 'expected steps.<stepId>.output...' };
    if (output !== 'output') return { ok: false, message: `expected steps.${id}.output...` };
    stepId = id;
    tail = more;
  }
  const segments: (string | number)[] = [];
  for (const segment of tail) {
    if (INDEX.test(segment)) segments.push(Number(segment));
    else if (NAME.test(segment)) segments.push(segment);
    else
      return {
        ok: false,
        message: `invalid segment "${segment}" (letters, digits and _, or an array index)`,
      };
  }
  const ref: DataRef = { root: root as DataRoot, segments, ...(stepId ? { stepId } : {}) };
  return { ok: true, ref };
}

/**
 * Finds the `{{...}}` templates of a string. Stops after `limit` matches (the caller refuses strings
 * with more). `error` reports an unterminated or empty template.
 */
export function scanTemplates(
  text: string,
  limit = Number.POSITIVE_INFINITY,
): { matches: TemplateMatch[]; error?: string } {
  const matches: TemplateMatch[] = [];
  let from = 0;
  while (matches.length < limit) {
    const open = text.indexOf('{{', from);
    if (open === -1) break;
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return { matches, error: `unterminated "{{" at offset ${open}` };
    const expression = text.slice(open + 2, close).trim();
    if (expression === '') return { matches, error: `empty template at offset ${open}` };
    if (expression.includes('{{')) return { matches, error: `unterminated "{{" at offset ${open}` };
    matches.push({ expression, offset: open });
    from = close + 2;
  }
  return { matches };
}

/** Counts `{{` occurrences, stopping once past `limit` (cheap: used by the limit checks). */
export function countTemplates(text: string, limit: number): number {
  let count = 0;
  let at = text.indexOf('{{');
  while (at !== -1 && count <= limit) {
    count++;
    at = text.indexOf('{{', at + 2);
  }
  return count;
}

/**
 * The JSONPath for a reference, as compiled into Choice `Variable` and Map `ItemsPath`. Inside a map
 * iterator the steps that ran before the map live under `$.outer` (see compile.ts): `isOuter` says
 * whether a step is one of them.
 */
export function toJsonPath(ref: DataRef, isOuter: (stepId: string) => boolean = () => false): string {
  let out = '$';
  if (ref.root === 'steps' && ref.stepId !== undefined) {
    out += `${isOuter(ref.stepId) ? '.outer' : '.steps'}.${ref.stepId}.output`;
  } else {
    out += `.${ref.root}`;
  }
  for (const segment of ref.segments) out += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return out;
}
