/**
 * The esbuild build the CDK runs for every Lambda function, reproduced for the benchmark.
 *
 * lib/constructs/function.ts does not export its `bundling` props, so {@link CDK_BUNDLING} repeats them
 * field for field, and test/unit/bench-bundling.test.ts fails as soon as the two differ.
 * {@link esbuildOptions} then turns them into esbuild options the way aws-cdk-lib's
 * `Bundling.buildEsbuildArgs` turns them into CLI flags (`--bundle --platform=node ...`, run from the
 * project root).
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root (the CDK's `projectRoot`, where esbuild runs). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where the benchmark writes bundles and generated files (git- and biome-ignored). */
export const OUT_DIR = fileURLToPath(new URL('./.out/', import.meta.url));

/** The `bundling` props of `MeridianFunction`'s `NodejsFunction`, exactly as function.ts passes them. */
export const CDK_BUNDLING = Object.freeze({
  format: 'esm',
  target: 'node22',
  mainFields: Object.freeze(['module', 'main']),
  banner:
    "import { createRequire as topLevelCreateRequire } from 'node:module';const require = topLevelCreateRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: Object.freeze([] as string[]),
  forceDockerBundling: false,
} as const);

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
