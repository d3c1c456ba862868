import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it, vi } from 'vitest';
import { esbuildOptions } from '../../bench/bundles.ts';
import { PROJECT_ROOT } from '../../bench/lib.ts';
import {
  BUNDLING_OPTIONS as CDK_BUNDLING,
  PROJECT_ROOT as CDK_PROJECT_ROOT,
  MeridianFunction,
} from '../../lib/constructs/function.ts';

const captured = vi.hoisted(() => [] as NodejsFunctionProps[]);

// The real NodejsFunction, recording the props function.ts gives it.
vi.mock('aws-cdk-lib/aws-lambda-nodejs', async (importOriginal) => {
  const original = await importOriginal<typeof import('aws-cdk-lib/aws-lambda-nodejs')>();
  class RecordingNodejsFunction extends original.NodejsFunction {
    constructor(...args: ConstructorParameters<typeof original.NodejsFunction>) {
      if (args[2]) captured.push(args[2]);
      super(...args);
    }
  }
  return { ...original, NodejsFunction: RecordingNodejsFunction };
});

function bundlingOfMeridianFunction(): NodejsFunctionProps['bundling'] {
  // Bundling skipped: only the props matter here, not the esbuild run.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'BenchBundling');
  new MeridianFunction(stack, 'Fn', {
    entry: 'functions/handlers/api.ts',
    description: 'bench bundling check',
    stage: 'dev',
    serviceName: 'bench',
    memorySize: 512,
    timeout: Duration.seconds(10),
    logRetention: RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
  });
  expect(captured).toHaveLength(1);
  return captured[0]?.bundling;
}

describe('bench/bundles.ts', () => {
  it('uses exactly the bundling props MeridianFunction passes to NodejsFunction', () => {
    // Prepare / Act
    const bundling = bundlingOfMeridianFunction();

    // Assess
    expect(bundling).toStrictEqual({
      ...CDK_BUNDLING,
      mainFields: [...CDK_BUNDLING.mainFields],
      externalModules: [...CDK_BUNDLING.externalModules],
    });
  });

  it('builds from the same project root as the CDK', () => {
    expect(PROJECT_ROOT).toBe(CDK_PROJECT_ROOT);
  });

  it('maps the props to the esbuild options the CDK derives from them', () => {
    // Act
    const options = esbuildOptions('/x/entry.ts', '/x/out/index.mjs');

    // Assess
    expect(options).toMatchObject({
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: [],
      mainFields: ['module', 'main'],
      banner: { js: CDK_BUNDLING.banner },
    });
  });
});
