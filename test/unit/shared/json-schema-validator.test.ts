import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { tenantRegex } from '#core/catalog/tenant-regex.ts';
import { discriminator, fillDefaults } from '#shared/json-schema-extensions.ts';
import { compileSchema, jsonEqual, SchemaCompileError } from '#shared/json-schema-validator.ts';

// The validator replaced Ajv 8 (kept here, a dev dependency, as the reference): the same answers,
// the same errors (keyword, path, message, params) in the same order, on generated schemas and values.

// Under mutation testing (scripts/mutation.mjs sets MUTATION_TESTS) every mutant reruns this file:
// fewer generated schemas there.
const SCHEMAS = process.env.MUTATION_TESTS === undefined ? 1500 : 150;

// A fixed-seed generator (mulberry32), so a failure names a schema that fails again.
function generator(seed: number) {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const NAMES = ['a', 'b', 'c', 'd', 'x1', 'ab', 'a/b', 'c~d'];
  const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];
  const PATTERNS = ['^a', 'b$', '^[a-c]+$', '\\d', '^x', '.', '/'];

  const value = (depth = 0): unknown => {
    switch (int(depth > 2 ? 5 : 8)) {
      case 0:
        return null;
      case 1:
        return next() < 0.5;
      case 2:
        return pick([0, 1, 2, 3, -1, 1.5, 10, 100, 2.5, 1e21, 0.30000000000000004]);
      case 3:
        return pick(['', 'a', 'ab', 'abc', 'b', 'x1', '1', 'aaa', '😀', 'xb', 'a/b']);
      case 4:
        return pick([0, 1, 'a', true, null]);
      case 5:
        return Array.from({ length: int(4) }, () => value(depth + 1));
      default: {
        const out: Record<string, unknown> = {};
        for (let i = int(4); i > 0; i--) out[pick(NAMES)] = value(depth + 1);
        return out;
      }
    }
  };

  const schema = (depth = 0): unknown => {
    if (depth > 3 || next() < 0.1) return pick([true, false, {}, { type: pick(TYPES) }]);
    const out: Record<string, unknown> = {};
    for (let i = 1 + int(3); i > 0; i--) {
      switch (int(30)) {
        case 0:
          out.type = next() < 0.7 ? pick(TYPES) : [...new Set([pick(TYPES), pick(TYPES)])];
          break;
        case 1:
          out.properties = Object.fromEntries(
            Array.from({ length: 1 + int(3) }, () => [pick(NAMES), schema(depth + 1)]),
          );
          break;
        case 2:
          out.required = [...new Set([pick(NAMES), pick(NAMES)])];
          break;
        case 3:
          out.additionalProperties = next() < 0.5 ? false : schema(depth + 1);
          break;
        case 4:
          out.patternProperties = { [pick(PATTERNS)]: schema(depth + 1) };
          break;
        case 5:
          out.propertyNames = pick([{ maxLength: 1 }, { pattern: '^[a-c]' }, { enum: ['a', 'b'] }]);
          break;
        case 6:
          out[pick(['minProperties', 'maxProperties'])] = int(3);
          break;
        case 7:
          out.items = schema(depth + 1);
          break;
        case 8:
          out.prefixItems = [schema(depth + 1), schema(depth + 1)];
          break;
        case 9:
          out.contains = schema(depth + 1);
          if (next() < 0.5) out.minContains = int(3);
          if (next() < 0.3) out.maxContains = int(3);
          break;
        case 10:
          out.uniqueItems = true;
          break;
        case 11:
          out[pick(['minItems', 'maxItems'])] = int(3);
          break;
        case 12:
          out[pick(['minLength', 'maxLength'])] = int(3);
          break;
        case 13:
          out.pattern = pick(PATTERNS);
          break;
        case 14:
          out[pick(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'])] = pick([0, 1, 2, 1.5]);
          break;
        case 15:
          out.multipleOf = pick([1, 2, 0.5, 0.1]);
          break;
        case 16:
          out.enum = Array.from({ length: 1 + int(3) }, () => value(2));
          break;
        case 17:
          out.const = value(2);
          break;
        case 18:
          out.anyOf = [schema(depth + 1), schema(depth + 1)];
          break;
        case 19:
          out.oneOf = [schema(depth + 1), schema(depth + 1)];
          break;
        case 20:
          out.allOf = [schema(depth + 1), schema(depth + 1)];
          break;
        case 21:
          out.not = schema(depth + 1);
          break;
        case 22:
          out.if = schema(depth + 1);
          // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable
          if (next() < 0.8) out.then = schema(depth + 1);
          if (next() < 0.6) out.else = schema(depth + 1);
          break;
        case 23:
          // Not inside the definition itself: Ajv overflows its stack on a schema that loops.
          if (depth < 2) out.$ref = pick(['#/$defs/r', '#r', '#/$defs/r/properties/a']);
          break;
        case 24:
          out.dependentRequired = { [pick(NAMES)]: [pick(NAMES)] };
          break;
        case 25:
          out.dependentSchemas = { [pick(NAMES)]: schema(depth + 1) };
          break;
        // `unevaluated*` are not generated: Ajv strays from the specification there (see below).
        case 26:
          out.dependencies = { [pick(NAMES)]: next() < 0.5 ? [pick(NAMES)] : schema(depth + 1) };
          break;
        case 27:
          out.format = pick(['email', 'date-time', 'no-such-format']);
          break;
        case 28:
          if (typeof out.type === 'string' && out.type !== 'null') out.nullable = true;
          break;
        default:
          out.description = 'annotations only';
      }
    }
    return out;
  };

  const root = (): unknown => {
    const top = schema();
    if (typeof top !== 'object' || top === null) return top;
    const def = schema(2);
    return {
      ...top,
      $defs: {
        r: typeof def === 'object' ? { ...def, $anchor: 'r', properties: { a: schema(3) } } : def,
      },
    };
  };
  return { root, value };
}

const shape = (
  errors:
    | readonly {
        keyword: string;
        instancePath: string;
        schemaPath: string;
        message?: string;
        params: unknown;
      }[]
    | null
    | undefined,
) =>
  (errors ?? []).map(({ keyword, instancePath, schemaPath, message, params }) => ({
    keyword,
    instancePath,
    schemaPath,
    message,
    params,
  }));

describe('against Ajv 8 on generated schemas', () => {
  it('answers the same, with the same errors in the same order', () => {
    // Prepare
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, addUsedSchema: false });
    const { root, value } = generator(20261130);
    let compared = 0;
    let failing = 0;
    let ajvThrew = 0;
    let refused = 0;
    // Act
    for (let k = 0; k < SCHEMAS; k++) {
      const schema = root();
      let reference: ValidateFunction | undefined;
      try {
        reference = ajv.compile(schema as object);
      } catch {
        reference = undefined;
      }
      if (!reference) {
        expect(() => compileSchema(schema), JSON.stringify(schema)).toThrow(SchemaCompileError);
        refused++;
        continue;
      }
      const validate = compileSchema(schema);
      for (let j = 0; j < 12; j++) {
        const data = value();
        let expected: boolean;
        try {
          expected = reference(structuredClone(data)) as boolean;
        } catch {
          // Ajv's generated code fails on a few schemas that mix `unevaluatedProperties` with
          // `if` and `patternProperties` ("Cannot set properties of undefined"): nothing to compare.
          ajvThrew++;
          continue;
        }
        const actual = validate(structuredClone(data));
        const context = `${JSON.stringify(schema)} on ${JSON.stringify(data)}`;
        // Assess
        expect(actual, context).toBe(expected);
        expect(shape(validate.errors), context).toEqual(shape(reference.errors as ErrorObject[] | null));
        compared++;
        if (!expected) failing++;
      }
      if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
    }
    // Both answers are well represented.
    expect(compared + ajvThrew + 12 * refused).toBe(12 * SCHEMAS);
    expect(refused).toBeLessThan(20);
    expect(ajvThrew).toBeLessThan(100);
    expect(failing).toBeGreaterThan(4 * SCHEMAS);
    expect(compared - failing).toBeGreaterThan(2 * SCHEMAS);
  }, 60_000);

  it.each([
    ['a type that is not one', { type: 'text' }],
    ['repeated types', { type: ['string', 'string'] }],
    ['a negative length', { minLength: -1 }],
    ['a fractional count', { maxItems: 1.5 }],
    ['a zero multipleOf', { multipleOf: 0 }],
    ['a string bound', { maximum: '3' }],
    ['required that is not a list', { required: 'a' }],
    ['required names repeated', { required: ['a', 'a'] }],
    ['an empty anyOf', { anyOf: [] }],
    ['a subschema that is a number', { properties: { a: 3 } }],
    ['a reference to nothing', { $ref: '#/$defs/missing' }],
    ['a reference to another document', { $ref: 'https://example.com/schema.json' }],
    ['draft-04 "id"', { id: 'x' }],
    ['nullable without a type', { nullable: true }],
    ['an invalid pattern', { pattern: '(' }],
    ['an invalid anchor', { $anchor: '1a' }],
    ['uniqueItems that is not a boolean', { uniqueItems: 1 }],
  ])('refuses %s at compile, as Ajv does', (_name, schema) => {
    // Prepare
    const ajv = new Ajv2020({ strict: false, validateFormats: false, addUsedSchema: false });
    // Act / Assess
    expect(() => ajv.compile(schema)).toThrow();
    expect(() => compileSchema(schema)).toThrow(SchemaCompileError);
  });
});

