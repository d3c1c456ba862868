/**
 * What each model provider is, in one table ({@link PROVIDER_TRAITS}): which agent fields it takes,
 * which it requires, the secret the runner fetches for it, whether its calls go through a circuit
 * breaker and how its endpoint is named. Agent validation, the documented `Agent` schema
 * (functions/handlers/routes/schemas.ts), the step runner, pricing and the provider resolver
 * (functions/adapters/providers/index.ts) read it instead of naming providers, so a new provider is
 * a compile error here (`Record<AgentProvider, …>`) and in the resolver's factories.
 *
 * No runtime imports: the step runner's bundle loads this file, and must not load the schema library.
 */
import type { AgentDefinition } from './model.ts';

/** Model providers an agent can use. `scripted` answers from a script: local runs, demos, tests. */
export const AGENT_PROVIDERS = ['bedrock', 'openai', 'scripted'] as const;
/** One of {@link AGENT_PROVIDERS}. */
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];

/** Agent fields that only some providers take, in the order problems and the document name them. */
export const PROVIDER_FIELDS = [
  'script',
  'baseUrl',
  'apiKeySecret',
] as const satisfies readonly (keyof AgentDefinition)[];
/** One of {@link PROVIDER_FIELDS}. */
export type ProviderField = (typeof PROVIDER_FIELDS)[number];

/** The endpoint used when an `openai` agent has no `baseUrl`. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** What the rest of the code needs to know about one provider. */
export interface ProviderTraits {
  /** The {@link PROVIDER_FIELDS} it takes, each optional or required; the others are refused. */
  readonly fields: Readonly<Partial<Record<ProviderField, 'optional' | 'required'>>>;
  /** The agent field naming the tenant secret the runner reads and sends as the API key. */
  readonly apiKeyFrom?: 'apiKeySecret';
  /**
   * Calls go through a circuit breaker per endpoint (provider, model and base URL). False where a
   * failure cannot be transient, so a breaker would only hide bugs.
   */
  readonly breaker: boolean;
  /** The base URL the endpoint has when the agent sets no `baseUrl` (providers taking `baseUrl`). */
  readonly defaultBaseUrl?: string;
  /** A prefix a model id may carry (cross-region inference profile); priced as the model without it. */
  readonly profilePrefix?: RegExp;
}

/**
 * Every provider's traits (docs/api.md, "Definitions"; the fields are in model.ts). The key order is
 * the order of the `Agent` schema's documented `oneOf`.
 */
export const PROVIDER_TRAITS: Readonly<Record<AgentProvider, ProviderTraits>> = Object.freeze({
  scripted: { fields: { script: 'required' }, breaker: false },
  openai: {
    fields: { baseUrl: 'optional', apiKeySecret: 'optional' },
    apiKeyFrom: 'apiKeySecret',
    breaker: true,
    defaultBaseUrl: OPENAI_DEFAULT_BASE_URL,
  },
  bedrock: { fields: {}, breaker: true, profilePrefix: /^(us|eu|apac|us-gov|global)\./ },
});

/** The traits of `provider`, or undefined when it is not a provider (raw input, stored keys). */
export function providerTraits(provider: unknown): ProviderTraits | undefined {
  return typeof provider === 'string' && Object.hasOwn(PROVIDER_TRAITS, provider)
    ? PROVIDER_TRAITS[provider as AgentProvider]
    : undefined;
}

/** The providers that take `field`, as a problem message names them: `"a"`, `"a" or "b"`. */
export function providersTaking(field: ProviderField): string {
  return AGENT_PROVIDERS.filter((p) => PROVIDER_TRAITS[p].fields[field] !== undefined)
    .map((p) => `"${p}"`)
    .join(' or ');
}

/** The base URL of an agent's endpoint: its `baseUrl` or the provider's default; undefined where it has none. */
export function baseUrlOf(agent: Pick<AgentDefinition, 'provider' | 'baseUrl'>): string | undefined {
  const traits = PROVIDER_TRAITS[agent.provider];
  return traits.fields.baseUrl ? (agent.baseUrl ?? traits.defaultBaseUrl) : undefined;
}
