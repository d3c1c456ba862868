/**
 * A JSON Schema 2020-12 validator that interprets the schema: no code is generated from it, so a
 * tenant's schema is data, never JavaScript. It validates API bodies (functions/shared/schema.ts) and
 * tenants' schemas (functions/core/catalog/json-schema.ts, functions/core/executions/input-schema.ts,
 * functions/adapters/tools/index.ts).
 *
 * It replaced Ajv 8 (about 130 KiB in each bundle that validated) and keeps what callers read from
 * it: errors shaped as Ajv's (keyword, instancePath, schemaPath, params, message, parentSchema), with
 * Ajv's messages, in Ajv's order (`allErrors`), and `useDefaults` and `discriminator` as Ajv applies
 * them. test/unit/shared/json-schema-validator.test.ts holds it to Ajv on generated schemas.
 * Formats are annotations, as they were (`validateFormats: false`).
 *
 * Where Ajv strays from the specification, this follows the specification, and the test names each:
 * a property is present only when it is the object's own (Ajv took `{}.constructor` for a property);
 * `unevaluatedProperties` and `unevaluatedItems` see what passing subschemas evaluated, and the items
 * `contains` matched (Ajv also counted failed branches, and every item once `contains` was there).
 */

export type SchemaObject = Record<string, unknown>;
export type Schema = boolean | SchemaObject;

/** One problem, as Ajv reports it. */
export interface SchemaError {
  keyword: string;
  /** JSON pointer to the value. */
  instancePath: string;
  /** Where the keyword sits in the schema document (`#/properties/a/type`). */
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
  /** The schema object holding the keyword. */
  parentSchema?: SchemaObject;
  /** Set on the problems of a key checked by `propertyNames`: the key. */
  propertyName?: string;
}

/** A compiled pattern: what `pattern` and `patternProperties` need of a RegExp. */
export interface Matcher {
  test(text: string): boolean;
}

/** A keyword of the caller's: the problems of `data` (instancePath set), or none. */
export type CustomKeyword = (value: unknown, data: unknown, instancePath: string) => readonly SchemaError[];

export interface ValidatorOptions {
  /**
   * Fill a missing property from its `default` (outside unions and `not`, as Ajv does): pass
   * `fillDefaults` of functions/shared/json-schema-extensions.ts.
   */
  readonly useDefaults?: FillDefaults;
  /**
   * Apply OpenAPI's `discriminator` (with `oneOf`), as Ajv's option of that name does: pass
   * `discriminator` of functions/shared/json-schema-extensions.ts.
   */
  readonly discriminator?: Discriminator;
  /** Compiles `pattern` and `patternProperties`; `new RegExp(source, 'u')` unless given. */
  readonly regExp?: (source: string) => Matcher;
  /** Keywords of the caller's, checked after the built-in keywords that apply to any type. */
  readonly keywords?: Readonly<Record<string, CustomKeyword>>;
  /** Most patterns compiled (`pattern`, `patternProperties` keys), references followed included. */
  readonly maxPatterns?: number;
  /** Most problems kept of one validation (1,000 unless given); all are counted. */
  readonly maxErrors?: number;
  /** Most subschemas applied in one validation ({@link MAX_STEPS} unless given). */
  readonly maxSteps?: number;
}

/**
 * OpenAPI's `discriminator`: `mapping` maps a schema's tag values to the `oneOf` member each selects
 * (`target` follows a member that is a reference), or throws {@link SchemaCompileError}.
 */
export interface Discriminator {
  mapping(schema: SchemaObject, target: (member: unknown) => unknown): Map<string, number>;
  /** The member a value's tag selects (by the mapping above), or the problem to report. */
  select(
    tagName: string,
    data: SchemaObject,
    mapping: ReadonlyMap<string, number>,
  ): number | { params: Record<string, unknown>; message: string };
}

/** Fills `data`'s missing properties from `properties` (their `default`s). */
export type FillDefaults = (properties: SchemaObject, data: SchemaObject) => void;

export interface Validate {
  (data: unknown): boolean;
  /** The last call's problems; null when it passed. */
  errors: SchemaError[] | null;
}

/** The schema cannot be used: malformed, or a reference that does not resolve. */
export class SchemaCompileError extends Error {
  override name = 'SchemaCompileError';
}

/**
 * Subschemas nested deeper than this in one validation fail it: a schema that loops on one value
 * (`{"$ref": "#"}`) or a chain of references, well within the stack (each level takes a few frames).
 */
const MAX_DEPTH = 512;

/**
 * Subschemas applied in one validation, at most: a small schema can still fan out (each level of a
 * `$defs` chain referring to the next twice doubles the work), so the work itself is bounded.
 */
export const MAX_STEPS = 500_000;

/** Problems kept of one validation unless the caller says otherwise (all are counted). */
const MAX_ERRORS = 1000;

// ---------------------------------------------------------------------------------------------------
// Compiling: resources, anchors, references and patterns, once per schema

const BASE = 'meridian:/schema';

interface Node {
  /** The base URI of the resource holding this schema object. */
  readonly base: string;
  /** The resource root, when this object starts one (`$id` or the document root). */
  readonly resource?: string;
  ref?: Schema;
  /**
   * Ajv inlined a referenced schema that holds no reference itself, and called the others as
   * functions of their own, outside any union: inside a called one, defaults are filled.
   */
  refInline?: boolean;
  /** A reference that did not resolve: fails the compile if validation can reach it. */
  refError?: string;
  dynamicRef?: { target: Schema; anchor?: string };
  patterns?: Map<string, Matcher>;
  /** `discriminator`: the tag's values and the `oneOf` member each selects. */
  mapping?: Map<string, number>;
  /** What validation reads of this object on every value, worked out at its first value. */
  plan?: Plan;
}

interface Compiled {
  readonly nodes: WeakMap<object, Node>;
  /** Resource roots by URI (without fragment). */
  readonly resources: Map<string, SchemaObject | boolean>;
  readonly anchors: Map<string, Schema>;
  readonly dynamicAnchors: Map<string, Schema>;
  readonly options: ValidatorOptions;
  /** Whether the document uses `unevaluated*`: only then must every branch be evaluated. */
  unevaluated: boolean;
  /** Compiles a schema found only through a reference (a pointer into an unknown keyword). */
  walk?: (schema: unknown, base: string, at: string) => void;
}

