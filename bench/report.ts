/**
 * Turns the measurements into the targets table, `bench/RESULTS.md` and the console summary.
 */
import type { AuthorizerResults, Latency } from './authorizer.ts';
import type { FailedBundle, FunctionBundles } from './bundles.ts';
import { CDK_BUNDLING } from './bundling.ts';
import { byOperation, type CapacityResults, describeCall, type RouteResult } from './capacity.ts';
import type { DynamoCall } from './dynamo-recorder.ts';
import type { InitSamples } from './init-time.ts';
import { type TargetRow, table, type Verdict } from './markdown.ts';
import { renderWorkflowSections, type WorkflowBenchResults, workflowTargetRows } from './report-workflows.ts';
import { median, range } from './stats.ts';

/** The targets `npm run bench` judges its figures against (bench/RESULTS.md, "Targets"). */
export const TARGETS = Object.freeze({
  /** Function bundle at most this many times its reference's size (+15 %). */
  sizeRatio: 1.15,
  /** Function module init at most this many times its reference's. */
  initRatio: 1.15,
  /** Authorizer p50 per warm request, ms. */
  authorizerP50Ms: 0.3,
});

/** The machine and the run, for "How these were taken". */
export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly esbuild: string;
  readonly dynamoDbLocal: string;
  readonly durationS: number;
  /** `os.loadavg()` when the run started, formatted. */
  readonly loadAverage: string;
  readonly initRuns: number;
  readonly authIterations: number;
}

/** Everything one run measured. */
export interface BenchResults {
  readonly run: RunInfo;
  readonly bundles: readonly FunctionBundles[];
  /** Entry points esbuild could not bundle: neither sized nor timed. */
  readonly failedBundles: readonly FailedBundle[];
  readonly init: readonly InitSamples[];
  readonly authorizer: AuthorizerResults;
  readonly capacity: CapacityResults;
  /** Sections 5 to 8: compilation, executions, step overhead, cost. */
  readonly workflows: WorkflowBenchResults;
}

export type { TargetRow } from './markdown.ts';

const pass = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const bytesAndKib = (bytes: number): string => `${bytes.toLocaleString('en-US')} B (${kib(bytes)})`;
const ms = (value: number, digits = 1): string => `${value.toFixed(digits)} ms`;
const fine = (value: number): string =>
  value < 0.1 ? value.toFixed(4) : value < 10 ? value.toFixed(3) : value.toFixed(1);
const percent = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;
const units = (value: number): string => String(Math.round(value * 100) / 100);
const sum = (calls: readonly DynamoCall[], pick: (c: DynamoCall) => number): number =>
  calls.reduce((total, c) => total + pick(c), 0);
const routeLabel = (r: RouteResult): string => (r.variant ? `${r.route} (${r.variant})` : r.route);

function initOf(results: BenchResults, name: string): { fn: number; reference: number; ratio: number } {
  const samples = results.init.find((s) => s.name === name);
  if (!samples) throw new Error(`No init samples for ${name}`);
  const fn = median(samples.fn);
  const reference = median(samples.reference);
  return { fn, reference, ratio: fn / reference };
}

/**
 * Median over rounds of function time / reference time: the two imports of a round run back to back,
 * so a slow spell on the machine tends to hit both and cancel out.
 */
function pairedRatio(samples: InitSamples): number {
  return median(samples.fn.map((fn, i) => fn / (samples.reference[i] ?? Number.NaN)).filter(Number.isFinite));
}

/** The authorizer's warm DynamoDB requests per credential, and whether all are zero. */
function warmAuthorizer(capacity: CapacityResults): { text: string; ok: boolean } {
  const parts = capacity.authorizer.map((a) => `${a.credential}: ${a.warm.length}`);
  const routeCalls = capacity.routes.reduce((n, r) => n + r.authorizerCalls.length, 0);
  return {
    text: `${parts.join('; ')}; during the ${capacity.routes.length} route calls: ${routeCalls}`,
    ok: capacity.authorizer.every((a) => a.warm.length === 0) && routeCalls === 0,
  };
}

