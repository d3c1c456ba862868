import { spawn, spawnSync } from 'node:child_process';
import { claimPorts } from '../../bin/local/ports.ts';
import { type ManagedProcess, manage, waitUntilReady } from '../../bin/local/process.ts';

/** The command a user runs to get moto (and cfn-lint) when `moto_server` is missing. */
export const MOTO_INSTALL = 'pip install "moto[server]" cfn-lint';

/** A moto server (or another AWS endpoint) the AWS adapter tests talk to. */
export interface AwsEndpoint {
  /** Base URL for the SDK's `endpoint` option. */
  readonly url: string;
  /** True when this harness started moto itself (so moto-only calls, like its reset API, are safe). */
  readonly isMoto: boolean;
  /** Stops moto if this harness started it; a no-op for an external endpoint. */
  stop(): Promise<void>;
}

/** True when `moto_server` can be run from PATH. */
export function motoAvailable(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `moto_server` on a free port on 127.0.0.1 and waits until it answers. The process is owned
 * the way the local platform owns its emulators (bin/local/process.ts): SIGTERM then SIGKILL on stop.
 */
export async function startMoto(timeoutMs = 30_000): Promise<AwsEndpoint> {
  if (!motoAvailable()) {
    throw new Error(`moto_server is not on PATH. Install it with: ${MOTO_INSTALL}`);
  }
  const [port] = await claimPorts([{ service: 'moto_server', envVar: 'MOTO_PORT', port: 0 }]);
  const url = `http://127.0.0.1:${port}`;
  const moto: ManagedProcess = manage(
    'moto_server',
    spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  try {
    await waitUntilReady(moto, async () => (await fetch(`${url}/moto-api/`)).ok, timeoutMs);
  } catch (error) {
    await moto.stop();
    throw error;
  }
  return { url, isMoto: true, stop: () => moto.stop() };
}

/**
 * The endpoint the AWS suite uses: `AWS_ENDPOINT_URL` when set (LocalStack, for example), AWS itself
 * with the caller's credentials when `MERIDIAN_AWS_TARGET=aws` (opt-in: it creates and deletes real
 * resources), otherwise a moto server started here. `url` is empty for AWS itself.
 */
export async function awsEndpoint(env: NodeJS.ProcessEnv = process.env): Promise<AwsEndpoint> {
  const external = env.AWS_ENDPOINT_URL?.trim();
  if (external) return { url: external, isMoto: false, stop: async () => {} };
  if (env.MERIDIAN_AWS_TARGET === 'aws') return { url: '', isMoto: false, stop: async () => {} };
  return startMoto();
}

/** Client options for the SDK against `endpoint` (moto, LocalStack) or, with no endpoint, AWS itself. */
export function sdkOptions(endpoint: string | undefined): {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  if (!endpoint) return { region };
  // moto and LocalStack accept any credentials; fixed ones keep a developer's real ones out of it.
  return { region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}
