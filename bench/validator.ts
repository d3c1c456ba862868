/** Section `validator`: JSON Schema validation per value, minified as deployed, beside Ajv's generated code. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { JSON_LIMITS } from '#shared/json-limits.ts';
import { esbuildOptions } from './bundles.ts';
import { ms, OUT_DIR, PROJECT_ROOT, type SectionResult, table, verdict } from './lib.ts';
import { RUNS, type runCases } from './validator-cases.ts';

/** Target (ours; no issue names one): a start's input at the body cap validates within this, median. */
const TARGET_MS = 20;

export async function measureValidator(): Promise<SectionResult> {
  const dir = join(OUT_DIR, 'validator');
  const entry = join(dir, 'entry.mjs');
  const options = esbuildOptions(entry, join(dir, 'index.mjs'));
  await build({
    ...options,
    stdin: {
      contents: `import { runCases } from './bench/validator-cases.ts';\nconsole.log(JSON.stringify(runCases()));`,
      resolveDir: PROJECT_ROOT,
      loader: 'ts',
    },
    entryPoints: undefined,
  });
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'index.mjs')]);
  const results: ReturnType<typeof runCases> = JSON.parse(stdout);
  return {
    rows: results.map((r) => ({
      target: `validator: a ${JSON_LIMITS.maxBodyBytes / 1024} KiB input of ${r.name} ≤ ${ms(TARGET_MS, 0)} (median)`,
      measured: `${ms(r.ours)} (Ajv's generated code ${ms(r.ajv, 2)})`,
      verdict: verdict(r.ours <= TARGET_MS),
    })),
    values: {
      runs: String(RUNS),
      table: table(
        ['Input schema', 'Items', 'This validator', 'Ajv 8, generated code', 'Ratio'],
        results.map((r) => [r.name, r.items, ms(r.ours, 2), ms(r.ajv, 2), `${(r.ours / r.ajv).toFixed(0)}×`]),
      ),
    },
  };
}