/** Every target with what was measured and PASS or MISS. */
export function targetRows(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const b of results.bundles) {
    const ratio = b.fn.bytes / b.reference.bytes;
    rows.push({
      target: `${b.name}: bundle ≤ +15 % of its reference`,
      measured: `${percent(ratio)} (${kib(b.fn.bytes)} vs ${kib(b.reference.bytes)})`,
      verdict: pass(ratio <= TARGETS.sizeRatio),
    });
  }
  for (const f of results.failedBundles) {
    rows.push({
      target: `${f.name}: bundle and module init`,
      measured: `does not build: ${f.error}`,
      verdict: 'ERROR',
    });
  }
  for (const b of results.bundles) {
    const init = initOf(results, b.name);
    rows.push({
      target: `${b.name}: module init ≤ 1.15× its reference (median)`,
      measured: `${init.ratio.toFixed(2)}× (${ms(init.fn)} vs ${ms(init.reference)})`,
      verdict: pass(init.ratio <= TARGETS.initRatio),
    });
  }
  const a = results.authorizer;
  for (const [label, latency] of [
    ['cached bearer token', a.cachedToken],
    ['cached API key', a.cachedApiKey],
  ] as const) {
    rows.push({
      target: `Authorizer p50, ${label} ≤ ${TARGETS.authorizerP50Ms} ms`,
      measured: `p50 ${fine(latency.p50)} ms, p99 ${fine(latency.p99)} ms`,
      verdict: pass(latency.p50 <= TARGETS.authorizerP50Ms),
    });
  }
  const storeCalls = a.cachedToken.storeCalls + a.cachedApiKey.storeCalls;
  rows.push({
    target: 'Authorizer: zero store (DynamoDB) calls when warm, in process',
    measured: `${storeCalls} in ${(a.cachedToken.calls + a.cachedApiKey.calls).toLocaleString('en-US')} warm calls`,
    verdict: pass(storeCalls === 0),
  });
  const warm = warmAuthorizer(results.capacity);
  rows.push({
    target: 'Authorizer: zero DynamoDB requests when warm, local platform',
    measured: warm.text,
    verdict: pass(warm.ok),
  });
  const routes = results.capacity.routes;
  const errors = routes.filter((r) => r.verdict === 'ERROR');
  const misses = routes.filter((r) => r.verdict === 'MISS');
  rows.push({
    target: 'Routes: a read is 1 request, a write is one transaction',
    measured:
      `${routes.length - misses.length - errors.length} of ${routes.length} route calls meet it` +
      (misses.length > 0 ? `; missed by ${misses.map(routeLabel).join(', ')}` : '') +
      (errors.length > 0 ? `; failed: ${errors.map(routeLabel).join(', ')}` : ''),
    verdict: errors.length > 0 ? 'ERROR' : pass(misses.length === 0),
  });
  const all = [
    ...routes.flatMap((r) => [...r.calls, ...r.authorizerCalls]),
    ...results.capacity.authorizer.flatMap((x) => [...x.cold, ...x.warm]),
  ];
  const scans = all.filter((c) => c.operation === 'Scan').length;
  rows.push({
    target: 'No Scan anywhere',
    measured: `${scans} Scan in ${all.length} DynamoDB requests`,
    verdict: pass(scans === 0),
  });
  rows.push(...workflowTargetRows(results.workflows));
  return rows;
}

function latencyRow(label: string, latency: Latency): string[] {
  return [
    label,
    latency.calls.toLocaleString('en-US'),
    fine(latency.p50),
    fine(latency.p99),
    fine(latency.max),
    String(latency.storeCalls),
  ];
}

function callsDetail(calls: readonly DynamoCall[]): string {
  return calls.map(describeCall).join(' → ') || '—';
}

