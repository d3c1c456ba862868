/**
 * Sections `bundles` and `init`: every Lambda entry point (functions/handlers/*.ts) and its reference
 * (bench/references.ts), bundled with the CDK's esbuild options, then imported in fresh `node`
 * processes, function and reference alternating.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { BUNDLING_OPTIONS } from '../lib/constructs/function.ts';
import { median, ms, OUT_DIR, PROJECT_ROOT, type SectionResult, table, verdict } from './lib.ts';
import { describeClients, REFERENCES, referenceSource } from './references.ts';

/** Issue 11, point 5: bundle within +15 % of its reference, module init within 1.15×. */
const SIZE_RATIO = 1.15;
const INIT_RATIO = 1.15;
const INIT_RUNS = 15;

/**
 * The esbuild options of the CDK's build of `entry`, as aws-cdk-lib's `Bundling` turns
 * `BUNDLING_OPTIONS` (lib/constructs/function.ts) into flags; test/unit/bench-bundling.test.ts holds
 * them equal to what MeridianFunction passes.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions & { metafile: true } {
  const b = BUNDLING_OPTIONS;
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: b.target,
    format: b.format,
    outfile,
    minify: b.minify,
    sourcemap: b.sourceMap,
    sourcesContent: b.sourcesContent,
    external: [...b.externalModules],
    banner: { js: b.banner },
    mainFields: [...b.mainFields],
    logLevel: 'warning',
    metafile: true,
  };
}

/** A function's bundle beside its reference's. */
interface Built {
  readonly name: string;
  readonly fn: { path: string; bytes: number };
  readonly ref: { path: string; bytes: number };
  /** Minified bytes per package beyond the reference's, largest first. */
  readonly extra: readonly [string, number][];
}

function bytesBySource(metafile: Metafile): Map<string, number> {
  const out = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const source =
        /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1] ?? `${file.split('/')[0]}/ (project code)`;
      out.set(source, (out.get(source) ?? 0) + bytesInOutput);
    }
  }
  return out;
}

async function bundle(entry: string, outDir: string) {
  const outfile = join(outDir, 'index.mjs');
  const { metafile } = await build(esbuildOptions(entry, outfile));
  return { path: outfile, bytes: (await stat(outfile)).size, sources: bytesBySource(metafile) };
}

/** The functions: every `.ts` file of functions/handlers/, each of which must have a reference. */
export async function handlerNames(): Promise<string[]> {
  const files = await readdir(join(PROJECT_ROOT, 'functions/handlers'), { withFileTypes: true });
  return files
    .filter((f) => f.isFile() && f.name.endsWith('.ts') && !f.name.endsWith('.d.ts'))
    .map((f) => f.name.slice(0, -3))
    .sort();
}

async function buildAll(): Promise<Built[]> {
  const root = join(OUT_DIR, 'bundles');
  await rm(root, { recursive: true, force: true });
  const out: Built[] = [];
  for (const name of await handlerNames()) {
    const needs = REFERENCES[name];
    if (!needs)
      throw new Error(`bench/references.ts declares no reference for functions/handlers/${name}.ts`);
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'reference-entry.mjs'), referenceSource(name, needs));
    const fn = await bundle(join(PROJECT_ROOT, `functions/handlers/${name}.ts`), join(dir, 'function'));
    const ref = await bundle(join(dir, 'reference-entry.mjs'), join(dir, 'reference'));
    const extra = [...fn.sources]
      .map(([source, bytes]): [string, number] => [source, bytes - (ref.sources.get(source) ?? 0)])
      .filter(([, bytes]) => bytes > 0)
      .sort((a, b) => b[1] - a[1]);
    out.push({ name, fn, ref, extra });
  }
  return out;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const percent = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;

/** Section `bundles`: sizes of `index.mjs` (the source map not counted). */
export async function measureBundles(): Promise<SectionResult> {
  const built = await buildAll();
  await writeFile(join(OUT_DIR, 'bundles.json'), JSON.stringify(built));
  return {
    rows: built.map((b) => ({
      target: `${b.name}: bundle ≤ +15 % of its reference`,
      measured: `${percent(b.fn.bytes / b.ref.bytes)} (${kib(b.fn.bytes)} vs ${kib(b.ref.bytes)})`,
      verdict: verdict(b.fn.bytes / b.ref.bytes <= SIZE_RATIO),
    })),
    values: {
      table: table(
        ['Function', 'Bundle', 'Reference', 'Ratio', 'Beyond the reference, largest first'],
        built.map((b) => [
          b.name,
          kib(b.fn.bytes),
          kib(b.ref.bytes),
          percent(b.fn.bytes / b.ref.bytes),
          b.extra
            .slice(0, 4)
            .map(([source, bytes]) => `${source} ${kib(bytes)}`)
            .join(', '),
        ]),
      ),
      references: table(
        ['Function', 'Reference: clients besides Logger, Metrics, Tracer, DynamoDBDocumentClient', 'Why'],
        Object.entries(REFERENCES).map(([name, needs]) => [name, describeClients(needs), needs.why]),
      ),
      esbuild: (await import('esbuild')).version,
    },
  };
}

