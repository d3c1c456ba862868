/** Sections `executions` and `overhead`, and the executions `cost` prices (bench/RESULTS.template.md). */
import { randomBytes } from 'node:crypto';
import { toolRunner } from '#adapters/tools/index.ts';
import { stepRunnerWiring } from '#adapters/wiring/step-runner.ts';
import { costOf } from '#core/executions/pricing.ts';
import { runStep, type StepRunnerDeps, type StepTask } from '#core/executions/step-runner.ts';
import { logger, metrics } from '#shared/observability.ts';
import type { DynamoCall } from '../test/helpers/dynamo-recorder.ts';
import { field, median, ms, percentile, pool, type SectionResult, sleep, table, verdict } from './lib.ts';
import type { BenchPlatform, Invocation } from './platform.ts';

type Level = { readonly concurrency: number; readonly total: number };
const LEVELS: readonly Level[] = [
  { concurrency: 1, total: 32 },
  { concurrency: 8, total: 64 },
  { concurrency: 32, total: 128 },
];
/** Untimed executions before each measurement. */
const WARMUP: Level = { concurrency: 1, total: 4 };
const SAMPLES = 10;
/** Target: the platform's own time per agent step, p50, locally. */
const OVERHEAD_P50_MS = 10;
const OVERHEAD_RUNS = 300;
// DynamoDB Local's JVM speeds up over its first tens of thousands of requests (a lone run: 12 ms after 1,500
// untimed steps, under 9 after 4,000): warmed like a busy table, `--only overhead` matches a full run.
const OVERHEAD_WARMUP = 4000;

/** The resources one execution used. */
export interface ExecutionSample {
  readonly invocations: readonly Invocation[];
  readonly calls: readonly DynamoCall[];
  /** Bytes of the handlers' own log lines (Powertools logs at INFO, EMF metrics), each with its newline. */
  readonly logBytes: number;
}

/**
 * Runs `work` with the handlers logging as deployed (INFO, metrics on: the bench runs them silent)
 * and counts the bytes of the JSON lines they write, which are kept off the bench's own output;
 * anything else written meanwhile (an error, say) still goes out.
 */
async function withLogBytes<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  let bytes = 0;
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, i) => {
    const write = writes[i] as typeof stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const other = String(chunk)
        .split('\n')
        .filter((line) => {
          const logged = /^\{.*"(level|_aws)"/.test(line);
          if (logged) bytes += Buffer.byteLength(line) + 1;
          return !logged;
        })
        .join('\n');
      if (other.trim() !== '') return write.call(stream, other, ...(rest as []));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    }) as typeof stream.write;
  });
  const level = logger.getLevelName();
  const metricsOff = Reflect.get(metrics, 'disabled');
  logger.setLogLevel('INFO');
  // Powertools offers no public switch once POWERTOOLS_METRICS_DISABLED was read (bench/run.ts).
  Reflect.set(metrics, 'disabled', false);
  try {
    return { result: await work(), bytes };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    logger.setLogLevel(level);
    Reflect.set(metrics, 'disabled', metricsOff);
  }
}

/** A classification's token usage: the scripted agent's, and the overhead section's instant provider's. */
const CLASSIFY = { inputTokens: 120, outputTokens: 8 };
/** The triage agent's replies: a refund label for the classification, then the reply. */
const SCRIPT = [
  { match: '^Reply', reply: 'We have refunded your order.', usage: { inputTokens: 80, outputTokens: 12 } },
  { match: 'refund', reply: '{"label":"refund","confidence":0.92}', usage: CLASSIFY },
  { reply: '{"label":"other"}' },
];

const workflow = (agentId: string, toolId: string) => ({
  name: 'bench refunds',
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
    reply: { type: 'agent', agentId, prompt: 'Reply to order {{steps.lookup.output.order}}', next: 'done' },
    done: { type: 'succeed' },
  },
});

