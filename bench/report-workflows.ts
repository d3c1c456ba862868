/**
 * The report of sections 5 to 8: compilation budget; execution throughput and latency,
 * overhead per agent step and the cost model.
 */

import { describeCall } from './capacity.ts';
import type { CompilationResults, TimingSummary } from './compilation.ts';
import { COST_TARGET_PER_1000, type CostResults, formatUsd, PRICES } from './cost.ts';
import type { DynamoCall } from './dynamo-recorder.ts';
import { type ExecutionResults, type LevelResult, p50p95, throughputOf } from './executions.ts';
import { firstLine, type Outcome, type TargetRow, table, type Verdict } from './markdown.ts';
import { median, percentile } from './stats.ts';
import type { OverheadResults } from './step-overhead.ts';

/** The compilation and execution targets. */
export const WORKFLOW_TARGETS = Object.freeze({
  /** Step Functions states per workflow step, on average over the test workflows. */
  statesPerStep: 1.25,
  /** The platform's own time per agent step, p50, locally, ms. */
  overheadP50Ms: 10,
  /** USD per 1,000 executions of the 5-step workflow, model tokens excluded. */
  costPer1000: COST_TARGET_PER_1000,
});

/** What sections 5 to 8 measured. */
export interface WorkflowBenchResults {
  readonly compilation: Outcome<CompilationResults>;
  readonly executions: Outcome<ExecutionResults>;
  readonly overhead: Outcome<OverheadResults>;
  readonly cost: Outcome<CostResults>;
  /** `os.loadavg()` when section 6 started. */
  readonly executionLoad: string;
  /** `os.loadavg()` when section 7 started. */
  readonly overheadLoad: string;
}

const pass = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');
const ms = (value: number, digits = 1): string => `${value.toFixed(digits)} ms`;
const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const s = (value: number): string => `${(value / 1000).toFixed(1)} s`;
const num = (value: number): string => String(Math.round(value * 100) / 100);

function errorRow(target: string, outcome: { error: string }): TargetRow {
  return { target, measured: `not measured: ${firstLine(outcome.error)}`, verdict: 'ERROR' };
}

function latencyText(values: readonly number[]): string {
  const p = p50p95(values);
  return p ? `${ms(p.p50, 0)} / ${ms(p.p95, 0)}` : '—';
}

function levelSummary(level: LevelResult): string {
  const p = p50p95(level.latencies);
  const failed = level.failures.length > 0 ? `, ${level.failures.length} failed` : '';
  return `${level.concurrency}: ${fixed(throughputOf(level), 1)}/s, p50 ${p ? ms(p.p50, 0) : '—'}, p95 ${p ? ms(p.p95, 0) : '—'}${failed}`;
}