describe('references', () => {
  it('resolve against $id, to embedded resources, anchors and escaped pointers', () => {
    // Prepare
    const schema = {
      $id: 'https://example.com/root.json',
      type: 'object',
      properties: {
        a: { $ref: 'item.json' },
        b: { $ref: '#big' },
        c: { $ref: '#/$defs/a~1b' },
        d: { $ref: 'https://example.com/root.json#/$defs/percent%25' },
      },
      $defs: {
        item: { $id: 'item.json', type: 'string' },
        big: { $anchor: 'big', minimum: 10 },
        'a/b': { const: 1 },
        'percent%': { type: 'boolean' },
      },
    };
    const validate = compileSchema(schema);
    // Act / Assess
    expect(validate({ a: 'x', b: 11, c: 1, d: true })).toBe(true);
    expect(validate({ a: 1, b: 9, c: 2, d: 0 })).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([
      '/a must be string',
      '/b must be >= 10',
      '/c must be equal to constant',
      '/d must be boolean',
    ]);
  });

  it('follow $dynamicRef to the outermost resource that declares the anchor', () => {
    // Prepare: a list whose items the extending schema narrows (JSON Schema 2020-12, 8.2.3.2).
    const schema = {
      $id: 'https://example.com/strings',
      $ref: 'list',
      $defs: {
        item: { $dynamicAnchor: 'item', type: 'string' },
        list: {
          $id: 'list',
          type: 'array',
          items: { $dynamicRef: '#item' },
          $defs: { item: { $dynamicAnchor: 'item' } },
        },
      },
    };
    const validate = compileSchema(schema);
    const list = compileSchema(schema.$defs.list);
    // Act / Assess
    expect(validate(['a', 'b'])).toBe(true);
    expect(validate(['a', 1])).toBe(false);
    expect(list(['a', 1])).toBe(true);
  });

  it('stop a schema that applies itself to one value without end', () => {
    // Prepare
    const validate = compileSchema({ $defs: { loop: { $ref: '#/$defs/loop' } }, $ref: '#/$defs/loop' });
    // Act / Assess
    expect(() => validate({})).toThrow(SchemaCompileError);
    expect(() => validate({})).toThrow(/nests more than 512 subschemas deep/);
  });

  it('recurse through data as deep as it goes', () => {
    // Prepare
    const validate = compileSchema({ type: 'object', properties: { next: { $ref: '#' } }, required: ['v'] });
    let data: Record<string, unknown> = { v: 0 };
    for (let i = 0; i < 50; i++) data = { v: i, next: data };
    // Act / Assess
    expect(validate(data)).toBe(true);
  });
});

/** `$defs` d0 … dn, each applying the next once or twice through `keyword`; dn takes strings. */
function chain(n: number, keyword: 'anyOf' | 'allOf' | 'oneOf', twice: boolean) {
  const $defs: Record<string, unknown> = { [`d${n}`]: { type: 'string' } };
  for (let i = 0; i < n; i++) {
    const next = { $ref: `#/$defs/d${i + 1}` };
    $defs[`d${i}`] = { [keyword]: twice ? [next, next] : [next] };
  }
  return { type: 'object', properties: { a: { $ref: '#/$defs/d0' } }, $defs };
}

