import type { AgentDefinition } from '#core/catalog/model.ts';
import { type AgentProvider, baseUrlOf, PROVIDER_TRAITS } from '#core/catalog/providers.ts';
import {
  breakerKey,
  type CircuitBreaker,
  CircuitBreakerRegistry,
  type CircuitState,
} from '#core/executions/circuit-breaker.ts';
import type { ModelProvider, ModelRequest, ModelResponse } from '#core/executions/model-port.ts';
import { circuits, config } from '#shared/config.ts';
import { logger, metrics } from '#shared/observability.ts';
import { BedrockProvider } from './bedrock.ts';
import { OpenAiCompatibleProvider } from './openai.ts';
import { ScriptedProvider } from './scripted.ts';

export { BedrockProvider } from './bedrock.ts';
export { OpenAiCompatibleProvider } from './openai.ts';
export { ScriptedProvider } from './scripted.ts';

/** A provider whose calls go through a circuit breaker. */
export class BreakerProvider implements ModelProvider {
  constructor(
    private readonly inner: ModelProvider,
    /** The breaker of this provider endpoint. */
    readonly breaker: CircuitBreaker,
  ) {}

  converse(request: ModelRequest): Promise<ModelResponse> {
    return this.breaker.call(() => this.inner.converse(request));
  }
}

/**
 * How each provider's adapter is made. A `Record` over every provider, so a provider without an
 * adapter is a compile error.
 */
const PROVIDER_FACTORIES: Readonly<Record<AgentProvider, () => ModelProvider>> = {
  bedrock: () => new BedrockProvider(),
  openai: () => new OpenAiCompatibleProvider(),
  scripted: () => new ScriptedProvider(),
};

/** The providers and breakers a resolver uses; each defaults to the real one. */
export interface ProviderResolverDeps extends Partial<Readonly<Record<AgentProvider, ModelProvider>>> {
  readonly breakers?: CircuitBreakerRegistry;
  /** Threshold and cool-down of the breakers the resolver creates. @default CIRCUIT_DEFAULTS */
  readonly breakerOptions?: { readonly failureThreshold?: number; readonly coolDownMs?: number };
}

/** The breaker key of an agent's endpoint (provider + model + base URL where the provider has one). */
export function breakerKeyOf(agent: AgentDefinition): string {
  return breakerKey(agent.provider, agent.model, baseUrlOf(agent));
}

/**
 * Builds a `providerFor` over the given providers and breakers. Providers whose traits ask for a
 * breaker (Bedrock, OpenAI-compatible) come wrapped in the breaker of the agent's endpoint;
 * `scripted` does not (it cannot fail transiently, and a breaker would only hide script bugs).
 */
export function createProviderResolver(
  deps: ProviderResolverDeps = {},
): (agent: AgentDefinition) => ModelProvider {
  const providers = Object.fromEntries(
    Object.entries(PROVIDER_FACTORIES).map(([name, make]) => [name, deps[name as AgentProvider] ?? make()]),
  ) as Record<AgentProvider, ModelProvider>;
  const breakers =
    deps.breakers ?? new CircuitBreakerRegistry({ ...deps.breakerOptions, onStateChange: reportStateChange });
  return (agent) => {
    const provider = providers[agent.provider];
    return PROVIDER_TRAITS[agent.provider].breaker
      ? new BreakerProvider(provider, breakers.get(breakerKeyOf(agent)))
      : provider;
  };
}

// Breaker keys name provider, model and a base URL (never a key), so they are safe to log; the
// metric keeps only the provider as dimension to bound cardinality.
function reportStateChange(key: string, from: CircuitState, to: CircuitState): void {
  logger.warn('Provider circuit state changed', { circuit: key, from, to });
  if (to === 'open') {
    // A single metric, so this dimension does not leak onto the invocation's other metrics.
    const single = metrics.singleMetric();
    single.addDimension('provider', key.split('|')[0] ?? 'unknown');
    single.addMetric('ProviderCircuitOpened', 'Count', 1);
  }
}

let resolver: ((agent: AgentDefinition) => ModelProvider) | undefined;

/**
 * The provider for an agent, wrapped in its endpoint's circuit breaker. Providers and breakers are
 * kept per container, so a breaker opened by one invocation protects the next ones.
 */
export function providerFor(agent: AgentDefinition): ModelProvider {
  if (!resolver) {
    const cfg = config([circuits]);
    resolver = createProviderResolver({
      breakerOptions: {
        failureThreshold: cfg.CIRCUIT_FAILURE_THRESHOLD,
        coolDownMs: cfg.CIRCUIT_COOLDOWN_MS,
      },
    });
  }
  return resolver(agent);
}
