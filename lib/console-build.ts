import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The built console for the stack's BucketDeployment. A fresh checkout has none (console/dist is
 * not committed), so synth builds it once: into a private folder, then renamed into place, so
 * parallel synths (the infra tests) never see half a build.
 */
export function consoleDistPath(): string {
  const dist = fileURLToPath(new URL('../console/dist', import.meta.url));
  if (existsSync(`${dist}/index.html`)) return dist;
  const staging = `${dist}.${process.pid}`;
  const result = spawnSync(
    'sh',
    [
      '-c',
      `npx --no-install tsx console/scripts/schemas.ts && npx --no-install vite build -c console/vite.config.ts --logLevel error --outDir "${staging}"`,
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0)
    throw new Error('The console build failed (npm run console:build); the stack deploys console/dist.');
  if (existsSync(`${dist}/index.html`)) rmSync(staging, { recursive: true, force: true });
  else {
    rmSync(dist, { recursive: true, force: true });
    renameSync(staging, dist);
  }
  return dist;
}
