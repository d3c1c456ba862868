/**
 * Request and response schemas: TypeBox builders (plain JSON Schema, so the OpenAPI document is
 * written from the same objects, functions/shared/openapi.ts) validated by the validator that also
 * checks tenants' JSON Schemas (functions/shared/json-schema-validator.ts).
 *
 * What JSON Schema cannot say rides on symbol keys, which JSON (and so the OpenAPI document) never
 * sees: a field's own error message, trimming before the checks, checks in code, the component name,
 * documentation-only keywords, and the type name errors use. Validators compile on first use, so
 * module init builds plain objects only. Problems keep the words, paths and order the API answered
 * with before (test/unit/mutation/workflows-validate.test.ts pins them).
 */

import {
  Array as ArrayType,
  Boolean as BooleanType,
  Integer,
  Literal,
  Null,
  Number as NumberType,
  Object as ObjectType,
  Optional,
  OptionalKind,
  type Static,
  String as StringType,
  type TObject,
  type TProperties,
  type TSchema,
  type TString,
  type TUndefined,
  Union,
  Unknown,
  Unsafe,
} from '@sinclair/typebox';
import { decodePointer } from '#shared/json-pointer.ts';
import { discriminator, fillDefaults } from '#shared/json-schema-extensions.ts';
import {
  compileSchema,
  type SchemaError as ErrorObject,
  type Validate as ValidateFunction,
} from '#shared/json-schema-validator.ts';

export type { Static, TSchema, TString, TUndefined };

/**
 * The TypeBox builders the routes use, one by one: TypeBox's `Type` object holds every builder, so
 * importing it bundled all of them (46 KiB of the API).
 */
export const t = {
  Array: ArrayType,
  Boolean: BooleanType,
  Literal,
  Null,
  Number: NumberType,
  Object: ObjectType,
  Optional,
  String: StringType,
  Union,
  Unknown,
  Unsafe,
};

/** A field problem: where (dotted path) and what. */
export interface SchemaProblem {
  path: string;
  message: string;
}

const MESSAGE = Symbol.for('meridian.schema.message');
const TRIM = Symbol.for('meridian.schema.trim');
const FINISH = Symbol.for('meridian.schema.finish');
const NAME = Symbol.for('meridian.schema.name');
const KIND = Symbol.for('meridian.schema.kind');
const TYPE_MESSAGE = Symbol.for('meridian.schema.typeMessage');
const LAZY = Symbol.for('meridian.schema.lazy');
const CHECK = Symbol.for('meridian.schema.check');
const DOC = Symbol.for('meridian.schema.doc');
const TAG = Symbol.for('meridian.schema.tag');

type Annotated = TSchema & {
  [MESSAGE]?: string;
  [TRIM]?: boolean;
  [FINISH]?: Finish;
  [NAME]?: string;
  [KIND]?: string;
  [TYPE_MESSAGE]?: string;
  [LAZY]?: () => TSchema;
  [CHECK]?: Check;
  [DOC]?: Record<string, unknown>;
  [TAG]?: string;
};

/** A check JSON Schema cannot say: the problems of `value`, paths relative to it. */
export type Check = (value: unknown) => readonly { path: readonly (string | number)[]; message: string }[];

/** A check (or conversion) after validation: returns the value to keep, or a message refusing it. */
type Finish = (value: unknown) => { value: unknown } | { message: string };

/** The message a failed `pattern`, `format`, `minProperties` or union check reports instead of the default. */
export function withMessage<T extends TSchema>(schema: T, message: string): T {
  return Object.assign(schema, { [MESSAGE]: message });
}

/** The message when the value is missing or of the wrong type, instead of "expected ..., received ...". */
export function typeError<T extends TSchema>(schema: T, message: string): T {
  return Object.assign(schema, { [TYPE_MESSAGE]: message });
}

/** A copy of `schema` with more options (a description, bounds); its annotations are kept. */
export function withOptions<T extends TSchema>(schema: T, options: Record<string, unknown>): T {
  return { ...schema, ...options };
}

