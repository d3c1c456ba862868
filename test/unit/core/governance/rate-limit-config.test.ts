import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '#core/governance/rate-limit.ts';
import { ConfigError, parseConfig } from '#shared/config.ts';

const BASE = {
  STAGE: 'dev',
  MERIDIAN_MODE: 'aws',
  TABLE_NAME: 'table',
  AUDIT_BUCKET_NAME: 'bucket',
  USER_POOL_ID: 'pool',
  USER_POOL_CLIENT_ID: 'client',
};

describe('rate limit configuration', () => {
  it('defaults to the built-in plans', () => {
    expect(parseConfig(BASE).RATE_LIMITS).toEqual(DEFAULT_RATE_LIMITS);
  });

  it('reads each plan’s limits and the window', () => {
    // Act
    const limits = parseConfig({
      ...BASE,
      RATE_LIMIT_WINDOW_SECONDS: '30',
      RATE_LIMIT_TENANT_PRO: '900',
      RATE_LIMIT_API_KEY_FREE: '15',
    }).RATE_LIMITS;
    // Assess
    expect(limits).toMatchObject({ windowSeconds: 30, tenant: { pro: 900 }, apiKey: { free: 15 } });
    expect(limits.tenant.free).toBe(DEFAULT_RATE_LIMITS.tenant.free);
  });

  it.each([
    ['RATE_LIMIT_WINDOW_SECONDS', '25', 'RATE_LIMIT_WINDOW_SECONDS: a multiple of 10'],
    ['RATE_LIMIT_WINDOW_SECONDS', '5', 'RATE_LIMIT_WINDOW_SECONDS: an integer from 10 to 3600'],
    ['RATE_LIMIT_TENANT_ENTERPRISE', '0', 'RATE_LIMIT_TENANT_ENTERPRISE: an integer from 1'],
    ['RATE_LIMIT_API_KEY_PRO', 'lots', 'RATE_LIMIT_API_KEY_PRO: an integer from 1'],
  ])('refuses %s=%s, naming it', (name, value, message) => {
    expect(() => parseConfig({ ...BASE, [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...BASE, [name]: value })).toThrow(message);
  });
});
