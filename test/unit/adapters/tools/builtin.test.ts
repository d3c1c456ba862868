import { describe, expect, it } from 'vitest';
import { builtinTools, parsePath } from '#adapters/tools/builtin.ts';
import { ToolError } from '#core/executions/model-port.ts';

const FIXED = new Date('2026-11-01T12:34:56.789Z');
const tools = builtinTools({ now: () => FIXED, uuid: () => '00000000-0000-4000-8000-000000000000' });

describe('echo', () => {
  it('returns its args', () => {
    // Prepare
    const args = { a: 1, nested: { b: [true, null] } };

    // Act
    const result = tools.echo(args);

    // Assess
    expect(result).toEqual(args);
  });
});

describe('current_time', () => {
  it('returns UTC by default', () => {
    // Act
    const result = tools.current_time({});

    // Assess
    expect(result).toEqual({
      iso: '2026-11-01T12:34:56.789Z',
      epochMs: FIXED.getTime(),
      timezone: 'UTC',
      local: '2026-11-01T12:34:56+00:00',
    });
  });

  it.each([
    ['Europe/Paris', '2026-11-01T13:34:56+01:00'],
    ['America/New_York', '2026-11-01T07:34:56-05:00'],
    ['Asia/Kolkata', '2026-11-01T18:04:56+05:30'],
  ])('gives the wall-clock time and offset in %s', (timezone, local) => {
    // Act
    const result = tools.current_time({ timezone });

    // Assess
    expect(result).toMatchObject({ iso: '2026-11-01T12:34:56.789Z', timezone, local });
  });

  it('refuses an unknown timezone', () => {
    // Act / Assess
    expect(() => tools.current_time({ timezone: 'Mars/Olympus' })).toThrow(ToolError);
    expect(() => tools.current_time({ timezone: 'Mars/Olympus' })).toThrow(/unknown timezone/);
  });
});

describe('json_extract', () => {
  const doc = {
    order: {
      id: 'o-1',
      items: [
        { sku: 'A', qty: 2 },
        { sku: 'B', qty: 0 },
      ],
      'ship to': { city: 'Oslo' },
    },
  };

  it.each([
    ['order.id', 'o-1'],
    ['$.order.items[1].sku', 'B'],
    ['order.items[1].qty', 0],
    ['order["ship to"].city', 'Oslo'],
    ["order['ship to']", { city: 'Oslo' }],
    ['$', doc],
  ])('reads %s from a JSON string', (path, value) => {
    // Act
    const result = tools.json_extract({ json: JSON.stringify(doc), path });

    // Assess
    expect(result).toEqual({ found: true, value });
  });

  it('reads from an already parsed value', () => {
    // Act
    const result = tools.json_extract({ json: doc, path: 'order.items[0]' });

    // Assess
    expect(result).toEqual({ found: true, value: { sku: 'A', qty: 2 } });
  });

  it.each(['order.missing', 'order.items[5]', 'order.id.deeper', 'order.constructor', 'order.items.length'])(
    'reports %s as not found',
    (path) => {
      // Act
      const result = tools.json_extract({ json: doc, path });

      // Assess
      expect(result).toEqual({ found: false, value: null });
    },
  );

  it('refuses invalid JSON and a malformed path', () => {
    // Act / Assess
    expect(() => tools.json_extract({ json: '{oops', path: 'a' })).toThrow(/not valid JSON/);
    expect(() => tools.json_extract({ json: '{}', path: 'a[x]' })).toThrow(/bad path/);
    expect(() => tools.json_extract({ json: '{}', path: 'a..b' })).toThrow(/bad path/);
    expect(() => tools.json_extract({ json: '{}', path: 'a["b' })).toThrow(/bad path/);
    expect(() => tools.json_extract({ json: '{}' })).toThrow(/args.path/);
  });

  it('parses paths into keys and indexes', () => {
    // Act / Assess
    expect(parsePath('$.a.b[2]["c.d"]')).toEqual(['a', 'b', 2, 'c.d']);
  });
});

describe('uuid', () => {
  it('returns the uuid source value', () => {
    // Act / Assess
    expect(tools.uuid({})).toEqual({ uuid: '00000000-0000-4000-8000-000000000000' });
  });

  it('returns a random v4 uuid by default', () => {
    // Act
    const first = builtinTools().uuid({});
    const second = builtinTools().uuid({});

    // Assess
    expect(first).toEqual({
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    expect(second).not.toEqual(first);
  });
});

describe('sum', () => {
  it('adds the numbers', () => {
    // Act / Assess
    expect(tools.sum({ numbers: [1, 2.5, -0.5] })).toEqual({ sum: 3 });
    expect(tools.sum({ numbers: [] })).toEqual({ sum: 0 });
  });

  it('names the element that is not a number', () => {
    // Act / Assess
    expect(() => tools.sum({ numbers: [1, '2'] })).toThrow(/args.numbers\[1\]/);
    expect(() => tools.sum({ numbers: 'x' })).toThrow(/must be an array/);
  });
});
