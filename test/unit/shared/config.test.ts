import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '#shared/config.ts';

const AWS = {
  STAGE: 'dev',
  MERIDIAN_MODE: 'aws',
  TABLE_NAME: 'meridian-table',
  AUDIT_BUCKET_NAME: 'audit-bucket',
  USER_POOL_ID: 'us-east-1_AbCdEfGhI',
  USER_POOL_CLIENT_ID: 'client',
};

/** The local platform's settings: its issuer, JWKS and state folder besides AWS's. */
const LOCAL = {
  ...AWS,
  MERIDIAN_MODE: 'local',
  LOCAL_JWT_ISSUER: 'http://127.0.0.1:9229/local_x',
  LOCAL_JWKS_URI: 'http://127.0.0.1:9229/local_x/.well-known/jwks.json',
  MERIDIAN_STATE_DIR: '/tmp/x',
};

describe('parseConfig', () => {
  it('reads a complete AWS configuration with its defaults, frozen', () => {
    // Act
    const cfg = parseConfig(AWS);
    // Assess
    expect(cfg).toMatchObject({ ...AWS, AUTH_CACHE_TTL_SECONDS: 30, CIRCUIT_FAILURE_THRESHOLD: 5 });
    expect(cfg.STEP_RUNNER_ARN).toBeUndefined();
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('names every problem in one error', () => {
    // Act
    const parse = () =>
      parseConfig({
        MERIDIAN_MODE: 'cloud',
        TABLE_NAME: 'x',
        AUTH_CACHE_TTL_SECONDS: '9999',
        STEP_RUNNER_ARN: 'nope',
      });
    // Assess
    expect(parse).toThrow(ConfigError);
    const message = (() => {
      try {
        parse();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of [
      'STAGE',
      'MERIDIAN_MODE',
      'TABLE_NAME',
      'AUDIT_BUCKET_NAME',
      'USER_POOL_ID',
      'AUTH_CACHE_TTL_SECONDS',
      'STEP_RUNNER_ARN',
    ]) {
      expect(message).toContain(`${name}:`);
    }
  });

  it('requires the local issuer, JWKS and state folder in local mode, and fills local workflow stand-ins', () => {
    // Act
    const missing = () => parseConfig({ ...AWS, MERIDIAN_MODE: 'local' });
    const local = parseConfig(LOCAL);
    // Assess
    expect(missing).toThrow(
      /MERIDIAN_STATE_DIR: required in local mode.*LOCAL_JWT_ISSUER: required in local mode.*LOCAL_JWKS_URI/,
    );
    expect(local.STEP_RUNNER_ARN).toMatch(/^arn:aws:lambda:local:/);
  });

  it('reads the notification settings: a 30 s retry base by default, queue URLs as URLs', () => {
    // Act
    const defaults = parseConfig(AWS);
    const set = parseConfig({
      ...AWS,
      NOTIFICATION_RETRY_BASE_MS: '500',
      NOTIFICATION_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      NOTIFICATION_FROM_ADDRESS: 'notify@example.com',
    });
    const bad = () =>
      parseConfig({ ...AWS, NOTIFICATION_RETRY_BASE_MS: '1', NOTIFICATION_DLQ_URL: 'not a url' });
    // Assess
    expect(defaults.NOTIFICATION_RETRY_BASE_MS).toBe(30_000);
    expect(defaults.NOTIFICATION_QUEUE_URL).toBeUndefined();
    expect(set).toMatchObject({
      NOTIFICATION_RETRY_BASE_MS: 500,
      NOTIFICATION_FROM_ADDRESS: 'notify@example.com',
    });
    expect(bad).toThrow(/NOTIFICATION_DLQ_URL: not a URL; NOTIFICATION_RETRY_BASE_MS: an integer from 10/);
  });
});

describe('parseConfig at the edges of each check', () => {
  const problems = (env: Record<string, string>): string => {
    try {
      parseConfig({ ...AWS, ...env });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('takes a length or a bound itself, and refuses one short of it or past it', () => {
    expect(problems({ TABLE_NAME: 'abc', ARTIFACT_BUCKET_NAME: 'abc' })).toBe('');
    expect(problems({ TABLE_NAME: 'ab' })).toMatch(/TABLE_NAME: at least 3 characters/);
    expect(problems({ ARTIFACT_BUCKET_NAME: 'ab' })).toMatch(/ARTIFACT_BUCKET_NAME: at least 3 characters/);
    expect(problems({ CIRCUIT_FAILURE_THRESHOLD: '1', AUTH_CACHE_TTL_SECONDS: '300' })).toBe('');
    expect(problems({ CIRCUIT_FAILURE_THRESHOLD: '0' })).toMatch(
      /CIRCUIT_FAILURE_THRESHOLD: an integer from 1 to 100/,
    );
    expect(problems({ AUTH_CACHE_TTL_SECONDS: '301' })).toMatch(
      /AUTH_CACHE_TTL_SECONDS: an integer from 0 to 300/,
    );
  });

  it('wants an ARN to start with "arn:", URLs to parse, and names the variable', () => {
    expect(problems({ STEP_RUNNER_ARN: 'xx:arn:' })).toMatch(/STEP_RUNNER_ARN: must start with "arn:"/);
    expect(problems({ NOTIFICATION_QUEUE_URL: 'queue' })).toMatch(/NOTIFICATION_QUEUE_URL: not a URL/);
    expect(problems({ LOCAL_JWT_ISSUER: 'issuer', LOCAL_JWKS_URI: 'jwks' })).toMatch(
      /LOCAL_JWT_ISSUER: not a URL; LOCAL_JWKS_URI: not a URL/,
    );
    expect(problems({ NOTIFICATION_FROM_ADDRESS: 'ab' })).toMatch(
      /NOTIFICATION_FROM_ADDRESS: at least 3 characters/,
    );
  });

  it('reads DNS servers as a comma-separated list of host[:port], and refuses anything else', () => {
    expect(parseConfig({ ...AWS, DNS_SERVERS: '127.0.0.1:5353, [::1]:53,dns.example' }).DNS_SERVERS).toEqual([
      '127.0.0.1:5353',
      '[::1]:53',
      'dns.example',
    ]);
    expect(parseConfig(AWS).DNS_SERVERS).toBeUndefined();
    expect(problems({ DNS_SERVERS: '127.0.0.1:53,http://x' })).toMatch(
      /DNS_SERVERS: host\[:port\], comma-separated/,
    );
    expect(problems({ DNS_SERVERS: '127.0.0.1 8.8.8.8' })).toMatch(/DNS_SERVERS/);
  });

  it('fills the local stand-ins and the secrets prefix only where nothing is set', () => {
    const local = parseConfig({
      ...LOCAL,
      APPROVAL_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:mine',
    });
    expect(local).toMatchObject({
      STATE_MACHINE_PREFIX: 'meridian-local',
      STEP_RUNNER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-step-runner',
      APPROVAL_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:mine',
      LIFECYCLE_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-lifecycle',
      SECRETS_PREFIX: 'meridian/local/tenants',
    });
    expect(parseConfig({ ...AWS, SECRETS_PREFIX: 'meridian/dev/tenants' }).SECRETS_PREFIX).toBe(
      'meridian/dev/tenants',
    );
    expect(parseConfig(AWS)).not.toHaveProperty('STATE_MACHINE_PREFIX');
  });
});
