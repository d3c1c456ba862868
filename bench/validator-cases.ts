/** What section `validator` runs in its minified bundle (bench/bundles.ts): schemas, inputs, timing. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { JSON_LIMITS } from '#shared/json-limits.ts';
import { compileSchema } from '#shared/json-schema-validator.ts';
import { median } from './lib.ts';

export const RUNS = 15;

const RECORD = {
  type: 'object',
  required: ['id', 'name', 'tags', 'meta'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string' },
    score: { type: 'number', minimum: 0, maximum: 100 },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, maxItems: 10 },
    meta: {
      type: 'object',
      properties: { n: { type: 'integer' } },
      additionalProperties: { type: 'string' },
    },
  },
};

/** As many items as fit in one body at the cap (the API's limit on a start's input). */
function fill(item: (i: number) => unknown): unknown[] {
  const items: unknown[] = [];
  for (let bytes = 2, i = 0; ; i++) {
    const next = item(i);
    bytes += JSON.stringify(next).length + 1;
    if (bytes > JSON_LIMITS.maxBodyBytes) return items;
    items.push(next);
  }
}

/** Item schemas, each with its items: an input is an array of as many as fit in the body cap. */
const CASES: readonly (readonly [string, object, (i: number) => unknown])[] = [
  ['numbers', { type: 'number' }, (i) => i * 1.5],
  [
    'strings or numbers (anyOf)',
    { anyOf: [{ type: 'string' }, { type: 'number' }] },
    (i) => (i % 2 ? i : `s${i}`),
  ],
  [
    'records',
    RECORD,
    (i) => ({ id: `id-${i}`, name: 'x'.repeat(i % 30), tags: ['a', 'b'], meta: { n: i, at: '2026' } }),
  ],
];

/** Runs in the minified bundle: each case's median time per value, ours and Ajv's. */
export function runCases(): { name: string; items: number; ours: number; ajv: number }[] {
  return CASES.map(([name, items, item]) => {
    const data = fill(item);
    const schema = { type: 'array', items };
    const ours = compileSchema(schema);
    const ajv = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const time = (validate: (value: unknown) => boolean): number => {
      const runs: number[] = [];
      for (let i = 0; i < RUNS + 3; i++) {
        const began = performance.now();
        if (!validate(data)) throw new Error(`${name}: the input does not validate`);
        runs.push(performance.now() - began);
      }
      return median(runs.slice(3)); // the first three warm the code up
    };
    return { name, items: data.length, ours: time(ours), ajv: time(ajv) };
  });
}
