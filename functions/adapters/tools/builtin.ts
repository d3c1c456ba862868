import { randomUUID } from 'node:crypto';
import type { BuiltinToolName } from '#core/catalog/model.ts';
import { ToolError } from '#core/executions/model-port.ts';

/** What built-in tools may use from outside (injected in tests). */
export interface BuiltinDeps {
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default crypto.randomUUID */
  readonly uuid?: () => string;
}

/** One built-in tool: synchronous, pure apart from the clock and the uuid source. */
export type BuiltinTool = (args: Record<string, unknown>) => unknown;

/** Longest `json_extract` input, in characters: the tool parses it whole. */
export const MAX_JSON_EXTRACT_INPUT = 1024 * 1024;

/**
 * The platform's own tools (docs/api.md, `BUILTIN_TOOLS`):
 * - `echo`: returns its args.
 * - `current_time` `{timezone?}`: `{iso, epochMs, timezone, local}` where `local` is the wall-clock
 *   time in the IANA `timezone` (default UTC) with its offset, e.g. `2026-11-01T13:00:00+01:00`.
 * - `json_extract` `{json, path}`: reads `path` (`a.b[0]["c d"]`, optional leading `$`) from `json`
 *   (a JSON string, or any JSON value) → `{found, value}` (`value` null when not found).
 * - `uuid`: `{uuid}`, a random v4 UUID.
 * - `sum` `{numbers: number[]}`: `{sum}`.
 * Bad args throw `Tool.Failed` naming the argument.
 */
export function builtinTools(deps: BuiltinDeps = {}): Readonly<Record<BuiltinToolName, BuiltinTool>> {
  const now = deps.now ?? (() => new Date());
  const uuid = deps.uuid ?? randomUUID;
  return Object.freeze({
    echo: (args) => args,
    current_time: (args) => currentTime(now(), optionalString(args, 'timezone') ?? 'UTC'),
    json_extract: (args) => jsonExtract(args),
    uuid: () => ({ uuid: uuid() }),
    sum: (args) => {
      const numbers = args.numbers;
      if (!Array.isArray(numbers))
        throw new ToolError('failed', 'sum: args.numbers must be an array of numbers');
      let total = 0;
      for (const [i, n] of numbers.entries()) {
        if (typeof n !== 'number' || !Number.isFinite(n))
          throw new ToolError('failed', `sum: args.numbers[${i}] is not a finite number`);
        total += n;
      }
      return { sum: total };
    },
  });
}

function optionalString(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ToolError('failed', `args.${name} must be a string`);
  return value;
}

function currentTime(date: Date, timezone: string): Record<string, unknown> {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
  } catch {
    throw new ToolError(
      'failed',
      `current_time: unknown timezone "${timezone.slice(0, 64)}" (use an IANA name)`,
    );
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((part) => [part.type, part.value]));
  // "GMT+01:00", or "GMT" at offset zero.
  const offset = (parts.timeZoneName ?? 'GMT').replace(/^GMT/, '') || '+00:00';
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
  return {
    iso: date.toISOString(),
    epochMs: date.getTime(),
    // The name as asked for: ICU may canonicalize it to an alias (Asia/Kolkata → Asia/Calcutta).
    timezone,
    local,
  };
}

function jsonExtract(args: Record<string, unknown>): { found: boolean; value: unknown } {
  const path = args.path;
  if (typeof path !== 'string') throw new ToolError('failed', 'json_extract: args.path must be a string');
  let document = args.json;
  if (typeof document === 'string') {
    if (document.length > MAX_JSON_EXTRACT_INPUT)
      throw new ToolError(
        'failed',
        `json_extract: args.json is longer than ${MAX_JSON_EXTRACT_INPUT} characters`,
      );
    try {
      document = JSON.parse(document);
    } catch {
      throw new ToolError('failed', 'json_extract: args.json is not valid JSON');
    }
  }
  let value: unknown = document;
  for (const segment of parsePath(path)) {
    if (typeof segment === 'number') value = Array.isArray(value) ? value[segment] : undefined;
    else if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.hasOwn(value, segment)
    )
      value = (value as Record<string, unknown>)[segment];
    else value = undefined;
    if (value === undefined) return { found: false, value: null };
  }
  return { found: true, value };
}

/**
 * Parses a simple path: `a.b`, `a[0]`, `a["key with spaces"]`, `a['k']`, optional leading `$`.
 * Exported for tests. An empty path (or `$`) is the whole document.
 */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  const bad = (why: string) => new ToolError('failed', `json_extract: bad path at ${i}: ${why}`);
  if (path.length > 1024) throw new ToolError('failed', 'json_extract: path longer than 1024 characters');
  let first = true;
  while (i < path.length) {
    const c = path[i];
    if (c === '[') {
      const quote = path[i + 1];
      if (quote === '"' || quote === "'") {
        const end = path.indexOf(`${quote}]`, i + 2);
        if (end === -1) throw bad('unterminated quoted key');
        out.push(path.slice(i + 2, end));
        i = end + 2;
      } else {
        const end = path.indexOf(']', i);
        const digits = end === -1 ? '' : path.slice(i + 1, end);
        if (!/^\d{1,9}$/.test(digits)) throw bad('expected an index like [0]');
        out.push(Number(digits));
        i = end + 1;
      }
    } else {
      if (c === '.') i++;
      else if (!first) throw bad('expected "." or "["');
      let end = i;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
      if (end === i) throw bad('empty key');
      out.push(path.slice(i, end));
      i = end;
    }
    first = false;
  }
  return out;
}