/** The rows of sections 5 to 8 in the targets table. */
export function workflowTargetRows(r: WorkflowBenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const budget = `Compilation: ≤ ${WORKFLOW_TARGETS.statesPerStep} states per step over the test workflows`;
  if (r.compilation.ok) {
    const c = r.compilation.value;
    const steps = c.workflows.reduce((n, w) => n + w.steps, 0);
    const states = c.workflows.reduce((n, w) => n + w.states, 0);
    const worst = Math.max(c.pooledRatio, c.meanRatio);
    rows.push({
      target: budget,
      measured: `${fixed(c.pooledRatio)} (${states} states for ${steps} steps in ${c.workflows.length} workflows; mean of per-workflow ratios ${fixed(c.meanRatio)})`,
      verdict: pass(worst <= WORKFLOW_TARGETS.statesPerStep),
    });
    rows.push({
      target: `Validation + compilation of a ${c.large.steps}-step workflow (no target)`,
      measured: `p50 ${ms(c.large.total.p50, 2)}, p95 ${ms(c.large.total.p95, 2)} (${c.large.total.runs} runs)`,
      verdict: 'INFO',
    });
  } else {
    rows.push(errorRow(budget, r.compilation));
  }
  const throughput = 'Local executions/s and end-to-end latency by concurrency (no target)';
  if (r.executions.ok) {
    const e = r.executions.value;
    const failed = e.levels.reduce((n, l) => n + l.failures.length, 0);
    rows.push({
      target: throughput,
      measured: e.levels.map(levelSummary).join('; '),
      verdict: failed > 0 ? 'ERROR' : 'INFO',
    });
  } else {
    rows.push(errorRow(throughput, r.executions));
  }
  const overhead = `Step runner overhead per agent step p50 ≤ ${WORKFLOW_TARGETS.overheadP50Ms} ms (local, provider excluded)`;
  if (r.overhead.ok) {
    const o = r.overhead.value;
    const p50 = median(o.samples);
    rows.push({
      target: overhead,
      measured: `p50 ${ms(p50, 2)}, p95 ${ms(percentile(o.samples, 95), 2)}; of the p50, DynamoDB Local round trips ${ms(median(o.dynamoMs), 2)}`,
      verdict: pass(p50 <= WORKFLOW_TARGETS.overheadP50Ms),
    });
  } else {
    rows.push(errorRow(overhead, r.overhead));
  }
  const cost = `Cost ≤ $${WORKFLOW_TARGETS.costPer1000.toFixed(2)} per 1,000 executions on AWS (model tokens excluded)`;
  if (r.cost.ok) {
    const c = r.cost.value;
    const top = [...c.lines].sort((a, b) => b.usdPer1000 - a.usdPer1000)[0];
    rows.push({
      target: cost,
      measured: `$${c.totalPer1000.toFixed(4)} per 1,000${top ? ` (largest: ${top.component} $${top.usdPer1000.toFixed(4)})` : ''}`,
      verdict: pass(c.totalPer1000 <= WORKFLOW_TARGETS.costPer1000),
    });
  } else {
    rows.push(errorRow(cost, r.cost));
  }
  return rows;
}

function timingRow(label: string, t: TimingSummary): string[] {
  return [label, ms(t.p50, 3), ms(t.p95, 3), ms(t.min, 3), ms(t.max, 3)];
}

function notMeasured(out: string[], error: string): void {
  out.push('Not measured: the section failed.');
  out.push('');
  out.push('```');
  out.push(error.split('\n').slice(0, 8).join('\n'));
  out.push('```');
}

function compilationSection(out: string[], outcome: Outcome<CompilationResults>): void {
  out.push('## 5. Compilation budget');
  out.push('');
  if (!outcome.ok) {
    notMeasured(out, outcome.error);
    return;
  }
  const c = outcome.value;
  out.push(
    'Every example workflow of the workflow tests (`EXAMPLES` in `test/unit/core/workflows/fixtures.ts`, ' +
      'one or more per step type: together they use all nine) validated with `validateWorkflow`, compiled ' +
      'with `compileWorkflow`, its steps counted with nested ones (`countSteps`) and its states with ' +
      '`countStates` (states inside Parallel branches and Map processors included). Standard workflows ' +
      `are billed per state transition, so fewer states per step is cheaper. Target: at most ${WORKFLOW_TARGETS.statesPerStep} ` +
      'states per step on average; the verdict takes the larger of the pooled ratio and the mean of ' +
      'per-workflow ratios.',
  );
  out.push('');
  const steps = c.workflows.reduce((n, w) => n + w.steps, 0);
  const states = c.workflows.reduce((n, w) => n + w.states, 0);
  out.push(
    table(
      ['Workflow', 'Step types', 'Steps', 'States', 'States per step', 'asl-validator'],
      [
        ...c.workflows.map((w) => [
          `\`${w.name}\``,
          w.types.join(', '),
          String(w.steps),
          String(w.states),
          fixed(w.states / w.steps),
          w.aslErrors === '' ? 'valid' : w.aslErrors,
        ]),
        [
          '**All**',
          '',
          String(steps),
          String(states),
          `**${fixed(c.pooledRatio)}** (mean ${fixed(c.meanRatio)})`,
          '',
        ],
      ],
    ),
  );
  out.push('');
  out.push(
    `Validation plus compilation of a ${c.large.steps}-step workflow (\`linearWorkflow(${c.large.steps})\` of the ` +
      "fixtures: agent and tool steps alternating, each reading the previous step's output through a " +
      `template; ${c.large.definitionBytes.toLocaleString('en-US')} bytes of JSON, compiled to ${c.large.states} states, ` +
      `${c.large.aslBytes.toLocaleString('en-US')} bytes of ASL), in process: ${c.large.warmup} untimed warm-up runs, then ` +
      `${c.large.total.runs} timed runs, each on a fresh copy of the definition (as a request body would be), ` +
      'timed with `performance.now()`.',
  );
  out.push('');
  out.push(
    table(
      ['Phase', 'p50', 'p95', 'min', 'max'],
      [
        timingRow('`validateWorkflow`', c.large.validate),
        timingRow('`compileWorkflow`', c.large.compile),
        timingRow('Both', c.large.total),
      ],
    ),
  );
}

