import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { tenantRegex } from '#core/catalog/tenant-regex.ts';
import { compileSchema, SchemaCompileError } from '#shared/json-schema-validator.ts';

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
    | readonly { keyword: string; instancePath: string; message?: string; params: unknown }[]
    | null
    | undefined,
) =>
  (errors ?? []).map(({ keyword, instancePath, message, params }) => ({
    keyword,
    instancePath,
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
    const validate = compileSchema(schema, { useDefaults: true });
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
    const validate = compileSchema(schema, { discriminator: true });
    // Act / Assess
    expect(validate({ kind: 'a', n: 1, s: 2 })).toBe(true);
    expect(validate({ kind: 'c', s: 2 })).toBe(false);
    expect(shape(validate.errors)).toEqual([
      { keyword: 'type', instancePath: '/s', message: 'must be string', params: { type: 'string' } },
    ]);
    expect(validate.errors?.[0]?.schemaPath).toBe('#/oneOf/1/properties/s/type');
    expect(validate({ kind: 'z' })).toBe(false);
    expect(validate.errors?.[0]?.params).toEqual({ error: 'mapping', tag: 'kind', tagValue: 'z' });
    expect(validate({ kind: 3 })).toBe(false);
    expect(validate.errors?.[0]?.message).toBe('tag "kind" must be string');
    expect(() => compileSchema({ ...schema, required: [] }, { discriminator: true })).toThrow(
      /must be required/,
    );
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