const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SCHEMA_ARRAYS = ['prefixItems', 'allOf', 'anyOf', 'oneOf'];
const SCHEMA_ONE = [
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
];
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const COUNTS = [
  'maxLength',
  'minLength',
  'maxItems',
  'minItems',
  'maxContains',
  'minContains',
  'maxProperties',
  'minProperties',
];
const NUMBERS = ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum'];
const STRINGS = [
  '$id',
  '$ref',
  '$dynamicRef',
  '$anchor',
  '$dynamicAnchor',
  '$schema',
  '$comment',
  'format',
  'pattern',
];
const ANCHOR = /^[A-Za-z_][-A-Za-z0-9._]*$/;

/** A schema object (not an array, not null). */
export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveUri(ref: string, base: string): string {
  try {
    return new URL(ref, base).href;
  } catch {
    throw new SchemaCompileError(`can't resolve reference ${ref} from id ${base}`);
  }
}

function invalid(at: string, message: string): never {
  throw new SchemaCompileError(`schema is invalid: data${at} ${message}`);
}

/** What the 2020-12 meta-schema asks of each keyword's value, checked as the schema is walked. */
function checkKeywords(schema: SchemaObject, at: string): void {
  const type = schema.type;
  if (type !== undefined) {
    const list = Array.isArray(type) ? type : [type];
    if (!list.every((t) => typeof t === 'string' && TYPES.has(t)) || new Set(list).size !== list.length) {
      invalid(`${at}/type`, 'must be a type name or an array of distinct type names');
    }
  }
  if (schema.id !== undefined)
    throw new SchemaCompileError('NOT SUPPORTED: keyword "id", use "$id" for schema ID');
  if (schema.nullable !== undefined) {
    if (typeof schema.nullable !== 'boolean') invalid(`${at}/nullable`, 'must be boolean');
    if (type === undefined) throw new SchemaCompileError('"nullable" cannot be used without "type"');
    if (schema.nullable === false && [type].flat().includes('null')) {
      throw new SchemaCompileError('type: null contradicts nullable: false');
    }
  }
  for (const key of COUNTS) {
    const value = schema[key];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      invalid(`${at}/${key}`, 'must be a non-negative integer');
    }
  }
  for (const key of NUMBERS) {
    if (schema[key] !== undefined && typeof schema[key] !== 'number')
      invalid(`${at}/${key}`, 'must be number');
  }
  if (schema.multipleOf !== undefined && !(typeof schema.multipleOf === 'number' && schema.multipleOf > 0)) {
    invalid(`${at}/multipleOf`, 'must be a number > 0');
  }
  for (const key of STRINGS) {
    if (schema[key] !== undefined && typeof schema[key] !== 'string')
      invalid(`${at}/${key}`, 'must be string');
  }
  for (const key of ['$anchor', '$dynamicAnchor'] as const) {
    if (typeof schema[key] === 'string' && !ANCHOR.test(schema[key])) {
      invalid(`${at}/${key}`, `must match pattern "${ANCHOR.source}"`);
    }
  }
  if (schema.uniqueItems !== undefined && typeof schema.uniqueItems !== 'boolean') {
    invalid(`${at}/uniqueItems`, 'must be boolean');
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) invalid(`${at}/enum`, 'must be array');
  const names = (value: unknown, where: string): void => {
    if (
      !Array.isArray(value) ||
      !value.every((v) => typeof v === 'string') ||
      new Set(value).size !== value.length
    ) {
      invalid(where, 'must be an array of distinct strings');
    }
  };
  if (schema.required !== undefined) names(schema.required, `${at}/required`);
  if (schema.dependentRequired !== undefined) {
    if (!isSchemaObject(schema.dependentRequired)) invalid(`${at}/dependentRequired`, 'must be object');
    for (const [key, value] of Object.entries(schema.dependentRequired)) {
      names(value, `${at}/dependentRequired/${key}`);
    }
  }
}

