/** What the sections share: statistics, one Markdown table function, HTTP to the local API, a worker pool. */
import { fileURLToPath } from 'node:url';

/** The repository root (the CDK's `projectRoot`, where esbuild runs). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the bench writes bundles and generated files (git- and biome-ignored). */
export const OUT_DIR = fileURLToPath(new URL('./.out/', import.meta.url));

/** One line of the summary: a target, what was measured, and whether it is met (INFO: no target). */
export interface Row {
  readonly target: string;
  readonly measured: string;
  readonly verdict: 'PASS' | 'MISS' | 'INFO';
}

/** What a section hands back: summary rows and the values of its template placeholders. */
export interface SectionResult {
  readonly rows: readonly Row[];
  readonly values: Readonly<Record<string, string>>;
}

export const verdict = (ok: boolean): Row['verdict'] => (ok ? 'PASS' : 'MISS');

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
  const mid = Math.floor(ordered.length / 2);
  const upper = ordered[mid] as number;
  return ordered.length % 2 === 1 ? upper : ((ordered[mid - 1] as number) + upper) / 2;
}

/** `12.3 ms` */
export const ms = (value: number, digits = 1): string => `${value.toFixed(digits)} ms`;

/** A Markdown table; the only Markdown the bench writes (prose lives in bench/RESULTS.template.md). */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => String(v).replaceAll('|', '\\|').replaceAll('\n', ' ');
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** A response of the local API: status, the body's JSON object (empty when it is not one) and text. */
export interface Answer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly text: string;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type HttpHeaders = Readonly<Record<string, string>>;
export type ApiRequest = { method: string; path: string; body?: unknown; expect?: number };

/** One request to the local API (30 s timeout); throws with the response unless its status is `expect`. */
export async function call(apiUrl: string, request: ApiRequest, headers: HttpHeaders): Promise<Answer> {
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

/** A string field of a response's body; throws naming it when absent. */
export function field(answer: Answer, name: string): string {
  const value = answer.body[name];
  if (typeof value !== 'string') throw new Error(`Response has no string "${name}": ${answer.text}`);
  return value;
}

/** Runs `total` jobs `concurrency` at a time: the wall time and each job's own. */
export async function pool(total: number, concurrency: number, job: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const sent = performance.now();
        await job(next++);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return { wallMs: performance.now() - began, latencies };
}