/** `bench/RESULTS.md`. */
export function renderMarkdown(results: BenchResults, rows: readonly TargetRow[]): string {
  const { run, authorizer: a, capacity } = results;
  const judged = rows.filter((r) => r.verdict !== 'INFO');
  const met = judged.filter((r) => r.verdict === 'PASS').length;
  const out: string[] = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(
    `Written by \`npm run bench\` on ${run.date} (commit ${run.commit}, working tree as it was), in ` +
      `${run.durationS.toFixed(0)} s. Every run overwrites this file. ${met} of ${judged.length} targets met ` +
      '(INFO rows report a figure that has no target).',
  );
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['Target', 'Measured', 'Result'],
      rows.map((r) => [r.target, r.measured, r.verdict]),
    ),
  );

  out.push('');
  out.push('## 1. Bundle size');
  out.push('');
  out.push(
    "Minified `index.mjs` of each function, built with the CDK's esbuild options, beside its reference " +
      'handler: a module that imports the same AWS SDK clients and Powertools utilities, creates each ' +
      'once and does nothing else.',
  );
  out.push('');
  out.push(
    table(
      ['Function', 'Function bundle', 'Reference bundle', 'Ratio', 'Result'],
      results.bundles.map((b) => {
        const ratio = b.fn.bytes / b.reference.bytes;
        return [
          `\`${b.entry}\``,
          bytesAndKib(b.fn.bytes),
          bytesAndKib(b.reference.bytes),
          `${ratio.toFixed(2)}× (${percent(ratio)})`,
          pass(ratio <= TARGETS.sizeRatio),
        ];
      }),
    ),
  );
  for (const f of results.failedBundles) {
    out.push('');
    out.push(`\`${f.entry}\` was not measured: esbuild could not bundle it (${f.error}).`);
  }
  out.push('');
  out.push('Where the bytes beyond the reference come from (minified bytes in the bundle, largest first):');
  out.push('');
  for (const b of results.bundles) {
    const top = b.extra.slice(0, 6).map((e) => `${e.source} ${kib(e.bytes)}`);
    out.push(`- **${b.name}**: ${top.join(', ')}`);
  }
  out.push('');
  out.push("What each reference contains (packages found in the function's esbuild metafile):");
  out.push('');
  for (const b of results.bundles) {
    const parts = [
      ...b.plan.utilities,
      ...b.plan.clients,
      ...(b.plan.documentClient ? ['DynamoDBDocumentClient'] : []),
      ...b.plan.wholeModules.map((m) => `${m} (whole module)`),
    ];
    out.push(`- **${b.name}**: ${parts.join(', ')}`);
  }

  out.push('');
  out.push('## 2. Module init time');
  out.push('');
  out.push(
    `\`await import(bundle)\` in a fresh \`node\` process, ${run.initRuns} runs per bundle, function and ` +
      'reference alternating; medians, and the fastest and slowest run. The target is judged on the ratio ' +
      "of medians; the median of paired ratios (each round's function import over its reference import, " +
      'run back to back) is less sensitive to other load on the machine.',
  );
  out.push('');
  out.push(
    table(
      [
        'Function',
        'Function median',
        'Reference median',
        'Ratio of medians',
        'Median of paired ratios',
        'Function min–max',
        'Reference min–max',
        'Result',
      ],
      results.bundles.map((b) => {
        const samples = results.init.find((s) => s.name === b.name);
        const init = initOf(results, b.name);
        const f = range(samples?.fn ?? [init.fn]);
        const r = range(samples?.reference ?? [init.reference]);
        return [
          b.name,
          ms(init.fn),
          ms(init.reference),
          `${init.ratio.toFixed(2)}×`,
          samples ? `${pairedRatio(samples).toFixed(2)}×` : '—',
          `${f.min.toFixed(0)}–${f.max.toFixed(0)} ms`,
          `${r.min.toFixed(0)}–${r.max.toFixed(0)} ms`,
          pass(init.ratio <= TARGETS.initRatio),
        ];
      }),
    ),
  );

  out.push('');
  out.push('## 3. Authorizer in-process cost');
  out.push('');
  out.push(
    `\`Authenticator.authenticate()\` with the real token verifier (JWKS loaded with \`cacheJwks\`) and an ` +
      `in-memory store that counts its calls; cache TTL ${a.cacheTtlSeconds} s (the default ` +
      `\`AUTH_CACHE_TTL_SECONDS\`), ${a.warmupCalls.toLocaleString('en-US')} untimed warm-up calls per ` +
      'credential. Times in milliseconds, per call.',
  );
  out.push('');
  out.push(
    table(
      ['Case', 'Calls', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'Store calls while timed'],
      [
        latencyRow('Cached bearer token', a.cachedToken),
        latencyRow('Cached API key', a.cachedApiKey),
        latencyRow(
          'Uncached bearer token (cache cleared each call; verify + 3 in-memory reads)',
          a.uncachedToken,
        ),
        latencyRow('Uncached API key (cache cleared each call; hash + 2 in-memory reads)', a.uncachedApiKey),
        latencyRow('`verify()` alone, local verifier (JwtVerifier)', a.verifyLocal),
        latencyRow('`verify()` alone, AWS verifier (CognitoJwtVerifier)', a.verifyAws),
      ],
    ),
  );
  out.push('');
  out.push(
    `First \`verify()\` of a new verifier after \`cacheJwks\` (imports the public key): ${fine(a.firstVerifyMs)} ms. ` +
      `Store calls of the first request of a credential: bearer token ${a.coldStoreCalls.token}; ` +
      `API key ${a.coldStoreCalls.apiKey}.`,
  );

  out.push('');
  out.push('## 4. DynamoDB requests and capacity per route');
  out.push('');
  out.push(
    'Each route called once over HTTP on the local platform, after a warm-up request of the same ' +
      'credential. Capacity is what DynamoDB Local reports with `ReturnConsumedCapacity: TOTAL`. Target: ' +
      'a read makes 1 read request; a write makes exactly one `TransactWriteItems`, no other write, and ' +
      'reads only items that transaction writes (read-modify-write); no ' +
      "Scan. The authorizer's requests are counted apart. In the sequence, `GetItem(USER)` names the kind " +
      'of item read (its sort-key prefix), `Query(gsi1 SUB#)` the ' +
      'index and key prefix, `TransactWriteItems(3 items)` the number of items written.',
  );
  out.push('');
  out.push(
    "DynamoDB Local's units are its own: a transaction of three small items is reported as 2 WCU where " +
      'DynamoDB charges 2 WCU per item and KB (at least 6). Compare routes by their requests and item ' +
      'counts; treat the WCU of transactions as a lower bound.',
  );
  out.push('');
  out.push(
    table(
      ['Route', 'Caller', 'HTTP', 'Requests', 'RCU', 'WCU', 'Sequence', 'Result', 'Why'],
      capacity.routes.map((r) => [
        `\`${routeLabel(r)}\``,
        r.caller,
        String(r.status),
        byOperation(r.calls),
        units(sum(r.calls, (c) => c.rcu)),
        units(sum(r.calls, (c) => c.wcu)),
        callsDetail(r.calls),
        r.expect === 'any' && r.verdict === 'PASS' ? 'PASS (no target but no Scan)' : r.verdict,
        r.why || '',
      ]),
    ),
  );
  out.push('');
  out.push("The authorizer's own DynamoDB requests, first (cold) and second (warm) request of a credential:");
  out.push('');
  out.push(
    table(
      ['Credential', 'Cold requests', 'Cold RCU', 'Cold WCU', 'Warm requests', 'Result'],
      capacity.authorizer.map((x) => [
        x.credential,
        callsDetail(x.cold),
        units(sum(x.cold, (c) => c.rcu)),
        units(sum(x.cold, (c) => c.wcu)),
        x.warm.length === 0 ? '0' : `${x.warm.length}: ${callsDetail(x.warm)}`,
        pass(x.warm.length === 0),
      ]),
    ),
  );
  if (capacity.notExercised.length > 0) {
    out.push('');
    out.push(
      `Routes the API declares that this benchmark does not call yet: ${capacity.notExercised.map((r) => `\`${r}\``).join(', ')}.`,
    );
  }
  const uncounted = Object.entries(capacity.uncounted);
  if (uncounted.length > 0) {
    out.push('');
    out.push(`Control-plane requests (no capacity): ${uncounted.map(([op, n]) => `${op}×${n}`).join(', ')}.`);
  }

  out.push('');
  out.push(...renderWorkflowSections(results.workflows));

  out.push('');
  out.push('## How these were taken');
  out.push('');
  out.push(
    `- **Machine**: ${run.cpu}, ${run.cores} cores (\`nproc\`), ${run.memoryGiB.toFixed(1)} GiB memory, ` +
      `${run.os}; Node.js ${run.node}; ${run.date}. Load average when the run started: ${run.loadAverage} ` +
      '(1, 5, 15 min; other work on the machine widens the init-time ranges, the interleaving keeps the ratios fair).',
  );
  out.push(
    `- **Command**: \`npm run bench\` (\`tsx bench/run.ts\`), ${run.durationS.toFixed(0)} s in all. It writes ` +
      'bundles and generated files under `bench/.out/` (ignored by git).',
  );
  out.push(
    `- **Bundles**: esbuild ${run.esbuild} with the options \`lib/constructs/function.ts\` gives ` +
      '`NodejsFunction` (`bench/bundling.ts`, held equal by `test/unit/bench-bundling.test.ts`): bundle, ' +
      `platform node, format ${CDK_BUNDLING.format}, target ${CDK_BUNDLING.target}, minify, linked source map ` +
      `without sources content, main fields ${CDK_BUNDLING.mainFields.join(',')}, the createRequire banner, ` +
      'nothing external (AWS SDK bundled). Size is `index.mjs` only (the `.map` is not counted); ' +
      '1 KiB = 1024 bytes. The reference (`bench/.out/bundles/<function>/reference-entry.mjs`) is generated ' +
      'from the `@aws-sdk/*` and `@aws-lambda-powertools/*` packages the project code imports (esbuild ' +
      'metafile), creates every client once at import, wrapped by the tracer, and is built with the same options.',
  );
  out.push(
    `- **Module init**: per bundle, one discarded warm-up import, then ${run.initRuns} imports, each in a new ` +
      '`node` process that records `performance.now()` around `await import(bundle)`, one process at a time, ' +
      'function and reference alternating (the order flips every round). The environment is a deployed ' +
      "function's: `NODE_OPTIONS=--enable-source-maps`, `MERIDIAN_MODE=aws`, dummy table, bucket, user pool " +
      'and role names, the Lambda runtime variables; no credentials (nothing is called at init). Median: the ' +
      'middle value of the runs (mean of the two middle ones for an even count). The function may create ' +
      'some clients lazily (on first request); the reference creates all of them at import.',
  );
  out.push(
    `- **Authorizer**: ${run.authIterations.toLocaleString('en-US')} timed calls per cached credential, each ` +
      'timed alone with `process.hrtime.bigint()` around the awaited call; uncached cases ' +
      `${a.uncachedToken.calls} calls. p50 and p99 are nearest-rank percentiles (the smallest sample with at ` +
      'least 50 % / 99 % of the samples at or below it). RSA 2048 key generated per run; tokens shaped like ' +
      "cognito-local's access tokens.",
  );
  out.push(
    `- **DynamoDB**: the local platform (\`startLocalPlatform\`, DynamoDB Local ${run.dynamoDbLocal}) started once in ` +
      `the bench process for sections 4, 6, 7 and 8, over a temporary state folder (deleted afterwards), ready in ` +
      `${(capacity.startMs / 1000).toFixed(1)} s. A middleware on the handlers' DynamoDB document client ` +
      "(`dynamoDocumentClient()`; locally every tenant's client is that one) sets `ReturnConsumedCapacity: " +
      "TOTAL` and records each request with its round trip; the authorizer's `authenticate` and the API's " +
      '`router.handle` run in AsyncLocalStorage phases so their requests are told apart. Demo users sign in ' +
      'through cognito-local. As under `npm start`, EMF metrics and tracing are off ' +
      '(`POWERTOOLS_METRICS_DISABLED`, `POWERTOOLS_TRACE_ENABLED=false`, set before section 3 imports the ' +
      'observability module); the handlers log at `POWERTOOLS_LOG_LEVEL=SILENT` (`npm start` uses WARN; the ' +
      '503s of section 6 would otherwise print a stack each).',
  );
  out.push(
    '- **Workflow Lambdas** (sections 6 to 8): the bench registers its own `LocalRuntime` (bin/local/runtime.ts, ' +
      'the same class and options `startWorkflowRuntime` uses) with `useLocalExecutionEngine` before the first ' +
      'execution, its step runner, approval and status handlers wrapped to time each invocation and label its ' +
      "DynamoDB requests; the ASL, the emulator and the handlers are the platform's own. Product code is not " +
      'modified.',
  );
  out.push('');
  return out.join('\n');
}

/** The console summary: the targets, then the routes that missed. */
export function renderConsole(
  results: BenchResults,
  rows: readonly TargetRow[],
  resultsPath: string,
): string {
  const width = Math.max(...rows.map((r) => r.target.length));
  const lines = rows.map((r) => `${r.verdict.padEnd(5)} ${r.target.padEnd(width)}  ${r.measured}`);
  const routes = results.capacity.routes;
  const routeWidth = Math.max(...routes.map((r) => routeLabel(r).length));
  const routeLines = routes.map(
    (r) =>
      `  ${r.verdict.padEnd(5)} ${routeLabel(r).padEnd(routeWidth)}  ` +
      `RCU ${units(sum(r.calls, (c) => c.rcu)).padStart(4)}  WCU ${units(sum(r.calls, (c) => c.wcu)).padStart(4)}  ` +
      `${byOperation(r.calls)}${r.why ? `  (${r.why})` : ''}`,
  );
  return [
    '',
    'Meridian benchmark',
    ...lines,
    '',
    'DynamoDB per route:',
    ...routeLines,
    '',
    `Written ${resultsPath} (${results.run.durationS.toFixed(0)} s).`,
  ].join('\n');
}
