/**
 * Section 1: every Lambda entry point (`functions/handlers/*.ts`) and its reference handler, bundled
 * with the CDK's esbuild options into `bench/.out/bundles/<function>/{function,reference}/index.mjs`.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, OUT_DIR, PROJECT_ROOT } from './bundling.ts';
import { type ReferencePlan, referenceSource, sdkPackagesOf } from './reference.ts';

/** The folder of Lambda entry points; every `.ts` file in it is one function. */
const HANDLERS_DIR = join(PROJECT_ROOT, 'functions/handlers');

/** One built bundle. */
export interface Bundle {
  /** Absolute path of `index.mjs` (its `.map` lies beside it). */
  readonly path: string;
  /** Size of `index.mjs` in bytes (minified; the source map is not counted). */
  readonly bytes: number;
}

/** A function's bundle beside its reference's. */
export interface FunctionBundles {
  /** File name without `.ts`, e.g. `api`. */
  readonly name: string;
  /** Entry relative to the repository root, e.g. `functions/handlers/api.ts`. */
  readonly entry: string;
  readonly fn: Bundle;
  readonly reference: Bundle;
  /** The AWS SDK and Powertools packages the function imports (what the reference imports). */
  readonly packages: readonly string[];
  readonly plan: ReferencePlan;
  /** Where the function's extra bytes come from: bytes per package beyond the reference's, largest first. */
  readonly extra: readonly { readonly source: string; readonly bytes: number }[];
}

/** Minified bytes each package (or project folder) puts into the bundle. */
function bytesBySource(metafile: Metafile): Map<string, number> {
  const out = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, contribution] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
      const source = pkg ?? `${file.split('/')[0] ?? file}/ (project code)`;
      out.set(source, (out.get(source) ?? 0) + contribution.bytesInOutput);
    }
  }
  return out;
}

function extraBytes(
  fn: Map<string, number>,
  reference: Map<string, number>,
): { source: string; bytes: number }[] {
  return [...fn]
    .map(([source, bytes]) => ({ source, bytes: bytes - (reference.get(source) ?? 0) }))
    .filter((entry) => entry.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/** The Lambda entry points, sorted by name. */
export async function discoverHandlers(): Promise<{ name: string; entry: string }[]> {
  const files = await readdir(HANDLERS_DIR, { withFileTypes: true });
  return files
    .filter((file) => file.isFile() && file.name.endsWith('.ts') && !file.name.endsWith('.d.ts'))
    .map((file) => ({
      name: file.name.slice(0, -'.ts'.length),
      entry: relative(PROJECT_ROOT, join(HANDLERS_DIR, file.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function bundle(
  entry: string,
  outDir: string,
): Promise<{ bundle: Bundle; packages: string[]; sources: Map<string, number> }> {
  const outfile = join(outDir, 'index.mjs');
  const result = await build(esbuildOptions(entry, outfile));
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}`);
  return {
    bundle: { path: outfile, bytes: (await stat(outfile)).size },
    packages: sdkPackagesOf(result.metafile),
    sources: bytesBySource(result.metafile),
  };
}

/** A function esbuild could not bundle (a handler being written, say): reported, not measured. */
export interface FailedBundle {
  readonly name: string;
  readonly entry: string;
  readonly error: string;
}

function firstError(error: unknown): string {
  const errors: unknown =
    typeof error === 'object' && error !== null ? Reflect.get(error, 'errors') : undefined;
  const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
  const text: unknown = typeof first === 'object' && first !== null ? Reflect.get(first, 'text') : undefined;
  if (typeof text === 'string') return text;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Bundles every function and its reference (bundles of earlier runs are removed first). A function
 * that does not build is returned in `failed` and the others are still measured.
 */
export async function buildBundles(): Promise<{ built: FunctionBundles[]; failed: FailedBundle[] }> {
  const root = join(OUT_DIR, 'bundles');
  await rm(root, { recursive: true, force: true });
  const built: FunctionBundles[] = [];
  const failed: FailedBundle[] = [];
  const handlers = await discoverHandlers();
  if (handlers.length === 0) throw new Error(`No handlers found in ${HANDLERS_DIR}`);
  for (const { name, entry } of handlers) {
    const dir = join(root, name);
    let fn: Awaited<ReturnType<typeof bundle>>;
    try {
      fn = await bundle(join(PROJECT_ROOT, entry), join(dir, 'function'));
    } catch (error) {
      failed.push({ name, entry, error: firstError(error) });
      continue;
    }
    const { source, plan } = await referenceSource(entry, fn.packages);
    const referenceEntry = join(dir, 'reference-entry.mjs');
    await mkdir(dir, { recursive: true });
    await writeFile(referenceEntry, source);
    const reference = await bundle(referenceEntry, join(dir, 'reference'));
    built.push({
      name,
      entry,
      fn: fn.bundle,
      reference: reference.bundle,
      packages: fn.packages,
      plan,
      extra: extraBytes(fn.sources, reference.sources),
    });
  }
  return { built, failed };
}
