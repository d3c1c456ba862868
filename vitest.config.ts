import { defineConfig } from 'vitest/config';

// Six projects so each layer can run alone (`npx vitest run --project unit`) and `npm test` runs all.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Handlers log errors on purpose in these tests; keep the output readable.
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One platform serves every file; files run in parallel against it with unique ids.
          fileParallelism: true,
        },
      },
      {
        extends: true,
        test: {
          // After the integration project: the AWS calls its platform's functions made, against the
          // grants (test/calls/aws-calls.test.ts).
          name: 'calls',
          include: ['test/calls/**/*.test.ts'],
          globalSetup: ['test/calls/global-setup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // The console in Chromium (Debian's package, driven by playwright-core) against a local platform.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The AWS adapters through the real SDK against moto_server (or AWS_ENDPOINT_URL).
          name: 'aws',
          include: ['test/aws/**/*.test.ts'],
          globalSetup: ['test/aws/global-setup.ts'],
          environment: 'node',
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
