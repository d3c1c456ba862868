/**
 * Helpers shared by the definition validators (agents, tools, workflows): how problems are worded
 * and named by path, and a few tolerant readers for raw (unvalidated) JSON.
 */
import type { CheckOptions } from '#shared/schema.ts';
import type { FieldProblem } from '../errors.ts';

/** Joins path segments the way problems name fields: `steps.a.retry.maxAttempts`; empty parts vanish. */
export function joinPath(...parts: readonly (string | number | undefined)[]): string {
  let out = '';
  for (const part of parts) {
    if (part === undefined || part === '') continue;
    out = out === '' ? String(part) : `${out}.${part}`;
  }
  return out;
}

/** How definitions word a missing field: `required`, rather than "expected string, received undefined". */
export const DEFINITION: CheckOptions = { missing: 'required' };

/** Object keys refused anywhere in a definition: plain objects would drop them silently. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__']);

/**
 * Problems with the raw shape of a JSON document, found by an iterative walk (no recursion, so
 * hostile nesting cannot overflow the stack): nesting deeper than `maxDepth`, and reserved keys.
 * Run it before any recursive validation sees the input.
 */
export function jsonShapeProblems(input: unknown, maxDepth: number, limit = 20): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: input, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length < limit) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) {
      problems.push({ path, message: `nested deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        stack.push({ value: item, path: joinPath(path, i), depth: depth + 1 });
      });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (RESERVED_KEYS.has(key)) problems.push({ path: joinPath(path, key), message: 'reserved key' });
      else stack.push({ value: item, path: joinPath(path, key), depth: depth + 1 });
    }
  }
  return problems;
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems, dropping exact duplicates (the same path and message found twice). */
export class ProblemList {
  readonly #seen = new Set<string>();
  readonly items: FieldProblem[] = [];

  /** Adds one problem unless the same one is already there. */
  add(path: string, message: string): void {
    const key = `${path}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.items.push({ path, message });
  }

  /** Adds many problems. */
  addAll(problems: readonly FieldProblem[]): void {
    for (const p of problems) this.add(p.path, p.message);
  }

  /** How many problems were found. */
  get size(): number {
    return this.items.length;
  }
}
