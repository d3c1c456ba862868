import { describe, expect, it, vi } from 'vitest';
import { BreakerProvider, breakerKeyOf, createProviderResolver } from '#adapters/providers/index.ts';
import { ScriptedProvider } from '#adapters/providers/scripted.ts';
import {
  CircuitBreaker,
  CircuitBreakerRegistry,
  type CircuitState,
  MAX_BREAKERS,
} from '#core/executions/circuit-breaker.ts';
import { type ModelProvider, ProviderError, type ProviderFailure } from '#core/executions/model-port.ts';
import { agent, request } from '../../adapters/providers/fixtures.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const failWith = (failure: ProviderFailure) => () =>
  Promise.reject(new ProviderError(failure, `fake ${failure}`));
const succeed = () => Promise.resolve('ok');

async function failTimes(
  breaker: CircuitBreaker,
  times: number,
  failure: ProviderFailure = 'server',
): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.call(failWith(failure)).catch(() => undefined);
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive retryable failures, not before', async () => {
    // Prepare
    const breaker = new CircuitBreaker('k', { failureThreshold: 3, now: manualClock().now });

    // Act
    await failTimes(breaker, 2, 'throttled');
    const afterTwo = breaker.state;
    await failTimes(breaker, 1, 'timeout');

    // Assess
    expect(afterTwo).toBe('closed');
    expect(breaker.state).toBe('open');
  });

  it('uses a threshold of 5 and a cool-down of 30 s by default', async () => {
    // Prepare
    const clock = manualClock();
    const breaker = new CircuitBreaker('k', { now: clock.now });

    // Act
    await failTimes(breaker, 4);
    const afterFour = breaker.state;
    await failTimes(breaker, 1);
    clock.advance(29_999);
    const justBefore = breaker.state;
    clock.advance(1);

    // Assess
    expect(afterFour).toBe('closed');
    expect(justBefore).toBe('open');
    expect(breaker.state).toBe('half-open');
  });

  it('fails fast with Provider.CircuitOpen during the cool-down without calling the provider', async () => {
    // Prepare
    const clock = manualClock();
    const breaker = new CircuitBreaker('bedrock|nova', {
      failureThreshold: 2,
      coolDownMs: 10_000,
      now: clock.now,
    });
    await failTimes(breaker, 2);
    const fn = vi.fn(succeed);
    clock.advance(4_000);

    // Act
    const thrown = await breaker.call(fn).catch((e: unknown) => e);

    // Assess
    expect(fn).not.toHaveBeenCalled();
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ name: 'Provider.CircuitOpen', failure: 'circuit-open', retryable: false });
    expect((thrown as Error).message).toContain('bedrock|nova');
    expect((thrown as Error).message).toContain('next probe in 6 s');
  });

  it('lets exactly one probe through when half-open and closes on its success', async () => {
    // Prepare
    const clock = manualClock();
    const breaker = new CircuitBreaker('k', { failureThreshold: 1, coolDownMs: 1_000, now: clock.now });
    await failTimes(breaker, 1);
    clock.advance(1_000);
    let release: (value: string) => void = () => undefined;
    const probe = vi.fn(
      () =>
        new Promise<string>((resolve) => {
          release = resolve;
        }),
    );
    const other = vi.fn(succeed);

    // Act
    const probing = breaker.call(probe);
    const concurrent = await breaker.call(other).catch((e: unknown) => e);
    release('probe ok');
    const result = await probing;

    // Assess
    expect(probe).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    expect(concurrent).toMatchObject({ name: 'Provider.CircuitOpen' });
    expect(result).toBe('probe ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
  });

  it('re-opens for a new cool-down when the probe fails', async () => {
    // Prepare
    const clock = manualClock();
    const breaker = new CircuitBreaker('k', { failureThreshold: 2, coolDownMs: 1_000, now: clock.now });
    await failTimes(breaker, 2);
    clock.advance(1_000);

    // Act
    await failTimes(breaker, 1, 'throttled');
    const afterProbe = breaker.state;
    clock.advance(999);
    const beforeNextProbe = breaker.state;
    clock.advance(1);

    // Assess
    expect(afterProbe).toBe('open');
    expect(beforeNextProbe).toBe('open');
    expect(breaker.state).toBe('half-open');
  });

  it('does not count client errors, which also reset the consecutive count', async () => {
    // Prepare
    const breaker = new CircuitBreaker('k', { failureThreshold: 2, now: manualClock().now });
    const fn = vi.fn(failWith('client'));

    // Act
    await failTimes(breaker, 1, 'server');
    for (let i = 0; i < 10; i++) await breaker.call(fn).catch(() => undefined);
    await failTimes(breaker, 1, 'server');

    // Assess
    expect(fn).toHaveBeenCalledTimes(10);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(1);
  });

  it('resets the count on success', async () => {
    // Prepare
    const breaker = new CircuitBreaker('k', { failureThreshold: 3, now: manualClock().now });

    // Act
    await failTimes(breaker, 2);
    await breaker.call(succeed);
    await failTimes(breaker, 2);

    // Assess
    expect(breaker.state).toBe('closed');
  });

  it('reports each state change', async () => {
    // Prepare
    const clock = manualClock();
    const changes: [CircuitState, CircuitState][] = [];
    const breaker = new CircuitBreaker('k', {
      failureThreshold: 1,
      coolDownMs: 10,
      now: clock.now,
      onStateChange: (_key, from, to) => changes.push([from, to]),
    });

    // Act
    await failTimes(breaker, 1);
    clock.advance(10);
    await breaker.call(succeed);

    // Assess
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });

  it('refuses a threshold below 1', () => {
    // Act / Assess
    expect(() => new CircuitBreaker('k', { failureThreshold: 0 })).toThrow(RangeError);
  });
});