describe('bounded work on schemas a tenant writes', () => {
  it('stops at the first anyOf branch that passes: a chain that doubles each level stays linear', () => {
    // Prepare: 2^22 paths if every branch were tried.
    const validate = compileSchema(chain(22, 'anyOf', true));
    const started = performance.now();
    // Act / Assess
    expect(validate({ a: 'x' })).toBe(true);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it.each([
    ['allOf', { a: 'x' }],
    ['anyOf', { a: 1 }],
  ] as const)('fails a value once %s has applied the most subschemas allowed to %j', (keyword, data) => {
    // Prepare: a chain of n levels takes 2^(n+2) - 1 steps; 4,095 for 10 levels.
    const over = compileSchema(chain(10, keyword, true), { maxSteps: 4094 });
    const within = compileSchema(chain(10, keyword, true), { maxSteps: 4095 });
    // Act / Assess
    expect(() => over(data)).toThrow(SchemaCompileError);
    expect(() => over(data)).toThrow('the schema takes more than 4094 steps on this value');
    expect(() => within(data)).not.toThrow();
  });

  it('keeps the first 1,000 problems of a value, and counts them all', () => {
    // Prepare: 5,000 items each failing the same way.
    const validate = compileSchema({ type: 'array', items: { type: 'string' } });
    // Act
    const valid = validate(Array.from({ length: 5000 }, (_, i) => i));
    // Assess
    expect(valid).toBe(false);
    expect(validate.errors).toHaveLength(1000);
    expect(validate.errors?.[999]?.instancePath).toBe('/999');
  });

  it('withdraws the problems of a union that passes even past the kept ones', () => {
    // Prepare: the first branch fails 2,000 times, the second passes.
    const validate = compileSchema({
      anyOf: [{ items: { type: 'string' } }, { type: 'array' }],
      minItems: 3000,
    });
    // Act / Assess
    expect(validate(Array.from({ length: 2000 }, (_, i) => i))).toBe(false);
    expect(validate.errors?.map((e) => e.keyword)).toEqual(['minItems']);
  });

  it.each([
    ['a chain of 600 references', chain(600, 'anyOf', false), { a: 'x' }],
    [
      'data nested 2,000 deep under a recursive schema',
      { additionalProperties: { anyOf: [{ $ref: '#' }] } },
      (() => {
        let deep: unknown = 'x';
        for (let i = 0; i < 2000; i++) deep = { k: deep };
        return deep;
      })(),
    ],
  ])('fails the value, not the stack, on %s', (_name, schema, data) => {
    // Prepare
    const validate = compileSchema(schema);
    // Act / Assess
    expect(() => validate(data)).toThrow(SchemaCompileError);
  });

  it('counts the patterns a reference reaches, even inside data keywords', () => {
    // Prepare: 150 patterns in `default`, where a save's pattern count does not look.
    const patterns = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`^p${i}`, true]));
    const schema = { default: { patternProperties: patterns }, additionalProperties: { $ref: '#/default' } };
    // Act / Assess
    expect(() => compileSchema(schema, { maxPatterns: 100 })).toThrow(/more than 100 patterns/);
    expect(() => compileSchema(schema, { maxPatterns: 150 })).not.toThrow();
  });
});