/** Leading and trailing white space is removed before the checks (a property of an object part). */
export function trimmed<T extends TSchema>(schema: T): T {
  return Object.assign(schema, { [TRIM]: true });
}

/**
 * A check after validation, on a part (body, query) or on one of its properties: `finish` returns
 * the value to keep, or a message refusing it.
 */
export function finished<T extends TSchema>(schema: T, finish: Finish): T {
  return Object.assign(schema, { [FINISH]: finish });
}

/** Names the schema in the OpenAPI document (components/schemas). */
export function named<T extends TSchema>(schema: T, name: string): T {
  return Object.assign(schema, { [NAME]: name });
}

/**
 * An optional property that the validator fills with `value` when absent: optional in the document,
 * always present in the type the handler sees.
 */
export function defaulted<T extends TSchema>(schema: T, value: Static<T>): T {
  return Object.assign(schema, { default: value, [OptionalKind]: 'Optional' });
}

/** A JSON object of any values (`{type: object, propertyNames: string, additionalProperties: ...}`). */
export function record<T extends TSchema>(values: T, options: Record<string, unknown> = {}) {
  return Object.assign(
    Unsafe<Record<string, Static<T>>>({
      type: 'object',
      propertyNames: { type: 'string' },
      additionalProperties: values,
      ...options,
    }),
    { [KIND]: 'record' },
  );
}

/** An integer; bounds default to the safe integers, as JavaScript numbers hold them exactly. */
export function int(options: { minimum?: number; maximum?: number; [k: string]: unknown } = {}) {
  return Object.assign(
    Integer({
      ...options,
      minimum: options.minimum ?? Number.MIN_SAFE_INTEGER,
      maximum: options.maximum ?? Number.MAX_SAFE_INTEGER,
    }),
    { [KIND]: 'int' },
  );
}

/** One of fixed strings (`{type: string, enum: [...]}`). */
export function oneOf<const V extends readonly string[]>(values: V, options: Record<string, unknown> = {}) {
  return Object.assign(Unsafe<V[number]>({ type: 'string', enum: [...values], ...options }), {
    [KIND]: 'enum',
  });
}

// The email check zod applied (and the document publishes), kept as it was.
const EMAIL_PATTERN =
  "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$";

/** An email address. */
export function emailString(options: { maxLength?: number } = {}) {
  return withMessage(
    StringType({ ...options, format: 'email', pattern: EMAIL_PATTERN }),
    'Invalid email address',
  );
}

// The ISO date-time (UTC, `Z`) check zod applied (and the document publishes), kept as it was.
const DATE_TIME_PATTERN =
  '^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z))$';

/** An ISO date-time in UTC (`2025-01-31T12:00:00Z`). */
export function dateTimeString(options: Record<string, unknown> = {}, offset = false) {
  const pattern = offset ? DATE_TIME_PATTERN.replace('(?:Z))$', OFFSET_TAIL) : DATE_TIME_PATTERN;
  return withMessage(StringType({ ...options, format: 'date-time', pattern }), 'Invalid ISO datetime');
}

// With `offset`, zod also accepted `+hh:mm` / `-hh:mm` after the time.
const OFFSET_TAIL = '(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$';

/** `schema` or `null`; a refused value reports what `schema` says of it. */
export function nullable<T extends TSchema>(schema: T) {
  // A bare type reads `type: [t, 'null']`, as zod wrote it; anything more needs the union.
  const keys = Object.keys(schema);
  if (keys.length === 1 && typeof schema.type === 'string') {
    return Object.assign(Unsafe<Static<T> | null>({ type: [schema.type, 'null'] }), {
      [KIND]: (schema as Annotated)[KIND],
    });
  }
  return Object.assign(Union([schema, Null()]), { [KIND]: 'nullable' });
}

/** An object that must also pass `predicate`, else one problem (`message`) on the object itself. */
export function refined<T extends TSchema>(
  schema: T,
  predicate: (value: Static<T>) => boolean,
  message: string,
): T {
  return finished(schema, (value) => (predicate(value as Static<T>) ? { value } : { message }));
}