/** The request sequence, execution ids left out (`GetItem(EXEC/META)`). */
function operations(calls: readonly DynamoCall[]): string {
  return (
    calls
      .map(describeCall)
      .map((text) => text.replace(/EXEC#[a-z0-9]+\//g, 'EXEC/'))
      .join(' → ') || '—'
  );
}

function executionsSection(out: string[], outcome: Outcome<ExecutionResults>, load: string): void {
  out.push('## 6. Local execution throughput and latency');
  out.push('');
  if (!outcome.ok) {
    notMeasured(out, outcome.error);
    return;
  }
  const e = outcome.value;
  out.push(
    'A 5-step workflow modelled on the README walkthrough, with a tool step where the walkthrough waits ' +
      'for an approval, created over the API as a tenant admin: a `scripted` agent `classify` (replies `{"label":"refund",…}` with 120 + 8 tokens) → a ' +
      "builtin `echo` tool `lookup` (args from the input and the agent's output) → a choice `route` on " +
      '`steps.classify.output.data.label` → the agent again as `reply` → `done` (succeed). Version 1 is ' +
      'promoted to `dev`; each execution is started with `POST /workflows/{id}/executions` and a unique ' +
      '`Idempotency-Key`, then `GET /executions/{id}` is polled until the status is final. A start answered ' +
      '503 ("retry shortly") is retried with the same key after a jittered pause (20 ms doubling, at most ' +
      '500 ms), as a client should; its latency counts from the first attempt.',
  );
  out.push('');
  out.push(
    `${e.warmup} untimed executions warm up first. At each level, that many workers each start an execution ` +
      "and wait for it before starting the next, until the level's total is done. Throughput = executions " +
      'that succeeded ÷ wall time of the level. End-to-end latency = start request sent → `SUCCEEDED` read ' +
      '(so it includes up to one poll interval; the interval grows with concurrency, 5 ms per worker, at ' +
      'least 20 ms, to keep polling from crowding out the work). Everything — the HTTP client, the API, ' +
      'the emulator and every handler — shares one Node.js process and DynamoDB Local: this measures the ' +
      `local platform, not AWS. Load average when the section started: ${load}.`,
  );
  out.push('');
  out.push(
    table(
      [
        'Concurrent',
        'Executions',
        'Succeeded',
        'Wall time',
        'Throughput',
        'End-to-end p50 / p95',
        'Start request p50 / p95',
        'Starts retried after 503',
        'Poll interval',
        'Status reads',
      ],
      e.levels.map((l) => [
        String(l.concurrency),
        String(l.total),
        String(l.succeeded),
        s(l.wallMs),
        `${fixed(throughputOf(l), 2)} executions/s`,
        latencyText(l.latencies),
        latencyText(l.startLatencies),
        l.startRetries.requests === 0
          ? '0'
          : `${l.startRetries.executions} executions (${l.startRetries.requests} retries)`,
        ms(l.pollMs, 0),
        String(l.polls),
      ]),
    ),
  );
  const failures = e.levels.flatMap((l) => l.failures.map((f) => `c=${l.concurrency}: ${f}`));
  if (failures.length > 0) {
    out.push('');
    out.push(
      `Executions that did not succeed (${failures.length}): ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; …' : ''}`,
    );
  }
  out.push('');
  out.push(
    'Starts answered 503 are retried, as a client should. A start shares no item with another start (its ' +
      "audit record is an item of its own, the month's counters move by one conditional atomic update), so " +
      'the retries counted here show how often one was still refused.',
  );
  out.push('');
  out.push(
    "The step records' own `durationMs` (the step runner's clock: start of the step to its result, before the final write), per level:",
  );
  out.push('');
  out.push(
    table(
      ['Concurrent', 'Agent steps p50 / p95', 'Tool steps p50 / p95'],
      e.levels.map((l) => [
        String(l.concurrency),
        latencyText(l.stepDurations.agent),
        latencyText(l.stepDurations.tool),
      ]),
    ),
  );
  out.push('');
  const first = e.samples[0];
  out.push(
    `What one execution uses, from ${e.samples.length} executions run one at a time with every DynamoDB ` +
      'request recorded (the middleware of section 4) and every handler timed: started over the API, awaited ' +
      'through the status handler (no polling), then read once with `GET /executions/{id}`. The workflow ' +
      'Lambdas are held back until the start request has been answered, so each duration is measured alone. ' +
      `States entered (from the compiled ASL and the steps that ran): ${e.path.map((p) => `\`${p}\``).join(' → ')} = ${e.path.length}.`,
  );
  if (first) {
    out.push('');
    const byFn = new Map<string, DynamoCall[]>();
    for (const c of first.calls) {
      const key = c.phase.startsWith('api ') ? c.phase.slice(4) : c.phase;
      byFn.set(key, [...(byFn.get(key) ?? []), c]);
    }
    out.push(
      table(
        ['Function (request)', 'DynamoDB requests of one execution'],
        [...byFn].map(([fn, calls]) => [fn, operations(calls)]),
      ),
    );
  }
  const engine = e.samples.flatMap((x) => x.invocations.filter((i) => i.fn === 'local-engine-start'));
  const startCalls = e.samples.flatMap((x) =>
    x.invocations.filter(
      (i) => i.fn === 'api' && i.label.startsWith('POST') && i.label.endsWith('/executions'),
    ),
  );
  if (engine.length > 0 && startCalls.length > 0) {
    out.push('');
    out.push(
      `Of the start request's API time (mean ${ms(startCalls.reduce((t, i) => t + i.ms, 0) / startCalls.length)}), ` +
        `the local engine's \`start\` (the emulator parsing and checking the ASL and building the machine; ` +
        `a \`StartExecution\` call on AWS) takes a mean ${ms(engine.reduce((t, i) => t + i.ms, 0) / engine.length)}.`,
    );
  }
}