function compile(root: unknown, options: ValidatorOptions): Compiled {
  if (typeof root !== 'boolean' && !isSchemaObject(root)) invalid('', 'must be object,boolean');
  const out: Compiled = {
    nodes: new WeakMap(),
    resources: new Map(),
    anchors: new Map(),
    dynamicAnchors: new Map(),
    options,
    unevaluated: false,
  };
  const discriminators: { schema: SchemaObject; node: Node }[] = [];
  let patternCount = 0;
  const refs: { schema: SchemaObject; node: Node; at: string }[] = [];
  const regExp = options.regExp ?? ((source: string) => new RegExp(source, 'u'));

  const walk = (schema: unknown, base: string, at: string, isRoot: boolean): void => {
    if (typeof schema === 'boolean') {
      if (isRoot) out.resources.set(base, schema);
      return;
    }
    if (!isSchemaObject(schema)) invalid(at, 'must be object,boolean');
    if (out.nodes.has(schema)) return; // one object reached twice (a shared subschema): walked once
    checkKeywords(schema, at);
    let here = base;
    let resource: string | undefined;
    if (typeof schema.$id === 'string') {
      here = resolveUri(schema.$id, base).replace(/#$/, '');
      resource = here;
    } else if (isRoot) resource = here;
    const register = (map: Map<string, Schema>, key: string, what: string): void => {
      // As Ajv: two schemas may not claim one URI (the last would silently win).
      if (map.has(key)) throw new SchemaCompileError(`${what} "${key}" resolves to more than one schema`);
      map.set(key, schema);
    };
    if (resource !== undefined) register(out.resources, resource, '$id');
    if (typeof schema.$anchor === 'string') register(out.anchors, `${here}#${schema.$anchor}`, '$anchor');
    if (typeof schema.$dynamicAnchor === 'string') {
      register(out.anchors, `${here}#${schema.$dynamicAnchor}`, '$dynamicAnchor');
      out.dynamicAnchors.set(`${here}#${schema.$dynamicAnchor}`, schema);
    }
    const node: Node = { base: here, ...(resource !== undefined ? { resource } : {}) };
    out.nodes.set(schema, node);
    if (schema.unevaluatedProperties !== undefined || schema.unevaluatedItems !== undefined) {
      out.unevaluated = true;
    }
    if (options.discriminator && schema.discriminator !== undefined) discriminators.push({ schema, node });
    if (typeof schema.$ref === 'string' || typeof schema.$dynamicRef === 'string')
      refs.push({ schema, node, at });
    const sources: string[] = typeof schema.pattern === 'string' ? [schema.pattern] : [];
    for (const key of SCHEMA_MAPS) {
      const map = schema[key];
      if (map === undefined) continue;
      if (!isSchemaObject(map)) invalid(`${at}/${key}`, 'must be object');
      for (const [name, sub] of Object.entries(map)) {
        walk(sub, here, `${at}/${key}/${escapeSegment(name)}`, false);
      }
      if (key === 'patternProperties') sources.push(...Object.keys(map));
    }
    for (const key of SCHEMA_ARRAYS) {
      const list = schema[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) invalid(`${at}/${key}`, 'must be a non-empty array');
      // Every index, holes included: a schema built in code may have one, which is no schema.
      for (let i = 0; i < list.length; i++) walk(list[i], here, `${at}/${key}/${i}`, false);
    }
    for (const key of SCHEMA_ONE) {
      if (schema[key] !== undefined) walk(schema[key], here, `${at}/${key}`, false);
    }
    if (isSchemaObject(schema.dependencies)) {
      for (const [name, sub] of Object.entries(schema.dependencies)) {
        if (!Array.isArray(sub)) walk(sub, here, `${at}/dependencies/${escapeSegment(name)}`, false);
      }
    }
    patternCount += sources.length;
    if (patternCount > (options.maxPatterns ?? Number.POSITIVE_INFINITY)) {
      throw new SchemaCompileError(`more than ${options.maxPatterns} patterns, references followed`);
    }
    if (sources.length > 0) {
      node.patterns = new Map();
      for (const source of sources) {
        try {
          node.patterns.set(source, regExp(source));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new SchemaCompileError(message);
        }
      }
    }
  };
  out.walk = (schema, base, at) => walk(schema, base, at, false);
  walk(root, BASE, '', true);

  // Indexed: resolving may compile more of the document, and with it more references.
  for (let i = 0; i < refs.length; i++) {
    const { schema, node } = refs[i] as (typeof refs)[number];
    try {
      resolveRefs(out, schema, node);
    } catch (error) {
      // Ajv never compiled a definition nothing refers to: a bad reference there fails only if used.
      if (!(error instanceof SchemaCompileError)) throw error;
      node.refError = error.message;
    }
  }
  reachable(root, out);
  const { discriminator } = options;
  if (discriminator) {
    const target = (member: unknown) =>
      isSchemaObject(member) && typeof member.$ref === 'string' ? out.nodes.get(member)?.ref : member;
    for (const { schema, node } of discriminators) node.mapping = discriminator.mapping(schema, target);
  }
  return out;
}

function resolveRefs(out: Compiled, schema: SchemaObject, node: Node): void {
  if (typeof schema.$ref === 'string') {
    node.ref = resolve(out, schema.$ref, node.base);
    node.refInline = !hasRef(node.ref);
  }
  if (typeof schema.$dynamicRef === 'string') {
    const target = resolve(out, schema.$dynamicRef, node.base);
    const fragment = schema.$dynamicRef.split('#')[1];
    // Dynamic only when the first target declares the same $dynamicAnchor (2020-12, 8.2.3.2).
    const anchor =
      isSchemaObject(target) && fragment !== undefined && target.$dynamicAnchor === fragment
        ? fragment
        : undefined;
    node.dynamicRef = { target, ...(anchor !== undefined ? { anchor } : {}) };
  }
}

/**
 * Fails the compile on a bad reference in any schema validation can reach: from the root through
 * the keywords that apply subschemas (not `$defs`), and through each reference followed.
 */
function reachable(root: unknown, out: Compiled): void {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const schema = stack.pop();
    if (!isSchemaObject(schema) || seen.has(schema)) continue;
    seen.add(schema);
    const node = out.nodes.get(schema);
    if (node?.refError) throw new SchemaCompileError(node.refError);
    if (node?.ref !== undefined) stack.push(node.ref);
    if (node?.dynamicRef) stack.push(node.dynamicRef.target);
    for (const key of [...SCHEMA_ONE, ...SCHEMA_ARRAYS]) {
      const value = schema[key];
      if (Array.isArray(value)) stack.push(...value);
      else stack.push(value);
    }
    for (const key of ['properties', 'patternProperties', 'dependentSchemas']) {
      if (isSchemaObject(schema[key])) stack.push(...Object.values(schema[key]));
    }
    if (isSchemaObject(schema.dependencies)) stack.push(...Object.values(schema.dependencies));
  }
}

const REF_KEYWORDS = ['$ref', '$recursiveRef', '$recursiveAnchor', '$dynamicRef', '$dynamicAnchor'];
const refFree = new WeakMap<object, boolean>();

function hasRef(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  let found = refFree.get(schema);
  if (found === undefined) {
    found = Object.entries(schema).some(([key, value]) => REF_KEYWORDS.includes(key) || hasRef(value));
    refFree.set(schema, found);
  }
  return found;
}

function escapeSegment(segment: string): string {
  // Most segments (every array index) need no escape: no regular expression runs for them.
  if (!segment.includes('~') && !segment.includes('/')) return segment;
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A segment of a schema path, as Ajv writes one: a JSON pointer segment, percent-encoded. */
function fragmentOf(segment: string): string {
  return encodeURIComponent(escapeSegment(segment));
}

function resolve(out: Compiled, ref: string, base: string): Schema {
  const fail = (): never => {
    throw new SchemaCompileError(`can't resolve reference ${ref} from id ${base === BASE ? '#' : base}`);
  };
  // URL parsing drops tabs and new lines: a reference holding one would name another place.
  if ([...ref].some((c) => c <= '\u001f' || c === '\u007f')) fail();
  const uri = resolveUri(ref, base);
  const hash = uri.indexOf('#');
  const resource = hash < 0 ? uri : uri.slice(0, hash);
  let fragment = '';
  try {
    fragment = hash < 0 ? '' : decodeURIComponent(uri.slice(hash + 1));
  } catch {
    fail();
  }
  if (fragment !== '' && !fragment.startsWith('/'))
    return out.anchors.get(`${resource}#${fragment}`) ?? fail();
  let target: unknown = out.resources.get(resource) ?? fail();
  if (fragment !== '') {
    for (const segment of fragment.slice(1).split('/')) {
      const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof target !== 'object' || target === null || !Object.hasOwn(target, key)) fail();
      target = (target as Record<string, unknown>)[key];
    }
  }
  if (typeof target !== 'boolean' && !isSchemaObject(target)) fail();
  const schema = target as Schema;
  // A pointer into a place no keyword marks as a schema: compile it where it is.
  if (isSchemaObject(schema) && !out.nodes.has(schema)) out.walk?.(schema, resource, fragment);
  return schema;
}