/** An object with more (or replaced) properties; strictness and the rest of its options are kept. */
export function extend<B extends TObject, P extends TProperties>(base: B, properties: P) {
  // A new schema: the base's component name and checks stay with the base (as with zod).
  const {
    properties: own,
    required: _required,
    [NAME]: _name,
    [FINISH]: _finish,
    ...options
  } = base as B & Annotated;
  return ObjectType({ ...(own as B['properties']), ...properties }, options) as unknown as TObject<
    Evaluate<Omit<B['properties'], keyof P> & P>
  >;
}

type Evaluate<T> = { [K in keyof T]: T[K] } & {};

/** zod's `.meta()`: a component name (`id`) and a description. */
export function meta<T extends TSchema>(schema: T, info: { id?: string; description?: string }): T {
  if (info.description !== undefined) Object.assign(schema, { description: info.description });
  return info.id ? named(schema, info.id) : schema;
}

/** A union told apart by the value of `key` (published as `oneOf`; only the matching member reports). */
export function discriminated<const T extends TSchema[]>(key: string, members: [...T]) {
  return Object.assign(Unsafe<Static<T[number]>>({ oneOf: members }), { [TAG]: key });
}

/** A reference to a schema defined later (recursion); the target should be {@link named}. */
export function lazy<T>(get: () => TSchema): TSchema & { static: T } {
  return Object.assign(Unsafe<T>({}), { [LAZY]: get });
}

/** A check after the schema's own, at any depth (conditions, cross-item rules, regex support). */
export function checked<T extends TSchema>(schema: T, check: Check): T {
  return Object.assign(schema, { [CHECK]: check });
}

/** Keywords the OpenAPI document shows for `schema` but validation leaves to code (cross-field rules). */
export function documented<T extends TSchema>(schema: T, extra: Record<string, unknown>): T {
  return Object.assign(schema, { [DOC]: extra });
}

// ---------------------------------------------------------------------------------------------------
// Validation

const checks: Check[] = [];

/** `x-check`: the problems a part's check in code finds, each under the value's own path. */
function runCheck(index: unknown, data: unknown, instancePath: string): ErrorObject[] {
  const found = (checks[index as number] as Check)(data);
  return found.map((f, i) => ({
    keyword: 'x-check',
    instancePath: `${instancePath}${f.path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`,
    schemaPath: '',
    message: f.message,
    // A check's problems keep the order it found them in, after the problems above them.
    params: { base: instancePath, index: i },
  }));
}

const compiled = new WeakMap<TSchema, ValidateFunction>();

function validatorOf(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    // Formats are published, not enforced: where one matters a pattern says it (as zod checked it).
    // Route patterns are plain JavaScript regular expressions, as they were with zod.
    validate = compileSchema(toJsonSchema(schema, { validation: true }), {
      useDefaults: fillDefaults,
      discriminator,
      regExp: (source) => new RegExp(source),
      keywords: { 'x-check': runCheck },
      // A body names every field it gets wrong (bodies are bounded by the API's request limits).
      maxErrors: Number.POSITIVE_INFINITY,
    });
    compiled.set(schema, validate);
  }
  return validate;
}

/** How a value reads in "received ..." (zod's names). */
function typeName(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : 'number';
  return typeof value;
}

