import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../bench/bundles.ts';

/** The npm packages with code in the bundle of a handler, as esbuild builds it for Lambda. */
async function packagesOf(handler: string): Promise<Set<string>> {
  // Exactly what the CDK builds (bench/bundles.ts; test/unit/bench-bundling.test.ts holds them equal).
  const out = await build({
    ...esbuildOptions(`functions/handlers/${handler}.ts`, 'out/index.mjs'),
    write: false,
    logLevel: 'silent',
  });
  const packages = new Set<string>();
  for (const output of Object.values(out.metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
      if (name && bytesInOutput > 0) packages.add(name);
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
    ['schedule-fire', ['@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager']],
    ['step-runner', ['@aws-sdk/client-sfn', '@aws-sdk/client-scheduler']],
    ['lifecycle-handler', ['@aws-sdk/client-scheduler']],
  ])(
    '%s bundles none of %j',
    async (handler, absent) => {
      // Act
      const packages = await packagesOf(handler);
      // Assess
      expect(packages.has('@aws-sdk/client-dynamodb')).toBe(true);
      expect(absent.filter((name) => packages.has(name))).toEqual([]);
    },
    60_000,
  );
});
