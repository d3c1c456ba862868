/**
 * Model token prices, versioned and dated, in code: a step's cost is its tokens times the price of
 * its provider and model, computed in integer USD micros so sums never drift. Changing a price
 * means a new `version`, so recorded costs can say which table priced them.
 */
import { providerTraits } from '../catalog/providers.ts';
import type { Usage } from './model-port.ts';

/** List prices of one model, in USD per million tokens, as exact decimal strings. */
export interface ModelPrice {
  readonly inputPerMTokUsd: string;
  readonly outputPerMTokUsd: string;
}

/** A dated price table. Keys are `<provider>:<model>`; `<provider>:*` prices every model of a provider. */
export interface PriceTable {
  readonly version: string;
  readonly source: string;
  readonly prices: Readonly<Record<string, ModelPrice>>;
}

const price = (inputPerMTokUsd: string, outputPerMTokUsd: string): ModelPrice =>
  Object.freeze({ inputPerMTokUsd, outputPerMTokUsd });

/**
 * The price table in force. Bedrock prices are on-demand, us-east-1, standard (not batch, not
 * cached-input) tiers; OpenAI prices are the standard API tier. Cross-region inference profiles
 * (`us.`, `eu.`, `apac.`, `global.` prefixes) are priced as their base model.
 */
export const PRICE_TABLE: PriceTable = Object.freeze({
  version: '2026-11-01',
  source:
    'Public list prices per 1M tokens: aws.amazon.com/bedrock/pricing (on-demand, us-east-1) and ' +
    'openai.com/api/pricing (standard tier), as known when this table was written; check them against ' +
    'the pages before relying on a cost, and bump `version` with any change.',
  prices: Object.freeze({
    'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0': price('0.80', '4.00'),
    'bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0': price('3.00', '15.00'),
    'bedrock:anthropic.claude-3-5-sonnet-20241022-v2:0': price('3.00', '15.00'),
    'bedrock:anthropic.claude-3-haiku-20240307-v1:0': price('0.25', '1.25'),
    'bedrock:amazon.nova-micro-v1:0': price('0.035', '0.14'),
    'bedrock:amazon.nova-lite-v1:0': price('0.06', '0.24'),
    'bedrock:amazon.nova-pro-v1:0': price('0.80', '3.20'),
    'bedrock:meta.llama3-1-8b-instruct-v1:0': price('0.22', '0.22'),
    'bedrock:meta.llama3-1-70b-instruct-v1:0': price('0.72', '0.72'),
    'bedrock:meta.llama3-2-1b-instruct-v1:0': price('0.10', '0.10'),
    'bedrock:meta.llama3-2-3b-instruct-v1:0': price('0.15', '0.15'),
    'bedrock:meta.llama3-3-70b-instruct-v1:0': price('0.72', '0.72'),
    'openai:gpt-4o': price('2.50', '10.00'),
    'openai:gpt-4o-mini': price('0.15', '0.60'),
    'openai:gpt-4.1': price('2.00', '8.00'),
    'openai:gpt-4.1-mini': price('0.40', '1.60'),
    'openai:gpt-4.1-nano': price('0.10', '0.40'),
    // The scripted provider exists for local runs, demos and tests: it is free.
    'scripted:*': price('0', '0'),
  }),
});

/** A cost: integer USD micros, the table version that priced it, and whether the model was priced. */
export interface Cost {
  readonly micros: number;
  readonly priceVersion: string;
  /** False when the table has no price for the model: the cost is then 0, not a guess. */
  readonly known: boolean;
}

/** Micros per million tokens, the integer form every computation uses. */
interface MicroPrice {
  readonly input: bigint;
  readonly output: bigint;
}

const MICROS_PER_USD = 1_000_000n;
const TOKENS_PER_MTOK = 1_000_000n;

/** Parses a non-negative decimal USD string ("0.035") into integer micros exactly (no floats). */
export function usdToMicros(usd: string): number {
  const match = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(usd);
  if (!match) throw new RangeError(`not a USD amount with at most 6 decimals: "${usd}"`);
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(6, '0'));
  return Number(whole * MICROS_PER_USD + fraction);
}

/** Formats integer micros as a USD decimal string with 6 decimals (`1234` → `"0.001234"`). */
export function formatMicrosUsd(micros: number): string {
  if (!Number.isSafeInteger(micros)) throw new RangeError(`micros must be a safe integer, got ${micros}`);
  const sign = micros < 0 ? '-' : '';
  const abs = BigInt(Math.abs(micros));
  return `${sign}${abs / MICROS_PER_USD}.${(abs % MICROS_PER_USD).toString().padStart(6, '0')}`;
}

/** Resolves prices of one table once; `costOf` below uses {@link PRICE_TABLE}. */
export class PriceBook {
  private readonly micros = new Map<string, MicroPrice>();

  constructor(readonly table: PriceTable) {
    for (const [key, entry] of Object.entries(table.prices)) {
      this.micros.set(key, {
        input: BigInt(usdToMicros(entry.inputPerMTokUsd)),
        output: BigInt(usdToMicros(entry.outputPerMTokUsd)),
      });
    }
  }

  /**
   * The cost of `usage` on `provider`/`model`: round(input × inputPrice + output × outputPrice),
   * rounded once (half up) to whole micros, with prices in micros per million tokens. A model
   * absent from the table costs 0 with `known: false`, so a step never fails for want of a price;
   * callers surface `known` so the gap is visible.
   */
  costOf(provider: string, model: string, usage: Usage): Cost {
    const input = tokens(usage.inputTokens, 'inputTokens');
    const output = tokens(usage.outputTokens, 'outputTokens');
    const found = this.lookup(provider, model);
    if (!found) return { micros: 0, priceVersion: this.table.version, known: false };
    const scaled = input * found.input + output * found.output;
    const micros = (scaled + TOKENS_PER_MTOK / 2n) / TOKENS_PER_MTOK;
    return { micros: Number(micros), priceVersion: this.table.version, known: true };
  }

  /** Whether the table prices this model. */
  has(provider: string, model: string): boolean {
    return this.lookup(provider, model) !== undefined;
  }

  private lookup(provider: string, model: string): MicroPrice | undefined {
    const exact = this.micros.get(`${provider}:${model}`);
    if (exact) return exact;
    const prefix = providerTraits(provider)?.profilePrefix;
    if (prefix) {
      const base = model.replace(prefix, '');
      const profile = base === model ? undefined : this.micros.get(`${provider}:${base}`);
      if (profile) return profile;
    }
    return this.micros.get(`${provider}:*`);
  }
}

function tokens(value: number, name: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return BigInt(value);
}

const book = new PriceBook(PRICE_TABLE);

/** The cost of `usage` on `provider`/`model` under {@link PRICE_TABLE} (see {@link PriceBook.costOf}). */
export function costOf(provider: string, model: string, usage: Usage): Cost {
  return book.costOf(provider, model, usage);
}