function expectedName(schema: Annotated | undefined): string {
  if (!schema) return 'unknown';
  if (schema[KIND] === 'int') return 'number';
  if (schema[KIND]) return schema[KIND] as string;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  return typeof type === 'string' ? type : 'unknown';
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** What a missing field reads: zod's wording, or `required` (definitions, see {@link check}). */
interface Wording {
  readonly missing?: string;
}

/** The message zod gave for a value `schema` refuses at the type level (or when it is missing). */
function typeMessage(schema: Annotated | undefined, value: unknown, wording: Wording = {}): string {
  if (schema?.[TYPE_MESSAGE]) return schema[TYPE_MESSAGE] as string;
  if (value === undefined && wording.missing && !schema?.[TAG]) return wording.missing;
  if (schema?.[TAG] && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return `Invalid input: expected object, received ${typeName(value)}`;
  }
  if (schema?.[MESSAGE] && (schema.anyOf || schema.oneOf)) return schema[MESSAGE] as string;
  if (schema?.anyOf || schema?.oneOf) return 'Invalid input';
  if (Array.isArray(schema?.enum)) {
    return `Invalid option: expected one of ${(schema.enum as unknown[]).map(quote).join('|')}`;
  }
  if (schema && 'const' in schema) return `Invalid input: expected ${quote(schema.const)}`;
  if (schema?.[KIND] === 'int' && typeof value === 'number' && !Number.isNaN(value)) {
    return 'Invalid input: expected int, received number';
  }
  return `Invalid input: expected ${expectedName(schema)}, received ${typeName(value)}`;
}

function sizeMessage(error: ErrorObject): string {
  const limit = (error.params as { limit: number }).limit;
  switch (error.keyword) {
    case 'minLength':
      return `Too small: expected string to have >=${limit} characters`;
    case 'maxLength':
      return `Too big: expected string to have <=${limit} characters`;
    case 'minItems':
      return `Too small: expected array to have >=${limit} items`;
    case 'maxItems':
      return `Too big: expected array to have <=${limit} items`;
    case 'minimum':
      return `Too small: expected number to be >=${limit}`;
    case 'maximum':
      return `Too big: expected number to be <=${limit}`;
    case 'exclusiveMinimum':
      return `Too small: expected number to be >${limit}`;
    case 'exclusiveMaximum':
      return `Too big: expected number to be <${limit}`;
    default:
      return 'Invalid input';
  }
}

interface Located extends SchemaProblem {
  /** Where each segment sits among its siblings: declared properties first, unknown keys last. */
  readonly order: readonly number[];
}

/** `node` with references followed and a discriminated union narrowed to the member `value` names. */
function resolve(node: Annotated | undefined, value: unknown): Annotated | undefined {
  let out = node;
  while (out?.[LAZY]) out = (out[LAZY] as () => Annotated)();
  const tag = out?.[TAG];
  if (out && tag) {
    const wanted =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[tag] : undefined;
    const members = (out.oneOf ?? []) as Annotated[];
    return members.find((m) => (m.properties as Record<string, Annotated>)?.[tag]?.const === wanted) ?? out;
  }
  return out;
}

/** The schema of the value at `segments` under `root`, following properties, items and records. */
function schemaAt(root: Annotated, data: unknown, segments: readonly string[]): Annotated | undefined {
  let node = resolve(root, data);
  let value = data;
  for (const segment of segments) {
    if (!node) return undefined;
    value =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
    const props = node.properties as Record<string, Annotated> | undefined;
    if (props && Object.hasOwn(props, segment)) node = props[segment];
    else if (node.items && typeof node.items === 'object') node = node.items as Annotated;
    else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      node = node.additionalProperties as Annotated;
    } else return undefined;
    node = resolve(node, value);
  }
  return node;
}

/**
 * Positions of an object's own keys, built once per object: a record with n bad entries has n
 * problems to order, and looking each key up in Object.keys would make that n² (a body's size is the
 * caller's choice).
 */
const keyPositions = new WeakMap<object, Map<string, number>>();

function keyIndexOf(holder: object, key: string): number {
  let positions = keyPositions.get(holder);
  if (!positions) {
    positions = new Map(Object.keys(holder).map((k, i) => [k, i]));
    keyPositions.set(holder, positions);
  }
  return positions.get(key) ?? 0;
}

function orderOf(
  root: Annotated,
  data: unknown,
  segments: readonly string[],
  unknownLast: boolean,
): number[] {
  const out: number[] = [];
  segments.forEach((segment, i) => {
    const node = schemaAt(root, data, segments.slice(0, i));
    const props = node?.properties as Record<string, Annotated> | undefined;
    const declared = props ? Object.keys(props).indexOf(segment) : -1;
    if (declared >= 0) out.push(declared);
    else if (/^\d+$/.test(segment) && node?.type === 'array') out.push(Number(segment));
    else if (unknownLast && i === segments.length - 1) out.push(Number.MAX_SAFE_INTEGER);
    else {
      // A record's entries come in the order of the value's own keys.
      const holder = valueIn(data, segments.slice(0, i));
      out.push(1e9 + (holder !== null && typeof holder === 'object' ? keyIndexOf(holder, segment) : 0));
    }
  });
  return out;
}