describe('CircuitBreakerRegistry', () => {
  it('keeps one breaker per key', () => {
    // Prepare
    const registry = new CircuitBreakerRegistry();

    // Act
    const a1 = registry.get('a');
    const a2 = registry.get('a');
    const b = registry.get('b');

    // Assess
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
  });

  it('stays bounded by evicting closed breakers, never open ones', async () => {
    // Prepare
    const registry = new CircuitBreakerRegistry({ failureThreshold: 1 });
    const open = registry.get('open-one');
    await failTimes(open, 1);

    // Act
    for (let i = 0; i < MAX_BREAKERS + 10; i++) registry.get(`key-${i}`);

    // Assess
    expect(registry.size).toBe(MAX_BREAKERS);
    expect(registry.get('open-one')).toBe(open);
  });
});

describe('providerFor wiring', () => {
  /** A provider that fails with server errors until told to recover. */
  function flaky() {
    let healthy = false;
    const provider: ModelProvider = {
      converse: vi.fn(async () => {
        if (!healthy) throw new ProviderError('server', 'HTTP 503', 503);
        return {
          text: 'ok',
          toolCalls: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          stopReason: 'end' as const,
        };
      }),
    };
    return {
      provider,
      recover: () => {
        healthy = true;
      },
    };
  }

  it('wraps openai agents in the breaker of their endpoint, shared across calls', async () => {
    // Prepare
    const clock = manualClock();
    const { provider: openai, recover } = flaky();
    const providerFor = createProviderResolver({
      openai,
      breakers: new CircuitBreakerRegistry({ failureThreshold: 2, coolDownMs: 5_000, now: clock.now }),
    });
    const gpt = agent({ provider: 'openai', model: 'gpt-4o', baseUrl: 'https://llm.example.com/v1' });
    const ask = () => providerFor(gpt).converse(request(gpt, [{ role: 'user', content: 'q' }]));

    // Act
    await ask().catch(() => undefined);
    await ask().catch(() => undefined);
    const whileOpen = await ask().catch((e: unknown) => e);
    recover();
    clock.advance(5_000);
    const probe = await ask();

    // Assess
    expect(whileOpen).toMatchObject({ name: 'Provider.CircuitOpen' });
    expect(openai.converse).toHaveBeenCalledTimes(3);
    expect(probe.text).toBe('ok');
    expect(providerFor(gpt)).toBeInstanceOf(BreakerProvider);
  });

  it('keeps endpoints apart: another model or base URL has its own breaker', async () => {
    // Prepare
    const { provider: bedrock } = flaky();
    const providerFor = createProviderResolver({
      bedrock,
      breakers: new CircuitBreakerRegistry({ failureThreshold: 1 }),
    });
    const nova = agent({ provider: 'bedrock', model: 'amazon.nova-lite-v1:0' });
    const haiku = agent({ provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
    await providerFor(nova)
      .converse(request(nova, [{ role: 'user', content: 'q' }]))
      .catch(() => undefined);

    // Act
    const other = await providerFor(haiku)
      .converse(request(haiku, [{ role: 'user', content: 'q' }]))
      .catch((e: unknown) => e);

    // Assess
    expect(other).toMatchObject({ name: 'Provider.ServerError' });
    expect(breakerKeyOf(nova)).not.toBe(breakerKeyOf(haiku));
    expect(breakerKeyOf(agent({ provider: 'openai', model: 'm', baseUrl: 'https://a.example' }))).not.toBe(
      breakerKeyOf(agent({ provider: 'openai', model: 'm', baseUrl: 'https://b.example' })),
    );
  });

  it('returns the scripted provider unwrapped', () => {
    // Prepare
    const scripted = new ScriptedProvider();
    const providerFor = createProviderResolver({ scripted });

    // Act
    const resolved = providerFor(agent({ script: [{ reply: 'x' }] }));

    // Assess
    expect(resolved).toBe(scripted);
  });
});
