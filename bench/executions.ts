/**
 * Section 6: throughput and end-to-end latency of a 5-step scripted workflow on the local
 * platform, and the resources one execution uses (Lambda invocations and durations, DynamoDB
 * requests by function, states entered), which section 8 turns into a cost.
 *
 * Everything goes through the API as a tenant would (README walkthrough): a builtin `echo` tool, a
 * scripted agent, the workflow agent → tool → choice → agent → succeed, promoted to `dev`, started
 * with an `Idempotency-Key` and read back with `GET /executions/{id}`.
 */
import { randomBytes } from 'node:crypto';
import { type Answer, call, field } from './capacity.ts';
import type { DynamoCall } from './dynamo-recorder.ts';
import type { BenchPlatform, Invocation } from './local-session.ts';
import { median, percentile } from './stats.ts';

/** One concurrency level: how many executions, how many at a time. */
export interface Level {
  readonly concurrency: number;
  readonly total: number;
}

/** The concurrency levels measured. */
export const LEVELS: readonly Level[] = [
  { concurrency: 1, total: 32 },
  { concurrency: 8, total: 64 },
  { concurrency: 32, total: 128 },
];

/** What one level measured. */
export interface LevelResult extends Level {
  /** Poll interval of `GET /executions/{id}`, ms. */
  readonly pollMs: number;
  readonly wallMs: number;
  readonly succeeded: number;
  /** Executions that ended otherwise, with their final status or error. */
  readonly failures: readonly string[];
  /** End-to-end latencies (start request sent → SUCCEEDED read), ms. */
  readonly latencies: readonly number[];
  /** Latencies of the start request alone (202 received), ms. */
  readonly startLatencies: readonly number[];
  /** Status reads made, in all. */
  readonly polls: number;
  /** Start requests answered 503 and retried, in all; and how many executions needed any. */
  readonly startRetries: { readonly requests: number; readonly executions: number };
  /** `durationMs` of every agent and tool step record of the level's executions. */
  readonly stepDurations: { readonly agent: readonly number[]; readonly tool: readonly number[] };
}

/** The resources one execution used, measured on one sequential run. */
export interface ExecutionSample {
  readonly executionId: string;
  readonly status: string;
  /** Invocations of every function, the final status read included. */
  readonly invocations: readonly Invocation[];
  /** DynamoDB requests, labelled with the function (phase) that made them. */
  readonly calls: readonly DynamoCall[];
}

/** The workflow as created, and what its compiled definition says. */
export interface BenchWorkflow {
  readonly tenantId: string;
  readonly workflowId: string;
  readonly version: number;
  readonly agentId: string;
  readonly toolId: string;
  readonly definition: Record<string, unknown>;
  readonly asl: unknown;
}

/** Everything section 6 measured. */
export interface ExecutionResults {
  readonly workflow: BenchWorkflow;
  readonly warmup: number;
  readonly levels: readonly LevelResult[];
  /** Sequential executions with every request recorded (the cost model's input). */
  readonly samples: readonly ExecutionSample[];
  /** States entered by one execution, from the compiled ASL and the steps that ran. */
  readonly path: readonly string[];
  /** Sizes of the items the sampled runs updated, read back afterwards (`pk|sk` → bytes). */
  readonly itemSizes: Readonly<Record<string, number>>;
  /** An execution that finished, for the overhead measurement to write its step records into. */
  readonly host: { readonly executionId: string; readonly startedAt: string };
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The 5-step workflow: agent → tool(echo) → choice → agent → succeed. */
export function benchWorkflow(agentId: string, toolId: string): Record<string, unknown> {
  return {
    name: 'bench refunds',
    description: 'npm run bench: agent → tool → choice → agent → succeed, scripted',
    inputSchema: {
      type: 'object',
      required: ['text', 'order'],
      properties: { text: { type: 'string' }, order: { type: 'string' } },
    },
    startAt: 'classify',
    steps: {
      classify: { type: 'agent', agentId, prompt: 'Classify: {{input.text}}', next: 'lookup' },
      lookup: {
        type: 'tool',
        toolId,
        args: { order: '{{input.order}}', label: '{{steps.classify.output.data.label}}' },
        next: 'route',
      },
      route: {
        type: 'choice',
        choices: [{ when: { path: 'steps.classify.output.data.label', equals: 'refund' }, next: 'reply' }],
        default: 'done',
      },
      reply: {
        type: 'agent',
        agentId,
        prompt: 'Reply to order {{steps.lookup.output.order}} ({{steps.lookup.output.label}})',
        next: 'done',
      },
      done: { type: 'succeed' },
    },
  };
}

/**
 * The states an execution enters: from `StartAt`, following `Next`; at a Choice, the target that is
 * a step that ran (else `Default`). Each state entered is one Standard state transition. Only flat
 * machines (no Parallel or Map), which is what the benchmark workflow is.
 */
export function statesEntered(asl: unknown, ran: ReadonlySet<string>): string[] {
  if (!isObject(asl) || !isObject(asl.States) || typeof asl.StartAt !== 'string') {
    throw new Error('Not an ASL definition');
  }
  const states = asl.States;
  const path: string[] = [];
  let name: string | undefined = asl.StartAt;
  while (name !== undefined) {
    if (path.length > 1000) throw new Error('The path does not end');
    const state: unknown = states[name];
    if (!isObject(state)) throw new Error(`No state ${name}`);
    path.push(name);
    if (state.Type === 'Parallel' || state.Type === 'Map')
      throw new Error(`${name}: ${state.Type} not walked`);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) break;
    if (state.Type === 'Choice') {
      const targets: string[] = (Array.isArray(state.Choices) ? state.Choices : [])
        .map((c) => (isObject(c) && typeof c.Next === 'string' ? c.Next : undefined))
        .filter((t): t is string => t !== undefined);
      const fallback = typeof state.Default === 'string' ? state.Default : undefined;
      name = targets.find((t: string) => ran.has(t)) ?? fallback;
      continue;
    }
    name = typeof state.Next === 'string' ? state.Next : undefined;
  }
  return path;
}