// ---------------------------------------------------------------------------------------------------
// Validating

/** Properties and items an applicator evaluated (what `unevaluated*` leaves alone). */
interface Evaluated {
  props?: true | Set<string>;
  items?: true | number;
  /** Items `contains` matched. */
  matched?: Set<number>;
}

interface Scope {
  readonly path: string;
  /** Inside a union, `not` or `if`: defaults are not filled (as Ajv). */
  readonly composite: boolean;
  /** `not` and `if` stop at the first problem: only whether there is one counts. */
  readonly first: boolean;
  readonly propertyName?: string;
}

interface Run {
  readonly c: Compiled;
  /** The first problems, up to the caller's cap ({@link MAX_ERRORS} unless given). */
  readonly errors: SchemaError[];
  /** Every problem counted, kept or not: what decides whether a subschema passed. */
  count: number;
  steps: number;
  /** The resources entered, outermost first: where a `$dynamicRef` looks. */
  readonly dynamicScope: string[];
  depth: number;
}

function typeOf(data: unknown): string {
  if (data === null) return 'null';
  if (Array.isArray(data)) return 'array';
  return typeof data;
}

/** The types a schema allows; OpenAPI's `nullable: true` adds `null`, as Ajv reads it. */
function typesOf(schema: SchemaObject): string[] {
  const types = schema.type === undefined ? [] : [schema.type as string | string[]].flat();
  if (schema.nullable === true && !types.includes('null')) types.push('null');
  return types;
}

function inEnum(data: unknown, values: readonly unknown[]): boolean {
  for (const value of values) if (jsonEqual(data, value)) return true;
  return false;
}

function matchesAny(patterns: Plan['patterns'], key: string): boolean {
  for (const [matcher] of patterns) if (matcher?.test(key)) return true;
  return false;
}

function hasAnyType(data: unknown, types: readonly string[]): boolean {
  for (const type of types) if (hasType(data, type)) return true;
  return false;
}

function hasType(data: unknown, type: string): boolean {
  if (type === 'integer') return typeof data === 'number' && !(data % 1) && !Number.isNaN(data);
  return typeOf(data) === type;
}

/** Length in code points, as Ajv counts it (a surrogate pair is one). */
function codePoints(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++, length++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return length;
}

/** Deep equality of JSON values, as Ajv's `fast-deep-equal` (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return Number.isNaN(a as number) && Number.isNaN(b as number);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (key) => Object.hasOwn(b, key) && jsonEqual((a as SchemaObject)[key], (b as SchemaObject)[key]),
  );
}

const GROUPS: Record<string, readonly string[]> = {
  number: ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum', 'multipleOf', 'format'],
  string: ['maxLength', 'minLength', 'pattern', 'format'],
  array: [
    'maxItems',
    'minItems',
    'prefixItems',
    'items',
    'contains',
    'uniqueItems',
    'maxContains',
    'minContains',
    'unevaluatedItems',
  ],
  object: [
    'maxProperties',
    'minProperties',
    'required',
    'propertyNames',
    'additionalProperties',
    'dependencies',
    'properties',
    'patternProperties',
    'dependentRequired',
    'dependentSchemas',
    'unevaluatedProperties',
    'discriminator',
  ],
};

const COMPARISONS: Record<string, [string, (data: number, limit: number) => boolean]> = {
  maximum: ['<=', (d, l) => d <= l],
  minimum: ['>=', (d, l) => d >= l],
  exclusiveMaximum: ['<', (d, l) => d < l],
  exclusiveMinimum: ['>', (d, l) => d > l],
};

/** A comparison keyword the schema has: keyword, comparison, test and limit. */
type Comparison = readonly [string, string, (data: number, limit: number) => boolean, number];

/** What validation reads of a schema object on every value, worked out once (Ajv did it in code). */
interface Plan {
  readonly types: readonly string[];
  /** The type is checked first, unless it is one type whose own keywords report it (Ajv's order). */
  readonly typeEarly: boolean;
  /** Whether any keyword for every type is present: references, const, enum, the combinators, if, custom. */
  readonly general: boolean;
  /** `then` and `else` that check anything. */
  readonly clauses: readonly string[];
  readonly custom: readonly (readonly [string, CustomKeyword])[];
  /** The groups (number, string, array, object) with keywords here, in Ajv's order. */
  readonly groups: readonly string[];
  readonly comparisons: readonly Comparison[];
  /** `properties`: key, subschema and schema-path suffix. */
  readonly properties?: readonly (readonly [string, Schema, string])[];
  /** `patternProperties`: the pattern's matcher, subschema and schema-path suffix. */
  readonly patterns: readonly (readonly [Matcher | undefined, Schema, string])[];
  /** The subschemas here that take every value (Ajv applies none of them): by keyword. */
  readonly takesAll: ReadonlySet<string>;
}

const GENERAL = ['$dynamicRef', '$ref', 'const', 'enum', 'not', 'anyOf', 'oneOf', 'allOf', 'if'];
const SKIPPABLE = ['items', 'additionalProperties', 'propertyNames', 'unevaluatedItems'];

/*
 * Plans stay in memory as long as their compiled schema (cached per tenant schema), one per schema
 * object: what is empty is shared, so a schema of many `{}` costs no plan each.
 */
const NONE: readonly never[] = Object.freeze([]);
const NO_KEYS: ReadonlySet<string> = new Set();
const orNone = <T>(items: readonly T[]): readonly T[] => (items.length > 0 ? items : NONE);
const EMPTY_PLAN: Plan = Object.freeze({
  types: NONE,
  typeEarly: false,
  general: false,
  clauses: NONE,
  custom: NONE,
  groups: NONE,
  comparisons: NONE,
  patterns: NONE,
  takesAll: NO_KEYS,
});

