/** `npm run bench [-- --only <section>] [-- --help]`: the sections below, into bench/RESULTS.md. */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, type SectionResult, table } from './lib.ts';
import type { BenchPlatform } from './platform.ts';

// Before any AWS SDK module loads: its notice that later versions need Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handlers run in-process as under `npm start`: no EMF metrics, no tracing, no logs (scale provokes 503s).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Up to 32 clients drive the demo tenant: its rate limits and concurrency cap would measure the limiter.
process.env.RATE_LIMIT_TENANT_PRO ??= '10000000';
process.env.RATE_LIMIT_API_KEY_PRO ??= '10000000';
process.env.MAX_RUNNING_EXECUTIONS_PRO ??= '100000';

/** The sections by name, as they appear, and what each measures. */
export const ABOUT: Readonly<Record<string, string>> = {
  bundles: "each function's bundle beside its reference",
  init: "module init of each function beside its reference (needs the last 'bundles')",
  authorizer: "the authorizer's in-process cost per request",
  validator: 'JSON Schema validation of an input at the body cap, beside Ajv',
  executions: 'local executions/s and latency by concurrency',
  overhead: "the step runner's own time per agent step",
  cost: 'cost per 1,000 executions on AWS, from recorded executions',
  scale: 'audit and usage at scale: one tenant against eight, starts at 32',
  'rate-limits': "the rate limiter's accuracy across containers and overhead per request",
  console: "the console's initial JavaScript and time to interactive (Chromium)",
};

export const ALONE: Readonly<Record<string, () => Promise<SectionResult>>> = {
  bundles: async () => (await import('./bundles.ts')).measureBundles(),
  init: async () => (await import('./bundles.ts')).measureInit(),
  authorizer: async () => (await import('./authorizer.ts')).measureAuthorizer(),
  validator: async () => (await import('./validator.ts')).measureValidator(),
  console: async () => (await import('./console.ts')).measureConsole(),
};

/** The sections on the one bench platform (bench/platform.ts), run after the others in this order. */
export const ON_PLATFORM: Readonly<Record<string, (bench: BenchPlatform) => Promise<SectionResult>>> = {
  executions: async (b) => (await import('./executions.ts')).measureExecutions(b),
  overhead: async (b) => (await import('./executions.ts')).measureOverhead(b),
  cost: async (b) => (await import('./cost.ts')).measureCost(b),
  scale: async (b) => (await import('./scale.ts')).measureScale(b),
  'rate-limits': async () => (await import('./rate-limit.ts')).measureRateLimits(),
};

const RESULTS = join(PROJECT_ROOT, 'bench/RESULTS.md');
const TEMPLATE = join(PROJECT_ROOT, 'bench/RESULTS.template.md');
const DATA = join(PROJECT_ROOT, 'bench/results.json');

/** When and where a section ran (`load`: the load averages over 1, 5, 15 min at its start). */
type RunInfo = Readonly<Record<'date' | 'commit' | 'machine' | 'load', string>>;
/** What bench/results.json keeps per section. */
export type Stored = SectionResult & RunInfo & { readonly seconds: number };

/** RESULTS.md: the template with `{{summary}}` and every `{{section.key}}` filled in. */
export function render(template: string, stored: Readonly<Record<string, Stored>>): string {
  const rows = Object.keys(ABOUT).flatMap((name) => {
    const run = `${name}, ${stored[name]?.date.slice(0, 16)}`;
    return (stored[name]?.rows ?? []).map((r) => [r.target, r.measured, r.verdict, run]);
  });
  const summary = table(['Target', 'Measured', 'Result', 'Run'], rows);
  return template.replace(/\{\{(\w[\w-]*)(?:\.(\w+))?\}\}/g, (_, section: string, key = '') => {
    if (section === 'summary' && !key) return summary;
    const s = stored[section];
    if (!s) return '(not measured yet)';
    const meta: Record<string, string> = { date: s.date, commit: s.commit, machine: s.machine, load: s.load };
    return s.values[key] ?? meta[key] ?? (key === 'seconds' ? s.seconds.toFixed(0) : `{{${section}.${key}}}`);
  });
}

function help(): string {
  const width = Math.max(...Object.keys(ABOUT).map((name) => name.length));
  return [
    'npm run bench                       every section, then bench/RESULTS.md',
    'npm run bench -- --only <section>   one section; the others keep their last figures',
    '',
    'Sections:',
    ...Object.entries(ABOUT).map(([name, about]) => `  ${name.padEnd(width)}  ${about}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(`${help()}\n`);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const chosen = Object.keys(ABOUT).filter((name) => !only || name === only);
  if (chosen.length === 0) throw new Error(`No section "${only}".\n\n${help()}`);
  const stored: Record<string, Stored> = JSON.parse(await readFile(DATA, 'utf8').catch(() => '{}'));
  const commit = String(execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT })).trim();
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`;
  const machine = `${cpu}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${type()} ${release()}, Node.js ${process.version}`;
  const run = async (name: string, measure: () => Promise<SectionResult>): Promise<void> => {
    process.stdout.write(`${name}: ${ABOUT[name]}…\n`);
    const started = performance.now();
    const load = loadavg().map((n) => n.toFixed(2));
    const at = { date: new Date().toISOString(), load: load.join(', '), commit, machine };
    try {
      const result = await measure();
      stored[name] = { ...result, ...at, seconds: (performance.now() - started) / 1000 };
      for (const r of result.rows)
        process.stdout.write(`  ${r.verdict.padEnd(4)} ${r.target}: ${r.measured}\n`);
    } catch (error) {
      // A section that could not be measured leaves the run incomplete, unlike a missed target.
      process.exitCode = 1;
      process.stdout.write(`  ERROR (last figures kept): ${error instanceof Error ? error.stack : error}\n`);
    }
  };
  for (const [name, measure] of Object.entries(ALONE)) if (chosen.includes(name)) await run(name, measure);
  const onPlatform = Object.entries(ON_PLATFORM).filter(([name]) => chosen.includes(name));
  if (onPlatform.length > 0) {
    const { withBenchPlatform } = await import('./platform.ts');
    await withBenchPlatform(async (bench) => {
      for (const [name, measure] of onPlatform) await run(name, () => measure(bench));
    });
  }
  await writeFile(DATA, `${JSON.stringify(stored, null, 2)}\n`);
  await writeFile(RESULTS, render(await readFile(TEMPLATE, 'utf8'), stored));
  process.stdout.write(`Wrote ${RESULTS}\n`);
}

if (process.argv[1]?.endsWith('run.ts')) await main();
