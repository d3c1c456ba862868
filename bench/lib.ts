/** What the sections share: statistics, one Markdown table function, HTTP to the local API, a worker pool. */
import { fileURLToPath } from 'node:url';

/** The repository root (the CDK's `projectRoot`, where esbuild runs). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the bench writes bundles and generated files (git- and biome-ignored). */
export const OUT_DIR = fileURLToPath(new URL('./.out/', import.meta.url));

/** What a section hands back: summary rows and the values of its template placeholders. */
export interface SectionResult {
  /** A target, what was measured, and whether it is met (INFO: no target). */
  readonly rows: readonly { target: string; measured: string; verdict: 'PASS' | 'MISS' | 'INFO' }[];
  readonly values: Readonly<Record<string, string>>;
}

export const verdict = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new Error('No samples');
  return [...values].sort((a, b) => a - b);
}

/** The p-th percentile (0 to 100), nearest rank: the smallest sample with at least p % at or below it. */
export function percentile(values: readonly number[], p: number): number {
  const ordered = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * ordered.length));
  return ordered[Math.min(rank, ordered.length) - 1] as number;
}

/** The middle sample, or the mean of the two middle ones of an even count. */
export function median(values: readonly number[]): number {
  const ordered = sorted(values);
  const n = ordered.length;
  return ((ordered[Math.ceil(n / 2) - 1] as number) + (ordered[Math.floor(n / 2)] as number)) / 2;
}

export const ms = (value: number, digits = 1): string => `${value.toFixed(digits)} ms`;
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** A Markdown table; the only Markdown the bench writes (prose lives in bench/RESULTS.template.md). */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => String(v).replaceAll('|', '\\|').replaceAll('\n', ' ');
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type HttpHeaders = Readonly<Record<string, string>>;
export type ApiRequest = { method: string; path: string; body?: unknown; expect?: number };

/** One request to the local API (30 s timeout): status, JSON body (or {}), text; throws unless `expect`. */
export async function call(apiUrl: string, request: ApiRequest, headers: HttpHeaders) {
  const { method, path, body, expect } = request;
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (expect !== undefined && response.status !== expect)
    throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  const json: unknown = await new Response(text).json().catch(() => undefined); // not every body is JSON
  return { status: response.status, body: isObject(json) ? json : {}, text };
}

export function field(answer: Awaited<ReturnType<typeof call>>, name: string): string {
  const value = answer.body[name];
  if (typeof value !== 'string') throw new Error(`Response has no string "${name}": ${answer.text}`);
  return value;
}

/** Runs `total` jobs `concurrency` at a time, a pause after each: the wall time and each job's own. */
export async function pool(total: number, concurrency: number, job: (i: number) => unknown, pauseMs = 0) {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const sent = performance.now();
        await job(next++);
        latencies.push(performance.now() - sent);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }),
  );
  return { wallMs: performance.now() - began, latencies };
}