describe('what it refuses to compile', () => {
  it.each([
    [
      'one $anchor twice',
      { $defs: { a: { $anchor: 'A' }, b: { $anchor: 'A' } } },
      /resolves to more than one schema/,
    ],
    [
      'a nested $id equal to another',
      { $id: 'https://x.example/a', properties: { b: { $id: 'https://x.example/a' } } },
      /more than one schema/,
    ],
    ['a pointer that is not percent-encoding', { $ref: '#/%E0%A4%A' }, /can't resolve reference/],
    ['a reference holding a tab', { $ref: '#/$defs/a\tb', $defs: { ab: {} } }, /can't resolve reference/],
    // A schema built in code, as Ajv refuses it: a hole is no schema.
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case
    ['a hole in anyOf', { anyOf: [, { type: 'string' }] }, /anyOf\/0 must be object,boolean/],
  ])('%s', (_name, schema, message) => {
    // Act / Assess
    expect(() => compileSchema(schema)).toThrow(SchemaCompileError);
    expect(() => compileSchema(schema)).toThrow(message);
  });

  it('but compiles a bad reference in a definition nothing uses, as Ajv did', () => {
    // Prepare
    const schema = { type: 'object', $defs: { unused: { $ref: '#/$defs/missing' } } };
    // Act / Assess
    expect(compileSchema(schema)({})).toBe(true);
    expect(() => compileSchema({ ...schema, properties: { a: { $ref: '#/$defs/unused' } } })).toThrow(
      /can't resolve reference #\/\$defs\/missing/,
    );
  });
});

describe('where it differs from Ajv', () => {
  // Cases of the JSON Schema Test Suite (tests/draft2020-12/unevaluated*.json) Ajv answers wrongly:
  // it counts what a failed branch evaluated, and every item once `contains` is there.
  it.each([
    [
      'a failed anyOf branch evaluates nothing',
      {
        anyOf: [{ properties: { a: true }, required: ['b'] }, { properties: { c: true } }],
        unevaluatedProperties: false,
      },
      { a: 1, c: 1 },
      false,
    ],
    [
      'a passing anyOf branch evaluates its properties',
      { anyOf: [{ properties: { a: true } }, { properties: { c: true } }], unevaluatedProperties: false },
      { a: 1, c: 1 },
      true,
    ],
    [
      'a failed oneOf branch evaluates nothing',
      { oneOf: [{ items: true, minItems: 5 }, { prefixItems: [true] }], unevaluatedItems: false },
      [1, 2],
      false,
    ],
    [
      'an if that fails evaluates nothing; else does',
      {
        if: { properties: { a: { const: 1 } }, required: ['a'] },
        else: { properties: { b: true } },
        unevaluatedProperties: false,
      },
      { a: 2, b: 1 },
      false,
    ],
    [
      'an if that passes evaluates with then',
      {
        if: { properties: { a: { const: 1 } } },
        // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable
        then: { properties: { b: true } },
        unevaluatedProperties: false,
      },
      { a: 1, b: 1 },
      true,
    ],
    [
      'contains evaluates the items it matched',
      { contains: { type: 'string' }, unevaluatedItems: false },
      ['a', 'b'],
      true,
    ],
    [
      'contains leaves the items it did not match',
      { contains: { type: 'string' }, unevaluatedItems: false },
      ['a', 1],
      false,
    ],
    [
      'contains with minContains 0 evaluates the items it matched',
      { contains: { type: 'string' }, minContains: 0, unevaluatedItems: false },
      ['a'],
      true,
    ],
    [
      'contains that takes everything evaluates every item',
      { contains: true, unevaluatedItems: false },
      [1],
      true,
    ],
    [
      'not evaluates nothing',
      { not: { not: { properties: { a: true } } }, unevaluatedProperties: false },
      { a: 1 },
      false,
    ],
    [
      'a referenced schema evaluates what it lists',
      { $ref: '#/$defs/a', $defs: { a: { properties: { a: true } } }, unevaluatedProperties: false },
      { a: 1 },
      true,
    ],
    [
      'nested unevaluatedProperties evaluates everything',
      { allOf: [{ unevaluatedProperties: true }], unevaluatedProperties: false },
      { a: 1 },
      true,
    ],
  ])('unevaluated: %s', (_name, schema, data, expected) => {
    // Act / Assess
    expect(compileSchema(schema)(data)).toBe(expected);
  });

  it('names the property name on every error under propertyNames, union branches included', () => {
    // Prepare
    const validate = compileSchema({ propertyNames: { anyOf: [{ pattern: '^a' }, { maxLength: 1 }] } });
    // Act
    const ok = validate({ bcd: 1 });
    // Assess
    const inside = (validate.errors ?? []).filter((e) => e.schemaPath.startsWith('#/propertyNames/'));
    expect(ok).toBe(false);
    expect(inside.map((e) => [e.keyword, e.propertyName])).toEqual([
      ['pattern', 'bcd'],
      ['maxLength', 'bcd'],
      ['anyOf', 'bcd'],
    ]);
  });

  it('counts a property as present only when the object has it (Ajv took {}.constructor for one)', () => {
    // Prepare
    const validate = compileSchema({ required: ['constructor', 'toString'] });
    // Act / Assess
    expect(validate({})).toBe(false);
    expect(validate.errors?.map((e) => e.message)).toEqual([
      "must have required property 'constructor'",
      "must have required property 'toString'",
    ]);
    expect(validate({ constructor: 1, toString: 2 })).toBe(true);
  });
});

describe('options', () => {
  it('fill defaults outside unions, as Ajv with useDefaults, each a fresh copy', () => {
    // Prepare
    const schema = {
      type: 'object',
      properties: { tags: { type: 'array', default: [] }, mode: { type: 'string', default: 'fast' } },
      required: ['mode'],
      anyOf: [{ properties: { inner: { default: 1 } } }],
    };
    const validate = compileSchema(schema, { useDefaults: fillDefaults });
    const first: Record<string, unknown> = {};
    const second: Record<string, unknown> = { mode: 'slow' };
    // Act
    const passed = validate(first);
    validate(second);
    // Assess
    expect(passed).toBe(true);
    expect(first).toEqual({ tags: [], mode: 'fast' });
    expect(second).toEqual({ tags: [], mode: 'slow' });
    expect(first.tags).not.toBe(second.tags);
  });

  it('apply a discriminator: the member its tag names, or a problem naming the tag', () => {
    // Prepare
    const schema = {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      required: ['kind'],
      oneOf: [
        { properties: { kind: { const: 'a' }, n: { type: 'number' } } },
        { properties: { kind: { enum: ['b', 'c'] }, s: { type: 'string' } } },
      ],
    };
    const validate = compileSchema(schema, { discriminator });
    // Act / Assess
    expect(validate({ kind: 'a', n: 1, s: 2 })).toBe(true);
    expect(validate({ kind: 'c', s: 2 })).toBe(false);
    expect(shape(validate.errors)).toEqual([
      {
        keyword: 'type',
        instancePath: '/s',
        schemaPath: '#/oneOf/1/properties/s/type',
        message: 'must be string',
        params: { type: 'string' },
      },
    ]);
    expect(validate({ kind: 'z' })).toBe(false);
    expect(validate.errors?.[0]?.params).toEqual({ error: 'mapping', tag: 'kind', tagValue: 'z' });
    expect(validate.errors?.[0]?.message).toBe('value of tag "kind" must be in oneOf');
    expect(validate({ kind: 3 })).toBe(false);
    expect(validate.errors?.[0]?.message).toBe('tag "kind" must be string');
    expect(() => compileSchema({ ...schema, required: [] }, { discriminator })).toThrow(/must be required/);
  });

  it('run keywords of the caller, after those for any type, with their paths', () => {
    // Prepare
    const validate = compileSchema(
      { type: 'object', 'x-even': true, properties: { n: { 'x-even': true } } },
      {
        keywords: {
          'x-even': (_value, data, instancePath) =>
            typeof data === 'number' && data % 2 === 1
              ? [{ keyword: 'x-even', instancePath, schemaPath: '', params: {}, message: 'must be even' }]
              : [],
        },
      },
    );
    // Act / Assess
    expect(validate({ n: 2 })).toBe(true);
    expect(validate({ n: 3 })).toBe(false);
    expect(validate.errors).toMatchObject([{ instancePath: '/n', schemaPath: '#/properties/n/x-even' }]);
  });

  it('compile patterns with the engine given: the linear-time one refuses a backreference', () => {
    // Act / Assess
    expect(() => compileSchema({ pattern: '(a)\\1' }, { regExp: tenantRegex })).toThrow(SchemaCompileError);
    expect(compileSchema({ pattern: '^(a+)+$' }, { regExp: tenantRegex })(`${'a'.repeat(40)}!`)).toBe(false);
  });

  it('keep each call to itself: errors are reset on a pass', () => {
    // Prepare
    const validate = compileSchema({ type: 'string' });
    // Act / Assess
    expect(validate(1)).toBe(false);
    expect(validate.errors).toHaveLength(1);
    expect(validate('a')).toBe(true);
    expect(validate.errors).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------
// Keyword by keyword: each rule of the validator against Ajv, so a change to any of them fails here.

const reference = new Ajv2020({
  strict: false,
  allErrors: true,
  validateFormats: false,
  addUsedSchema: false,
});

/** Ajv's answer and errors on `data`, beside the validator's. */
function bothOn(schema: unknown, data: unknown) {
  const ajv = reference.compile(schema as object);
  const expected = { valid: ajv(structuredClone(data)), errors: shape(ajv.errors as ErrorObject[] | null) };
  reference.removeSchema(schema as object);
  const validate = compileSchema(schema);
  return { expected, actual: { valid: validate(structuredClone(data)), errors: shape(validate.errors) } };
}

describe('the value each keyword takes, as the 2020-12 meta-schema says', () => {
  const cases: [string, unknown, string][] = [];
  for (const key of [
    'maxLength',
    'minLength',
    'maxItems',
    'minItems',
    'maxContains',
    'minContains',
    'maxProperties',
    'minProperties',
  ]) {
    for (const value of [-1, 1.5, '1']) cases.push([key, value, 'must be a non-negative integer']);
  }
  for (const key of ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum']) {
    cases.push([key, '3', 'must be number']);
  }
  for (const value of [0, -1, '2']) cases.push(['multipleOf', value, 'must be a number > 0']);
  for (const key of [
    '$id',
    '$ref',
    '$dynamicRef',
    '$anchor',
    '$dynamicAnchor',
    '$schema',
    '$comment',
    'format',
    'pattern',
  ]) {
    cases.push([key, 5, 'must be string']);
  }
  for (const key of ['$anchor', '$dynamicAnchor']) {
    cases.push([key, '1a', 'must match pattern "^[A-Za-z_][-A-Za-z0-9._]*$"']);
  }
  cases.push(
    ['uniqueItems', 1, 'must be boolean'],
    ['enum', 'a', 'must be array'],
    ['nullable', 'yes', 'must be boolean'],
  );
  for (const value of ['a', ['a', 'a'], [1]])
    cases.push(['required', value, 'must be an array of distinct strings']);
  cases.push(['dependentRequired', 'a', 'must be object']);
  for (const key of ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']) {
    cases.push([key, 3, 'must be object']);
  }
  for (const key of ['prefixItems', 'allOf', 'anyOf', 'oneOf']) {
    for (const value of [[], {}]) cases.push([key, value, 'must be a non-empty array']);
  }
  for (const key of [
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
  ]) {
    cases.push([key, 3, 'must be object,boolean']);
  }
  for (const value of ['text', ['string', 'string'], [1]]) {
    cases.push(['type', value, 'must be a type name or an array of distinct type names']);
  }

  it.each(cases)('%s: %j is refused, as by Ajv', (key, value, message) => {
    // Prepare: at the root and one level down, where the path names it.
    const ajv = new Ajv2020({ strict: false, validateFormats: false, addUsedSchema: false });
    // Act / Assess
    expect(() => ajv.compile({ [key]: value })).toThrow();
    expect(() => compileSchema({ [key]: value })).toThrow(`schema is invalid: data/${key} ${message}`);
    expect(() => compileSchema({ properties: { 'a b': { [key]: value } } })).toThrow(
      `schema is invalid: data/properties/a b/${key} ${message}`,
    );
  });

  it.each([
    [
      { dependentRequired: { x: 'a' } },
      'schema is invalid: data/dependentRequired/x must be an array of distinct strings',
    ],
    [
      { dependentRequired: { x: ['a', 'a'] } },
      'schema is invalid: data/dependentRequired/x must be an array of distinct strings',
    ],
    [{ prefixItems: [true, 3] }, 'schema is invalid: data/prefixItems/1 must be object,boolean'],
    [{ dependencies: { x: 3 } }, 'schema is invalid: data/dependencies/x must be object,boolean'],
    [3, 'schema is invalid: data must be object,boolean'],
    [{ id: 'x' }, 'NOT SUPPORTED: keyword "id", use "$id" for schema ID'],
    [{ nullable: true }, '"nullable" cannot be used without "type"'],
    [{ type: 'null', nullable: false }, 'type: null contradicts nullable: false'],
    [{ type: ['string', 'null'], nullable: false }, 'type: null contradicts nullable: false'],
  ])('%j is refused: %s', (schema, message) => {
    // Act / Assess
    expect(() => compileSchema(schema)).toThrow(message);
  });

  it('accepts nullable with a type, false without null, and the anchors and ids it allows', () => {
    // Act / Assess
    expect(compileSchema({ type: 'string', nullable: false })('a')).toBe(true);
    expect(compileSchema({ type: 'string', nullable: true })(null)).toBe(true);
    expect(compileSchema({ type: 'string', nullable: false })(null)).toBe(false);
    expect(compileSchema({ $anchor: '_a-1.b', $dynamicAnchor: 'Z' })(1)).toBe(true);
    expect(
      compileSchema({
        $id: 'https://x.example/s#',
        $comment: 'c',
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        format: 'email',
      })(1),
    ).toBe(true);
  });
});

describe('where each keyword reports its problem, beside a keyword for any type', () => {
  // A single type with keywords of its own reports a wrong type where those keywords run: after
  // `const`. A keyword of another group does not move it. Ajv's order.
  const samples: Record<string, [string, unknown]> = {
    maximum: ['number', 1],
    minimum: ['number', 1],
    exclusiveMaximum: ['number', 1],
    exclusiveMinimum: ['number', 1],
    multipleOf: ['number', 2],
    maxLength: ['string', 1],
    minLength: ['string', 1],
    pattern: ['string', 'a'],
    maxItems: ['array', 1],
    minItems: ['array', 1],
    prefixItems: ['array', [true]],
    items: ['array', true],
    contains: ['array', true],
    uniqueItems: ['array', true],
    maxContains: ['array', 1],
    minContains: ['array', 1],
    unevaluatedItems: ['array', true],
    maxProperties: ['object', 1],
    minProperties: ['object', 1],
    required: ['object', ['a']],
    propertyNames: ['object', true],
    additionalProperties: ['object', true],
    dependencies: ['object', {}],
    properties: ['object', {}],
    patternProperties: ['object', {}],
    dependentRequired: ['object', {}],
    dependentSchemas: ['object', {}],
    unevaluatedProperties: ['object', true],
  };
  it.each(Object.entries(samples))('%s', (keyword, [type, value]) => {
    for (const other of ['number', 'string', 'array', 'object', 'integer']) {
      // Prepare
      const { expected, actual } = bothOn({ type: other, [keyword]: value, const: 'zzz' }, null);
      const alone = bothOn({ type: other, [keyword]: value, format: 'email', enum: ['zzz'] }, true);
      // Assess
      expect(actual, `${other} ${type}`).toEqual(expected);
      expect(alone.actual, `${other} ${type}`).toEqual(alone.expected);
    }
  });
});

describe('subschemas that take everything, and those that do not', () => {
  // A subschema with no keyword that checks anything is skipped where it is applied (Ajv's
  // alwaysValidSchema); each keyword that checks makes it count.
  const checking: Record<string, unknown> = {
    type: { type: 'string' },
    nullable: { type: 'string', nullable: true },
    const: { const: 'a' },
    enum: { enum: ['a'] },
    not: { not: {} },
    anyOf: { anyOf: [false] },
    oneOf: { oneOf: [false] },
    allOf: { allOf: [false] },
    // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable
    if: { if: true, then: false },
    else: { if: false, else: false },
    $ref: { $ref: '#/$defs/no' },
    maximum: { maximum: 0 },
    minLength: { minLength: 9 },
    maxItems: { maxItems: 0 },
    required: { required: ['zz'] },
    annotation: { title: 'only annotations', description: 'x' },
  };
  const places = (sub: unknown) => ({
    propertyNames: [{ propertyNames: sub }, { ab: 1 }],
    additionalProperties: [{ additionalProperties: sub }, { x: 5 }],
    items: [{ items: sub }, [5, 'a']],
    contains: [{ contains: sub, minContains: 2 }, [5, 'a', [1]]],
    containsOnce: [{ contains: sub }, []],
    // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable
    then: [{ if: true, then: sub }, 5],
    else: [{ if: false, else: sub }, 'a'],
    unevaluatedProperties: [{ unevaluatedProperties: sub }, { x: 5 }],
    unevaluatedItems: [{ prefixItems: [true], unevaluatedItems: sub }, [1, 5]],
  });
  it.each(Object.entries(checking))('%s', (_keyword, sub) => {
    for (const [place, [schema, data]] of Object.entries(places(sub))) {
      // Prepare
      const { expected, actual } = bothOn({ ...(schema as object), $defs: { no: false } }, data);
      // Assess
      expect(actual, place).toEqual(expected);
    }
  });
});

describe('keywords at their bounds, against Ajv', () => {
  it.each([
    [{ maximum: 1 }, [0, 1, 2, 1.0000001]],
    [{ minimum: 1 }, [0, 1, 2, 0.9999999]],
    [{ exclusiveMaximum: 1 }, [0, 1, 2]],
    [{ exclusiveMinimum: 1 }, [0, 1, 2]],
    [{ multipleOf: 0.1 }, [0.3, 0.7, 1e21, 2, 0.35]],
    [{ multipleOf: 3 }, [9, 10, -3, 0]],
    [{ maxLength: 2 }, ['ab', 'abc', '😀😀', '😀😀😀', '\uD83D', 'a\uD83D\uDE00', '\uDE00\uD83D']],
    [{ minLength: 2 }, ['a', 'ab', '😀', '😀a', '\uD83Da', '\uD83D\uD83D']],
    // A pair only from a high surrogate (D800 to DBFF, both ends) to a low one.
    [{ maxLength: 1 }, ['a\uDC00', '\uD800\uDC00', '\uDBFF\uDFFF', '\uD7FF\uDC00', '\uDC00\uDC00', '\uDC00']],
    [{ maxItems: 1 }, [[], [1], [1, 2]]],
    [{ minItems: 1 }, [[], [1]]],
    [{ maxProperties: 1 }, [{}, { a: 1 }, { a: 1, b: 2 }]],
    [{ minProperties: 1 }, [{}, { a: 1 }]],
    [{ type: 'integer' }, [1, 1.5, -0, 1e21, '1']],
    [{ type: ['integer', 'string'] }, [1, 1.5, 'a', null]],
    [
      { const: { a: [1, { b: 2 }] } },
      [
        { a: [1, { b: 2 }] },
        { a: [1, { b: 3 }] },
        { a: [1] },
        { a: [1, { b: 2 }, 3] },
        { a: [1, { b: 2 }], c: 1 },
      ],
    ],
    [{ enum: [[1, 2], { x: 1, y: 2 }, null] }, [[1, 2], [2, 1], { y: 2, x: 1 }, { x: 1 }, null, [1, 2, 3]]],
    [{ const: [] }, [[], {}, [[]]]],
    [{ const: {} }, [{}, [], { a: undefined }]],
  ])('%j', (schema, values) => {
    for (const value of values) {
      // Prepare
      const { expected, actual } = bothOn(schema, value);
      // Assess
      expect(actual, JSON.stringify(value)).toEqual(expected);
    }
  });

  it.each([
    [
      {},
      [
        [1, 1],
        [1, 2, 1],
        [1, '1'],
        [{ a: 1 }, { a: 1 }],
        [[1], [1]],
        [1, 2, 3],
        [
          { a: 1, b: 2 },
          { b: 2, a: 1 },
        ],
      ],
    ],
    [
      { items: { type: 'number' } },
      [
        [1, 2, 1, 2],
        ['a', 'a', 1, 1],
        [1, 2, 3],
      ],
    ],
    [
      { items: { type: ['number', 'string'] } },
      [
        [1, '1'],
        ['1', '1'],
        [1, 1],
        [true, true, 1],
      ],
    ],
    [
      { items: { type: 'string', nullable: true } },
      [
        [null, null],
        ['null', null],
      ],
    ],
    [
      { items: { type: 'object' } },
      [
        [{ a: 1 }, { a: 1 }],
        [1, 1],
      ],
    ],
  ])('uniqueItems with %j', (extra, values) => {
    for (const value of values) {
      // Prepare
      const { expected, actual } = bothOn({ uniqueItems: true, ...extra }, value);
      // Assess
      expect(actual, JSON.stringify(value)).toEqual(expected);
    }
  });

  it.each([
    [{}, [[], [1], ['a'], [1, 'a', 'b']]],
    [{ minContains: 2 }, [['a'], ['a', 'b'], [1, 'a', 2, 'b']]],
    [{ maxContains: 1 }, [['a'], ['a', 'b'], [1]]],
    [{ minContains: 0, maxContains: 1 }, [[], [1], ['a', 'b']]],
    [{ minContains: 2, maxContains: 1 }, [['a'], []]],
    [{ minContains: 0 }, [[], [1]]],
    [
      { minContains: 1, maxContains: 2 },
      [
        ['a', 'b', 'c'],
        ['a', 1],
      ],
    ],
  ])('contains a string, with %j', (extra, values) => {
    for (const value of values) {
      // Prepare
      const { expected, actual } = bothOn({ contains: { type: 'string' }, ...extra }, value);
      const everything = bothOn({ contains: true, ...extra }, value);
      // Assess
      expect(actual, JSON.stringify(value)).toEqual(expected);
      expect(everything.actual, JSON.stringify(value)).toEqual(everything.expected);
    }
  });

  it.each([
    [
      { dependentRequired: { a: ['b'], c: ['d', 'e'], f: [] } },
      [{ a: 1 }, { c: 1 }, { c: 1, d: 1 }, { f: 1 }, { a: 1, b: 1 }],
    ],
    [
      { dependencies: { a: ['b', 'c'], d: { required: ['e'] }, f: ['g'] } },
      [{ a: 1 }, { d: 1 }, { d: 1, a: 1, f: 1 }, {}],
    ],
    [{ dependentSchemas: { 'a b': { required: ['x'] }, c: false } }, [{ 'a b': 1 }, { c: 1 }, { x: 1 }]],
    [{ prefixItems: [{ type: 'string' }, false], items: false }, [[], ['a'], ['a', 1], [1, 2, 3]]],
    [
      { prefixItems: [true], items: { type: 'number' } },
      [
        [1, 'a'],
        ['a', 1],
      ],
    ],
    [{ items: false }, [[], [1, 2]]],
    // uniqueItems compares scalars by their text, and a string apart from a number of the same text.
    [
      { items: { type: ['string', 'number'] }, uniqueItems: true },
      [
        ['1', 1],
        ['a', 'b', 1],
        ['a', 'a'],
        [1, 2, 1],
      ],
    ],
    [
      { items: { type: ['string', 'object'] }, uniqueItems: true },
      [
        [{ a: 1 }, { b: 2 }],
        [{ a: 1 }, { a: 1 }],
      ],
    ],
    [
      { items: { type: 'array' }, uniqueItems: true },
      [
        [[1, 2], ['1,2']],
        [[1], [1]],
      ],
    ],
    [
      { propertyNames: { pattern: '^a' }, additionalProperties: false, properties: { ab: true } },
      [{ ab: 1, b: 2 }, { ac: 1 }],
    ],
    [
      {
        patternProperties: { '^a b': { type: 'string' }, '/': false },
        additionalProperties: { type: 'number' },
      },
      [{ 'a b': 1, '/': 2, c: 'x' }],
    ],
    [
      { properties: { 'c/d': { type: 'string' }, 'e~f': false, '%': { minimum: 3 } } },
      [{ 'c/d': 1, 'e~f': 1, '%': 1 }],
    ],
  ])('%j', (schema, values) => {
    for (const value of values) {
      // Prepare
      const { expected, actual } = bothOn(schema, value);
      // Assess
      expect(actual, JSON.stringify(value)).toEqual(expected);
    }
  });
});

describe('discriminators it refuses to compile', () => {
  const member = (tag: unknown) => ({ properties: { kind: tag } });
  it.each([
    [{ discriminator: {}, oneOf: [member({ const: 'a' })] }, 'discriminator: requires propertyName'],
    [{ discriminator: { propertyName: 'kind' } }, 'discriminator: requires oneOf keyword'],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [{}] },
      'discriminator: oneOf subschemas must have "properties/kind"',
    ],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [member(true)] },
      'discriminator: oneOf subschemas must have "properties/kind"',
    ],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [member({ type: 'string' })] },
      'discriminator: "properties/kind" must have "const" or "enum"',
    ],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [member({ const: 1 })] },
      'discriminator: "kind" values must be unique strings',
    ],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [member({ const: 'a' }), member({ enum: ['a'] })] },
      'discriminator: "kind" values must be unique strings',
    ],
    [
      { discriminator: { propertyName: 'kind' }, oneOf: [member({ const: 'a' })] },
      'discriminator: "kind" must be required',
    ],
  ])('%j: %s', (schema, message) => {
    // Act / Assess
    expect(() =>
      compileSchema(
        { required: message.endsWith('must be required') ? [] : ['kind'], ...schema },
        { discriminator },
      ),
    ).toThrow(message);
    // Without the option, `discriminator` is an annotation: the same schema compiles.
    if (Array.isArray((schema as { oneOf?: unknown }).oneOf))
      expect(() => compileSchema(schema)).not.toThrow();
  });

  it('follows a member that is a reference, and takes `required` from the member', () => {
    // Prepare
    const schema = {
      discriminator: { propertyName: 'kind' },
      oneOf: [{ $ref: '#/$defs/a' }, { required: ['kind'], properties: { kind: { const: 'b' } } }],
      $defs: { a: { required: ['kind'], properties: { kind: { const: 'a' }, n: { type: 'number' } } } },
    };
    const validate = compileSchema(schema, { discriminator });
    // Act / Assess
    expect(validate({ kind: 'a', n: 1 })).toBe(true);
    expect(validate({ kind: 'a', n: 'x' })).toBe(false);
    expect(validate.errors?.map((e) => [e.schemaPath, e.instancePath])).toEqual([
      ['#/$defs/a/properties/n/type', '/n'],
    ]);
    // Without the option, oneOf applies: both members are tried.
    expect(compileSchema(schema)({ kind: 'b', n: 'x' })).toBe(true);
  });
});