function compareOrder(a: Located, b: Located): number {
  const n = Math.min(a.order.length, b.order.length);
  for (let i = 0; i < n; i++) {
    const d = (a.order[i] ?? 0) - (b.order[i] ?? 0);
    if (d !== 0) return d;
  }
  // A value's own problems come before those of the fields inside it (zod reported them so).
  return a.order.length - b.order.length;
}

/** Turns the validator's errors into zod's problems, in zod's order: fields as declared, unknown keys last. */
function problemsOf(
  root: Annotated,
  data: unknown,
  all: readonly ErrorObject[],
  wording: Wording,
): Located[] {
  // A nullable value reports what its non-null branch says (drop the union and its `null` branch).
  const nullables = all
    .filter((e) => e.keyword === 'anyOf' && (e.parentSchema as Annotated | undefined)?.[KIND] === 'nullable')
    .map((e) => e.schemaPath.slice(0, -'/anyOf'.length));
  let errors = all.filter(
    (e) => !nullables.some((n) => e.schemaPath === `${n}/anyOf` || e.schemaPath.startsWith(`${n}/anyOf/1/`)),
  );
  // A failed union reports once at its own path, not once per branch it tried.
  const unions = errors
    .filter((e) => e.keyword === 'anyOf' || (e.keyword === 'oneOf' && !(e.parentSchema as Annotated)?.[TAG]))
    .map((e) => e.schemaPath);
  errors = errors.filter(
    (e) => !unions.some((u) => e.schemaPath !== u && e.schemaPath.startsWith(u.slice(0, -'/anyOf'.length))),
  );
  // A key refused by `propertyNames` reports once, as an invalid key.
  errors = errors.filter((e) => (e as { propertyName?: string }).propertyName === undefined);
  const out: Located[] = [];
  const typeFailed = new Set<string>();
  for (const e of errors) if (e.keyword === 'type' || e.keyword === 'enum') typeFailed.add(e.instancePath);
  for (const e of errors) {
    const at = decodePointer(e.instancePath);
    const schema = e.parentSchema as Annotated | undefined;
    const valueAt = valueIn(data, at);
    let segments = at;
    let message: string;
    let unknownLast = false;
    switch (e.keyword) {
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        segments = [...at, missing];
        message = typeMessage(schemaAt(root, data, segments), undefined, wording);
        break;
      }
      case 'additionalProperties':
        segments = [...at, (e.params as { additionalProperty: string }).additionalProperty];
        message = 'unknown field';
        unknownLast = true;
        break;
      case 'propertyNames': {
        const key = (e.params as { propertyName: string }).propertyName;
        segments = [...at, key];
        const names = schema?.propertyNames as Annotated | undefined;
        message = `invalid key: ${names?.[MESSAGE] ?? 'Invalid input'}`;
        break;
      }
      case 'discriminator': {
        if (typeFailed.has(e.instancePath)) continue;
        const tag = (e.params as { tag: string }).tag;
        segments = [...at, tag];
        const members = (schema?.oneOf ?? []) as Annotated[];
        const values = members.map(
          (m) => `'${String((m.properties as Record<string, Annotated>)[tag]?.const)}'`,
        );
        message = `Invalid discriminator value. Expected ${values.join(' | ')}`;
        break;
      }
      case 'x-check':
        message = e.message ?? 'Invalid input';
        break;
      case 'type':
      case 'enum':
      case 'const':
      case 'anyOf':
      case 'oneOf':
        // An enum refusing a non-string reports once (its type error is the same problem).
        if (e.keyword === 'type' && schema && Array.isArray(schema.enum)) continue;
        message = typeMessage(schema, valueAt, wording);
        break;
      case 'multipleOf':
        message = `Invalid number: must be a multiple of ${(e.params as { multipleOf: number }).multipleOf}`;
        break;
      case 'pattern':
        message =
          schema?.[MESSAGE] ??
          `Invalid string: must match pattern /${(e.params as { pattern: string }).pattern}/`;
        break;
      case 'minProperties':
        message = schema?.[MESSAGE] ?? 'Invalid input';
        break;
      default:
        if (typeFailed.has(e.instancePath)) continue;
        message = sizeMessage(e);
    }
    const order =
      e.keyword === 'x-check'
        ? [
            ...orderOf(root, data, decodePointer((e.params as { base: string }).base), false),
            1e12 + (e.params as { index: number }).index,
          ]
        : orderOf(root, data, segments, unknownLast);
    out.push({ path: segments.join('.'), message, order });
  }
  return out;
}