function planOf(schema: SchemaObject, node: Node, options: ValidatorOptions): Plan {
  const types = orNone(typesOf(schema));
  const used = (group: string): boolean =>
    (GROUPS[group] as readonly string[]).some((k) => schema[k] !== undefined);
  const custom = orNone(
    Object.entries(options.keywords ?? {}).filter(([keyword]) => schema[keyword] !== undefined),
  );
  const properties = isSchemaObject(schema.properties) ? schema.properties : undefined;
  const patternProperties = isSchemaObject(schema.patternProperties) ? schema.patternProperties : {};
  const takesAll = SKIPPABLE.filter((k) => schema[k] !== undefined && isEmpty(schema[k] as Schema, options));
  const plan: Plan = {
    types,
    typeEarly:
      types.length > 0 && !(types.length === 1 && GROUPS[types[0] as string] && used(types[0] as string)),
    general: custom.length > 0 || GENERAL.some((k) => schema[k] !== undefined),
    clauses: orNone(
      ['then', 'else'].filter((k) => schema[k] !== undefined && !isEmpty(schema[k] as Schema, options)),
    ),
    custom,
    groups: orNone(Object.keys(GROUPS).filter(used)),
    comparisons: orNone(
      Object.entries(COMPARISONS).flatMap(([keyword, [comparison, holds]]) => {
        const limit = schema[keyword];
        return typeof limit === 'number' ? [[keyword, comparison, holds, limit] as const] : [];
      }),
    ),
    ...(properties && {
      properties: Object.entries(properties).map(
        ([key, prop]) => [key, prop as Schema, `/properties/${fragmentOf(key)}`] as const,
      ),
    }),
    patterns: orNone(
      Object.entries(patternProperties).map(
        ([pattern, sub]) =>
          [node.patterns?.get(pattern), sub as Schema, `/patternProperties/${fragmentOf(pattern)}`] as const,
      ),
    ),
    takesAll: takesAll.length > 0 ? new Set(takesAll) : NO_KEYS,
  };
  const empty =
    !plan.properties && (Object.keys(EMPTY_PLAN) as (keyof Plan)[]).every((k) => plan[k] === EMPTY_PLAN[k]);
  return empty ? EMPTY_PLAN : plan;
}

function own(data: SchemaObject, key: string): boolean {
  return Object.hasOwn(data, key) && data[key] !== undefined;
}

function mergeInto(target: Evaluated, from: Evaluated): void {
  if (from.props !== undefined && target.props !== true) {
    if (from.props === true) target.props = true;
    else {
      target.props ??= new Set();
      for (const key of from.props) (target.props as Set<string>).add(key);
    }
  }
  if (from.items !== undefined && target.items !== true) {
    target.items = from.items === true ? true : Math.max(target.items ?? 0, from.items);
  }
  if (from.matched) {
    target.matched ??= new Set();
    for (const i of from.matched) target.matched.add(i);
  }
}

function addProps(ev: Evaluated, keys: Iterable<string>): void {
  if (ev.props === true) return;
  ev.props ??= new Set();
  for (const key of keys) ev.props.add(key);
}

/**
 * Validates `data` against `schema` at `scope.path`, appending problems to `run.errors`; records in
 * `ev` what it evaluated in place. Returns whether it passed.
 */
function check(
  run: Run,
  schema: Schema,
  data: unknown,
  scope: Scope,
  schemaPath: string,
  ev: Evaluated,
): boolean {
  if (schema === true) return true;
  if (schema === false) {
    report(run, scope, `${schemaPath}/false schema`, 'false schema', {}, 'boolean schema is false');
    return false;
  }
  if (++run.depth > MAX_DEPTH) {
    throw new SchemaCompileError(`the schema nests more than ${MAX_DEPTH} subschemas deep on this value`);
  }
  const maxSteps = run.c.options.maxSteps ?? MAX_STEPS;
  if (++run.steps > maxSteps) {
    throw new SchemaCompileError(`the schema takes more than ${maxSteps} steps on this value`);
  }
  const node = run.c.nodes.get(schema) as Node;
  const entered = node.resource !== undefined;
  if (entered) run.dynamicScope.push(node.resource as string);
  try {
    return keywords(new Frame(run, schema, node, data, scope, schemaPath, ev));
  } finally {
    if (entered) run.dynamicScope.pop();
    run.depth--;
  }
}

function report(
  run: Run,
  scope: Scope,
  schemaPath: string,
  keyword: string,
  params: Record<string, unknown>,
  message: string,
  parentSchema?: SchemaObject,
  instancePath = scope.path,
): void {
  const error: SchemaError = { instancePath, schemaPath, keyword, params, message };
  if (parentSchema) error.parentSchema = parentSchema;
  if (scope.propertyName !== undefined) error.propertyName = scope.propertyName;
  push(run, error);
}

function push(run: Run, error: SchemaError): void {
  if (run.count++ < (run.c.options.maxErrors ?? MAX_ERRORS)) run.errors.push(error);
}

/** Withdraws the problems found since `mark` (a union that passed, `not`, `if`). */
function withdraw(run: Run, mark: number): void {
  run.count = mark;
  if (run.errors.length > mark) run.errors.length = mark;
}

/** One schema object applied to one value: what its keywords share. */
class Frame {
  readonly run: Run;
  readonly schema: SchemaObject;
  readonly node: Node;
  readonly data: unknown;
  readonly scope: Scope;
  /** The schema path of this object. */
  readonly path: string;
  readonly ev: Evaluated;
  /** Problems counted before this object was applied. */
  readonly start: number;

  constructor(
    run: Run,
    schema: SchemaObject,
    node: Node,
    data: unknown,
    scope: Scope,
    path: string,
    ev: Evaluated,
  ) {
    this.run = run;
    this.schema = schema;
    this.node = node;
    this.data = data;
    this.scope = scope;
    this.path = path;
    this.ev = ev;
    this.start = run.count;
  }

  failed(): boolean {
    return this.run.count > this.start;
  }

  /** `not` and `if` stop at their first problem. */
  stop(): boolean {
    return this.scope.first && this.failed();
  }

  fail(keyword: string, params: Record<string, unknown>, message: string, at = this.scope.path): void {
    report(this.run, this.scope, `${this.path}/${keyword}`, keyword, params, message, this.schema, at);
  }

  /** Applies `s` to `value` (at `key` below this value, if given); merges what it evaluated into `into`. */
  sub(s: Schema, value: unknown, key: string | number | undefined, sp: string, into?: Evaluated): boolean {
    const scope = this.scope;
    const inner: Scope =
      key === undefined
        ? scope
        : scopeOf(`${scope.path}/${escapeSegment(String(key))}`, scope, scope.composite);
    const childEv: Evaluated = {};
    const ok = check(this.run, s, value, inner, sp, childEv);
    if (into) mergeInto(into, childEv);
    return ok;
  }

  /** Subschemas checked apart: union branches, `not`, `if`, `contains` items; their problems may be withdrawn. */
  apart(s: Schema, sp: string, first: boolean, childEv: Evaluated, value = this.data, key?: string): boolean {
    const scope = this.scope;
    const path = key === undefined ? scope.path : `${scope.path}/${escapeSegment(key)}`;
    return check(this.run, s, value, scopeOf(path, scope, true, first || scope.first), sp, childEv);
  }
}

