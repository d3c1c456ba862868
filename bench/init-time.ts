/**
 * Section 2: module-init time. Each bundle is imported by a fresh `node` process that times
 * `await import(bundle)` with `performance.now()`: what Lambda's init phase spends on the module
 * (read, parse, source map, evaluate), without the runtime's own start-up. Function and reference
 * runs alternate, so both see the same machine noise.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { FunctionBundles } from './bundles.ts';
import { OUT_DIR } from './bundling.ts';

const run = promisify(execFile);

/**
 * The environment of a deployed function at cold start: what MeridianFunction sets and its `bind*`
 * helpers add (functions/shared/config.ts parses them at import), with dummy values of the right
 * shape, plus what the Lambda runtime itself sets. No credentials: nothing is called at init.
 */
export const LAMBDA_ENV: Readonly<Record<string, string>> = Object.freeze({
  // MeridianFunction's environment.
  NODE_OPTIONS: '--enable-source-maps',
  POWERTOOLS_SERVICE_NAME: 'meridian-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Meridian',
  STAGE: 'bench',
  MERIDIAN_MODE: 'aws',
  // bindTable, bindAuditBucket, bindArtifactsBucket, bindUserPool, and the API's tenant data role.
  TABLE_NAME: 'meridian-bench',
  AUDIT_BUCKET_NAME: 'meridian-bench-audit',
  ARTIFACT_BUCKET_NAME: 'meridian-bench-artifacts',
  USER_POOL_ID: 'us-east-1_AbCdEfGhI',
  USER_POOL_CLIENT_ID: 'benchclientid0123456789abc',
  TENANT_DATA_ROLE_ARN: 'arn:aws:iam::123456789012:role/meridian-bench-tenant-data',
  SECRETS_PREFIX: 'meridian/bench/tenants',
  // The Lambda runtime.
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'meridian-bench',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/meridian-bench',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  TZ: ':UTC',
});

/** The runner each measurement process executes: plain ESM, so no loader sits between node and the bundle. */
const RUNNER_SOURCE = `const url = process.argv[2];
const start = performance.now();
const module = await import(url);
const ms = performance.now() - start;
if (typeof module.handler !== 'function') throw new Error(url + ' exports no handler function');
process.stdout.write(JSON.stringify({ ms }), () => process.exit(0));
`;

/** Init-time samples (ms) of one function and of its reference. */
export interface InitSamples {
  readonly name: string;
  readonly fn: readonly number[];
  readonly reference: readonly number[];
}

async function importTime(runner: string, bundlePath: string): Promise<number> {
  const { stdout } = await run(process.execPath, [runner, pathToFileURL(bundlePath).href], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...LAMBDA_ENV },
    timeout: 30_000,
    maxBuffer: 1024 * 1024,
  });
  const parsed: unknown = JSON.parse(stdout);
  const ms = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'ms') : undefined;
  if (typeof ms !== 'number') throw new Error(`Unexpected runner output for ${bundlePath}: ${stdout}`);
  return ms;
}

/**
 * Imports every bundle `runs` times, one process at a time, after one discarded warm-up import each
 * (file cache). Rounds alternate function-first and reference-first.
 */
export async function measureInit(bundles: readonly FunctionBundles[], runs: number): Promise<InitSamples[]> {
  const runner = join(OUT_DIR, 'init-runner.mjs');
  await writeFile(runner, RUNNER_SOURCE);
  const samples = bundles.map((b) => ({ name: b.name, fn: [] as number[], reference: [] as number[] }));
  const jobs = bundles.flatMap((b, i) => [
    { path: b.fn.path, into: samples[i]?.fn },
    { path: b.reference.path, into: samples[i]?.reference },
  ]);
  for (const job of jobs) await importTime(runner, job.path);
  for (let round = 0; round < runs; round++) {
    for (const job of round % 2 === 0 ? jobs : [...jobs].reverse()) {
      job.into?.push(await importTime(runner, job.path));
    }
  }
  return samples;
}
