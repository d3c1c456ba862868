/** The local platform in this process, instrumented without product changes (shared module singletons). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passwordLogin } from '../bin/local/auth.ts';
import { type LocalPlatform, startLocalPlatform } from '../bin/local/platform.ts';
import { LocalRuntime } from '../bin/local/runtime.ts';
import { DynamoRecorder } from '../test/helpers/dynamo-recorder.ts';
import { type ApiRequest, call, type HttpHeaders } from './lib.ts';

export type FunctionName = 'api' | 'authorizer' | 'step-runner' | 'approval-handler' | 'status-handler';

export type BenchPlatform = Awaited<ReturnType<typeof instrument>>;

/** Starts the platform over a temporary folder, instruments it, runs `fn`, and stops everything. */
export async function withBenchPlatform<T>(fn: (bench: BenchPlatform) => Promise<T>): Promise<T> {
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-bench-'));
  let platform: LocalPlatform | undefined;
  let bench: BenchPlatform | undefined;
  try {
    const ports = { port: 0, dynamoPort: 0, s3Port: 0, cognitoPort: 0, idpPort: 0 }; // any free one
    platform = await startLocalPlatform({ stateDir, ...ports, quiet: true });
    bench = await instrument(platform);
    return await fn(bench);
  } finally {
    await bench?.runtime.close();
    await platform?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** The instrumentation above, on a started platform, with its demo admins signed in. */
async function instrument(platform: LocalPlatform) {
  const [clients, auth, api, stepRunner, approval, status, container, shared] = await Promise.all([
    import('#adapters/aws-clients.ts'),
    import('#handlers/authorizer.ts'),
    import('#handlers/api.ts'),
    import('#handlers/step-runner.ts'),
    import('#handlers/approval-handler.ts'),
    import('#handlers/status-handler.ts'),
    import('#adapters/wiring/local.ts'),
    import('#shared/config.ts'),
  ]);
  const recorder = new DynamoRecorder();
  recorder.attach(clients.dynamoDocumentClient());
  const invocations: { fn: FunctionName; ms: number }[] = [];
  const timed = <R>(fn: FunctionName, run: () => Promise<R>): Promise<R> => {
    const started = performance.now();
    return run().finally(() => invocations.push({ fn, ms: performance.now() - started }));
  };
  const authenticate = auth.authenticator.authenticate.bind(auth.authenticator);
  auth.authenticator.authenticate = (headers) => timed('authorizer', () => authenticate(headers));
  const handle = api.router.handle.bind(api.router);
  api.router.handle = (event: Parameters<typeof handle>[0]) => timed('api', () => handle(event));

  let gate: Promise<void> = Promise.resolve();
  const waiting = new Map<string, () => void>();
  const done = new Set<string>();
  const lambda = (fn: FunctionName, handler: (payload: never) => Promise<unknown>) => (payload: unknown) =>
    gate.then(() => timed(fn, () => handler(payload as never)));
  const cfg = shared.config(shared.ALL_SETTINGS);
  const runtime = new LocalRuntime({
    lambdas: {
      [String(cfg.STEP_RUNNER_ARN)]: lambda('step-runner', stepRunner.handler),
      [String(cfg.APPROVAL_HANDLER_ARN)]: lambda('approval-handler', approval.handler),
    },
    onStatus: async (event) => {
      await lambda('status-handler', status.handler)(event);
      // A Step Functions status change names the execution in `detail.name`.
      const id = String((event as { detail?: { name?: unknown } }).detail?.name);
      done.add(id);
      waiting.get(id)?.();
    },
  });
  container.useLocalExecutionEngine(runtime);

  const { demo } = platform;
  const admin = demo.users.find((u) => u.roles.includes('admin'));
  if (!admin) throw new Error('demo.json has no tenant admin');
  const bearer = async ({ username, password }: typeof demo.platformAdmin) => ({
    authorization: `Bearer ${(await passwordLogin(demo.cognito, username, password)).accessToken}`,
  });
  const [tenantAdmin, platformAdmin] = await Promise.all([bearer(admin), bearer(demo.platformAdmin)]);
  return {
    platform,
    runtime,
    recorder,
    takeInvocations: () => invocations.splice(0),
    headers: { tenantAdmin, platformAdmin },
    /** One request to the local API, as the demo tenant's admin unless `headers` say otherwise. */
    call: (request: ApiRequest, headers: HttpHeaders = tenantAdmin) =>
      call(platform.apiUrl, request, headers),
    /** Resolves once the status handler has handled the final status of `executionId`. */
    finished: (executionId: string): Promise<void> =>
      done.has(executionId) ? Promise.resolve() : new Promise((resolve) => waiting.set(executionId, resolve)),
    /** Holds every workflow Lambda back until the function it resolves to is called (each timed alone). */
    hold: () =>
      new Promise<() => void>((held) => {
        gate = new Promise((release) => held(release));
      }),
  };
}