/** A scope at `path` like `scope`, with its own `composite` and `first`. */
function scopeOf(path: string, scope: Scope, composite: boolean, first = scope.first): Scope {
  return { path, composite, first, propertyName: scope.propertyName };
}

function typeError(f: Frame): void {
  f.fail('type', { type: f.schema.type }, `must be ${String(f.schema.type)}`);
}

function keywords(f: Frame): boolean {
  const { run, schema, node, data } = f;
  node.plan ??= planOf(schema, node, run.c.options);
  const plan = node.plan;
  const types = plan.types;
  const typeEarly = plan.typeEarly;
  if (typeEarly && !hasAnyType(data, types)) typeError(f);
  if (f.stop()) return false;

  if (plan.general && !generalKeywords(f, plan)) return false;

  const dataType = typeOf(data);
  for (const group of plan.groups) {
    if (dataType !== group) {
      if (!typeEarly && types[0] === group) typeError(f);
      continue;
    }
    if (group === 'number') numberKeywords(f, plan, data as number);
    else if (group === 'string') stringKeywords(f, data as string);
    else if (group === 'array') arrayKeywords(f, plan, data as unknown[]);
    else objectKeywords(f, plan, data as SchemaObject);
    if (f.stop()) return false;
  }
  return !f.failed();
}

/**
 * The keywords for values of any type. Returns false when validation stops here (the first problem
 * of a `not` or `if`).
 */
function generalKeywords(f: Frame, plan: Plan): boolean {
  const { run, schema, node, data, scope, path, ev } = f;
  // Keywords for any type.
  if (schema.$dynamicRef !== undefined && node.dynamicRef) {
    let target = node.dynamicRef.target;
    const anchor = node.dynamicRef.anchor;
    if (anchor !== undefined) {
      for (const resource of run.dynamicScope) {
        const found = run.c.dynamicAnchors.get(`${resource}#${anchor}`);
        if (found) {
          target = found;
          break;
        }
      }
    }
    const inner: Evaluated = {};
    // Ajv calls a dynamic reference's target as a schema of its own: its paths start at `#`.
    if (check(run, target, data, scope, '#', inner)) mergeInto(ev, inner);
  }
  if (schema.$ref !== undefined && node.ref !== undefined) {
    const inner: Evaluated = {};
    // A called schema is compiled on its own: not inside the union that refers to it (defaults apply).
    const inScope = node.refInline ? scope : scopeOf(scope.path, scope, false);
    // Paths as Ajv wrote them: from the reference as written when it inlined the target, else from
    // the called schema's own root.
    const at = node.refInline ? (schema.$ref as string) : '#';
    if (check(run, node.ref, data, inScope, at, inner)) mergeInto(ev, inner);
  }
  if (f.stop()) return false;
  if (schema.const !== undefined && !jsonEqual(data, schema.const)) {
    f.fail('const', { allowedValue: schema.const }, 'must be equal to constant');
  }
  if (Array.isArray(schema.enum) && !inEnum(data, schema.enum)) {
    f.fail('enum', { allowedValues: schema.enum }, 'must be equal to one of the allowed values');
  }
  if (f.stop()) return false;
  if (schema.not !== undefined) {
    const before = run.count;
    const valid = f.apart(schema.not as Schema, `${path}/not`, true, {});
    withdraw(run, before);
    if (valid) f.fail('not', {}, 'must NOT be valid');
  }
  if (Array.isArray(schema.anyOf)) {
    const before = run.count;
    let valid = false;
    // The first branch that passes decides, unless `unevaluated*` needs what every branch evaluated
    // (Ajv's rule too): a chain of references each offering two branches stays linear when it passes.
    const all = run.c.unevaluated;
    const anyOf = schema.anyOf as Schema[];
    for (let i = 0; i < anyOf.length; i++) {
      const childEv: Evaluated = {};
      if (f.apart(anyOf[i] as Schema, `${path}/anyOf/${i}`, false, childEv)) {
        valid = true;
        mergeInto(ev, childEv);
      }
      if (valid && !all) break;
    }
    if (valid) withdraw(run, before);
    else f.fail('anyOf', {}, 'must match a schema in anyOf');
  }
  if (Array.isArray(schema.oneOf) && !(run.c.options.discriminator && schema.discriminator !== undefined)) {
    const before = run.count;
    let passing: number | [number, number] | null = null;
    let valid = false;
    const oneOf = schema.oneOf as Schema[];
    for (let i = 0; i < oneOf.length; i++) {
      const childEv: Evaluated = {};
      const ok = f.apart(oneOf[i] as Schema, `${path}/oneOf/${i}`, false, childEv);
      if (ok && valid) {
        valid = false;
        passing = [passing as number, i];
      } else if (ok) {
        valid = true;
        passing = i;
        mergeInto(ev, childEv);
      }
    }
    if (valid) withdraw(run, before);
    else f.fail('oneOf', { passingSchemas: passing }, 'must match exactly one schema in oneOf');
  }
  if (Array.isArray(schema.allOf)) {
    const allOf = schema.allOf as Schema[];
    for (let i = 0; i < allOf.length; i++)
      f.sub(allOf[i] as Schema, data, undefined, `${path}/allOf/${i}`, ev);
  }
  const clauses = plan.clauses;
  if (schema.if !== undefined && clauses.length > 0) {
    const before = run.count;
    const ifEv: Evaluated = {};
    const matched = f.apart(schema.if as Schema, `${path}/if`, true, ifEv);
    withdraw(run, before);
    if (matched) mergeInto(ev, ifEv);
    const clause = matched ? 'then' : 'else';
    const branch = schema[clause] as Schema;
    if (clauses.includes(clause)) {
      const childEv: Evaluated = {};
      if (check(run, branch, data, scope, `${path}/${clause}`, childEv)) mergeInto(ev, childEv);
      else f.fail('if', { failingKeyword: clause }, `must match "${clause}" schema`);
    }
  }
  for (const [keyword, custom] of plan.custom) {
    for (const e of custom(schema[keyword], data, scope.path)) {
      push(run, { ...e, schemaPath: `${path}/${keyword}`, parentSchema: schema });
    }
  }
  return !f.stop();
}

