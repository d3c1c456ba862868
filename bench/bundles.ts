/** Sections `bundles` and `init` (each function beside its reference) and `validator`: built as deployed. */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, version } from 'esbuild';
import { BUNDLING_OPTIONS } from '../lib/constructs/function.ts';
import { kib, median, ms, OUT_DIR, PROJECT_ROOT, type SectionResult, table, verdict } from './lib.ts';
import { describeClients, REFERENCES, referenceSource } from './references.ts';

const SIZE_RATIO = 1.15;
const INIT_RATIO = 1.15;
const INIT_RUNS = 15;

/** What aws-cdk-lib's `Bundling` gives esbuild for `BUNDLING_OPTIONS` (test/unit/bench-bundling.test.ts). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions & { metafile: true } {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: BUNDLING_OPTIONS.target,
    format: BUNDLING_OPTIONS.format,
    outfile,
    minify: BUNDLING_OPTIONS.minify,
    sourcemap: BUNDLING_OPTIONS.sourceMap,
    sourcesContent: BUNDLING_OPTIONS.sourcesContent,
    external: [...BUNDLING_OPTIONS.externalModules],
    banner: { js: BUNDLING_OPTIONS.banner },
    mainFields: [...BUNDLING_OPTIONS.mainFields],
    logLevel: 'warning',
    metafile: true,
  };
}

/** Bundles `entry` into `outDir`: the bundle's path and size, and minified bytes per package or folder. */
async function bundle(entry: string, outDir: string) {
  const outfile = join(outDir, 'index.mjs');
  const { metafile } = await build(esbuildOptions(entry, outfile));
  const sources = new Map<string, number>();
  for (const [file, input] of Object.values(metafile.outputs).flatMap((o) => Object.entries(o.inputs))) {
    const source =
      /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1] ?? `${file.split('/')[0]}/ (project code)`;
    sources.set(source, (sources.get(source) ?? 0) + input.bytesInOutput);
  }
  return { path: outfile, bytes: (await stat(outfile)).size, sources };
}

/** The functions: every `.ts` file of functions/handlers/, each of which must have a reference. */
export async function handlerNames(): Promise<string[]> {
  const files = await readdir(join(PROJECT_ROOT, 'functions/handlers'));
  const names = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3));
  return names.sort();
}

/** What section `init` reads back: each function's bundle beside its reference's. */
type Built = { name: string; fn: { path: string }; ref: { path: string } };

const percent = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;
const times = (ratio: number): string => `${ratio.toFixed(2)}×`;

/** Section `bundles`: sizes of `index.mjs` (the source map not counted). */
export async function measureBundles(): Promise<SectionResult> {
  const root = join(OUT_DIR, 'bundles');
  await rm(root, { recursive: true, force: true });
  const built = [];
  for (const name of await handlerNames()) {
    const needs = REFERENCES[name];
    if (!needs) throw new Error(`bench/references.ts has no reference for functions/handlers/${name}.ts`);
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'reference-entry.mjs'), referenceSource(name, needs));
    const fn = await bundle(join(PROJECT_ROOT, `functions/handlers/${name}.ts`), join(dir, 'function'));
    const ref = await bundle(join(dir, 'reference-entry.mjs'), join(dir, 'reference'));
    // Minified bytes per package beyond the reference's, the largest four.
    const beyond = [...fn.sources]
      .map(([source, bytes]): [string, number] => [source, bytes - (ref.sources.get(source) ?? 0)])
      .filter(([, bytes]) => bytes > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([source, bytes]) => `${source} ${kib(bytes)}`);
    built.push({ name, fn, ref, ratio: fn.bytes / ref.bytes, beyond: beyond.join(', ') });
  }
  await writeFile(join(OUT_DIR, 'bundles.json'), JSON.stringify(built satisfies Built[]));
  return {
    rows: built.map((b) => ({
      target: `${b.name}: bundle ≤ +15 % of its reference`,
      measured: `${percent(b.ratio)} (${kib(b.fn.bytes)} vs ${kib(b.ref.bytes)})`,
      verdict: verdict(b.ratio <= SIZE_RATIO),
    })),
    values: {
      table: table(
        ['Function', 'Bundle', 'Reference', 'Ratio', 'Beyond the reference, largest first'],
        built.map((b) => [b.name, kib(b.fn.bytes), kib(b.ref.bytes), percent(b.ratio), b.beyond]),
      ),
      references: table(
        ['Function', 'Reference: clients besides Logger, Metrics, Tracer, DynamoDBDocumentClient', 'Why'],
        Object.entries(REFERENCES).map(([name, needs]) => [name, describeClients(needs), needs.why]),
      ),
      esbuild: version,
    },
  };
}

/** A deployed function's environment at cold start, dummy values; no credentials: init calls nothing. */
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

/** Plain ESM, evaluated by `node` itself, so no loader sits between node and the bundle. */
const RUNNER = `const start = performance.now();
const module = await import(process.argv[1]);
if (typeof module.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(performance.now() - start), () => process.exit(0));
`;

/** Section `init`: `await import(bundle)` timed in fresh processes; needs the last `bundles` run's output. */
export async function measureInit(): Promise<SectionResult> {
  const built: Built[] = JSON.parse(await readFile(join(OUT_DIR, 'bundles.json'), 'utf8').catch(() => '[]'));
  if (built.length === 0) throw new Error('No bundles: run the bundles section first');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...LAMBDA_ENV };
  const node = (...args: string[]) => execFileSync(process.execPath, args, { env, timeout: 30_000 });
  const time = (path: string) => Number(node('--input-type=module', '-e', RUNNER, pathToFileURL(path).href));
  const results = built.map((b) => ({ name: b.name, fn: [] as number[], ref: [] as number[] }));
  const jobs = built.flatMap((b, i) => [
    { path: b.fn.path, into: results[i]?.fn },
    { path: b.ref.path, into: results[i]?.ref },
  ]);
  for (const job of jobs) time(job.path); // one discarded import each: the file cache
  for (let round = 0; round < INIT_RUNS; round++) {
    // The order flips every round, so both sides see the same machine noise.
    for (const job of round % 2 === 0 ? jobs : [...jobs].reverse()) job.into?.push(time(job.path));
  }
  const medians = results.map(({ name, fn, ref }) => {
    // Each round's two imports run back to back: their ratio is less sensitive to other load.
    const paired = median(fn.map((f, k) => f / (ref[k] ?? Number.NaN)));
    return { name, fn: median(fn), ref: median(ref), ratio: median(fn) / median(ref), paired };
  });
  return {
    rows: medians.map((m) => ({
      target: `${m.name}: module init ≤ 1.15× its reference (median)`,
      measured: `${times(m.ratio)} (${ms(m.fn)} vs ${ms(m.ref)})`,
      verdict: verdict(m.ratio <= INIT_RATIO),
    })),
    values: {
      runs: String(INIT_RUNS),
      table: table(
        ['Function', 'Function median', 'Reference median', 'Ratio of medians', 'Median of paired ratios'],
        medians.map((m) => [m.name, ms(m.fn), ms(m.ref), times(m.ratio), times(m.paired)]),
      ),
    },
  };
}
