import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../bench/bundles.ts';
import { AWS_CALLS, FUNCTION_NAMES, type FunctionName } from '../../../lib/aws-calls.ts';

const builds = new Map<string, Promise<string[]>>();

/** The input files (paths) with code in a handler's bundle, built once per handler. */
function bundledFiles(handler: string): Promise<string[]> {
  let files = builds.get(handler);
  if (!files) {
    // Exactly what the CDK builds (bench/bundles.ts; test/unit/bench-bundling.test.ts holds them equal).
    files = build({
      ...esbuildOptions(`functions/handlers/${handler}.ts`, 'out/index.mjs'),
      write: false,
      logLevel: 'silent',
    }).then((out) =>
      Object.values(out.metafile.outputs).flatMap((output) =>
        Object.entries(output.inputs)
          .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
          .map(([file]) => file),
      ),
    );
    builds.set(handler, files);
  }
  return files;
}

/** The files (npm packages by name, project files by path) with code in a handler's bundle. */
async function inputsOf(handler: string): Promise<Set<string>> {
  const packages = new Set<string>();
  for (const file of await bundledFiles(handler)) {
    packages.add(/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file);
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

// lib/aws-calls.ts grants each function the calls it lists for it. A command class missing from a
// function's bundle is a grant for code that function does not have: a permission to take away.
describe('the AWS calls listed for each function', () => {
  const HANDLERS: Record<FunctionName, string> = {
    api: 'api',
    authorizer: 'authorizer',
    stepRunner: 'step-runner',
    approvalHandler: 'approval-handler',
    statusHandler: 'status-handler',
    auditStream: 'audit-stream',
    notificationDelivery: 'notification-delivery',
    scheduleFire: 'schedule-fire',
    ssoTrigger: 'sso-trigger',
    lifecycle: 'lifecycle-handler',
  };
  it.each(FUNCTION_NAMES)(
    '%s bundles every command the list grants it',
    async (fn) => {
      // Act
      const commands = new Set(
        (await bundledFiles(HANDLERS[fn]))
          .map(
            (file) => /node_modules\/@aws-sdk\/[^/]+\/dist-es\/commands\/(\w+Command)\.js$/.exec(file)?.[1],
          )
          .filter((name) => name !== undefined),
      );
      const listed = [
        ...new Set(AWS_CALLS.filter((call) => call.functions.includes(fn)).map((c) => c.command)),
      ];
      // Assess
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.filter((command) => !commands.has(command))).toEqual([]);
    },
    60_000,
  );

  it.each(FUNCTION_NAMES)(
    '%s bundles every file the list says sends its calls',
    async (fn) => {
      // Act
      const files = new Set(await bundledFiles(HANDLERS[fn]));
      const listed = AWS_CALLS.filter((call) => call.functions.includes(fn)).map((c) => c.file);
      // Assess
      expect([...new Set(listed.filter((file) => !files.has(file)))]).toEqual([]);
    },
    60_000,
  );
});