function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  }
}

/** Creates the tool, the agent and the workflow over the API and promotes version 1 to dev. */
export async function setUp(bench: BenchPlatform): Promise<BenchWorkflow> {
  const headers = bench.headers.tenantAdmin;
  const post = (path: string, body: unknown) => call(bench.apiUrl, { method: 'POST', path, body }, headers);
  const tool = await post('/tools', {
    name: 'bench echo',
    type: 'builtin',
    builtin: 'echo',
    inputSchema: { type: 'object' },
  });
  expectStatus(tool, 201, 'POST /tools');
  const agent = await post('/agents', {
    name: 'bench triage',
    provider: 'scripted',
    model: 'scripted-1',
    script: [
      {
        match: '^Reply',
        reply: 'We have refunded your order.',
        usage: { inputTokens: 80, outputTokens: 12 },
      },
      {
        match: 'refund',
        reply: '{"label":"refund","confidence":0.92}',
        usage: { inputTokens: 120, outputTokens: 8 },
      },
      { reply: '{"label":"other"}' },
    ],
  });
  expectStatus(agent, 201, 'POST /agents');
  const agentId = field(agent.body, 'agentId');
  const toolId = field(tool.body, 'toolId');
  const definition = benchWorkflow(agentId, toolId);
  const workflow = await post('/workflows', definition);
  expectStatus(workflow, 201, 'POST /workflows');
  const workflowId = field(workflow.body, 'workflowId');
  const promoted = await post(`/workflows/${workflowId}/promotions`, { version: 1, environment: 'dev' });
  if (promoted.status !== 200 && promoted.status !== 201) {
    throw new Error(
      `POST /workflows/{id}/promotions: HTTP ${promoted.status} ${promoted.text.slice(0, 300)}`,
    );
  }
  const version = await call(
    bench.apiUrl,
    { method: 'GET', path: `/workflows/${workflowId}/versions/1` },
    headers,
  );
  expectStatus(version, 200, 'GET /workflows/{id}/versions/1');
  const asl = isObject(version.body) ? version.body.asl : undefined;
  if (asl === undefined) throw new Error('The workflow version has no compiled ASL');
  return {
    tenantId: bench.platform.demo.tenant.tenantId,
    workflowId,
    version: 1,
    agentId,
    toolId,
    definition,
    asl,
  };
}

interface Started {
  readonly executionId: string;
  readonly sentAt: number;
  /** From the first start request sent to the 202, retries included, ms. */
  readonly startMs: number;
  /** Start requests answered 503 and retried with the same Idempotency-Key. */
  readonly retries: number;
}

/** Start attempts before giving up on a 503. */
const START_ATTEMPTS = 12;

/**
 * Starts one execution. A 503 ("retry shortly") is retried
 * with the same Idempotency-Key after a jittered, growing pause, as a client should.
 */