/** Creates the tool, the scripted agent and the workflow over the API and promotes version 1 to dev. */
export async function setUp(bench: BenchPlatform, headers = bench.headers.tenantAdmin) {
  const post = async (path: string, body: unknown, expect = 201) =>
    bench.call({ method: 'POST', path, body, expect }, headers);
  const tool = { name: 'bench echo', type: 'builtin', builtin: 'echo', inputSchema: { type: 'object' } };
  const toolId = field(await post('/tools', tool), 'toolId');
  const agent = { name: 'bench triage', provider: 'scripted', model: 'scripted-1', script: SCRIPT };
  const agentId = field(await post('/agents', agent), 'agentId');
  const workflowId = field(await post('/workflows', workflow(agentId, toolId)), 'workflowId');
  await post(`/workflows/${workflowId}/promotions`, { version: 1, environment: 'dev' }, 200);
  const path = `/workflows/${workflowId}/versions/1`;
  const version = await bench.call({ method: 'GET', path, expect: 200 }, headers);
  return { tenantId: bench.platform.demo.tenant.tenantId, workflowId, agentId, asl: version.body.asl };
}

/** Starts one execution; a 503 ("retry shortly") is retried with the same key after a jittered pause. */
async function start(bench: BenchPlatform, workflowId: string, key: string) {
  const body = { input: { text: `I want a refund for order ${key}`, order: key } };
  const headers = { ...bench.headers.tenantAdmin, 'idempotency-key': key };
  for (let retries = 0; ; retries++) {
    const path = `/workflows/${workflowId}/executions`;
    const answer = await bench.call({ method: 'POST', path, body }, headers);
    if (answer.status === 503 && retries < 11) {
      await sleep(Math.random() * Math.min(500, 20 * 2 ** retries));
      continue;
    }
    if (answer.status !== 202) throw new Error(`POST ${path}: HTTP ${answer.status} ${answer.text}`);
    return { id: field(answer, 'executionId'), retries };
  }
}

const read = (bench: BenchPlatform, id: string, expect?: number) =>
  bench.call({ method: 'GET', path: `/executions/${id}`, expect });