function valueIn(data: unknown, segments: readonly string[]): unknown {
  let node = data;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

/**
 * Before the checks, on the direct properties of an object value: trims, reads numbers from query
 * text, and fills defaults (the validator fills those only outside unions).
 */
function prepare(root: Annotated, value: unknown, coerce: boolean): unknown {
  const schema = resolve(root, value);
  const props = schema?.properties as Record<string, Annotated> | undefined;
  if (!props || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, prop] of Object.entries(props)) {
    const current = (value as Record<string, unknown>)[key];
    let next = current;
    if (prop[TRIM] && typeof current === 'string') next = current.trim();
    // A query value is text; a numeric field reads it as a number (NaN when it is none).
    if (coerce && typeof current === 'string' && (prop.type === 'integer' || prop.type === 'number')) {
      next = Number(current);
    }
    if (current === undefined && prop.default !== undefined) next = structuredClone(prop.default);
    if (next !== current) {
      out ??= { ...(value as Record<string, unknown>) };
      out[key] = next;
    }
  }
  return out ?? value;
}

/**
 * Runs the `finish` checks of a part's direct properties (each once the property itself passed, as
 * zod ran a pipe) and of the part itself (once nothing but unknown keys failed, on the value without
 * them, as zod ran an object's refinement). Their problems join `problems`.
 */
