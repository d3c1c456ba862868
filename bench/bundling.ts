/**
 * The esbuild build the CDK runs for every Lambda function, reproduced for the benchmark.
 *
 * {@link CDK_BUNDLING} is the `bundling` props lib/constructs/function.ts passes to `NodejsFunction`
 * (imported, not copied); test/unit/bench-bundling.test.ts checks that MeridianFunction really passes
 * them. {@link esbuildOptions} then turns them into esbuild options the way aws-cdk-lib's
 * `Bundling.buildEsbuildArgs` turns them into CLI flags (`--bundle --platform=node ...`, run from the
 * project root).
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { BUNDLING_OPTIONS } from '../lib/constructs/function.ts';

/** The repository root (the CDK's `projectRoot`, where esbuild runs). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where the benchmark writes bundles and generated files (git- and biome-ignored). */
export const OUT_DIR = fileURLToPath(new URL('./.out/', import.meta.url));

/** The `bundling` props of `MeridianFunction`'s `NodejsFunction`. */
export const CDK_BUNDLING = BUNDLING_OPTIONS;

/** The esbuild options of the CDK's build of `entry` (absolute path) into `outfile`, plus a metafile. */
export function esbuildOptions(entry: string, outfile: string): BuildOptions & { metafile: true } {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: CDK_BUNDLING.target,
    format: CDK_BUNDLING.format,
    outfile,
    minify: CDK_BUNDLING.minify,
    // `--sourcemap` without a value: a linked `.map` file beside the bundle.
    sourcemap: CDK_BUNDLING.sourceMap,
    sourcesContent: CDK_BUNDLING.sourcesContent,
    external: [...CDK_BUNDLING.externalModules],
    banner: { js: CDK_BUNDLING.banner },
    mainFields: [...CDK_BUNDLING.mainFields],
    logLevel: 'warning',
    // Only adds the input graph to the result; the output is the same.
    metafile: true,
  };
}
