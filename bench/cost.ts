/**
 * Section 8: what one execution of the benchmark workflow would cost on AWS, from what
 * section 6 measured, in USD per 1,000 executions, model tokens excluded.
 *
 * Prices are us-east-1 list prices remembered from the public AWS pricing pages (dated below); they
 * are not fetched, and should be checked before anyone relies on them.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from './bundling.ts';
import type { DynamoCall } from './dynamo-recorder.ts';
import { onDemandUnits } from './dynamo-units.ts';
import type { ExecutionSample } from './executions.ts';
import type { FunctionName } from './local-session.ts';

/** us-east-1 list prices, without free tiers. */
export const PRICES = Object.freeze({
  asOf: '2025-06-01',
  region: 'us-east-1',
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  stateTransition: 0.025 / 1_000,
  /** Lambda on arm64 (Graviton), first pricing tier: $0.0000133334 per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda on x86_64, first pricing tier: $0.0000166667 per GB-second. */
  lambdaX86GbSecond: 0.0000166667,
  /** Lambda: $0.20 per million requests. */
  lambdaRequest: 0.2 / 1_000_000,
  /** DynamoDB on-demand, standard table class (since the November 2024 reduction): $0.625 per million write request units. */
  writeRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand: $0.125 per million read request units. */
  readRequestUnit: 0.125 / 1_000_000,
  /** API Gateway HTTP API, first 300 million a month: $1.00 per million requests (each 512 KB counts as one). */
  httpApiRequest: 1 / 1_000_000,
  /** EventBridge: state-change events of AWS services on the default bus are free (custom events: $1.00 per million). */
  awsServiceEvent: 0,
});

/** The target, USD per 1,000 executions, model tokens excluded. */
export const COST_TARGET_PER_1000 = 0.2;

/** Memory of one function and where the figure comes from. */
export interface Sizing {
  readonly memoryMb: number;
  readonly source: string;
}

/** Memory of every function the execution touches, and the architecture. */
export interface Sizings {
  readonly functions: Readonly<Record<FunctionName, Sizing>>;
  readonly arm64: boolean;
  readonly architectureSource: string;
  /** Whether the status rule also delivers RUNNING events to the status handler, and why we think so. */
  readonly statusRule: { readonly deliversRunning: boolean; readonly source: string };
}

/** Used when lib/ configures no memory for a workflow function yet (the same as the API function's). */
export const ASSUMED_WORKFLOW_MEMORY_MB = 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const memoryOf = (value: unknown): number | undefined =>
  isObject(value) && typeof value.memoryMb === 'number' ? value.memoryMb : undefined;

/**
 * Reads the memory of each function from lib/config.ts (the prod stage; `apiFunction`,
 * `authorizerFunction`, and any `*Function` sizing whose name says step runner, status or approval),
 * else from the literal `memorySize`/`memoryMb` values of lib/constructs/flows.ts when they agree,
 * else assumes {@link ASSUMED_WORKFLOW_MEMORY_MB}. The architecture comes from lib/constructs/function.ts.
 */
export async function readSizings(): Promise<Sizings> {
  const { loadStageConfig } = await import('../lib/config.ts');
  // Sizing does not depend on the sign-in URLs, which prod requires: any valid https pair will do.
  const prod: Record<string, unknown> = {
    ...loadStageConfig('prod', {
      callbackUrls: 'https://app.example.com/cb',
      logoutUrls: 'https://app.example.com/',
    }),
  };
  const fromConfig = (pattern: RegExp): Sizing | undefined => {
    for (const [key, value] of Object.entries(prod)) {
      const mb = memoryOf(value);
      if (pattern.test(key) && mb !== undefined)
        return { memoryMb: mb, source: `lib/config.ts (prod ${key})` };
    }
    return undefined;
  };
  const flowsPath = join(PROJECT_ROOT, 'lib/constructs/flows.ts');
  let fromFlows: Sizing | undefined;
  if (existsSync(flowsPath)) {
    const text = await readFile(flowsPath, 'utf8');
    const values = new Set([...text.matchAll(/memory(?:Size|Mb)\s*:\s*(\d+)/g)].map((m) => Number(m[1])));
    const only = [...values];
    if (only.length === 1 && only[0] !== undefined) {
      fromFlows = { memoryMb: only[0], source: 'lib/constructs/flows.ts' };
    }
  }
  const assumed: Sizing = {
    memoryMb: ASSUMED_WORKFLOW_MEMORY_MB,
    source: `assumed: lib/ sets no memory for it yet (${existsSync(flowsPath) ? 'lib/constructs/flows.ts has no single literal' : 'no lib/constructs/flows.ts'}); the API function's ${ASSUMED_WORKFLOW_MEMORY_MB} MB`,
  };
  const api = fromConfig(/^apiFunction$/);
  const authorizer = fromConfig(/^authorizerFunction$/);
  if (!api || !authorizer) throw new Error('lib/config.ts has no apiFunction or authorizerFunction sizing');
  const functionText = await readFile(join(PROJECT_ROOT, 'lib/constructs/function.ts'), 'utf8');
  const arm64 = functionText.includes('Architecture.ARM_64');
  return {
    statusRule: await statusRule(flowsPath),
    functions: {
      api,
      authorizer,
      'step-runner': fromConfig(/stepRunner/i) ?? fromFlows ?? assumed,
      'status-handler': fromConfig(/status/i) ?? fromFlows ?? assumed,
      'approval-handler': fromConfig(/approval/i) ?? fromFlows ?? assumed,
    },
    arm64,
    architectureSource: `lib/constructs/function.ts (${arm64 ? 'Architecture.ARM_64' : 'not ARM_64'})`,
  };
}