describe('what unevaluated* sees (the specification, where Ajv differs)', () => {
  it.each([
    [
      'prefixItems evaluates its items',
      { prefixItems: [true, true], unevaluatedItems: false },
      [[1, 2], true],
      [[1, 2, 3], false],
    ],
    [
      'items evaluates every item after them',
      { prefixItems: [true], items: true, unevaluatedItems: false },
      [[1, 2, 3], true],
    ],
    [
      'every item, once evaluated, stays so after a shorter prefix',
      { allOf: [{ items: true }, { prefixItems: [true] }], unevaluatedItems: false },
      [[1, 2, 3], true],
    ],
    [
      'every item evaluated by a subschema stays so after the same object’s shorter prefix',
      { allOf: [{ items: true }], prefixItems: [true], unevaluatedItems: false },
      [[1, 2, 3], true],
    ],
    [
      'every property, once evaluated, stays so after named ones',
      { allOf: [{ additionalProperties: true }, { properties: { a: true } }], unevaluatedProperties: false },
      [{ a: 1, b: 2 }, true],
    ],
    [
      'named properties after additionalProperties in one schema',
      { additionalProperties: true, properties: { a: true }, unevaluatedProperties: false },
      [{ a: 1, b: 2 }, true],
    ],
    [
      'the longest prefix of two counts',
      { allOf: [{ prefixItems: [true] }, { prefixItems: [true, true] }], unevaluatedItems: false },
      [[1, 2], true],
      [[1, 2, 3], false],
    ],
    [
      'a schema for the rest checks the rest',
      { prefixItems: [true], unevaluatedItems: { type: 'string' } },
      [[1, 'a'], true],
      [[1, 2], false],
    ],
    ['items in an allOf count', { allOf: [{ items: true }], unevaluatedItems: false }, [[1, 2], true]],
    [
      'contains inside allOf counts',
      { allOf: [{ contains: { type: 'string' } }], unevaluatedItems: false },
      [['a'], true],
      [['a', 1], false],
    ],
    [
      'a passing oneOf branch counts',
      { oneOf: [{ prefixItems: [true] }, { minItems: 9 }], unevaluatedItems: false },
      [[1], true],
    ],
    [
      'properties evaluate their names',
      { properties: { a: true }, unevaluatedProperties: false },
      [{ a: 1 }, true],
      [{ a: 1, b: 1 }, false],
    ],
    [
      'patternProperties evaluate what they match',
      { patternProperties: { '^a': true }, unevaluatedProperties: false },
      [{ ab: 1 }, true],
      [{ b: 1 }, false],
    ],
    [
      'additionalProperties evaluates the rest',
      { additionalProperties: true, unevaluatedProperties: false },
      [{ b: 1 }, true],
    ],
    [
      'dependentSchemas count when they apply',
      {
        dependentSchemas: { a: { properties: { b: true } } },
        properties: { a: true },
        unevaluatedProperties: false,
      },
      [{ a: 1, b: 1 }, true],
      [{ b: 1 }, false],
    ],
    [
      'a schema for the rest checks the rest',
      { properties: { a: true }, unevaluatedProperties: { type: 'string' } },
      [{ a: 1, b: 'x' }, true],
      [{ a: 1, b: 1 }, false],
    ],
    [
      'a passing oneOf branch counts',
      {
        oneOf: [{ properties: { a: true }, required: ['a'] }, { required: ['zz'] }],
        unevaluatedProperties: false,
      },
      [{ a: 1 }, true],
    ],
    [
      'then counts when if passed',
      {
        if: { required: ['a'] },
        // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable
        then: { properties: { a: true } },
        else: { properties: { b: true } },
        unevaluatedProperties: false,
      },
      [{ a: 1 }, true],
      [{ b: 1 }, true],
      [{ a: 1, b: 1 }, false],
    ],
    [
      'a called reference counts',
      {
        $ref: '#/$defs/r',
        $defs: { r: { properties: { a: true, next: { $ref: '#/$defs/r' } } } },
        unevaluatedProperties: false,
      },
      [{ a: 1 }, true],
      [{ b: 1 }, false],
    ],
    [
      'nested objects keep their own',
      { properties: { o: { properties: { a: true } } }, unevaluatedProperties: false },
      [{ o: { b: 1 } }, true],
    ],
  ] as [string, unknown, ...[unknown, boolean][]][])('%s', (_name, schema, ...values) => {
    // Prepare
    const validate = compileSchema(schema);
    for (const [data, valid] of values) {
      // Act / Assess
      expect(validate(data), JSON.stringify(data)).toBe(valid);
    }
  });

  it('names the property or the count it refuses', () => {
    // Prepare
    const props = compileSchema({ properties: { a: true }, unevaluatedProperties: false });
    const items = compileSchema({ prefixItems: [true], unevaluatedItems: false });
    // Act
    props({ a: 1, b: 2 });
    items([1, 2]);
    // Assess
    expect(shape(props.errors)).toEqual([
      {
        keyword: 'unevaluatedProperties',
        instancePath: '',
        schemaPath: '#/unevaluatedProperties',
        message: 'must NOT have unevaluated properties',
        params: { unevaluatedProperty: 'b' },
      },
    ]);
    expect(shape(items.errors)).toEqual([
      {
        keyword: 'unevaluatedItems',
        instancePath: '',
        schemaPath: '#/unevaluatedItems',
        message: 'must NOT have more than 1 items',
        params: { limit: 1 },
      },
    ]);
  });
});

