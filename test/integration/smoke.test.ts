import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSmoke } from '../../bin/smoke.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/smoke.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, MERIDIAN_API_URL: '', MERIDIAN_DEMO_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run smoke against the local platform', () => {
  let dir: string;
  let demoFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-smoke-'));
    demoFile = join(dir, 'demo.json');
    await writeFile(demoFile, JSON.stringify(inject('demo')));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the README walkthrough, signing in through Cognito, and passes', async () => {
    const { code, output } = await runCli(['--api', inject('apiUrl'), '--demo', demoFile]);

    expect(output).toContain('Smoke test passed.');
    expect(output).toMatch(
      /ok {3}it succeeds, every step with its output, tokens and cost: steps classify → .*approve.*reply.*; 220 tokens/,
    );
    expect(output).toContain('ok   clean-up: workflow deleted: 204');
    expect(code).toBe(0);
  });

  it('fails, naming the failed check, when the credential is refused', async () => {
    const lines: string[] = [];
    const result = await runSmoke({
      api: inject('apiUrl'),
      requester: { token: 'not-a-token' },
      log: (s) => lines.push(`${s.ok} ${s.name}`),
    });

    expect(result.ok).toBe(false);
    expect(lines).toEqual(['true the API is up (GET /health/ready)', 'false signed in (GET /me)']);
    expect(result.steps[1]?.detail).toMatch(/expected 200, got 401/);
  });

  it('refuses a command line without --api, with exit code 2', async () => {
    const { code, output } = await runCli(['--demo', demoFile]);
    expect(code).toBe(2);
    expect(output).toContain('--api <url> is required');
  });
});
