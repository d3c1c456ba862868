/**
 * One local platform for the sections that need it (DynamoDB per route, executions, step overhead,
 * cost): started in this process over a temporary state folder, instrumented, stopped at the end.
 *
 * The handlers run in this process, so they share their module singletons with the benchmark:
 * - the DynamoDB document client of functions/adapters/aws-clients.ts (every tenant's client
 *   locally) gets the recording middleware of {@link DynamoRecorder};
 * - the authorizer's `authenticator.authenticate` and the API's `router.handle` are wrapped (own
 *   properties over the methods) to time them and label their DynamoDB requests;
 * - a second `LocalRuntime` (bin/local/runtime.ts), built exactly as `startWorkflowRuntime` builds the
 *   platform's but with every Lambda wrapped the same way, is registered with
 *   `useLocalExecutionEngine` before any execution starts: the step runner, approval and status
 *   handlers are timed and their requests labelled. The ASL, the emulator and the handlers are the
 *   platform's own. Product code is not modified.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passwordLogin } from '../bin/local/auth.ts';
import { type LocalPlatform, startLocalPlatform } from '../bin/local/platform.ts';
import { LocalRuntime } from '../bin/local/runtime.ts';
import { DynamoRecorder } from './dynamo-recorder.ts';

/** The Lambda functions of the platform, as the benchmark names them. */
export type FunctionName = 'api' | 'authorizer' | 'step-runner' | 'approval-handler' | 'status-handler';

/** One timed invocation of a handler, or of the local engine's `start` (inside the API's start request). */
export interface Invocation {
  readonly fn: FunctionName | 'local-engine-start';
  /** The route (`GET /executions/{executionId}`) for the API, the execution id for workflow Lambdas. */
  readonly label: string;
  readonly ms: number;
}

/** Collects invocations until taken. */
export class InvocationLog {
  private items: Invocation[] = [];

  add(item: Invocation): void {
    this.items.push(item);
  }

  /** Returns the invocations since the last call and forgets them. */
  take(): Invocation[] {
    const out = this.items;
    this.items = [];
    return out;
  }
}

/** The DynamoDB phase label of a function's requests (`api` requests carry the route too). */
export const phaseOf = (fn: FunctionName, label?: string): string =>
  fn === 'api' && label ? `api ${label}` : fn;

/** A running, instrumented platform. */
export interface BenchPlatform {
  readonly platform: LocalPlatform;
  readonly apiUrl: string;
  readonly recorder: DynamoRecorder;
  readonly invocations: InvocationLog;
  /** Bearer headers of the demo tenant's admin and of the platform admin. */
  readonly headers: {
    readonly tenantAdmin: Record<string, string>;
    readonly platformAdmin: Record<string, string>;
  };
  /** `METHOD /path/{param}` of every route the API declares. */
  readonly declaredRoutes: readonly string[];
  /** Milliseconds from the start call until the platform was ready. */
  readonly startMs: number;
  /** Resolves once the status handler has recorded the final status of `executionId`. */
  finished(executionId: string): Promise<void>;
  /** Whether the benchmark's runtime (not the platform's own) ran the executions so far. */
  readonly runtimeInstrumented: () => boolean;
  /**
   * Holds every workflow Lambda back until the returned function is called: a sampled run releases
   * it once the start request has been answered, so the API's and the steps' durations are each
   * measured alone (in one process they would otherwise interleave and inflate each other).
   */
  hold(): () => void;
}

