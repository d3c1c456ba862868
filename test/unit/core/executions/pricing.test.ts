import { describe, expect, it } from 'vitest';
import {
  costOf,
  formatMicrosUsd,
  PRICE_TABLE,
  PriceBook,
  type PriceTable,
  usdToMicros,
} from '#core/executions/pricing.ts';

describe('PRICE_TABLE', () => {
  it('is dated, says where its numbers come from, and every price parses exactly', () => {
    // Act
    const entries = Object.entries(PRICE_TABLE.prices);

    // Assess
    expect(PRICE_TABLE.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_TABLE.source.length).toBeGreaterThan(20);
    expect(entries.length).toBeGreaterThanOrEqual(10);
    for (const [, price] of entries) {
      expect(() => usdToMicros(price.inputPerMTokUsd)).not.toThrow();
      expect(() => usdToMicros(price.outputPerMTokUsd)).not.toThrow();
    }
  });

  it.each([
    ['bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
    ['bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0'],
    ['bedrock', 'amazon.nova-micro-v1:0'],
    ['bedrock', 'amazon.nova-lite-v1:0'],
    ['bedrock', 'amazon.nova-pro-v1:0'],
    ['bedrock', 'meta.llama3-1-70b-instruct-v1:0'],
    ['openai', 'gpt-4o'],
    ['openai', 'gpt-4o-mini'],
    ['openai', 'gpt-4.1-mini'],
  ])('prices %s %s', (provider, model) => {
    // Act
    const cost = costOf(provider, model, { inputTokens: 1_000_000, outputTokens: 1_000_000 });

    // Assess
    expect(cost.known).toBe(true);
    expect(cost.micros).toBeGreaterThan(0);
  });
});

describe('costOf', () => {
  it('multiplies tokens by the per-million prices in integer micros', () => {
    // Prepare: Claude 3.5 Haiku at $0.80 in / $4.00 out per MTok.
    const usage = { inputTokens: 12_345, outputTokens: 678 };

    // Act
    const cost = costOf('bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', usage);

    // Assess: 12345 × 0.8 + 678 × 4 = 9876 + 2712 micros.
    expect(cost).toEqual({ micros: 12_588, priceVersion: PRICE_TABLE.version, known: true });
  });

  it('rounds half up once, on the total', () => {
    // Prepare: Nova Micro at $0.035 in / $0.14 out: 40 in = 1.4 micros, 10 out = 1.4 micros.
    const usage = { inputTokens: 40, outputTokens: 10 };

    // Act
    const cost = costOf('bedrock', 'amazon.nova-micro-v1:0', usage);

    // Assess: 2.8 rounds to 3, where rounding each part would give 1 + 1.
    expect(cost.micros).toBe(3);
    expect(costOf('bedrock', 'amazon.nova-micro-v1:0', { inputTokens: 100, outputTokens: 0 }).micros).toBe(4);
    expect(costOf('bedrock', 'amazon.nova-micro-v1:0', { inputTokens: 14, outputTokens: 0 }).micros).toBe(0);
  });

  it('sums without float drift over many steps', () => {
    // Prepare: gpt-4o-mini at $0.15 / $0.60; a float sum of 0.1-ish dollars drifts, micros do not.
    const step = { inputTokens: 1_000, outputTokens: 500 };

    // Act
    let total = 0;
    for (let i = 0; i < 10_000; i++) total += costOf('openai', 'gpt-4o-mini', step).micros;

    // Assess: each step is 150 + 300 = 450 micros.
    expect(total).toBe(4_500_000);
    expect(formatMicrosUsd(total)).toBe('4.500000');
  });

  it('prices a Bedrock cross-region inference profile as its base model', () => {
    // Act
    const profile = costOf('bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', {
      inputTokens: 1000,
      outputTokens: 0,
    });

    // Assess
    expect(profile).toMatchObject({ micros: 800, known: true });
  });

  it('charges nothing for any scripted model', () => {
    // Act
    const cost = costOf('scripted', 'whatever', { inputTokens: 5_000_000, outputTokens: 5_000_000 });

    // Assess
    expect(cost).toEqual({ micros: 0, priceVersion: PRICE_TABLE.version, known: true });
  });

  it('costs an unknown model 0 with known false rather than guessing', () => {
    // Act
    const cost = costOf('openai', 'llama3:8b-local', { inputTokens: 1000, outputTokens: 1000 });

    // Assess
    expect(cost).toEqual({ micros: 0, priceVersion: PRICE_TABLE.version, known: false });
  });

  it.each([-1, 1.5, Number.NaN])('refuses a token count of %s', (inputTokens) => {
    // Act / Assess
    expect(() => costOf('openai', 'gpt-4o', { inputTokens, outputTokens: 0 })).toThrow(RangeError);
  });

  it('stays exact for large counts on expensive models', () => {
    // Prepare: 100 M tokens each way at $15 / $75 per MTok.
    const book = new PriceBook({
      version: 't',
      source: 'test',
      prices: { 'x:big': { inputPerMTokUsd: '15', outputPerMTokUsd: '75' } },
    } satisfies PriceTable);

    // Act
    const cost = book.costOf('x', 'big', { inputTokens: 100_000_000, outputTokens: 100_000_000 });

    // Assess
    expect(cost.micros).toBe(9_000_000_000);
  });
});

describe('usdToMicros and formatMicrosUsd', () => {
  it.each([
    ['0', 0],
    ['0.035', 35_000],
    ['4.00', 4_000_000],
    ['15', 15_000_000],
    ['0.000001', 1],
  ])('parses %s as %i micros', (usd, micros) => {
    // Act / Assess
    expect(usdToMicros(usd)).toBe(micros);
  });

  it.each(['-1', '1e3', '0.0000001', '', '1.2.3'])('refuses %j', (usd) => {
    // Act / Assess
    expect(() => usdToMicros(usd)).toThrow(RangeError);
  });

  it('formats micros with six decimals', () => {
    // Act / Assess
    expect(formatMicrosUsd(1234)).toBe('0.001234');
    expect(formatMicrosUsd(12_588_000)).toBe('12.588000');
    expect(formatMicrosUsd(-5)).toBe('-0.000005');
  });
});