/**
 * Which statuses the status rule forwards: `FINAL_EXECUTION_STATUSES` of lib/constructs/flows.ts
 * when it exports one; otherwise every status change is assumed delivered (RUNNING included).
 */
async function statusRule(flowsPath: string): Promise<Sizings['statusRule']> {
  const unknown = {
    deliversRunning: true,
    source: 'assumed: no status filter found in lib/constructs/flows.ts, so RUNNING events count too',
  };
  if (!existsSync(flowsPath)) return unknown;
  try {
    // A computed specifier: the module may not exist when this file is type-checked.
    const module: unknown = await import(pathToFileURL(flowsPath).href);
    const statuses = isObject(module) ? module.FINAL_EXECUTION_STATUSES : undefined;
    if (!Array.isArray(statuses)) return unknown;
    return {
      deliversRunning: statuses.includes('RUNNING'),
      source: `lib/constructs/flows.ts: the status rule forwards ${statuses.join(', ')}`,
    };
  } catch {
    return unknown;
  }
}

/** One line of the breakdown. */
export interface CostLine {
  readonly component: string;
  /** Quantity per execution, as text (`5 transitions`). */
  readonly perExecution: string;
  readonly unitPrice: string;
  readonly usdPer1000: number;
  readonly how: string;
}

/** Per-function figures of one execution. */
export interface FunctionUse {
  readonly fn: FunctionName;
  readonly invocations: number;
  /** Mean billed duration per invocation (each rounded up to 1 ms), ms. */
  readonly billedMs: number;
  /** Mean measured duration per invocation, ms. */
  readonly meanMs: number;
  readonly memoryMb: number;
  readonly gbSeconds: number;
}

/** DynamoDB use of one execution, by function. */
export interface DynamoUse {
  readonly phase: string;
  readonly requests: number;
  /** Requests by operation per execution, e.g. `GetItem×2, TransactWriteItems×3`. */
  readonly operations: string;
  readonly rru: number;
  readonly wru: number;
  /** What DynamoDB Local reported, for comparison. */
  readonly localRcu: number;
  readonly localWcu: number;
}

/** The cost model's result. */
export interface CostResults {
  readonly lines: readonly CostLine[];
  readonly totalPer1000: number;
  readonly functions: readonly FunctionUse[];
  readonly dynamo: readonly DynamoUse[];
  readonly transitions: number;
  readonly apiRequests: number;
  readonly events: number;
  /** Cost of one more `GET /executions/{id}` per execution, USD per 1,000 executions. */
  readonly extraPollPer1000: number;
  /** How many times longer every Lambda duration could be before the total misses the target. */
  readonly durationHeadroom: number;
  readonly sizings: Sizings;
  readonly samples: number;
}

/** The inputs of the model, as measured. */
export interface CostInput {
  readonly samples: readonly ExecutionSample[];
  /** States entered per execution. */
  readonly transitions: number;
  readonly itemSizes: Readonly<Record<string, number>>;
  readonly sizings: Sizings;
  /** The route that reads an execution, e.g. `GET /executions/{executionId}`. */
  readonly readRoute: string;
}

const FUNCTIONS: readonly FunctionName[] = [
  'api',
  'authorizer',
  'step-runner',
  'status-handler',
  'approval-handler',
];

