import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPlatformProcess } from '../helpers/platform-process.ts';

/**
 * Starts one local platform for the integration project: a fresh state dir, free ports, quiet. It
 * runs in a child process because the platform sets process.env for the handlers, and vitest copies
 * its own process.env into every worker of every project (unit tests would see MERIDIAN_MODE=local).
 * Set MERIDIAN_TEST_KEEP_STATE=1 to keep the state dir for inspection.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-it-'));
  const platform = await startPlatformProcess(stateDir);
  project.provide('apiUrl', platform.apiUrl);
  project.provide('demo', platform.demo);
  if (process.env.MERIDIAN_TEST_TIMINGS) {
    console.log(
      `local platform: /health after ${platform.timings.healthMs} ms, ready after ${platform.timings.readyMs} ms`,
    );
  }
  return async () => {
    await platform.stop();
    if (process.env.MERIDIAN_TEST_LOGS) console.log(platform.output());
    if (!process.env.MERIDIAN_TEST_KEEP_STATE) await rm(stateDir, { recursive: true, force: true });
  };
}