function overheadSection(
  out: string[],
  outcome: Outcome<OverheadResults>,
  executions: Outcome<ExecutionResults>,
  load: string,
): void {
  out.push('## 7. Platform overhead per agent step');
  out.push('');
  if (!outcome.ok) {
    notMeasured(out, outcome.error);
    return;
  }
  const o = outcome.value;
  const p50 = median(o.samples);
  out.push(
    "`runStep` (functions/core/executions/step-runner.ts), the step runner's core, called in process with " +
      "the platform's own adapters (`adapters()`: DynamoDB Local through the handlers' document client, the " +
      'local secret vault, the artifact store; the builtin tool runner; the price table) and a provider stub ' +
      'that answers at once (`{"label":"refund",…}`, 120 + 8 tokens, no tool calls). Each call is an agent ' +
      'step of the benchmark workflow with a new step id, written into an execution of section 6; the ' +
      'container is warm (pinned versions cached, as in a warm Lambda). Each call timed whole with ' +
      `\`performance.now()\`, nothing subtracted; ${o.warmup} untimed warm-up calls, then ${o.samples.length} timed. ` +
      `Target: p50 ≤ ${WORKFLOW_TARGETS.overheadP50Ms} ms locally. Load average when the section ` +
      `started: ${load} (DynamoDB Local's round trips, most of the time, grow with other load on the machine).`,
  );
  out.push('');
  out.push(
    table(
      [
        'Calls',
        'p50',
        'p95',
        'min',
        'max',
        'Of which DynamoDB (p50 / p95)',
        'DynamoDB requests per step',
        'Result',
      ],
      [
        [
          String(o.samples.length),
          ms(p50, 2),
          ms(percentile(o.samples, 95), 2),
          ms(Math.min(...o.samples), 2),
          ms(Math.max(...o.samples), 2),
          `${ms(median(o.dynamoMs), 2)} / ${ms(percentile(o.dynamoMs, 95), 2)}`,
          operations(o.callsPerStep),
          pass(p50 <= WORKFLOW_TARGETS.overheadP50Ms),
        ],
      ],
    ),
  );
  out.push('');
  const rest = o.samples.map((t, i) => t - (o.dynamoMs[i] ?? 0));
  out.push(
    `"Of which DynamoDB" sums the round trips of the step's requests as the SDK client saw them (SDK, HTTP ` +
      `and DynamoDB Local); the rest, the platform's own code, is p50 ${ms(median(rest), 2)}, p95 ${ms(percentile(rest, 95), 2)}.`,
  );
  if (executions.ok) {
    const agent = executions.value.levels.find((l) => l.concurrency === 1)?.stepDurations.agent ?? [];
    const p = p50p95(agent);
    if (p) {
      out.push(
        `Cross-check from the scripted runs of section 6 at concurrency 1 (the scripted provider is instant): ` +
          `the agent steps' recorded \`durationMs\` is p50 ${ms(p.p50, 0)}, p95 ${ms(p.p95, 0)} (whole milliseconds; ` +
          'it starts before the first write and ends before the final one).',
      );
    }
  }
}