describe('dynamic references', () => {
  it('look for the anchor only in the resources entered on the way, outermost first', () => {
    // Prepare: the tree's children are trees; the strict tree narrows the node through its anchor.
    const tree = {
      $id: 'https://example.com/tree',
      $dynamicAnchor: 'node',
      type: 'object',
      properties: { data: true, children: { type: 'array', items: { $dynamicRef: '#node' } } },
    };
    const strict = {
      $id: 'https://example.com/strict',
      $dynamicAnchor: 'node',
      $ref: 'tree',
      unevaluatedProperties: false,
      $defs: { tree },
    };
    const validate = compileSchema(strict);
    const loose = compileSchema(tree);
    const data = { children: [{ daat: 1 }] };
    // Act / Assess
    expect(loose(data)).toBe(true);
    expect(validate(data)).toBe(false);
    expect(validate({ children: [{ data: 1 }] })).toBe(true);
    expect(validate.errors).toBeNull();
  });

  it('are plain references when the target declares no dynamic anchor of that name', () => {
    // Prepare
    const schema = {
      $id: 'https://example.com/root',
      $dynamicAnchor: 'item',
      type: 'object',
      properties: { a: { $dynamicRef: '#plain' } },
      $defs: { plain: { $anchor: 'plain', type: 'string' }, item: { $dynamicAnchor: 'other' } },
    };
    const validate = compileSchema(schema);
    // Act / Assess
    expect(validate({ a: 'x' })).toBe(true);
    expect(validate({ a: 1 })).toBe(false);
    expect(validate.errors?.[0]?.schemaPath).toBe('#/type');
  });
});

