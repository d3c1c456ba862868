/** Section `validator`: JSON Schema validation per value, minified as deployed, beside Ajv's generated code. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { JSON_LIMITS } from '#shared/json-limits.ts';
import { esbuildOptions } from './bundles.ts';
import { ms, OUT_DIR, PROJECT_ROOT, type SectionResult, table, verdict } from './lib.ts';
import { type runCases, RUNS as VALIDATOR_RUNS } from './validator-cases.ts';

/** Target (ours; no issue names one): a start's input at the body cap validates within this, median. */
const VALIDATOR_MS = 20;
const VALIDATOR_ENTRY =
  "import { runCases } from './bench/validator-cases.ts';\nconsole.log(JSON.stringify(runCases()));";

export async function measureValidator(): Promise<SectionResult> {
  const outfile = join(OUT_DIR, 'validator/index.mjs');
  const stdin = { contents: VALIDATOR_ENTRY, resolveDir: PROJECT_ROOT, loader: 'ts' } as const;
  await build({ ...esbuildOptions('<stdin>', outfile), stdin, entryPoints: undefined });
  const results: ReturnType<typeof runCases> = JSON.parse(String(execFileSync(process.execPath, [outfile])));
  return {
    rows: results.map((r) => ({
      target: `validator: a ${JSON_LIMITS.maxBodyBytes / 1024} KiB input of ${r.name} ≤ ${ms(VALIDATOR_MS, 0)} (median)`,
      measured: `${ms(r.ours)} (Ajv's generated code ${ms(r.ajv, 2)})`,
      verdict: verdict(r.ours <= VALIDATOR_MS),
    })),
    values: {
      runs: String(VALIDATOR_RUNS),
      table: table(
        ['Input schema', 'Items', 'This validator', 'Ajv 8, generated code', 'Ratio'],
        results.map((r) => [r.name, r.items, ms(r.ours, 2), ms(r.ajv, 2), `${(r.ours / r.ajv).toFixed(0)}×`]),
      ),
    },
  };
}
