#!/usr/bin/env node
// Mutation testing of the security-critical core (docs/mutation.md). Runs StrykerJS with the options
// of stryker.config.json, one set at a time, then checks each file's score against TARGETS.
//
//   node scripts/mutation.mjs [--set fence|workflows|schema] [--incremental] [--force]
//                             [--mutate <glob,...>] [--concurrency <n>]
//
// Sets: the config's `mutate` list split in two, each with only the unit tests that exercise it, so
// static mutants of the fence modules do not rerun the slow workflow tests. `--incremental` reuses
// test/mutation/incremental-<set>.json (committed) and rewrites it.
//
// Why not `npx stryker run`: Stryker 10's CLI refuses to start on Node < 22 (a version guard that
// runs when its main module loads), and this project supports Node >= 20.11. The engine itself runs
// on Node 20, so this loads the Stryker class from its own file, past the guard.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Minimum mutation score per file (killed + timeout over valid mutants, as Stryker counts it). A
 * `floor` makes a file that is known to miss its target fail only below the floor, with `why`.
 */
const TARGETS = [
  { match: /^functions\/core\/access\//, min: 90 },
  { match: /^functions\/core\/tenancy\/(api-keys|roles|users)\.ts$/, min: 90 },
  { match: /^functions\/core\/net\/(address-guard|egress)\.ts$/, min: 90 },
  // The tenant fence: tenant patterns and their linear-time matcher, large-output references, the
  // egress allowlist, secret bindings, JSON limits.
  {
    match:
      /^functions\/(core\/(catalog\/(tenant|linear)-regex|executions\/artifacts|tenancy\/egress|versioning\/secret-bindings)|shared\/json-limits)\.ts$/,
    min: 90,
  },
  { match: /^functions\/core\/audit\//, min: 90 },
  // Email-domain verification: who may route a domain's sign-ins.
  { match: /^functions\/core\/identity\/domains\.ts$/, min: 90 },
  { match: /^functions\/core\/workflows\/(compile|steps|validate|validate\/[a-z-]+)\.ts$/, min: 85 },
  // The JSON Schema validator every API body and tenant schema goes through, and the options API bodies add.
  { match: /^functions\/shared\/json-schema-(validator|extensions)\.ts$/, min: 85 },
];

const WORKFLOWS = /^functions\/core\/workflows\//;
const SCHEMA = /^functions\/shared\/json-schema-(validator|extensions)\.ts(:[0-9-]+)?$/;
const SETS = {
  fence: {
    mutate: (glob) => !WORKFLOWS.test(glob) && !SCHEMA.test(glob),
    tests: [
      // The fence modules' tests; the provider, pricing and engine lifecycle tests beside them in
      // core/executions and core/versioning exercise none of those modules.
      'test/unit/core/{access,approvals,audit,catalog,net,notifications,tenancy}/**/*.test.ts',
      'test/unit/core/identity/domains.test.ts',
      'test/unit/core/executions/{artifact-refs,budget-reserve,data,redrive,state-budget,step-runner}.test.ts',
      'test/unit/core/versioning/secret-bindings.test.ts',
      'test/unit/shared/{config,json-limits,router}.test.ts',
      'test/unit/adapters/sfn-engine.test.ts',
      'test/unit/adapters/tools/**/*.test.ts',
      'test/unit/mutation/credentials.test.ts',
      'test/unit/mutation/audit-*.test.ts',
      'test/unit/mutation/fence-*.test.ts',
    ],
  },
  workflows: {
    mutate: (glob) => WORKFLOWS.test(glob),
    // Only the fast tests that pin the compiler's exact ASL and the validator's exact problems: each
    // mutant reruns every file holding a test that covers it, and nearly every test calls the
    // validator. Left out (docs/mutation.md, "The workflow set"): the tests that run the local
    // engine or asl-validator (execute, compile-run, choice-run, state-size-run: 0.1 to 0.5 s per
    // test), and limits.test.ts, which asserts wall-clock bounds that instrumented code on a loaded
    // machine misses (workflows-limits.test.ts pins the same limits without a clock).
    tests: [
      'test/unit/core/workflows/{compile,partition,validate}.test.ts',
      'test/unit/core/workflows/steps.test.ts',
      'test/unit/core/workflows/validate/*.test.ts',
      'test/unit/mutation/choice-conditions.test.ts',
      'test/unit/mutation/workflows-*.test.ts',
    ],
  },
  schema: {
    mutate: (glob) => SCHEMA.test(glob),
    // The differential test against Ajv (fewer generated schemas under mutation testing) and the
    // API's problems, which read the validator's errors.
    tests: ['test/unit/shared/json-schema-validator.test.ts', 'test/unit/shared/schema.test.ts'],
  },
};

const { values } = parseArgs({
  options: {
    set: { type: 'string' },
    incremental: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    mutate: { type: 'string' },
    concurrency: { type: 'string' },
  },
});

const require = createRequire(import.meta.url);
const corePackage = require.resolve('@stryker-mutator/core/package.json');
const { Stryker } = await import(pathToFileURL(join(dirname(corePackage), 'dist/src/stryker.js')).href);
const config = JSON.parse(readFileSync('stryker.config.json', 'utf8'));

const names = values.set ? [values.set] : Object.keys(SETS);
let failed = false;
for (const name of names) {
  const set = SETS[name];
  if (!set) throw new Error(`Unknown set ${name}: use one of ${Object.keys(SETS).join(', ')}`);
  const mutate = values.mutate
    ? values.mutate.split(',').filter(set.mutate)
    : config.mutate.filter(set.mutate);
  if (mutate.length === 0) continue;
  const report = `reports/mutation/${name}.json`;
  const cliOptions = {
    configFile: 'stryker.config.json',
    mutate,
    jsonReporter: { fileName: report },
    incremental: values.incremental,
    incrementalFile: `test/mutation/incremental-${name}.json`,
    force: values.force,
  };
  if (values.concurrency) cliOptions.concurrency = Number(values.concurrency);
  // Read by vitest.stryker.config.ts in the test runner processes Stryker starts.
  process.env.MUTATION_TESTS = set.tests.join(';');
  console.log(`Mutation set ${name}: ${mutate.join(' ')}`);
  const started = Date.now();
  await new Stryker(cliOptions).runMutationTest();
  console.log(`Mutation set ${name} took ${Math.round((Date.now() - started) / 1000)} s`);
  if (existsSync(report)) failed = !checkTargets(JSON.parse(readFileSync(report, 'utf8'))) || failed;
}
if (failed || (process.exitCode ?? 0) !== 0) process.exitCode = 1;

/** Prints each file's score against its target; false when one is below. */
function checkTargets(report) {
  let ok = true;
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const target = TARGETS.find((t) => t.match.test(file));
    const count = (statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
    const detected = count(['Killed', 'Timeout']);
    const valid = count(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
    const errors = count(['RuntimeError', 'CompileError']);
    const score = valid === 0 ? 100 : (100 * detected) / valid;
    const below = target !== undefined && score < target.min;
    const failing = below && score < (target.floor ?? target.min);
    ok &&= !failing;
    const goal = target ? `target ${target.min} %` : 'no target';
    const label = failing
      ? 'BELOW TARGET'
      : below
        ? `below target, above floor ${target.floor} % (${target.why})`
        : 'score';
    console.log(
      `${label} ${file}: ${score.toFixed(1)} % (${detected}/${valid}, ${errors} run errors), ${goal}`,
    );
  }
  return ok;
}
