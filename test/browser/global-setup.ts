import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { consoleNeedsBuild } from '../../bin/local/console.ts';
import { startPlatformProcess } from '../helpers/platform-process.ts';
import { TEST_MAX_WAIT_MS } from '../helpers/platform-settings.ts';

/**
 * The browser project: builds the console when console/dist is missing or stale, then starts one
 * local platform (its own state dir, free ports) that serves it at `<apiUrl>/console/`, exactly
 * as `npm start` does.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (await consoleNeedsBuild()) {
    const built = spawnSync('npm', ['run', '--silent', 'console:build'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run console:build failed');
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-it-browser-'));
  const platform = await startPlatformProcess(stateDir, {
    MERIDIAN_LOCAL_MAX_WAIT_MS: String(TEST_MAX_WAIT_MS),
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  project.provide('apiUrl', platform.apiUrl);
  project.provide('demo', platform.demo);
  return async () => {
    await platform.stop();
    if (process.env.MERIDIAN_TEST_LOGS) console.log(platform.output());
    await rm(stateDir, { recursive: true, force: true });
  };
}