function numberKeywords(f: Frame, plan: Plan, data: number): void {
  const schema = f.schema;
  for (const [keyword, comparison, holds, limit] of plan.comparisons) {
    if (!holds(data, limit)) f.fail(keyword, { comparison, limit }, `must be ${comparison} ${limit}`);
  }
  const multipleOf = schema.multipleOf;
  if (typeof multipleOf === 'number') {
    // Ajv's test, kept for its answers on large and fractional values.
    const ratio = data / multipleOf;
    if (ratio !== Number.parseInt(String(ratio), 10))
      f.fail('multipleOf', { multipleOf }, `must be multiple of ${multipleOf}`);
  }
}

/** `max<kind>` and `min<kind>` on a count of characters, items or properties, in Ajv's words. */
function countKeywords(f: Frame, kind: 'Length' | 'Items' | 'Properties', count: number, noun: string): void {
  const max = f.schema[`max${kind}`];
  const min = f.schema[`min${kind}`];
  if (typeof max === 'number' && count > max) {
    f.fail(`max${kind}`, { limit: max }, `must NOT have more than ${max} ${noun}`);
  }
  if (typeof min === 'number' && count < min) {
    f.fail(`min${kind}`, { limit: min }, `must NOT have fewer than ${min} ${noun}`);
  }
}

function stringKeywords(f: Frame, data: string): void {
  const { schema, node } = f;
  if (schema.maxLength !== undefined || schema.minLength !== undefined) {
    countKeywords(f, 'Length', codePoints(data), 'characters');
  }
  if (typeof schema.pattern === 'string' && !node.patterns?.get(schema.pattern)?.test(data)) {
    f.fail('pattern', { pattern: schema.pattern }, `must match pattern "${schema.pattern}"`);
  }
}

function arrayKeywords(f: Frame, plan: Plan, data: unknown[]): void {
  const { schema, path, ev } = f;
  const length = data.length;
  countKeywords(f, 'Items', length, 'items');
  const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as Schema[]) : undefined;
  if (prefix) {
    for (let i = 0; i < Math.min(length, prefix.length); i++) {
      f.sub(prefix[i] as Schema, data[i], i, `${path}/prefixItems/${i}`);
    }
    if (ev.items !== true) ev.items = Math.max(ev.items ?? 0, prefix.length);
  }
  const items = schema.items as Schema | undefined;
  if (items !== undefined) {
    ev.items = true;
    const from = prefix?.length ?? 0;
    if (items === false && prefix) {
      if (length > from) f.fail('items', { limit: from }, `must NOT have more than ${from} items`);
    } else if (!plan.takesAll.has('items')) {
      const at = `${path}/items`;
      for (let i = from; i < length; i++) f.sub(items, data[i], i, at);
    }
  }
  if (schema.contains !== undefined) containsKeyword(f, data);
  if (schema.uniqueItems === true && length > 1) uniqueKeyword(f, data);
  const unevaluated = schema.unevaluatedItems as Schema | undefined;
  if (unevaluated !== undefined && ev.items !== true) {
    const from = ev.items ?? 0;
    const rest: number[] = [];
    for (let i = from; i < length; i++) if (!ev.matched?.has(i)) rest.push(i);
    if (unevaluated === false) {
      if (rest.length > 0)
        f.fail('unevaluatedItems', { limit: from }, `must NOT have more than ${from} items`);
    } else if (!plan.takesAll.has('unevaluatedItems')) {
      for (const i of rest) f.sub(unevaluated, data[i], i, `${path}/unevaluatedItems`);
    }
    ev.items = true;
  }
}

// Every keyword Ajv acts on (its RULES.all): a schema with none of these accepts everything.
const RULES = new Set([
  '$dynamicAnchor',
  '$dynamicRef',
  '$recursiveAnchor',
  '$recursiveRef',
  '$comment',
  'id',
  '$ref',
  'type',
  'nullable',
  'const',
  'enum',
  'not',
  'anyOf',
  'oneOf',
  'allOf',
  'if',
  'then',
  'else',
  ...Object.values(GROUPS).flat(),
]);

/** Ajv's `alwaysValidSchema`: `true`, or an object with no keyword that checks anything. */
function isEmpty(schema: Schema, options?: ValidatorOptions): boolean {
  if (typeof schema === 'boolean') return schema;
  for (const key in schema) {
    if (key === 'discriminator' ? options?.discriminator : RULES.has(key) || options?.keywords?.[key])
      return false;
  }
  return true;
}

function containsKeyword(f: Frame, data: unknown[]): void {
  const { run, schema, path, ev } = f;
  const min = typeof schema.minContains === 'number' ? schema.minContains : 1;
  const max = typeof schema.maxContains === 'number' ? schema.maxContains : undefined;
  const params = max === undefined ? { minContains: min } : { minContains: min, maxContains: max };
  const message =
    max === undefined
      ? `must contain at least ${min} valid item(s)`
      : `must contain at least ${min} and no more than ${max} valid item(s)`;
  // What `contains` matched matters only to `unevaluatedItems`: unless the schema has it, Ajv's
  // shortcuts hold (no check at all for `minContains: 0`, none per item for a schema that takes all).
  const annotate = run.c.unevaluated;
  const contains = schema.contains as Schema;
  if (max === undefined && min === 0 && !annotate) return;
  if (max !== undefined && min > max) {
    f.fail('contains', params, message);
    return;
  }
  if (isEmpty(contains, run.c.options)) {
    if (!(data.length >= min && (max === undefined || data.length <= max)))
      f.fail('contains', params, message);
    if (annotate) ev.items = true;
    return;
  }
  const before = run.count;
  let valid = min === 0;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (!f.apart(contains, `${path}/contains`, false, {}, data[i], String(i))) continue;
    if (annotate) {
      ev.matched ??= new Set();
      ev.matched.add(i);
    }
    count++;
    if (max === undefined) {
      if (count >= min) valid = true;
      // With `unevaluatedItems`, every item matched counts as evaluated: read on.
      if (valid && !annotate) break;
    } else {
      if (count > max) {
        valid = false;
        break;
      }
      if (count >= min) valid = true;
    }
  }
  if (valid) withdraw(run, before);
  else f.fail('contains', params, message);
}

