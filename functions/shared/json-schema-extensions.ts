/**
 * Ajv's two options that API bodies use (functions/shared/schema.ts), as plug-ins of the validator:
 * filling defaults and OpenAPI's `discriminator`. They live apart from it, so functions that validate
 * only tenants' schemas (the step runner) do not carry them.
 */
import {
  type Discriminator,
  type FillDefaults,
  isSchemaObject,
  SchemaCompileError,
  type SchemaObject,
} from './json-schema-validator.ts';

/** Ajv's `useDefaults`: a missing property takes a fresh copy of its `default`. */
export const fillDefaults: FillDefaults = (properties, data) => {
  for (const [key, prop] of Object.entries(properties)) {
    if (isSchemaObject(prop) && prop.default !== undefined && data[key] === undefined) {
      data[key] = structuredClone(prop.default);
    }
  }
};

/** OpenAPI's `discriminator` (with `oneOf`), as Ajv's option of that name applies it. */
export const discriminator: Discriminator = { mapping, select };

// The tag's values and the `oneOf` member each selects.
function mapping(schema: SchemaObject, target: (member: unknown) => unknown): Map<string, number> {
  const spec = schema.discriminator;
  const tag = isSchemaObject(spec) ? spec.propertyName : undefined;
  if (typeof tag !== 'string') throw new SchemaCompileError('discriminator: requires propertyName');
  if (!Array.isArray(schema.oneOf)) throw new SchemaCompileError('discriminator: requires oneOf keyword');
  const selects = new Map<string, number>();
  const requires = (s: unknown): boolean =>
    isSchemaObject(s) && Array.isArray(s.required) && s.required.includes(tag);
  let required = true;
  schema.oneOf.forEach((member: unknown, i: number) => {
    const resolved = target(member);
    const property =
      isSchemaObject(resolved) && isSchemaObject(resolved.properties) ? resolved.properties[tag] : undefined;
    if (!isSchemaObject(property)) {
      throw new SchemaCompileError(`discriminator: oneOf subschemas must have "properties/${tag}"`);
    }
    required &&= requires(schema) || requires(resolved);
    const values = property.const !== undefined ? [property.const] : property.enum;
    if (!Array.isArray(values)) {
      throw new SchemaCompileError(`discriminator: "properties/${tag}" must have "const" or "enum"`);
    }
    for (const value of values) {
      if (typeof value !== 'string' || selects.has(value)) {
        throw new SchemaCompileError(`discriminator: "${tag}" values must be unique strings`);
      }
      selects.set(value, i);
    }
  });
  if (!required) throw new SchemaCompileError(`discriminator: "${tag}" must be required`);
  return selects;
}

// The member a value's tag selects, or the problem to report.
function select(
  tagName: string,
  data: SchemaObject,
  selects: ReadonlyMap<string, number>,
): number | { params: Record<string, unknown>; message: string } {
  const tag = data[tagName];
  const member = typeof tag === 'string' ? selects.get(tag) : undefined;
  if (member !== undefined) return member;
  const error = typeof tag === 'string' ? 'mapping' : 'tag';
  return {
    params: { error, tag: tagName, tagValue: tag },
    message:
      error === 'tag' ? `tag "${tagName}" must be string` : `value of tag "${tagName}" must be in oneOf`,
  };
}
