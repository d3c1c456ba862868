/**
 * Checks a JSON Schema supplied by a tenant (a tool's `inputSchema`, a workflow's `inputSchema`):
 * it must describe an object and compile (JSON Schema 2020-12, functions/shared/json-schema-validator.ts).
 */
import { compileSchema } from '#shared/json-schema-validator.ts';
import type { FieldProblem } from '../errors.ts';
import { isRecord, joinPath } from './problems.ts';
import { regexProblem, tenantRegex } from './tenant-regex.ts';

/** Largest schema accepted, serialized: compiling is linear in size, so cap it. */
export const MAX_JSON_SCHEMA_BYTES = 64 * 1024;

/** Most patterns (`pattern` values and `patternProperties` keys) in one schema: each costs a linear scan. */
export const MAX_SCHEMA_PATTERNS = 100;

// Keywords whose values are data, not subschemas: a `pattern` inside them is not a pattern.
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);

/**
 * Every pattern of a schema with its path: `pattern` strings and `patternProperties` keys, found in
 * subschemas (not inside data keywords). A property *named* `pattern` holds a subschema (an object),
 * so only string values count.
 */
function patternsOf(node: unknown, path: string, out: { path: string; source: string }[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      patternsOf(item, joinPath(path, String(i)), out);
    });
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(key)) continue;
    const at = joinPath(path, key);
    if (key === 'pattern' && typeof value === 'string') out.push({ path: at, source: value });
    if (key === 'patternProperties' && isRecord(value)) {
      for (const source of Object.keys(value)) out.push({ path: joinPath(at, source), source });
    }
    patternsOf(value, at, out);
  }
}

const DIALECT_2020 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * Problems with a JSON Schema that describes an object, each named under `path`: not an object,
 * `type` other than `"object"`, too large, another dialect, too many patterns, a pattern the linear-time
 * engine refuses (named by its own path), or the validator refusing to compile it.
 */
export function jsonSchemaProblems(schema: unknown, path: string): FieldProblem[] {
  if (!isRecord(schema)) return [{ path, message: 'must be a JSON Schema object' }];
  if (schema.type !== 'object') {
    return [{ path: joinPath(path, 'type'), message: 'must be "object" (the input is a JSON object)' }];
  }
  const size = JSON.stringify(schema).length;
  if (size > MAX_JSON_SCHEMA_BYTES) {
    return [{ path, message: `is ${size} bytes; at most ${MAX_JSON_SCHEMA_BYTES} are accepted` }];
  }
  if (
    schema.$schema !== undefined &&
    schema.$schema !== DIALECT_2020 &&
    schema.$schema !== `${DIALECT_2020}#`
  ) {
    return [
      { path: joinPath(path, '$schema'), message: `only JSON Schema 2020-12 (${DIALECT_2020}) is supported` },
    ];
  }
  const patterns: { path: string; source: string }[] = [];
  patternsOf(schema, path, patterns);
  if (patterns.length > MAX_SCHEMA_PATTERNS) {
    return [
      { path, message: `has ${patterns.length} patterns; at most ${MAX_SCHEMA_PATTERNS} are accepted` },
    ];
  }
  const patternProblems: FieldProblem[] = [];
  for (const pattern of patterns) {
    const message = regexProblem(pattern.source);
    if (message) patternProblems.push({ path: pattern.path, message });
  }
  if (patternProblems.length > 0) return patternProblems;
  try {
    // The same pattern engine that validates inputs: a pattern it refuses fails here, at save.
    compileSchema(schema, { regExp: tenantRegex, maxPatterns: MAX_SCHEMA_PATTERNS });
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [{ path, message: `invalid JSON Schema: ${message.slice(0, 500)}` }];
  }
}