function uniqueKeyword(f: Frame, data: unknown[]): void {
  const schema = f.schema;
  const types = isSchemaObject(schema.items) ? typesOf(schema.items) : [];
  const duplicate = (i: number, j: number): void =>
    f.fail('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`);
  if (types.length > 0 && !types.some((t) => t === 'object' || t === 'array')) {
    // Ajv's scalar path: from the end, each value remembered by its text.
    const seen = new Map<string, number>();
    for (let i = data.length - 1; i >= 0; i--) {
      const item = data[i];
      if (!hasAnyType(item, types)) continue;
      const key = typeof item === 'string' && types.length > 1 ? `${item}_` : String(item);
      const j = seen.get(key);
      if (j !== undefined) {
        duplicate(i, j);
        return;
      }
      seen.set(key, i);
    }
    return;
  }
  for (let i = data.length - 1; i > 0; i--) {
    for (let j = i - 1; j >= 0; j--) {
      if (jsonEqual(data[i], data[j])) {
        duplicate(i, j);
        return;
      }
    }
  }
}

function objectKeywords(f: Frame, plan: Plan, data: SchemaObject): void {
  const { run, schema, node, scope, path, ev } = f;
  const properties = plan.properties;
  const { useDefaults, discriminator } = run.c.options;
  if (useDefaults && !scope.composite && properties) useDefaults(schema.properties as SchemaObject, data);
  const keys = Object.keys(data);
  countKeywords(f, 'Properties', keys.length, 'properties');
  if (Array.isArray(schema.required)) {
    for (const key of schema.required as string[]) {
      if (!own(data, key))
        f.fail('required', { missingProperty: key }, `must have required property '${key}'`);
    }
  }
  const names = schema.propertyNames as Schema | undefined;
  if (names !== undefined && !plan.takesAll.has('propertyNames')) {
    for (const key of keys) {
      const ok = check(
        run,
        names,
        key,
        { path: scope.path, composite: true, first: scope.first, propertyName: key },
        `${path}/propertyNames`,
        {},
      );
      if (!ok) f.fail('propertyNames', { propertyName: key }, 'property name must be valid');
    }
  }
  const patterns = plan.patterns;
  const additional = schema.additionalProperties as Schema | undefined;
  if (additional !== undefined) {
    if (!plan.takesAll.has('additionalProperties')) {
      const declared = schema.properties as SchemaObject;
      for (const key of keys) {
        if ((properties && Object.hasOwn(declared, key)) || matchesAny(patterns, key)) continue;
        if (additional === false) {
          f.fail('additionalProperties', { additionalProperty: key }, 'must NOT have additional properties');
        } else f.sub(additional, data[key], key, `${path}/additionalProperties`);
      }
    }
    ev.props = true;
  }
  if (isSchemaObject(schema.dependencies)) {
    // Ajv checks the property lists first, then the schemas.
    const entries = Object.entries(schema.dependencies);
    const lists = Object.fromEntries(entries.filter(([, d]) => Array.isArray(d)));
    const schemas = Object.fromEntries(entries.filter(([, d]) => !Array.isArray(d)));
    dependentKeywords(f, lists, 'dependencies', data);
    dependentKeywords(f, schemas, 'dependencies', data);
  }
  if (properties) {
    for (const [key, prop, suffix] of properties) {
      if (own(data, key)) f.sub(prop, data[key], key, path + suffix);
    }
    // What was evaluated is read only by `unevaluated*`: without them, nothing is recorded.
    if (run.c.unevaluated) addProps(ev, Object.keys(schema.properties as SchemaObject));
  }
  for (const [matcher, subschema, suffix] of patterns) {
    const matched: string[] = [];
    for (const key of keys) if (matcher?.test(key)) matched.push(key);
    for (const key of matched) f.sub(subschema, data[key], key, path + suffix);
    if (run.c.unevaluated) addProps(ev, matched);
  }
  if (isSchemaObject(schema.dependentRequired)) {
    dependentKeywords(f, schema.dependentRequired, 'dependentRequired', data);
  }
  if (isSchemaObject(schema.dependentSchemas)) {
    dependentKeywords(f, schema.dependentSchemas, 'dependentSchemas', data);
  }
  const unevaluated = schema.unevaluatedProperties as Schema | undefined;
  if (unevaluated !== undefined && ev.props !== true) {
    const seen = ev.props;
    for (const key of keys) {
      if (seen?.has(key)) continue;
      if (unevaluated === false) {
        f.fail('unevaluatedProperties', { unevaluatedProperty: key }, 'must NOT have unevaluated properties');
      } else f.sub(unevaluated, data[key], key, `${path}/unevaluatedProperties`);
    }
    ev.props = true;
  }
  if (discriminator && node.mapping) {
    const tagName = (schema.discriminator as SchemaObject).propertyName as string;
    const member = discriminator.select(tagName, data, node.mapping);
    if (typeof member === 'number')
      f.sub((schema.oneOf as Schema[])[member] as Schema, data, undefined, `${path}/oneOf/${member}`, ev);
    else f.fail('discriminator', member.params, member.message);
  }
}

function dependentKeywords(f: Frame, spec: SchemaObject, keyword: string, data: SchemaObject): void {
  const { path, ev } = f;
  for (const [property, dependency] of Object.entries(spec)) {
    if (!own(data, property)) continue;
    if (Array.isArray(dependency)) {
      if (dependency.length === 0) continue;
      const deps = dependency.join(', ');
      for (const missingProperty of dependency as string[]) {
        if (own(data, missingProperty)) continue;
        const word = dependency.length === 1 ? 'property' : 'properties';
        f.fail(
          keyword,
          { property, missingProperty, depsCount: dependency.length, deps },
          `must have ${word} ${deps} when property ${property} is present`,
        );
      }
    } else if (keyword !== 'dependentRequired') {
      f.sub(dependency as Schema, data, undefined, `${path}/${keyword}/${fragmentOf(property)}`, ev);
    }
  }
}

/**
 * Compiles `schema` once: checks it, resolves its references and compiles its patterns (each
 * failure a {@link SchemaCompileError}). The function returned validates any number of values.
 */
export function compileSchema(schema: unknown, options: ValidatorOptions = {}): Validate {
  const compiled = compile(schema, options);
  const validate = ((data: unknown): boolean => {
    const run: Run = { c: compiled, errors: [], count: 0, steps: 0, dynamicScope: [], depth: 0 };
    let ok: boolean;
    try {
      ok = check(
        run,
        schema as Schema,
        data,
        { path: '', composite: false, first: false, propertyName: undefined },
        '#',
        {},
      );
    } catch (error) {
      // Deep data under a recursive schema can still exhaust the stack: the value fails, not the caller.
      if (error instanceof RangeError)
        throw new SchemaCompileError(`the schema cannot be applied to this value: ${error.message}`);
      throw error;
    }
    validate.errors = ok ? null : run.errors;
    return ok;
  }) as Validate;
  validate.errors = null;
  return validate;
}
