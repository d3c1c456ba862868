import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAMBDA_ENV } from '../../../bench/bundles.ts';

// The step runner and schedule fire check tenants' JSON Schemas only for some steps and workflows:
// their cold start must not load Ajv (functions/core/executions/input-schema.ts,
// functions/adapters/tools/index.ts). The API validates catalog saves synchronously, so it loads it
// with its modules: the control that this test can fail.
const handlers = {
  'step-runner': () => import('#handlers/step-runner.ts'),
  'schedule-fire': () => import('#handlers/schedule-fire.ts'),
  api: () => import('#handlers/api.ts'),
};

/**
 * Whether Ajv (CommonJS) was loaded: Node's module cache, which resetModules does not clear, so the
 * rows run in order and the API's, which loads it, comes last.
 */
const ajvLoaded = () =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/ajv/dist/2020.js'));

describe('Ajv at cold start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['step-runner', false],
    ['schedule-fire', false],
    ['api', true],
  ] as const)('importing %s loads it: %s', async (name, expected) => {
    // Prepare: a deployed function's environment (handlers read their settings at import)
    for (const [key, value] of Object.entries(LAMBDA_ENV)) vi.stubEnv(key, value);
    vi.resetModules();
    // Act
    const handler = await handlers[name]();
    // Assess
    expect(typeof handler.handler).toBe('function');
    expect(ajvLoaded()).toBe(expected);
  });
});