function costSection(out: string[], outcome: Outcome<CostResults>): void {
  out.push('## 8. Cost model on AWS');
  out.push('');
  if (!outcome.ok) {
    notMeasured(out, outcome.error);
    return;
  }
  const c = outcome.value;
  out.push(
    `What one execution of the section 6 workflow uses, measured on ${c.samples} recorded runs, priced at ` +
      `${PRICES.region} list prices as of ${PRICES.asOf}. **The prices come from memory of the public AWS ` +
      'pricing pages (Step Functions, Lambda, DynamoDB, API Gateway, EventBridge), not from a query: check ' +
      'them before relying on the figures.** Free tiers are ignored; model tokens are excluded (the ' +
      `scripted provider costs nothing). Target: at most $${WORKFLOW_TARGETS.costPer1000.toFixed(2)} per 1,000 executions.`,
  );
  out.push('');
  out.push(
    table(
      ['Component', 'Per execution', 'Unit price', 'USD per 1,000 executions', 'How it was counted'],
      [
        ...c.lines.map((l) => [l.component, l.perExecution, l.unitPrice, formatUsd(l.usdPer1000), l.how]),
        [
          '**Total**',
          '',
          '',
          `**$${c.totalPer1000.toFixed(4)}**`,
          `${pass(c.totalPer1000 <= WORKFLOW_TARGETS.costPer1000)} against $${WORKFLOW_TARGETS.costPer1000.toFixed(2)}`,
        ],
      ],
    ),
  );
  out.push('');
  out.push("DynamoDB by function (per execution; DynamoDB Local's own units beside the ones billed):");
  out.push('');
  out.push(
    table(
      ['Function', 'Requests', 'Operations', 'RRU', 'WRU', 'Local RCU', 'Local WCU'],
      c.dynamo.map((d) => [
        d.phase,
        num(d.requests),
        d.operations,
        num(d.rru),
        num(d.wru),
        num(d.localRcu),
        num(d.localWcu),
      ]),
    ),
  );
  out.push('');
  out.push('Assumptions and sources:');
  out.push('');
  const sizing = c.sizings.functions;
  out.push(
    `- **Memory**: API ${sizing.api.memoryMb} MB (${sizing.api.source}), authorizer ${sizing.authorizer.memoryMb} MB ` +
      `(${sizing.authorizer.source}), step runner ${sizing['step-runner'].memoryMb} MB (${sizing['step-runner'].source}), ` +
      `status handler ${sizing['status-handler'].memoryMb} MB (${sizing['status-handler'].source}); ` +
      `architecture from ${c.sizings.architectureSource}.`,
  );
  out.push(
    '- **Durations**: each handler invocation timed in process on this machine against DynamoDB Local, each ' +
      "rounded up to the next millisecond as Lambda bills; the mean is used. The API's start request includes " +
      "the local emulator's start (section 6), where AWS makes a `StartExecution` call instead; the " +
      "authorizer's time is its `authenticate` call (warm cache), billed the 1 ms minimum. Locally the logger is silent, " +
      'metrics and tracing are off, and DynamoDB is on localhost; on AWS, logging, EMF metrics, X-Ray and ' +
      'in-region DynamoDB latency apply instead, and cold starts (whose INIT phase is billed) add to it. ' +
      `Lambda compute is a small share: every duration could be ${fixed(c.durationHeadroom, 1)}× longer before ` +
      'the total reached the target.',
  );
  out.push(
    `- **Status handler**: ${c.sizings.statusRule.source}. Step Functions emits ${c.events} status events per ` +
      'execution (RUNNING and SUCCEEDED); AWS service events on the default bus cost nothing.',
  );
  out.push(
    `- **API requests**: ${num(c.apiRequests)} per execution, the start and one \`GET /executions/{id}\` for the ` +
      "result; the authorizer runs on every request (API Gateway's authorizer cache is off) and answers from " +
      'its warm cache (no DynamoDB request). Every further status poll adds ' +
      `${formatUsd(c.extraPollPer1000)} per 1,000 executions (an API request, two Lambda invocations, its reads).`,
  );
  out.push(
    '- **DynamoDB units**: computed from the recorded requests (bench/dynamo-units.ts) because DynamoDB ' +
      'Local under-counts transactions: reads 1 unit per 4 KB strongly consistent (0.5 eventually), at least ' +
      'one per request; writes 1 unit per KB, transactional writes 2 per KB per item (condition checks ' +
      'included). Put sizes come from the request; items an Update names were read back after the runs for ' +
      'their size.',
  );
  out.push(
    '- **Not included**: model tokens, CloudWatch Logs ingestion and storage, X-Ray traces, KMS requests of ' +
      "the table's key, DynamoDB storage, backups and streams, S3 (outputs here are far below the 200 KB " +
      'offload), data transfer, free tiers.',
  );
}

/** Sections 5 to 8 of `bench/RESULTS.md`. */
export function renderWorkflowSections(r: WorkflowBenchResults): string[] {
  const out: string[] = [];
  compilationSection(out, r.compilation);
  out.push('');
  executionsSection(out, r.executions, r.executionLoad);
  out.push('');
  overheadSection(out, r.overhead, r.executions, r.overheadLoad);
  out.push('');
  costSection(out, r.cost);
  return out;
}
