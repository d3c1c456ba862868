/** Sections `executions` and `overhead`, and the executions `cost` prices (bench/RESULTS.template.md). */
import { randomBytes } from 'node:crypto';
import { toolRunner } from '#adapters/tools/index.ts';
import { stepRunnerWiring } from '#adapters/wiring/step-runner.ts';
import { costOf } from '#core/executions/pricing.ts';
import { runStep, type StepRunnerDeps, type StepTask } from '#core/executions/step-runner.ts';
import { logger, metrics } from '#shared/observability.ts';
import { field, median, ms, percentile, pool, type SectionResult, sleep, table, verdict } from './lib.ts';
import type { BenchPlatform } from './platform.ts';

const LEVELS = [
  { concurrency: 1, total: 32 },
  { concurrency: 8, total: 64 },
  { concurrency: 32, total: 128 },
];
const WARMUP = { concurrency: 1, total: 4 };
const SAMPLES = 10;
const OVERHEAD_P50_MS = 10;
const OVERHEAD_RUNS = 300;
// DynamoDB Local's JVM warms up (12 ms after 1,500 steps, under 9 after 4,000): `--only` matches a full run.
const OVERHEAD_WARMUP = 4000;

/** What one execution used; `logBytes`: its handlers' own log lines (INFO, EMF), newlines counted. */
export type ExecutionSample = Awaited<ReturnType<typeof sampleExecutions>>['samples'][number];

/**
 * Runs `work` with the handlers logging as deployed (INFO, EMF on): counts their lines, and hides
 * those at INFO and the metrics, so a warning or an error still shows.
 */
async function withLogBytes<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const isLog = (line: string) => /^\{.*"(level|_aws)"/.test(line); // Powertools' JSON lines, EMF's
  const hidden = (line: string) => isLog(line) && !/"level":"(WARN|ERROR|CRITICAL)"/.test(line);
  let bytes = 0;
  const streams = [process.stdout, process.stderr].map((stream) => ({ stream, write: stream.write }));
  for (const { stream, write } of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const lines = String(chunk).split('\n');
      for (const line of lines.filter(isLog)) bytes += Buffer.byteLength(line) + 1;
      const other = lines.filter((line) => !hidden(line)).join('\n');
      if (other.trim() !== '') return write.call(stream, other, ...(rest as []));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    }) as typeof stream.write;
  }
  const level = logger.getLevelName();
  const metricsOff = Reflect.get(metrics, 'disabled');
  logger.setLogLevel('INFO');
  // Powertools offers no public switch once POWERTOOLS_METRICS_DISABLED was read (bench/run.ts).
  Reflect.set(metrics, 'disabled', false);
  try {
    return { result: await work(), bytes };
  } finally {
    for (const { stream, write } of streams) stream.write = write;
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
  const path = `/workflows/${workflowId}/executions`;
  for (let retries = 0; ; retries++) {
    const answer = await bench.call({ method: 'POST', path, body }, headers);
    if (answer.status === 202) return { id: field(answer, 'executionId'), retries };
    if (answer.status !== 503 || retries === 11)
      throw new Error(`POST ${path}: HTTP ${answer.status} ${answer.text}`);
    await sleep(Math.random() * Math.min(500, 20 * 2 ** retries));
  }
}

/** One level: `concurrency` workers each start an execution and poll it to its end, `total` in all. */
async function level(bench: BenchPlatform, workflowId: string, load: typeof WARMUP, tag: string) {
  const { concurrency, total } = load;
  const pollMs = Math.max(20, 5 * concurrency); // longer when many poll, so reads do not crowd out the work
  const failures: string[] = [];
  let retries = 0;
  const run = async (i: number) => {
    const sent = performance.now();
    const started = await start(bench, workflowId, `${tag}-c${concurrency}-${i}`);
    retries += started.retries;
    for (let status = ''; status !== 'SUCCEEDED'; ) {
      await sleep(pollMs);
      status = String((await bench.call({ method: 'GET', path: `/executions/${started.id}` })).body.status);
      if (['FAILED', 'CANCELLED', 'TIMED_OUT'].includes(status)) throw new Error(status);
      if (performance.now() - sent > 120_000) throw new Error(`still ${status} after 120 s`);
    }
  };
  const fail = (error: unknown) => failures.push(error instanceof Error ? error.message : String(error));
  const { wallMs, latencies } = await pool(total, concurrency, (i) => run(i).catch(fail));
  const rate = `${((1000 * latencies.length) / wallMs).toFixed(1)}/s`;
  const latency = `${ms(median(latencies), 0)} / ${ms(percentile(latencies, 95), 0)}`;
  return { ...load, wall: `${(wallMs / 1000).toFixed(1)} s`, rate, latency, failures, retries, pollMs };
}

export async function measureExecutions(bench: BenchPlatform): Promise<SectionResult> {
  const { workflowId } = await setUp(bench);
  const tag = randomBytes(3).toString('hex');
  await level(bench, workflowId, WARMUP, `${tag}-warm`);
  const levels: Awaited<ReturnType<typeof level>>[] = [];
  for (const l of LEVELS) levels.push(await level(bench, workflowId, l, tag));
  const failures = levels.flatMap((l) => l.failures);
  if (failures.length > 0)
    throw new Error(`${failures.length} executions failed: ${failures.slice(0, 3).join('; ')}`);
  const target = 'Local executions/s and end-to-end latency p50 / p95 by concurrency (no target)';
  const measured = levels.map((l) => `${l.concurrency}: ${l.rate}, ${l.latency}`).join('; ');
  const header = ['Concurrent', 'Executions', 'Wall time', 'Throughput', 'End-to-end p50 / p95'];
  return {
    rows: [{ target, measured, verdict: 'INFO' }],
    values: {
      warmup: String(WARMUP.total),
      table: table(
        [...header, 'Starts retried after 503', 'Poll interval'],
        levels.map((l) => [l.concurrency, l.total, l.wall, l.rate, l.latency, l.retries, ms(l.pollMs, 0)]),
      ),
    },
  };
}

/** Section `cost`'s input: executions one at a time, recorded and timed, and the steps the first ran. */
export async function sampleExecutions(bench: BenchPlatform) {
  const { workflowId, asl } = await setUp(bench);
  const tag = randomBytes(3).toString('hex');
  await level(bench, workflowId, WARMUP, `${tag}-warm`);
  const samples = [];
  let ran = new Set<string>();
  for (let i = 0; i < SAMPLES; i++) {
    await bench.recorder.settle();
    bench.recorder.take();
    bench.takeInvocations();
    const { result: steps, bytes } = await withLogBytes(async () => {
      const release = await bench.hold();
      const started = await start(bench, workflowId, `${tag}-cost-${i}`).finally(release);
      await bench.finished(started.id);
      await bench.recorder.settle();
      const { body } = await bench.call({ method: 'GET', path: `/executions/${started.id}`, expect: 200 });
      // A failed run would be priced as a cheaper one: refused instead.
      if (body.status !== 'SUCCEEDED') throw new Error(`Sampled execution ${started.id} is ${body.status}`);
      await bench.recorder.settle();
      return body.steps;
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
  const samples: number[] = [];
  const dynamo: number[] = [];
  for (let i = 0; i < OVERHEAD_WARMUP + OVERHEAD_RUNS; i++) {
    const t0 = performance.now();
    await runStep(deps, task(i));
    samples.push(performance.now() - t0);
    dynamo.push(bench.recorder.take().reduce((t, x) => t + x.ms, 0));
  }
  samples.splice(0, OVERHEAD_WARMUP);
  dynamo.splice(0, OVERHEAD_WARMUP);
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