async function start(bench: BenchPlatform, workflowId: string, key: string): Promise<Started> {
  const sentAt = performance.now();
  let retries = 0;
  for (;;) {
    const answer = await call(
      bench.apiUrl,
      {
        method: 'POST',
        path: `/workflows/${workflowId}/executions`,
        body: { input: { text: `I want a refund for order ${key}`, order: key } },
      },
      { ...bench.headers.tenantAdmin, 'idempotency-key': key },
    );
    if (answer.status === 503 && retries < START_ATTEMPTS - 1) {
      retries++;
      await sleep(Math.random() * Math.min(500, 20 * 2 ** retries));
      continue;
    }
    expectStatus(answer, 202, 'POST /workflows/{id}/executions');
    return {
      executionId: field(answer.body, 'executionId'),
      sentAt,
      startMs: performance.now() - sentAt,
      retries,
    };
  }
}

function readExecution(bench: BenchPlatform, executionId: string): Promise<Answer> {
  return call(bench.apiUrl, { method: 'GET', path: `/executions/${executionId}` }, bench.headers.tenantAdmin);
}

interface StepView {
  readonly stepId: string;
  readonly type: string;
  readonly status: string;
  readonly durationMs?: number;
}

function stepsOf(body: unknown): StepView[] {
  const steps = isObject(body) && Array.isArray(body.steps) ? body.steps : [];
  return steps.filter(isObject).map((s) => ({
    stepId: String(s.stepId),
    type: String(s.type),
    status: String(s.status),
    ...(typeof s.durationMs === 'number' ? { durationMs: s.durationMs } : {}),
  }));
}

/** Polls `GET /executions/{id}` every `pollMs` until the status is final. */
async function waitFinal(
  bench: BenchPlatform,
  executionId: string,
  pollMs: number,
  deadlineMs: number,
): Promise<{ status: string; body: unknown; polls: number; observedAt: number }> {
  let polls = 0;
  for (;;) {
    await sleep(pollMs);
    const answer = await readExecution(bench, executionId);
    polls++;
    expectStatus(answer, 200, 'GET /executions/{id}');
    const status = isObject(answer.body) ? String(answer.body.status) : '';
    if (FINAL.has(status)) return { status, body: answer.body, polls, observedAt: performance.now() };
    if (performance.now() > deadlineMs)
      throw new Error(`Execution ${executionId} still ${status} at the deadline`);
  }
}

/** Poll interval of a level: short alone, longer when many poll at once so reads do not crowd out the work. */
export const pollIntervalOf = (concurrency: number): number => Math.max(20, 5 * concurrency);

