import { afterEach, describe, expect, it, vi } from 'vitest';
import { STEP_RUNNER_SETTINGS } from '#adapters/wiring/step-runner.ts';
import {
  ALL_SETTINGS,
  auditBucket,
  ConfigError,
  config,
  core,
  parseConfig,
  type RuntimeConfig,
  type SettingsOf,
  userPool,
} from '#shared/config.ts';
import { RUNTIME_ENV_NAMES } from '#shared/settings.ts';
import { RESOURCE_SETTINGS, ROOTS, resourceSettingsOf, variablesRead } from '../../helpers/settings.ts';

const BASE = { STAGE: 'dev', MERIDIAN_MODE: 'aws', TABLE_NAME: 'meridian-table' };

describe('settings by function', () => {
  it.each(Object.entries(ROOTS))('%s requires each resource setting it reads', (root, groups) => {
    // Act
    const problems = (() => {
      try {
        parseConfig(BASE, groups);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    // Assess
    const required = RESOURCE_SETTINGS.filter((name) => problems.includes(`${name}: required`));
    expect(required).toEqual(resourceSettingsOf(groups));
    // The API reads them all, a function that reads none (the step runner) requires none.
    if (root === 'api') expect(required).toEqual([...RESOURCE_SETTINGS]);
    if (root === 'stepRunner') expect(required).toEqual([]);
  });

  it('leaves what a function does not read unread: neither required, nor checked, nor returned', () => {
    // Act
    const stepRunner = parseConfig(
      { ...BASE, AUDIT_BUCKET_NAME: 'x', USER_POOL_ID: '', RATE_LIMIT_WINDOW_SECONDS: 'soon' },
      STEP_RUNNER_SETTINGS,
    );
    // Assess
    expect(Object.keys(stepRunner)).not.toContain('AUDIT_BUCKET_NAME');
    expect(Object.keys(stepRunner)).not.toContain('RATE_LIMITS');
    expect(stepRunner).toMatchObject({ ...BASE, CIRCUIT_FAILURE_THRESHOLD: 5 });
  });

  it('reads only the step runner its table, secrets, artifacts, circuits and notification queue', () => {
    expect(variablesRead(STEP_RUNNER_SETTINGS)).toEqual(
      [
        'STAGE',
        'MERIDIAN_MODE',
        'TABLE_NAME',
        'TENANT_DATA_ROLE_ARN',
        'MERIDIAN_STATE_DIR',
        'SECRETS_PREFIX',
        'ARTIFACT_BUCKET_NAME',
        'CIRCUIT_FAILURE_THRESHOLD',
        'CIRCUIT_COOLDOWN_MS',
        'NOTIFICATION_QUEUE_URL',
        'NOTIFICATION_DLQ_URL',
        'NOTIFICATION_FROM_ADDRESS',
        'NOTIFICATION_RETRY_BASE_MS',
      ].sort(),
    );
  });

  it('groups every variable of the runtime configuration, and every setting of its type', () => {
    // Act
    const all = parseConfig({
      ...BASE,
      AUDIT_BUCKET_NAME: 'audit',
      USER_POOL_ID: 'pool',
      USER_POOL_CLIENT_ID: 'client',
    });
    // Assess: the type says the same (a missing key would not compile)
    const typed: RuntimeConfig = all satisfies SettingsOf<typeof ALL_SETTINGS>;
    expect(variablesRead(ALL_SETTINGS)).toEqual([...RUNTIME_ENV_NAMES].sort());
    expect(Object.keys(typed)).toEqual(expect.arrayContaining(['RATE_LIMITS', 'MAX_RUNNING_EXECUTIONS']));
  });
});

describe('config: the process settings of some groups', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('names every problem of the groups asked for in one error', () => {
    // Arrange: groups nothing else in this file reads from the process
    vi.stubEnv('USER_POOL_ID', '');
    vi.stubEnv('USER_POOL_CLIENT_ID', '');
    vi.stubEnv('AUDIT_BUCKET_NAME', 'x');
    // Act
    const read = () => config([userPool, auditBucket]);
    // Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      /USER_POOL_ID: required; USER_POOL_CLIENT_ID: required; AUDIT_BUCKET_NAME: at least 3 characters/,
    );
  });

  it('parses a group once per process: a later change of the environment is not seen', () => {
    // Arrange
    vi.stubEnv('STAGE', 'first');
    vi.stubEnv('MERIDIAN_MODE', 'aws');
    vi.stubEnv('TABLE_NAME', 'meridian-first');
    const first = config([core]);
    vi.stubEnv('STAGE', 'second');
    // Act
    const again = config([core]);
    // Assess
    expect(first.STAGE).toBe('first');
    expect(again).toEqual(first);
    expect(Object.isFrozen(again)).toBe(true);
    // One group is handed back as parsed: a handler reading it per request allocates nothing.
    expect(again).toBe(first);
  });
});