function finish(
  root: Annotated,
  value: unknown,
  errors: readonly ErrorObject[],
  problems: Located[],
): unknown {
  const schema = resolve(root, value) ?? root;
  const props = schema.properties as Record<string, Annotated> | undefined;
  if (!props || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let out = value as Record<string, unknown>;
  const before = problems.length;
  for (const [key, prop] of Object.entries(props)) {
    const check = prop[FINISH];
    const current = out[key];
    if (!check || current === undefined) continue;
    const at = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (errors.some((e) => e.instancePath === at || e.instancePath.startsWith(`${at}/`))) continue;
    const result = check(current);
    if ('message' in result) {
      problems.push({ path: key, message: result.message, order: orderOf(root, value, [key], false) });
    } else if (result.value !== current) out = { ...out, [key]: result.value };
  }
  const own = schema[FINISH];
  const onlyUnknownKeys = errors.every((e) => e.keyword === 'additionalProperties' && e.instancePath === '');
  if (own && onlyUnknownKeys && problems.length === before) {
    const known = Object.fromEntries(Object.entries(out).filter(([k]) => Object.hasOwn(props, k)));
    const result = own(errors.length > 0 ? known : out);
    // After the unknown keys, as zod reported its refinement last.
    if ('message' in result)
      problems.push({ path: '', message: result.message, order: [Number.MAX_SAFE_INTEGER, 1] });
    else out = result.value as Record<string, unknown>;
  }
  return out;
}

/** The outcome of {@link check}: the value (defaults filled, trimmed, finished) or its problems. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problems: SchemaProblem[] };

/** How {@link check} reads its input and words its problems. */
export interface CheckOptions {
  /** Query and path parts: numeric fields are read from their text. */
  readonly coerce?: boolean;
  /** What a missing field reads (zod's "Invalid input: expected ..., received undefined" when unset). */
  readonly missing?: string;
  /**
   * The caller gives the value up (a request body just parsed, which nothing else holds): it is not
   * copied first, and defaults are written into it. A copy of a 256 KiB body took 3 ms.
   */
  readonly owned?: boolean;
}

/**
 * Validates `value` against `schema`; every problem is named by its dotted path. The value is
 * copied first, since defaults are written into it, unless the caller gives it up (`owned`).
 */
export function check<T extends TSchema>(
  schema: T,
  value: unknown,
  options: CheckOptions | boolean = {},
): Checked<Static<T>> {
  const {
    coerce = false,
    owned = false,
    ...wording
  } = typeof options === 'boolean' ? { coerce: options } : options;
  // An optional part (a route's `body: t.Optional(...)`) may be absent, as zod's `.optional()` allowed;
  // JSON Schema has no notion of an absent root, so it is told here.
  if (value === undefined && (schema as Record<symbol, unknown>)[OptionalKind] === 'Optional') {
    if (!('default' in schema)) return { ok: true, value: undefined as Static<T> };
    return check(schema, structuredClone(schema.default), options);
  }
  const root = schema as Annotated;
  const input = prepare(
    root,
    value !== null && typeof value === 'object' && !owned ? structuredClone(value) : value,
    coerce,
  );
  const validate = validatorOf(schema);
  const errors = validate(input) ? [] : (validate.errors ?? []);
  const problems = problemsOf(root, input, errors, wording);
  const out = finish(root, input, errors, problems);
  if (problems.length === 0) return { ok: true, value: out as Static<T> };
  return { ok: false, problems: problems.sort(compareOrder).map(({ path, message }) => ({ path, message })) };
}

/** The value `schema` accepts (defaults filled), or throws naming the first problems (tests, fixtures). */
export function parse<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const result = check(schema, value);
  if (result.ok) return result.value;
  throw new Error(`Invalid value: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
}

/**
 * The plain JSON Schema of `schema`: named parts (the root too) become `$defs` entries referenced by
 * `#/$defs/<name>`, as zod wrote them. For the OpenAPI document, documentation-only keywords are
 * added; for validation, annotations are kept (errors read them), code checks become keywords and
 * a tagged union carries OpenAPI's `discriminator`, so that only the member its tag names reports.
 */
export function toJsonSchema(
  schema: TSchema,
  options: { validation?: boolean } = {},
): Record<string, unknown> {
  const { validation = false } = options;
  const defs: Record<string, unknown> = {};
  const copies = new Map<object, Record<string, unknown>>();
  const walk = (input: unknown): unknown => {
    if (Array.isArray(input)) return input.map(walk);
    if (input === null || typeof input !== 'object') return input;
    let node = input as Annotated;
    while (node[LAZY]) node = (node[LAZY] as () => Annotated)();
    const name = node[NAME];
    if (name && name in defs) return { $ref: `#/$defs/${name}` };
    if (name) defs[name] = {};
    let copy = copies.get(node);
    if (!copy) {
      copy = {};
      copies.set(node, copy);
      for (const [k, v] of Object.entries(node)) copy[k] = walk(v);
      if (validation) {
        for (const key of Object.getOwnPropertySymbols(node)) {
          (copy as Record<symbol, unknown>)[key] = (node as unknown as Record<symbol, unknown>)[key];
        }
        const own = node[CHECK];
        if (own) {
          let index = checks.indexOf(own);
          if (index < 0) index = checks.push(own) - 1;
          copy['x-check'] = index;
        }
      } else if (node[DOC]) {
        for (const [k, v] of Object.entries(node[DOC])) copy[k] = walk(v);
      }
      if (validation && node[TAG]) {
        copy.type = 'object';
        copy.discriminator = { propertyName: node[TAG] };
      }
    }
    if (name) {
      defs[name] = copy;
      return { $ref: `#/$defs/${name}` };
    }
    return copy;
  };
  const out = walk(schema) as Record<string, unknown>;
  if (Object.keys(defs).length > 0) out.$defs = defs;
  return out;
}
