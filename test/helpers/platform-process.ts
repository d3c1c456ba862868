import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DemoInfo } from '../../bin/local/state.ts';

/** A local platform running in a child process. */
export interface PlatformProcess {
  readonly apiUrl: string;
  readonly demo: DemoInfo;
  readonly timings: { healthMs: number; readyMs: number };
  /** The emulators' endpoints (DynamoDB Local, s3rver, cognito-local), e.g. to inspect or tamper with data. */
  readonly endpoints: { dynamodb: string; s3: string; cognito: string };
  readonly child: ChildProcess;
  /** Everything the child wrote, for diagnosing failures. */
  output(): string;
  /** SIGTERM and wait for the child (which stops its emulators first) to exit. */
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./platform-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the platform over `stateDir` in a child process with every port 0 (free ports), quiet.
 * `env` adds to or overrides the child's environment.
 */
export function startPlatformProcess(
  stateDir: string,
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<PlatformProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
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
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`The local platform did not start within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The local platform exited (${code}) while starting:\n${output}`));
    });
    child.on(
      'message',
      (message: {
        type: string;
        message?: string;
        apiUrl?: string;
        demo?: DemoInfo;
        timings?: PlatformProcess['timings'];
        endpoints?: PlatformProcess['endpoints'];
      }) => {
        if (message.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`The local platform failed to start: ${message.message}\n${output}`));
          return;
        }
        if (
          message.type !== 'ready' ||
          !message.apiUrl ||
          !message.demo ||
          !message.timings ||
          !message.endpoints
        )
          return;
        clearTimeout(timer);
        resolve({
          apiUrl: message.apiUrl,
          demo: message.demo,
          timings: message.timings,
          endpoints: message.endpoints,
          child,
          output: () => output,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      },
    );
  });
}
