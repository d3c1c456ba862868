import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../bench/bundles.ts';

/** The files (npm packages by name, project files by path) with code in a handler's bundle. */
async function inputsOf(handler: string): Promise<Set<string>> {
  // Exactly what the CDK builds (bench/bundles.ts; test/unit/bench-bundling.test.ts holds them equal).
  const out = await build({
    ...esbuildOptions(`functions/handlers/${handler}.ts`, 'out/index.mjs'),
    write: false,
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const output of Object.values(out.metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file;
      if (bytesInOutput > 0) packages.add(name);
    }
  }
  return packages;
}

// Each handler has its own composition root (functions/adapters/wiring/): what it does not use
// must not reach its bundle, its cold start or its attack surface.
describe('handler bundles', () => {
  it.each([
    [
      'authorizer',
      [
        '@aws-sdk/client-sfn',
        '@aws-sdk/client-scheduler',
        '@aws-sdk/client-s3',
        '@aws-sdk/client-secrets-manager',
        '@aws-sdk/client-cognito-identity-provider',
        'ajv',
      ],
    ],
    ['sso-trigger', ['@aws-sdk/client-sfn', '@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager', 'ajv']],
    ['approval-handler', ['@aws-sdk/client-sfn', '@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager']],
    [
      'status-handler',
      ['@aws-sdk/client-sfn', '@aws-sdk/client-scheduler', '@aws-sdk/client-secrets-manager'],
    ],
    ['notification-delivery', ['@aws-sdk/client-sfn', '@aws-sdk/client-s3', 'ajv']],
    ['schedule-fire', ['@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager', 'ajv']],
    ['step-runner', ['@aws-sdk/client-sfn', '@aws-sdk/client-scheduler', 'ajv']],
    // JSON Schemas, the API's and tenants', are interpreted (functions/shared/json-schema-validator.ts).
    ['api', ['ajv', 'fast-uri']],
    ['lifecycle-handler', ['@aws-sdk/client-scheduler']],
  ])(
    '%s bundles none of %j',
    async (handler, absent) => {
      // Act
      const packages = await inputsOf(handler);
      // Assess
      expect(packages.has('@aws-sdk/client-dynamodb')).toBe(true);
      expect(absent.filter((name) => packages.has(name))).toEqual([]);
    },
    60_000,
  );
});

// Functions that only raise notifications queue them: the webhook poster, its egress guard and the
// local platform's transport are the delivery function's and the API's alone.
describe('notification delivery code', () => {
  const delivery = [
    'functions/adapters/notifications/webhook-poster.ts',
    'functions/adapters/egress-guard.ts',
    'functions/adapters/notifications/local.ts',
  ];
  it.each([
    ['status-handler', []],
    ['approval-handler', []],
    ['schedule-fire', []],
    ['notification-delivery', delivery.slice(0, 2)],
    ['api', delivery.slice(0, 2)],
  ])(
    '%s bundles of it only %j',
    async (handler, expected) => {
      const inputs = await inputsOf(handler);
      expect(delivery.filter((file) => inputs.has(file))).toEqual(expected);
    },
    60_000,
  );
});

// The execution store is three adapters: a firing only starts executions and the step runner only
// writes steps, so each bundles its part alone (functions/adapters/wiring/schedule-fire.ts, step-runner.ts).
describe('execution store parts', () => {
  const parts = [
    'functions/adapters/dynamo/execution-starts.ts',
    'functions/adapters/dynamo/execution-steps.ts',
    'functions/adapters/dynamo/execution-store.ts',
  ];
  it.each([
    ['schedule-fire', parts.slice(0, 1)],
    ['step-runner', parts.slice(1, 2)],
    ['status-handler', parts],
    ['api', parts],
  ])(
    '%s bundles %j',
    async (handler, expected) => {
      const inputs = await inputsOf(handler);
      expect(parts.filter((file) => inputs.has(file))).toEqual(expected);
    },
    60_000,
  );
});
