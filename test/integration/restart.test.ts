import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordLogin } from '../../bin/local/auth.ts';
import { s3Client } from '../../bin/local/s3.ts';
import type { DemoInfo, PlatformState } from '../../bin/local/state.ts';

/**
 * `npm start` itself (bin/local.ts), each run in its own state dir and process: restart keeps data
 * and does not bootstrap again, Ctrl-C and SIGKILL leave no emulator behind, and a taken port is
 * reported clearly.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface CliRun {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  output(): string;
  /** Resolves with the first match of `pattern` in the output so far or to come. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function startCli(stateDir: string, env: Record<string, string> = {}): CliRun {
  // `node --import tsx` rather than `npm start`: npm does not pass a signal sent to it alone on to
  // its child (a terminal's Ctrl-C reaches the whole process group instead).
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MERIDIAN_STATE_DIR: stateDir,
      PORT: '0',
      MERIDIAN_DYNAMODB_PORT: '0',
      MERIDIAN_S3_PORT: '0',
      MERIDIAN_COGNITO_PORT: '0',
      MERIDIAN_IDP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    output: () => output,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(output);
          if (!match) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const listener = (): void => {
          check();
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`No ${pattern} within ${timeoutMs / 1000} s. Output:\n${output}`));
        }, timeoutMs);
        listeners.add(listener);
        if (check()) return;
        void exit.then((code) => {
          if (listeners.has(listener)) {
            listeners.delete(listener);
            clearTimeout(timer);
            if (!pattern.exec(output))
              reject(new Error(`Exited (${code}) before ${pattern}. Output:\n${output}`));
            else check();
          }
        });
      });
    },
  };
}

/** Direct children of `pid` (DynamoDB Local's java, cognito-local, the watchdog). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = left.filter(alive);
  }
  return left;
}

async function readJsonFile<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function getJson(url: string, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

async function sendJson(
  method: string,
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// Two full starts and a stop per test: each start also runs the demo tenant's OpenID provider and,
// on a restart, registers it again at its new port, which pushes a loaded machine past 60 s.
describe('npm start (bin/local.ts)', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const runs: CliRun[] = [];

  beforeAll(() => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  });

  afterAll(async () => {
    // Whatever a failed test left running.
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGINT');
      await run.exit;
    }
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function stateDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-restart-'));
    dirs.push(dir);
    return dir;
  }

  async function start(
    dir: string,
    env?: Record<string, string>,
  ): Promise<{ run: CliRun; apiUrl: string; s3: string }> {
    const run = startCli(dir, env);
    runs.push(run);
    await run.waitFor(/Meridian local platform is up/);
    const apiUrl = (await run.waitFor(/API\s+(http:\/\/\S+)/))[1] ?? '';
    const s3 = (await run.waitFor(/S3 \(s3rver\)\s+(http:\/\/\S+)/))[1] ?? '';
    return { run, apiUrl, s3 };
  }

  async function stopWithCtrlC(run: CliRun): Promise<void> {
    const children = childrenOf(run.child.pid ?? -1);
    expect(children.length, 'java, cognito-local and the watchdog run as children').toBeGreaterThanOrEqual(3);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
    expect(await waitUntilGone(children, 2_000), 'children left after Ctrl-C').toEqual([]);
  }

  it('a restart over the same state dir keeps the data and does not bootstrap again', async () => {
    const dir = await stateDir();

    const first = await start(dir);
    expect(first.run.output()).toContain('First start');
    const demo1 = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const state1 = await readJsonFile<PlatformState>(join(dir, 'platform.json'));
    const admin = demo1.users.find((user) => user.roles.includes('admin'));
    if (!admin) throw new Error('no demo admin');
    const token1 = await passwordLogin(demo1.cognito, admin.username, admin.password);
    expect((await getJson(`${first.apiUrl}/me`, token1.accessToken)).status).toBe(200);
    const s3 = s3Client(first.s3);
    await s3.send(
      new PutObjectCommand({ Bucket: 'meridian-local-artifacts', Key: 'restart/check.txt', Body: 'kept' }),
    );
    s3.destroy();
    await stopWithCtrlC(first.run);

    const second = await start(dir);
    expect(second.run.output()).not.toContain('First start');
    expect(second.run.output()).not.toMatch(/created (table|buckets|user pool)/);
    const demo2 = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const state2 = await readJsonFile<PlatformState>(join(dir, 'platform.json'));
    expect(state2.identity).toEqual(state1.identity);
    expect(demo2.tenant).toEqual(demo1.tenant);
    expect(demo2.users).toEqual(demo1.users);
    expect(demo2.platformAdmin).toEqual(demo1.platformAdmin);
    // Only the URLs follow the new (free) ports.
    expect(demo2.apiUrl).toBe(second.apiUrl);

    // Users (cognito-local) and the tenant (DynamoDB Local) survived: /me works with a fresh sign-in.
    const token2 = await passwordLogin(demo2.cognito, admin.username, admin.password);
    const me = await getJson(`${second.apiUrl}/me`, token2.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: demo1.tenant.tenantId });
    // No second demo tenant was created.
    const operator = await passwordLogin(
      demo2.cognito,
      demo2.platformAdmin.username,
      demo2.platformAdmin.password,
    );
    const tenants = await getJson(`${second.apiUrl}/tenants`, operator.accessToken);
    expect(tenants.status).toBe(200);
    const items = (tenants.body as { items: { name: string }[] }).items;
    expect(items.filter((tenant) => tenant.name === 'Demo')).toHaveLength(1);
    // Objects (s3rver) survived.
    const s3Again = s3Client(second.s3);
    const object = await s3Again.send(
      new GetObjectCommand({ Bucket: 'meridian-local-artifacts', Key: 'restart/check.txt' }),
    );
    expect(await object.Body?.transformToString()).toBe('kept');
    s3Again.destroy();

    await stopWithCtrlC(second.run);
  });

  it('a taken port stops the start with a message naming the port, the service and the variable', async () => {
    const dir = await stateDir();
    const blockers: Server[] = [];
    const occupy = async (): Promise<number> => {
      const server = createServer();
      blockers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    };
    try {
      const apiPort = await occupy();
      const dynamoPort = await occupy();
      const run = startCli(dir, { PORT: String(apiPort), MERIDIAN_DYNAMODB_PORT: String(dynamoPort) });
      runs.push(run);
      expect(await run.exit).toBe(1);
      const output = run.output();
      expect(output).toContain(`Port ${apiPort} is already in use, but the Meridian API needs it`);
      expect(output).toContain(`PORT=${apiPort + 1} npm start`);
      expect(output).toContain(`Port ${dynamoPort} is already in use, but DynamoDB Local needs it`);
      expect(output).toContain(`MERIDIAN_DYNAMODB_PORT=${dynamoPort + 1} npm start`);
      // A user error, not a crash: no stack trace.
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      await Promise.all(blockers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('an execution waiting for approval when the platform dies is failed at the next start, its approval closed', async () => {
    // Arrange: an execution waits for approval, then the platform is killed
    const dir = await stateDir();
    const first = await start(dir);
    const demo = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const admin = demo.users.find((user) => user.roles.includes('admin'));
    if (!admin) throw new Error('no demo admin');
    const token = (await passwordLogin(demo.cognito, admin.username, admin.password)).accessToken;
    const workflow = await sendJson('POST', `${first.apiUrl}/workflows`, token, {
      name: `restart-approval-${Date.now()}`,
      startAt: 'approve',
      steps: { approve: { type: 'approval', next: 'done' }, done: { type: 'succeed' } },
    });
    const workflowId = String(workflow.body.workflowId);
    await sendJson('POST', `${first.apiUrl}/workflows/${workflowId}/promotions`, token, {
      version: 1,
      environment: 'dev',
    });
    const started = await sendJson('POST', `${first.apiUrl}/workflows/${workflowId}/executions`, token, {
      input: {},
    });
    const executionId = String(started.body.executionId);
    let status = '';
    for (let i = 0; i < 100 && status !== 'WAITING_APPROVAL'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const current = await getJson(`${first.apiUrl}/executions/${executionId}`, token);
      status = String((current.body as { status?: string }).status);
    }
    expect(status).toBe('WAITING_APPROVAL');
    const children = childrenOf(first.run.child.pid ?? -1);
    first.run.child.kill('SIGKILL');
    await first.run.exit;
    await waitUntilGone(children, 10_000);
    // Act
    const second = await start(dir);
    // The emulators listen on new ports: sign in through the new demo.json.
    const demoAgain = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const fresh = (await passwordLogin(demoAgain.cognito, admin.username, admin.password)).accessToken;
    const execution = await getJson(`${second.apiUrl}/executions/${executionId}`, fresh);
    const pending = await getJson(`${second.apiUrl}/approvals?status=pending`, fresh);
    // Assess
    expect(execution.body).toMatchObject({
      status: 'FAILED',
      error: { error: 'Local.Restarted' },
    });
    expect(JSON.stringify(execution.body)).not.toContain('WAITING_APPROVAL');
    expect(
      (pending.body as { items: { executionId?: string }[] }).items.map((a) => a.executionId),
    ).not.toContain(executionId);
    expect(second.run.output()).toContain('failed (Local.Restarted)');
    await stopWithCtrlC(second.run);
  });

  it('a restart loads the schedules from the table, and they fire again', async () => {
    // Arrange: a schedule made on the first start (every-minute schedules fire every 2 s here)
    const env = { MERIDIAN_LOCAL_SCHEDULE_SECONDS: '*/2' };
    const dir = await stateDir();
    const first = await start(dir, env);
    const demo = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const admin = demo.users.find((user) => user.roles.includes('admin'));
    if (!admin) throw new Error('no demo admin');
    const token = (await passwordLogin(demo.cognito, admin.username, admin.password)).accessToken;
    const workflow = await sendJson('POST', `${first.apiUrl}/workflows`, token, {
      name: `restart-schedule-${Date.now()}`,
      startAt: 'done',
      steps: { done: { type: 'succeed' } },
    });
    const workflowId = String(workflow.body.workflowId);
    await sendJson('POST', `${first.apiUrl}/workflows/${workflowId}/promotions`, token, {
      version: 1,
      environment: 'dev',
    });
    const made = await sendJson('POST', `${first.apiUrl}/workflows/${workflowId}/schedules`, token, {
      cron: '* * * * *',
      environment: 'dev',
    });
    expect(made.status).toBe(201);
    await stopWithCtrlC(first.run);
    // Act
    const second = await start(dir, env);
    const restartedAt = Date.now();
    const demoAgain = await readJsonFile<DemoInfo>(join(dir, 'demo.json'));
    const fresh = (await passwordLogin(demoAgain.cognito, admin.username, admin.password)).accessToken;
    let fired: { startedAt: string; startedBy: string }[] = [];
    for (let i = 0; i < 60 && fired.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const page = await getJson(`${second.apiUrl}/executions?workflowId=${workflowId}`, fresh);
      fired = (page.body as { items: { startedAt: string; startedBy: string }[] }).items.filter(
        (e) => Date.parse(e.startedAt) >= restartedAt,
      );
    }
    // Assess
    expect(second.run.output()).toContain('1 schedule(s) loaded');
    expect(fired.length).toBeGreaterThan(0);
    expect(fired[0]?.startedBy).toBe(made.body.scheduleId);
    await stopWithCtrlC(second.run);
  });

  it('SIGKILL of the platform process still stops every emulator (watchdog)', async () => {
    const dir = await stateDir();
    const { run } = await start(dir);
    const children = childrenOf(run.child.pid ?? -1);
    expect(children.length).toBeGreaterThanOrEqual(3);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(await waitUntilGone(children, 10_000), 'children left after SIGKILL').toEqual([]);
  });
});