async function runLevel(
  bench: BenchPlatform,
  workflowId: string,
  level: Level,
  tag: string,
): Promise<LevelResult> {
  const pollMs = pollIntervalOf(level.concurrency);
  const latencies: number[] = [];
  const startLatencies: number[] = [];
  const failures: string[] = [];
  const agent: number[] = [];
  const tool: number[] = [];
  let polls = 0;
  let retried = 0;
  let retriedExecutions = 0;
  let next = 0;
  const began = performance.now();
  const deadline = began + 120_000;
  const worker = async (): Promise<void> => {
    while (next < level.total) {
      const index = next++;
      let started: Started;
      let final: Awaited<ReturnType<typeof waitFinal>>;
      try {
        started = await start(bench, workflowId, `${tag}-c${level.concurrency}-${index}`);
        startLatencies.push(started.startMs);
        retried += started.retries;
        if (started.retries > 0) retriedExecutions++;
        final = await waitFinal(bench, started.executionId, pollMs, deadline);
      } catch (error) {
        failures.push(`execution ${index}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      polls += final.polls;
      if (final.status !== 'SUCCEEDED') {
        const error = isObject(final.body) ? JSON.stringify(final.body.error ?? '') : '';
        failures.push(`${started.executionId}: ${final.status} ${error}`);
        continue;
      }
      latencies.push(final.observedAt - started.sentAt);
      for (const s of stepsOf(final.body)) {
        if (s.durationMs === undefined) continue;
        if (s.type === 'agent') agent.push(s.durationMs);
        if (s.type === 'tool') tool.push(s.durationMs);
      }
    }
  };
  await Promise.all(Array.from({ length: level.concurrency }, () => worker()));
  return {
    ...level,
    pollMs,
    wallMs: performance.now() - began,
    succeeded: latencies.length,
    failures,
    latencies,
    startLatencies,
    polls,
    startRetries: { requests: retried, executions: retriedExecutions },
    stepDurations: { agent, tool },
  };
}

/**
 * One execution at a time with every request recorded: started over the API, awaited through the
 * status handler (no polling, so nothing else runs meanwhile), then read once with
 * `GET /executions/{id}` as a client reads the result.
 */
async function sample(
  bench: BenchPlatform,
  workflowId: string,
  key: string,
): Promise<ExecutionSample & { body: unknown }> {
  await bench.recorder.settle();
  bench.recorder.take();
  bench.invocations.take();
  const release = bench.hold();
  let started: Started;
  try {
    started = await start(bench, workflowId, key);
  } finally {
    release();
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    bench.finished(started.executionId),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Execution ${started.executionId} not finished in 60 s`)),
        60_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  await bench.recorder.settle();
  const answer = await readExecution(bench, started.executionId);
  expectStatus(answer, 200, 'GET /executions/{id}');
  await bench.recorder.settle();
  return {
    executionId: started.executionId,
    status: isObject(answer.body) ? String(answer.body.status) : '',
    invocations: bench.invocations.take(),
    calls: bench.recorder.take(),
    body: answer.body,
  };
}

/** Reads back the items the sampled runs updated (not recorded), for their billed sizes. */
async function itemSizes(samples: readonly ExecutionSample[]): Promise<Record<string, number>> {
  const [{ dynamoDocumentClient }, { GetCommand }, { config }, { itemBytes }] = await Promise.all([
    import('#adapters/aws-clients.ts'),
    import('@aws-sdk/lib-dynamodb'),
    import('#shared/config.ts'),
    import('./dynamo-units.ts'),
  ]);
  const keys = new Set<string>();
  for (const s of samples) {
    for (const c of s.calls) {
      for (const w of c.billing?.writes ?? []) if (w.bytes === undefined && w.key !== '?') keys.add(w.key);
    }
  }
  const client = dynamoDocumentClient();
  const table = config().TABLE_NAME;
  const sizes: Record<string, number> = {};
  for (const key of keys) {
    const [pk, sk] = key.split('|');
    const out = await client.send(
      new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }),
    );
    if (out.Item) sizes[key] = itemBytes(out.Item);
  }
  return sizes;
}

/** Warm-up, the three levels, then `samples` recorded sequential executions. */
export async function measureExecutions(
  bench: BenchPlatform,
  options: { warmup: number; samples: number; levels?: readonly Level[] },
): Promise<ExecutionResults> {
  const workflow = await setUp(bench);
  const tag = randomBytes(3).toString('hex');
  await runLevel(bench, workflow.workflowId, { concurrency: 1, total: options.warmup }, `${tag}-warm`);
  const levels: LevelResult[] = [];
  for (const level of options.levels ?? LEVELS)
    levels.push(await runLevel(bench, workflow.workflowId, level, tag));

  const samples: (ExecutionSample & { body: unknown })[] = [];
  for (let i = 0; i < options.samples; i++)
    samples.push(await sample(bench, workflow.workflowId, `${tag}-cost-${i}`));
  if (!bench.runtimeInstrumented()) {
    throw new Error('The executions did not run on the instrumented runtime: its Lambdas were not timed');
  }
  const bad = samples.filter((s) => s.status !== 'SUCCEEDED');
  if (bad.length > 0)
    throw new Error(`Sampled executions did not succeed: ${bad.map((s) => s.status).join(', ')}`);
  const first = samples[0];
  if (!first) throw new Error('No sampled execution');
  const ran = new Set(
    stepsOf(first.body)
      .filter((s) => s.status === 'SUCCEEDED')
      .map((s) => s.stepId),
  );
  const path = statesEntered(workflow.asl, ran);
  const startedAt = isObject(first.body) ? String(first.body.startedAt) : new Date().toISOString();
  return {
    workflow,
    warmup: options.warmup,
    levels,
    samples: samples.map(({ body: _b, ...rest }) => rest),
    path,
    itemSizes: await itemSizes(samples),
    host: { executionId: first.executionId, startedAt },
  };
}

/** Throughput in executions per second. */
export const throughputOf = (level: LevelResult): number => level.succeeded / (level.wallMs / 1000);

/** p50 and p95 of a sample (nearest rank), or undefined when empty. */
export function p50p95(values: readonly number[]): { p50: number; p95: number } | undefined {
  return values.length === 0 ? undefined : { p50: median(values), p95: percentile(values, 95) };
}