/** One level: `concurrency` workers each start an execution and poll it to its end, `total` in all. */
async function level(bench: BenchPlatform, workflowId: string, load: Level, tag: string) {
  const { concurrency, total } = load;
  const pollMs = Math.max(20, 5 * concurrency); // longer when many poll, so reads do not crowd out the work
  const failures: string[] = [];
  let retries = 0;
  const { wallMs, latencies } = await pool(total, concurrency, async (i) => {
    const sent = performance.now();
    try {
      const started = await start(bench, workflowId, `${tag}-c${concurrency}-${i}`);
      retries += started.retries;
      for (let status = ''; status !== 'SUCCEEDED'; ) {
        await sleep(pollMs);
        status = String((await read(bench, started.id)).body.status);
        if (['FAILED', 'CANCELLED', 'TIMED_OUT'].includes(status)) throw new Error(status);
        if (performance.now() - sent > 120_000) throw new Error(`still ${status} after 120 s`);
      }
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  });
  return { ...load, wallMs, latencies, failures, retries, pollMs };
}

/** Section `executions`: throughput and end-to-end latency by concurrency. */
export async function measureExecutions(bench: BenchPlatform): Promise<SectionResult> {
  const { workflowId } = await setUp(bench);
  const tag = randomBytes(3).toString('hex');
  await level(bench, workflowId, WARMUP, `${tag}-warm`);
  const levels: Awaited<ReturnType<typeof level>>[] = [];
  for (const l of LEVELS) levels.push(await level(bench, workflowId, l, tag));
  const failures = levels.flatMap((l) => l.failures);
  if (failures.length > 0)
    throw new Error(`${failures.length} executions failed: ${failures.slice(0, 3).join('; ')}`);
  const p = (v: number[]) => `${ms(median(v), 0)} / ${ms(percentile(v, 95), 0)}`;
  const rate = (l: (typeof levels)[number]) => `${((1000 * l.latencies.length) / l.wallMs).toFixed(1)}/s`;
  const target = 'Local executions/s and end-to-end latency p50 / p95 by concurrency (no target)';
  const measured = levels.map((l) => `${l.concurrency}: ${rate(l)}, ${p(l.latencies)}`).join('; ');
  const header = ['Concurrent', 'Executions', 'Wall time', 'Throughput', 'End-to-end p50 / p95'];
  return {
    rows: [{ target, measured, verdict: 'INFO' }],
    values: {
      warmup: String(WARMUP.total),
      table: table(
        [...header, 'Starts retried after 503', 'Poll interval'],
        levels.map((l) => {
          const wall = `${(l.wallMs / 1000).toFixed(1)} s`;
          return [l.concurrency, l.total, wall, rate(l), p(l.latencies), l.retries, ms(l.pollMs, 0)];
        }),
      ),
    },
  };
}

/** Section `cost`'s input: executions one at a time, recorded and timed, and the steps the first ran. */
export async function sampleExecutions(bench: BenchPlatform) {
  const { workflowId, asl } = await setUp(bench);
  const tag = randomBytes(3).toString('hex');
  await level(bench, workflowId, WARMUP, `${tag}-warm`);
  const samples: ExecutionSample[] = [];
  let ran = new Set<string>();
  for (let i = 0; i < SAMPLES; i++) {
    await bench.recorder.settle();
    bench.recorder.take();
    bench.takeInvocations();
    const { result: steps, bytes } = await withLogBytes(async () => {
      const release = bench.hold();
      const started = await start(bench, workflowId, `${tag}-cost-${i}`).finally(release);
      await bench.finished(started.id);
      await bench.recorder.settle();
      const read1 = (await read(bench, started.id, 200)).body.steps;
      await bench.recorder.settle();
      return read1;
    });
    samples.push({ invocations: bench.takeInvocations(), calls: bench.recorder.take(), logBytes: bytes });
    if (i === 0) ran = new Set((Array.isArray(steps) ? steps : []).map((s) => String(s?.stepId)));
  }
  return { samples, asl, ran };
}

/** Section `overhead`: `runStep` as functions/handlers/step-runner.ts wires it, with an instant provider. */
export async function measureOverhead(bench: BenchPlatform): Promise<SectionResult> {
  const { workflowId, agentId, tenantId } = await setUp(bench);
  const reply = { text: '{"label":"refund"}', toolCalls: [], usage: CLASSIFY, stopReason: 'end' } as const;
  const c = stepRunnerWiring();
  const deps: StepRunnerDeps = {
    ...c,
    provider: () => ({ converse: async () => reply }),
    tools: toolRunner(),
    cost: costOf,
    onBudgetAlert: () => undefined,
    now: () => new Date(),
    egress: async (tenantId) => (await c.store.getTenant(tenantId))?.egressAllowlist ?? [],
  };
  // The step records go into one finished execution of the workflow, a new step id per call.
  const { id: executionId } = await start(bench, workflowId, `overhead-${randomBytes(3).toString('hex')}`);
  await bench.finished(executionId);
  const startedAt = new Date().toISOString();
  const context = { tenantId, executionId, workflowId, workflowVersion: 1, environment: 'dev' as const };
  const task = (i: number): StepTask => ({
    kind: 'agent',
    workflowId,
    workflowVersion: 1,
    stepId: `overhead${i}`,
    ref: { id: agentId, version: 1 },
    prompt: 'Classify: {{input.text}}',
    executionId,
    state: {
      input: { text: 'I want a refund for order 42', order: '42' },
      steps: {},
      context: { ...context, startedBy: 'bench', startedAt, teams: [] },
    },
  });
  await bench.recorder.settle();
  bench.recorder.take();
  const samples: number[] = [];
  const dynamo: number[] = [];
  for (let i = 0; i < OVERHEAD_WARMUP + OVERHEAD_RUNS; i++) {
    const t0 = performance.now();
    await runStep(deps, task(i));
    const elapsed = performance.now() - t0;
    const calls = bench.recorder.take();
    if (i < OVERHEAD_WARMUP) continue;
    samples.push(elapsed);
    dynamo.push(calls.reduce((t, x) => t + x.ms, 0));
  }
  const p50 = median(samples);
  return {
    rows: [
      {
        target: `Step runner overhead per agent step p50 ≤ ${OVERHEAD_P50_MS} ms (local, provider excluded)`,
        measured: `p50 ${ms(p50, 2)}, p95 ${ms(percentile(samples, 95), 2)}; DynamoDB Local round trips p50 ${ms(median(dynamo), 2)}`,
        verdict: verdict(p50 <= OVERHEAD_P50_MS),
      },
    ],
    values: { runs: String(OVERHEAD_RUNS), warmup: String(OVERHEAD_WARMUP) },
  };
}
