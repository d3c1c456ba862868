/**
 * `npm run bench -- --console`: the console's budgets, written as a section of bench/RESULTS.md.
 * - Initial JavaScript: the Vite manifest's entry (`index.html`) and every chunk it imports
 *   statically, gzipped (what a first visit must download before anything runs); lazy pages and
 *   the graph and chart libraries are dynamic imports, listed but not counted.
 * - Time to interactive: Chromium loads `/console/` from a local platform; the console sets the
 *   performance mark `console-interactive` when its first screen is usable (the sign-in form, or
 *   the signed-in shell after GET /me). Measured from navigation start (`performance.timeOrigin`),
 *   with the Navigation Timing entry beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startPlatformProcess } from '../test/helpers/platform-process.ts';
import { PROJECT_ROOT } from './bundling.ts';

/** The console's budgets (docs/console.md, "Tests and budgets"). */
export const INITIAL_JS_BUDGET_BYTES = 150 * 1024;
export const INTERACTIVE_BUDGET_MS = 1_500;
const RUNS = 7;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

export interface ConsoleBench {
  readonly initialFiles: { file: string; bytes: number; gzip: number }[];
  readonly initialGzip: number;
  readonly lazyFiles: { file: string; gzip: number }[];
  readonly loads: { interactiveMs: number; domContentLoadedMs: number; loadEventMs: number }[];
  readonly signedIn: number[];
}

const DIST = join(PROJECT_ROOT, 'console/dist');

async function gzipSize(file: string): Promise<{ bytes: number; gzip: number }> {
  const body = await readFile(join(DIST, file));
  return { bytes: body.length, gzip: gzipSync(body).length };
}

/** The entry chunk and its static imports, transitively (what index.html loads before the app runs). */
export function initialChunks(manifest: Record<string, ManifestChunk>): string[] {
  const entry = manifest['index.html'];
  if (!entry) throw new Error('console manifest has no index.html entry');
  const seen = new Set<string>();
  const visit = (key: string): void => {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) return;
    seen.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  visit('index.html');
  return [...seen].filter((f) => f.endsWith('.js'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Runs in the page (a function, not a string: the CSP forbids eval, which string predicates need).
 * Typed through globalThis because this file is checked without the DOM library.
 */
function requestsSettled(): boolean {
  const doc = (globalThis as { document?: { body: { dataset: Record<string, string | undefined> } } })
    .document;
  return doc?.body.dataset.pending === '0';
}

export async function measureConsole(log: (line: string) => void): Promise<ConsoleBench> {
  log('Console: building (npm run console:build)…');
  const built = spawnSync('npm', ['run', '--silent', 'console:build'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('npm run console:build failed');
  const manifest = JSON.parse(await readFile(join(DIST, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const initial = initialChunks(manifest);
  const initialFiles = await Promise.all(initial.map(async (file) => ({ file, ...(await gzipSize(file)) })));
  const lazy = [...new Set(Object.values(manifest).map((c) => c.file))].filter(
    (f) => f.endsWith('.js') && !initial.includes(f),
  );
  const lazyFiles = await Promise.all(
    lazy.map(async (file) => ({ file, gzip: (await gzipSize(file)).gzip })),
  );

  log('Console: time to interactive in Chromium against a local platform…');
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-bench-console-'));
  const platform = await startPlatformProcess(stateDir, { POWERTOOLS_LOG_LEVEL: 'WARN' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const loads: ConsoleBench['loads'] = [];
  const signedIn: number[] = [];
  try {
    const url = `${platform.apiUrl}/console/`;
    const admin = platform.demo.users[0];
    if (!admin) throw new Error('the demo tenant has no users');
    // One untimed load warms the platform and the OS file cache, as a returning visitor's CDN would.
    for (let run = 0; run <= RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => performance.getEntriesByName('console-interactive').length > 0);
      const timing = await page.evaluate<{ interactive: number; dcl: number; load: number }>(
        `(() => { const n = performance.getEntriesByType('navigation')[0];
          return { interactive: performance.getEntriesByName('console-interactive')[0].startTime,
                   dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; })()`,
      );
      // Signed in: submit to the shell's first usable screen (GET /me answered, executions page drawn).
      await page.getByLabel('Email').fill(admin.username);
      await page.getByLabel('Password').fill(admin.password);
      const before = await page.evaluate<number>('performance.now()');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor();
      await page.waitForFunction(requestsSettled);
      const after = await page.evaluate<number>('performance.now()');
      if (run > 0) {
        loads.push({
          interactiveMs: timing.interactive,
          domContentLoadedMs: timing.dcl,
          loadEventMs: timing.load,
        });
        signedIn.push(after - before);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  return {
    initialFiles,
    initialGzip: initialFiles.reduce((sum, f) => sum + f.gzip, 0),
    lazyFiles: lazyFiles.sort((a, b) => b.gzip - a.gzip),
    loads,
    signedIn,
  };
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number): string => `${Math.round(value)} ms`;

export function consoleMarkdown(result: ConsoleBench, machine: string, date: string): string {
  const interactive = result.loads.map((l) => l.interactiveMs);
  const p50 = median(interactive);
  const worst = Math.max(...interactive);
  const lines = [
    '## Console: initial JavaScript and time to interactive',
    '',
    `Taken ${date} on ${machine}. \`npm run bench -- --console\` (bench/console.ts).`,
    '',
    '| Budget | Target | Measured | |',
    '|---|---|---|---|',
    `| Initial JavaScript, gzipped | ≤ ${kb(INITIAL_JS_BUDGET_BYTES)} | ${kb(result.initialGzip)} | ${result.initialGzip <= INITIAL_JS_BUDGET_BYTES ? 'met' : '**missed**'} |`,
    `| Interactive after navigation (median of ${result.loads.length}; worst) | ≤ ${ms(INTERACTIVE_BUDGET_MS)} | ${ms(p50)}; ${ms(worst)} | ${worst <= INTERACTIVE_BUDGET_MS ? 'met' : '**missed**'} |`,
    '',
    '**Initial JavaScript** is the Vite manifest entry (`index.html`) and every chunk it imports statically, each',
    'gzipped with zlib (default level), as served on a first visit. Pages other than executions and',
    'approvals, the schema validators, elkjs (graph layout) and uPlot (charts) are dynamic imports, loaded when used:',
    '',
    '| File | Size | Gzipped |',
    '|---|---|---|',
    ...result.initialFiles.map((f) => `| ${f.file} (initial) | ${kb(f.bytes)} | ${kb(f.gzip)} |`),
    ...result.lazyFiles.map((f) => `| ${f.file} (on demand) | | ${kb(f.gzip)} |`),
    '',
    '**Time to interactive**: headless Chromium (Debian package, driven by playwright-core) loads',
    '`http://127.0.0.1:<port>/console/` from a local platform, each load in a fresh context (empty cache), after one',
    'untimed load. The console sets the performance mark `console-interactive` when its first screen accepts',
    'input (the sign-in form: tokens live in memory only, so every load starts there); the value is the',
    "mark's `startTime`, i.e. milliseconds since navigation start. DOMContentLoaded and load are",
    "`performance.getEntriesByType('navigation')[0]`.",
    '',
    '| Run | console-interactive | DOMContentLoaded | load | sign-in → executions drawn |',
    '|---|---|---|---|---|',
    ...result.loads.map(
      (l, i) =>
        `| ${i + 1} | ${ms(l.interactiveMs)} | ${ms(l.domContentLoadedMs)} | ${ms(l.loadEventMs)} | ${ms(result.signedIn[i] ?? Number.NaN)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