/** `/executions/x123` → `GET /executions/{executionId}` using the declared route patterns. */
export function routeOf(method: string, path: string, declared: readonly string[]): string {
  for (const route of declared) {
    const [m, pattern = ''] = route.split(' ');
    if (m !== method) continue;
    const regex = new RegExp(`^${pattern.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (regex.test(path)) return route;
  }
  return `${method} ${path}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The execution id a workflow Lambda's payload or status event is about. */
function executionOf(payload: unknown): string {
  if (!isObject(payload)) return '';
  if (typeof payload.executionId === 'string') return payload.executionId;
  const detail = payload.detail;
  if (isObject(detail) && typeof detail.name === 'string') return detail.name;
  const context = payload.context;
  if (isObject(context) && typeof context.executionId === 'string') return context.executionId;
  return '';
}

/** Instruments the handlers of the running platform (same module instances) and swaps in a timed runtime. */
async function instrument(
  recorder: DynamoRecorder,
  invocations: InvocationLog,
  onFinished: (executionId: string) => void,
): Promise<{ declared: string[]; runtime: LocalRuntime; used: () => boolean; hold: () => () => void }> {
  const [clients, auth, api, stepRunner, approvalHandler, statusHandler, container, shared] =
    await Promise.all([
      import('#adapters/aws-clients.ts'),
      import('../functions/handlers/authorizer.ts'),
      import('../functions/handlers/api.ts'),
      import('../functions/handlers/step-runner.ts'),
      import('../functions/handlers/approval-handler.ts'),
      import('../functions/handlers/status-handler.ts'),
      import('#adapters/container.ts'),
      import('#shared/config.ts'),
    ]);
  recorder.attach(clients.dynamoDocumentClient());
  const declared = api.router.routes.map((r) => `${r.method} ${r.path}`);

  const timed = async <T>(fn: FunctionName, label: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await recorder.phase(phaseOf(fn, label), run);
    } finally {
      invocations.add({ fn, label, ms: performance.now() - started });
    }
  };

  const { authenticator } = auth;
  const authenticate = authenticator.authenticate.bind(authenticator);
  authenticator.authenticate = (headers) => timed('authorizer', '', () => authenticate(headers));
  const { router } = api;
  const handle = router.handle.bind(router);
  router.handle = (event: Parameters<typeof handle>[0]) =>
    timed('api', routeOf(event.requestContext.http.method.toUpperCase(), event.rawPath, declared), () =>
      handle(event),
    );

  let used = false;
  let gate: Promise<void> = Promise.resolve();
  const hold = (): (() => void) => {
    let release = (): void => {};
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  };
  const cfg = shared.config();
  const lambda =
    (fn: FunctionName, handler: (payload: never) => Promise<unknown>) =>
    async (payload: unknown): Promise<unknown> => {
      used = true;
      await gate;
      return timed(fn, executionOf(payload), () => handler(payload as never));
    };
  const maxWait = process.env.MERIDIAN_LOCAL_MAX_WAIT_MS;
  const runtime = new LocalRuntime({
    lambdas: {
      [String(cfg.STEP_RUNNER_ARN)]: lambda('step-runner', stepRunner.handler),
      [String(cfg.APPROVAL_HANDLER_ARN)]: lambda('approval-handler', approvalHandler.handler),
    },
    onStatus: async (event) => {
      await lambda('status-handler', statusHandler.handler)(event);
      onFinished(executionOf(event));
    },
    ...(maxWait ? { maxWaitMs: Number(maxWait) } : {}),
  });
  // The emulator's share of the API's start request (parsing and checking the ASL, building the
  // machine), which on AWS is a StartExecution call instead.
  const startRun = runtime.start.bind(runtime);
  runtime.start = async (input) => {
    const started = performance.now();
    try {
      return await startRun(input);
    } finally {
      invocations.add({
        fn: 'local-engine-start',
        label: input.executionId,
        ms: performance.now() - started,
      });
    }
  };
  container.useLocalExecutionEngine(runtime);
  return { declared, runtime, used: () => used, hold };
}

/**
 * Starts the platform over a temporary folder, signs the demo admins in, instruments it, runs `fn`,
 * and stops everything (also on Ctrl-C), removing the folder.
 */
export async function withBenchPlatform<T>(fn: (bench: BenchPlatform) => Promise<T>): Promise<T> {
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-bench-'));
  const started = performance.now();
  let platform: LocalPlatform | undefined;
  let runtime: LocalRuntime | undefined;
  const cleanup = async (): Promise<void> => {
    await runtime?.close();
    await platform?.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
  // Ctrl-C mid-run: stop the emulators and remove the state folder before exiting.
  const aborted = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    aborted.abort();
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    platform = await startLocalPlatform({
      stateDir,
      port: 0,
      dynamoPort: 0,
      s3Port: 0,
      cognitoPort: 0,
      quiet: true,
      signal: aborted.signal,
    });
    const startMs = performance.now() - started;
    const { demo, apiUrl } = platform;
    const admin = demo.users.find((u) => u.roles.includes('admin'));
    if (!admin) throw new Error('demo.json has no tenant admin');
    const [adminTokens, platformTokens] = await Promise.all([
      passwordLogin(demo.cognito, admin.username, admin.password),
      passwordLogin(demo.cognito, demo.platformAdmin.username, demo.platformAdmin.password),
    ]);
    const recorder = new DynamoRecorder();
    const invocations = new InvocationLog();
    const finished = new Set<string>();
    const waiting = new Map<string, () => void>();
    const onFinished = (executionId: string): void => {
      finished.add(executionId);
      waiting.get(executionId)?.();
      waiting.delete(executionId);
    };
    const instrumented = await instrument(recorder, invocations, onFinished);
    runtime = instrumented.runtime;
    return await fn({
      platform,
      apiUrl,
      recorder,
      invocations,
      headers: {
        tenantAdmin: { authorization: `Bearer ${adminTokens.accessToken}` },
        platformAdmin: { authorization: `Bearer ${platformTokens.accessToken}` },
      },
      declaredRoutes: instrumented.declared,
      startMs,
      finished: (executionId) =>
        finished.has(executionId)
          ? Promise.resolve()
          : new Promise<void>((resolve) => waiting.set(executionId, resolve)),
      runtimeInstrumented: instrumented.used,
      hold: instrumented.hold,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
