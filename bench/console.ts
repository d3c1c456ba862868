/** Section `console`: initial JavaScript and time to interactive (bench/RESULTS.template.md). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startPlatformProcess } from '../test/helpers/platform-process.ts';
import { median, PROJECT_ROOT, type SectionResult, table, verdict } from './lib.ts';

const INITIAL_JS_BYTES = 150 * 1024;
const INTERACTIVE_MS = 1500;
const RUNS = 7;
const DIST = join(PROJECT_ROOT, 'console/dist');

/** A chunk of the Vite manifest, by its source. */
type Chunk = { file: string; isEntry?: boolean; imports?: string[]; dynamicImports?: string[] };

/** The entry chunk and its static imports, transitively: what a first visit loads before the app runs. */
export function initialChunks(manifest: Readonly<Record<string, Chunk>>): string[] {
  const seen = new Set<string>();
  const visit = (key: string): void => {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) return;
    seen.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  if (!manifest['index.html']) throw new Error('console manifest has no index.html entry');
  visit('index.html');
  return [...seen].filter((f) => f.endsWith('.js'));
}

export async function measureConsole(): Promise<SectionResult> {
  execFileSync('npm', ['run', '--silent', 'console:build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const manifest: Record<string, Chunk> = JSON.parse(readFileSync(join(DIST, '.vite/manifest.json'), 'utf8'));
  const initial = initialChunks(manifest);
  const gzipped = (file: string) => gzipSync(readFileSync(join(DIST, file))).length;
  const scripts = [...new Set(Object.values(manifest).map((c) => c.file))].filter((f) => f.endsWith('.js'));
  const files = scripts.map((file) => ({ file, initial: initial.includes(file), gzip: gzipped(file) }));
  const initialGzip = files.filter((f) => f.initial).reduce((n, f) => n + f.gzip, 0);

  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-bench-console-'));
  const platform = await startPlatformProcess(stateDir, { POWERTOOLS_LOG_LEVEL: 'WARN' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const interactive: number[] = [];
  try {
    // One untimed load first warms the platform and the OS file cache.
    for (let run = 0; run <= RUNS; run++) {
      const page = await browser.newPage(); // in a fresh context, closed with it
      await page.goto(`${platform.apiUrl}/console/`);
      const mark = await page.waitForFunction(
        () => performance.getEntriesByName('console-interactive')[0]?.startTime,
      );
      if (run > 0) interactive.push(Number(await mark.jsonValue()));
      await page.close();
    }
  } finally {
    await browser.close();
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  const worst = Math.max(...interactive);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  return {
    rows: [
      {
        target: 'Console: initial JavaScript gzipped ≤ 150 KB',
        measured: kb(initialGzip),
        verdict: verdict(initialGzip <= INITIAL_JS_BYTES),
      },
      {
        target: `Console: interactive after navigation ≤ ${INTERACTIVE_MS} ms (worst of ${RUNS})`,
        measured: `median ${median(interactive).toFixed(0)} ms, worst ${worst.toFixed(0)} ms`,
        verdict: verdict(worst <= INTERACTIVE_MS),
      },
    ],
    values: {
      runs: String(RUNS),
      files: table(
        ['File', 'Loaded', 'Gzipped'],
        files
          .sort((a, b) => Number(b.initial) - Number(a.initial) || b.gzip - a.gzip)
          .map((f) => [f.file, f.initial ? 'initially' : 'on demand', kb(f.gzip)]),
      ),
    },
  };
}
