import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';

const BASE = { STAGE: 'dev', MERIDIAN_MODE: 'aws', TABLE_NAME: 'meridian-table' };

describe('parseConfig with the resource settings of one function', () => {
  it('does not require the settings the function does not read, and reads them when set', () => {
    // Act
    const stepRunner = parseConfig(BASE, FUNCTION_SETTINGS.stepRunner);
    const withPool = parseConfig({ ...BASE, USER_POOL_ID: 'pool' }, FUNCTION_SETTINGS.stepRunner);
    // Assess
    expect(stepRunner).toMatchObject({ AUDIT_BUCKET_NAME: '', USER_POOL_ID: '', USER_POOL_CLIENT_ID: '' });
    expect(withPool.USER_POOL_ID).toBe('pool');
  });

  it('requires the ones it reads, naming each', () => {
    // Act
    const parse = () => parseConfig(BASE, FUNCTION_SETTINGS.authorizer);
    // Assess
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/USER_POOL_ID: required.*USER_POOL_CLIENT_ID: required/);
  });

  it('still checks a set value it does not need', () => {
    expect(() => parseConfig({ ...BASE, AUDIT_BUCKET_NAME: 'x' }, [])).toThrow(
      /AUDIT_BUCKET_NAME: at least 3 characters/,
    );
  });

  it('requires every resource setting when no function is named (tools, tests)', () => {
    expect(() => parseConfig(BASE)).toThrow(/AUDIT_BUCKET_NAME: required.*USER_POOL_ID: required/);
  });
});