describe('each problem', () => {
  it('names the schema holding the keyword, and the key under propertyNames', () => {
    // Prepare
    const schema = { properties: { a: { minimum: 3 } }, propertyNames: { maxLength: 1 } };
    const validate = compileSchema(schema);
    // Act
    validate({ a: 1, bb: 2 });
    // Assess
    expect(validate.errors?.map((e) => [e.keyword, e.parentSchema, e.propertyName])).toEqual([
      ['maxLength', schema.propertyNames, 'bb'],
      ['propertyNames', schema, undefined],
      ['minimum', schema.properties.a, undefined],
    ]);
    expect(Object.hasOwn(validate.errors?.[2] ?? {}, 'propertyName')).toBe(false);
  });

  it('is kept up to the cap the caller gives, and all count', () => {
    // Prepare
    const validate = compileSchema({ items: { type: 'string' } }, { maxErrors: 3 });
    // Act / Assess
    expect(validate([1, 2, 3, 4, 5])).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(['/0', '/1', '/2']);
    const all = compileSchema({ items: { type: 'string' } }, { maxErrors: Number.POSITIVE_INFINITY });
    expect(all(Array.from({ length: 1500 }, (_, i) => i))).toBe(false);
    expect(all.errors).toHaveLength(1500);
  });

  it('of a boolean schema false names the place it was applied', () => {
    // Prepare
    const validate = compileSchema(false);
    // Act / Assess
    expect(validate('x')).toBe(false);
    expect(shape(validate.errors)).toEqual([
      {
        keyword: 'false schema',
        instancePath: '',
        schemaPath: '#/false schema',
        message: 'boolean schema is false',
        params: {},
      },
    ]);
    expect(compileSchema(true)('x')).toBe(true);
    expect(new SchemaCompileError('x').name).toBe('SchemaCompileError');
  });
});

describe('equality of values (const, enum, uniqueItems)', () => {
  it('takes NaN, which a query value that is no number reads as, for equal to itself only', () => {
    // Assess
    expect(jsonEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(jsonEqual(Number.NaN, 0)).toBe(false);
    expect(jsonEqual(0, Number.NaN)).toBe(false);
    expect(jsonEqual([Number.NaN], [Number.NaN])).toBe(true);
  });
});
