/**
 * The provider table (functions/core/catalog/providers.ts): validation follows each row, unknown
 * and inherited names have no traits, and an endpoint's base URL comes from the row.
 */
import { describe, expect, it } from 'vitest';
import { validateAgent } from '#core/catalog/model.ts';
import {
  AGENT_PROVIDERS,
  baseUrlOf,
  OPENAI_DEFAULT_BASE_URL,
  PROVIDER_FIELDS,
  PROVIDER_TRAITS,
  providersTaking,
  providerTraits,
} from '#core/catalog/providers.ts';
import { problemsOf } from '../workflows/fixtures.ts';

const noTools = { toolExists: () => false };
const values = { script: [{ reply: 'x' }], baseUrl: 'https://models.example.com/v1', apiKeySecret: 'key' };

describe('PROVIDER_TRAITS', () => {
  it('has a row for every provider and nothing else', () => {
    expect(Object.keys(PROVIDER_TRAITS).sort()).toEqual([...AGENT_PROVIDERS].sort());
  });

  it.each(AGENT_PROVIDERS)('validation of %s agents follows its row, field by field', (provider) => {
    const { fields } = PROVIDER_TRAITS[provider];
    const required = Object.fromEntries(
      PROVIDER_FIELDS.filter((f) => fields[f] === 'required').map((f) => [f, values[f]]),
    );
    const base = { name: 'x', provider, model: 'm', ...required };
    expect(() => validateAgent(base, noTools)).not.toThrow();
    for (const field of PROVIDER_FIELDS) {
      const withField = { ...base, [field]: values[field] };
      if (fields[field] === undefined) {
        expect(problemsOf(() => validateAgent(withField, noTools))).toEqual([
          { path: field, message: `only allowed when provider is ${providersTaking(field)}` },
        ]);
      } else {
        expect(() => validateAgent(withField, noTools)).not.toThrow();
      }
      if (fields[field] === 'required') {
        const { [field]: _, ...without } = base as Record<string, unknown>;
        expect(problemsOf(() => validateAgent(without, noTools))).toContainEqual({
          path: field,
          message: `required when provider is "${provider}"`,
        });
      }
    }
  });

  it('gives inherited and unknown names no traits, so they take no provider field', () => {
    expect(providerTraits('constructor')).toBeUndefined();
    expect(providerTraits(undefined)).toBeUndefined();
    const paths = problemsOf(() =>
      validateAgent({ name: 'x', provider: 'toString', model: 'm', ...values }, noTools),
    ).map((p) => p.path);
    expect(paths).toEqual(['provider', ...PROVIDER_FIELDS]);
  });

  it('names an endpoint by its base URL only where the provider takes one', () => {
    expect(baseUrlOf({ provider: 'openai' })).toBe(OPENAI_DEFAULT_BASE_URL);
    expect(baseUrlOf({ provider: 'openai', baseUrl: 'https://a.example' })).toBe('https://a.example');
    expect(baseUrlOf({ provider: 'bedrock', baseUrl: 'https://a.example' })).toBeUndefined();
    expect(baseUrlOf({ provider: 'scripted' })).toBeUndefined();
  });
});
