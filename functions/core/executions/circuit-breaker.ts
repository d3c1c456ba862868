/**
 * An in-memory circuit breaker per provider endpoint (provider + model + baseUrl), kept per
 * container. A provider that keeps failing with retryable errors (throttled, 5xx, timeouts) trips
 * it: calls then fail fast with `Provider.CircuitOpen` for a cool-down instead of burning the
 * workflow's retries and the step's time, after which one probe call decides whether it closes.
 */
import { ProviderError } from './model-port.ts';

/** closed: calls pass; open: calls fail fast; half-open: one probe call passes. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Settings of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive retryable failures that open the circuit. @default 5 */
  readonly failureThreshold?: number;
  /** How long an open circuit fails fast before letting a probe through, in ms. @default 30000 */
  readonly coolDownMs?: number;
  /** Clock in epoch ms (tests inject one). @default Date.now */
  readonly now?: () => number;
  /** Told of every state change (the adapter logs and counts them). */
  readonly onStateChange?: (key: string, from: CircuitState, to: CircuitState) => void;
}

/** Default settings. */
export const CIRCUIT_DEFAULTS = Object.freeze({ failureThreshold: 5, coolDownMs: 30_000 });

/**
 * One breaker. Only classified retryable failures ({@link ProviderError} with `retryable`) count;
 * any other outcome (a success, a client error, an unclassified error) shows the endpoint is
 * answering, so it resets the count, and in half-open state closes the circuit.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;

  constructor(
    /** What the breaker protects, named in its error message. */
    readonly key: string,
    private readonly options: CircuitBreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? CIRCUIT_DEFAULTS.failureThreshold;
    this.coolDownMs = options.coolDownMs ?? CIRCUIT_DEFAULTS.coolDownMs;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.threshold) || this.threshold < 1)
      throw new RangeError(`failureThreshold must be a positive integer, got ${this.threshold}`);
    if (!(this.coolDownMs >= 0)) throw new RangeError(`coolDownMs must be >= 0, got ${this.coolDownMs}`);
  }

  /** The state now (an open circuit whose cool-down has passed reads as half-open). */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.coolDownMs) return 'half-open';
    return this.current;
  }

  /** Consecutive retryable failures counted so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Runs `fn` through the breaker. Throws `ProviderError('circuit-open')` without calling `fn` while
   * open, or while half-open with its probe already in flight.
   */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      const waitMs = Math.max(0, this.openedAt + this.coolDownMs - this.now());
      throw new ProviderError(
        'circuit-open',
        `Circuit open for ${this.key} after ${this.failures} consecutive retryable failures; ` +
          (state === 'open' ? `next probe in ${Math.ceil(waitMs / 1000)} s` : 'a probe call is in flight'),
      );
    }
    const isProbe = state === 'half-open';
    if (isProbe) {
      this.transition('half-open');
      this.probing = true;
    }
    try {
      const result = await fn();
      this.onAnswer();
      return result;
    } catch (error) {
      if (error instanceof ProviderError && error.retryable) this.onFailure();
      else this.onAnswer();
      throw error;
    } finally {
      if (isProbe) this.probing = false;
    }
  }

  private onAnswer(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  private onFailure(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.threshold) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    if (from !== to) this.options.onStateChange?.(this.key, from, to);
  }
}

/** Most breakers a registry keeps: tenants choose base URLs, so keys are not a fixed set. */
export const MAX_BREAKERS = 1000;

/** The breakers of one container, one per key, created on first use with the same options. */
export class CircuitBreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly options: CircuitBreakerOptions = {}) {}

  /** The breaker for `key`, created closed on first use. */
  get(key: string): CircuitBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      if (this.breakers.size >= MAX_BREAKERS) this.evictOneClosed();
      breaker = new CircuitBreaker(key, this.options);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  /** How many breakers are kept. */
  get size(): number {
    return this.breakers.size;
  }

  // Forgetting a closed breaker loses at most a few counted failures; open ones are kept.
  private evictOneClosed(): void {
    for (const [key, breaker] of this.breakers) {
      if (breaker.state === 'closed') {
        this.breakers.delete(key);
        return;
      }
    }
  }
}

/** The breaker key of a provider endpoint: provider, model and (for OpenAI-compatible) base URL. */
export function breakerKey(provider: string, model: string, baseUrl?: string): string {
  return [provider, model, baseUrl ?? ''].join('|');
}
