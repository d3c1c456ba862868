import { defineConfig } from 'vitest/config';

// The unit tests Stryker runs (scripts/mutation.mjs sets MUTATION_TESTS to the set's test globs,
// separated by ;). Only unit tests: they need no emulators. A narrower list only makes scores conservative
// (a test left out can kill nothing) and spares the slow workflow tests on every static mutant of the
// fence modules.
const include = process.env.MUTATION_TESTS?.split(';') ?? ['test/unit/**/*.test.ts'];

export default defineConfig({
  test: {
    name: 'unit',
    include,
    environment: 'node',
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