/** Status change events per Standard execution on EventBridge: RUNNING, then the final status. */
export const STATUS_EVENTS_PER_EXECUTION = 2;

/** Status handler invocations per execution on AWS: the final status, and RUNNING if the rule forwards it. */
const statusInvocations = (sizings: Sizings): number => (sizings.statusRule.deliversRunning ? 2 : 1);

function byOperation(calls: readonly DynamoCall[], per: number): string {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.operation, (counts.get(c.operation) ?? 0) + 1);
  return [...counts].map(([op, n]) => `${op}×${Math.round((n / per) * 100) / 100}`).join(', ') || 'none';
}

/** `$0.1250`, `$0.000963` or `$0`. */
export function formatUsd(value: number): string {
  if (value === 0) return '$0';
  if (value >= 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toPrecision(3)}`;
}

/** The phase a function's DynamoDB requests carry (`api …` for every API route). */
function functionOfPhase(phase: string): FunctionName | undefined {
  if (phase.startsWith('api')) return 'api';
  return FUNCTIONS.find((f) => f === phase);
}

/** Turns the measured resources into USD per 1,000 executions. */
export function costModel(input: CostInput): CostResults {
  const { samples, sizings } = input;
  const n = samples.length;
  if (n === 0) throw new Error('No sampled execution');
  const sizeOf = (key: string): number | undefined => input.itemSizes[key];
  const gbSecondPrice = sizings.arm64 ? PRICES.lambdaArmGbSecond : PRICES.lambdaX86GbSecond;

  const invocations = samples.flatMap((s) => s.invocations);
  const functions: FunctionUse[] = [];
  for (const fn of FUNCTIONS) {
    const mine = invocations.filter((i) => i.fn === fn);
    if (mine.length === 0) continue;
    const billed = mine.reduce((t, i) => t + Math.max(1, Math.ceil(i.ms)), 0) / mine.length;
    const mean = mine.reduce((t, i) => t + i.ms, 0) / mine.length;
    const perExecution = mine.length / n;
    const memoryMb = sizings.functions[fn].memoryMb;
    functions.push({
      fn,
      invocations: perExecution,
      billedMs: billed,
      meanMs: mean,
      memoryMb,
      gbSeconds: perExecution * (billed / 1000) * (memoryMb / 1024),
    });
  }
  // If the rule also delivers the RUNNING event, the status handler ignores it at once (billed the
  // 1 ms minimum); locally only the final status is delivered.
  const status = functions.find((f) => f.fn === 'status-handler');
  if (status) {
    const memoryMb = status.memoryMb;
    const extra = statusInvocations(sizings) - status.invocations;
    if (extra > 0) {
      const index = functions.indexOf(status);
      const invocationsAll = status.invocations + extra;
      const billedAll = (status.billedMs * status.invocations + 1 * extra) / invocationsAll;
      functions[index] = {
        ...status,
        invocations: invocationsAll,
        billedMs: billedAll,
        gbSeconds: invocationsAll * (billedAll / 1000) * (memoryMb / 1024),
      };
    }
  }

  const calls = samples.flatMap((s) => s.calls);
  const phases = [...new Set(calls.map((c) => functionOfPhase(c.phase) ?? c.phase))];
  const dynamo: DynamoUse[] = phases.map((phase) => {
    const mine = calls.filter((c) => (functionOfPhase(c.phase) ?? c.phase) === phase);
    let rru = 0;
    let wru = 0;
    for (const c of mine) {
      const units = c.billing ? onDemandUnits(c.operation, c.billing, sizeOf) : { rru: c.rcu, wru: c.wcu };
      rru += units.rru;
      wru += units.wru;
    }
    return {
      phase,
      requests: mine.length / n,
      operations: byOperation(mine, n),
      rru: rru / n,
      wru: wru / n,
      localRcu: mine.reduce((t, c) => t + c.rcu, 0) / n,
      localWcu: mine.reduce((t, c) => t + c.wcu, 0) / n,
    };
  });

  const apiRequests = functions.find((f) => f.fn === 'api')?.invocations ?? 0;
  const lines: CostLine[] = [];
  lines.push({
    component: 'Step Functions Standard, state transitions',
    perExecution: `${input.transitions}`,
    unitPrice: '$0.025 per 1,000',
    usdPer1000: input.transitions * PRICES.stateTransition * 1000,
    how: 'states entered on the path the run took through the compiled ASL (one per state)',
  });
  const names: Record<FunctionName, string> = {
    api: 'API',
    authorizer: 'authorizer',
    'step-runner': 'step runner',
    'status-handler': 'status handler',
    'approval-handler': 'approval handler',
  };
  for (const f of functions) {
    lines.push({
      component: `Lambda ${names[f.fn]}: requests`,
      perExecution: `${round(f.invocations)}`,
      unitPrice: '$0.20 per million',
      usdPer1000: f.invocations * PRICES.lambdaRequest * 1000,
      how:
        f.fn === 'status-handler' && f.invocations > 1
          ? 'measured final-status invocation, plus the RUNNING event the rule also delivers on AWS'
          : 'invocations measured per execution',
    });
    lines.push({
      component: `Lambda ${names[f.fn]}: compute (${f.memoryMb} MB, ${sizings.arm64 ? 'arm64' : 'x86_64'})`,
      perExecution: `${round(f.gbSeconds, 5)} GB-s (${round(f.invocations)} × ${round(f.billedMs, 1)} ms)`,
      unitPrice: `$${gbSecondPrice} per GB-s`,
      usdPer1000: f.gbSeconds * gbSecondPrice * 1000,
      how: `mean measured duration ${round(f.meanMs, 2)} ms, each invocation rounded up to 1 ms`,
    });
  }
  const totalRru = dynamo.reduce((t, d) => t + d.rru, 0);
  const totalWru = dynamo.reduce((t, d) => t + d.wru, 0);
  lines.push({
    component: 'DynamoDB on-demand, write request units',
    perExecution: `${round(totalWru, 1)}`,
    unitPrice: '$0.625 per million',
    usdPer1000: totalWru * PRICES.writeRequestUnit * 1000,
    how: 'recorded requests; 1 per KB per item, 2 per KB per item in a transaction',
  });
  lines.push({
    component: 'DynamoDB on-demand, read request units',
    perExecution: `${round(totalRru, 1)}`,
    unitPrice: '$0.125 per million',
    usdPer1000: totalRru * PRICES.readRequestUnit * 1000,
    how: 'recorded requests; 1 per 4 KB strongly consistent, 0.5 eventually consistent',
  });
  lines.push({
    component: 'API Gateway HTTP API, requests',
    perExecution: `${round(apiRequests)}`,
    unitPrice: '$1.00 per million',
    usdPer1000: apiRequests * PRICES.httpApiRequest * 1000,
    how: 'start plus one read of the result',
  });
  lines.push({
    component: 'EventBridge, Step Functions status events',
    perExecution: `${STATUS_EVENTS_PER_EXECUTION}`,
    unitPrice: 'free (AWS service events)',
    usdPer1000: STATUS_EVENTS_PER_EXECUTION * PRICES.awsServiceEvent * 1000,
    how: 'RUNNING and SUCCEEDED on the default bus',
  });
  const totalPer1000 = lines.reduce((t, l) => t + l.usdPer1000, 0);

  // One more status read: an API request, an API and an authorizer invocation, and its reads.
  const reads = samples.flatMap((s) =>
    s.invocations.filter((i) => i.fn === 'api' && i.label === input.readRoute),
  );
  const readMs =
    reads.length > 0 ? reads.reduce((t, i) => t + Math.max(1, Math.ceil(i.ms)), 0) / reads.length : 1;
  const readCalls = calls.filter((c) => c.phase === `api ${input.readRoute}`);
  const readRru =
    readCalls.reduce(
      (t, c) => t + (c.billing ? onDemandUnits(c.operation, c.billing, sizeOf).rru : c.rcu),
      0,
    ) / n;
  const authorizer = functions.find((f) => f.fn === 'authorizer');
  const extraPollPer1000 =
    1000 *
    (PRICES.httpApiRequest +
      2 * PRICES.lambdaRequest +
      (readMs / 1000) * (sizings.functions.api.memoryMb / 1024) * gbSecondPrice +
      ((authorizer?.billedMs ?? 1) / 1000) * (sizings.functions.authorizer.memoryMb / 1024) * gbSecondPrice +
      readRru * PRICES.readRequestUnit);

  const compute = functions.reduce((t, f) => t + f.gbSeconds * gbSecondPrice * 1000, 0);
  const durationHeadroom =
    compute > 0 ? (COST_TARGET_PER_1000 - (totalPer1000 - compute)) / compute : Infinity;

  return {
    lines,
    totalPer1000,
    functions,
    dynamo,
    transitions: input.transitions,
    apiRequests,
    events: STATUS_EVENTS_PER_EXECUTION,
    extraPollPer1000,
    durationHeadroom,
    sizings,
    samples: n,
  };
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