/**
 * The environment of a deployed function at cold start (what MeridianFunction and its `bind*`
 * helpers set, dummy values of the right shape, plus the Lambda runtime's); no credentials, since
 * nothing is called at init.
 */
export const LAMBDA_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--enable-source-maps',
  POWERTOOLS_SERVICE_NAME: 'meridian-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Meridian',
  STAGE: 'bench',
  MERIDIAN_MODE: 'aws',
  TABLE_NAME: 'meridian-bench',
  AUDIT_BUCKET_NAME: 'meridian-bench-audit',
  ARTIFACT_BUCKET_NAME: 'meridian-bench-artifacts',
  USER_POOL_ID: 'us-east-1_AbCdEfGhI',
  USER_POOL_CLIENT_ID: 'benchclientid0123456789abc',
  TENANT_DATA_ROLE_ARN: 'arn:aws:iam::123456789012:role/meridian-bench-tenant-data',
  SECRETS_PREFIX: 'meridian/bench/tenants',
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
};

/** Plain ESM, so no loader sits between node and the bundle. */
const RUNNER = `const start = performance.now();
const module = await import(process.argv[2]);
if (typeof module.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(performance.now() - start), () => process.exit(0));
`;

/** Section `init`: `await import(bundle)` timed in a fresh process; needs the bundles of section `bundles`. */
export async function measureInit(): Promise<SectionResult> {
  const { readFile } = await import('node:fs/promises');
  const built = JSON.parse(
    await readFile(join(OUT_DIR, 'bundles.json'), 'utf8').catch(() => '[]'),
  ) as Built[];
  if (built.length === 0) throw new Error('No bundles: run the bundles section first');
  const runner = join(OUT_DIR, 'init-runner.mjs');
  await writeFile(runner, RUNNER);
  const time = async (path: string): Promise<number> => {
    const { stdout } = await promisify(execFile)(process.execPath, [runner, pathToFileURL(path).href], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...LAMBDA_ENV },
      timeout: 30_000,
    });
    return Number(stdout);
  };
  const samples = built.map(() => ({ fn: [] as number[], ref: [] as number[] }));
  const jobs = built.flatMap((b, i) => [
    { path: b.fn.path, into: samples[i]?.fn },
    { path: b.ref.path, into: samples[i]?.ref },
  ]);
  for (const job of jobs) await time(job.path); // one discarded import each: the file cache
  for (let round = 0; round < INIT_RUNS; round++) {
    // The order flips every round, so both sides see the same machine noise.
    for (const job of round % 2 === 0 ? jobs : [...jobs].reverse()) job.into?.push(await time(job.path));
  }
  const results = built.map((b, i) => {
    const s = samples[i] ?? { fn: [], ref: [] };
    // Each round's two imports run back to back: their ratio is less sensitive to other load.
    const paired = median(s.fn.map((f, k) => f / (s.ref[k] ?? Number.NaN)));
    return { name: b.name, fn: median(s.fn), ref: median(s.ref), paired };
  });
  return {
    rows: results.map((r) => ({
      target: `${r.name}: module init ≤ 1.15× its reference (median)`,
      measured: `${(r.fn / r.ref).toFixed(2)}× (${ms(r.fn)} vs ${ms(r.ref)})`,
      verdict: verdict(r.fn / r.ref <= INIT_RATIO),
    })),
    values: {
      runs: String(INIT_RUNS),
      table: table(
        ['Function', 'Function median', 'Reference median', 'Ratio of medians', 'Median of paired ratios'],
        results.map((r) => [
          r.name,
          ms(r.fn),
          ms(r.ref),
          `${(r.fn / r.ref).toFixed(2)}×`,
          `${r.paired.toFixed(2)}×`,
        ]),
      ),
    },
  };
}
