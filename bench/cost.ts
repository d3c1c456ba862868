/** Section `cost`: recorded executions of the bench workflow priced on AWS (bench/RESULTS.template.md). */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#adapters/aws-clients.ts';
import { config, core } from '#shared/config.ts';
import { loadStageConfig } from '../lib/config.ts';
import { ACCESS_LOG_FORMAT } from '../lib/constructs/api.ts';
import { type DynamoCall, writtenItems } from '../test/helpers/dynamo-recorder.ts';
import { type ExecutionSample, sampleExecutions } from './executions.ts';
import { isObject, kib, type SectionResult, table, verdict } from './lib.ts';
import type { BenchPlatform, FunctionName } from './platform.ts';

const COST_TARGET_PER_1000 = 0.2;

/** us-east-1 list prices as of PRICES_AS_OF; Lambda's on arm64 (lib/constructs/function.ts), first tier. */
const AWS = 'https://aws.amazon.com/';
const price = (usd: number, unit: string, page: string) => ({ usd, unit, url: AWS + page });
export const PRICES = {
  stateTransition: price(0.025 / 1000, '$0.025 per 1,000 state transitions', 'step-functions/pricing/'),
  lambdaRequest: price(0.2 / 1e6, '$0.20 per million requests', 'lambda/pricing/'),
  lambdaGbSecond: price(0.0000133334, '$0.0000133334 per GB-s (arm64)', 'lambda/pricing/'),
  writeUnit: price(0.625 / 1e6, '$0.625 per million write request units', 'dynamodb/pricing/on-demand/'),
  readUnit: price(0.125 / 1e6, '$0.125 per million read request units', 'dynamodb/pricing/on-demand/'),
  httpApiRequest: price(1 / 1e6, '$1.00 per million HTTP API requests', 'api-gateway/pricing/'),
  serviceEvent: price(0, 'free (AWS service events, default bus)', 'eventbridge/pricing/'),
  logIngestion: price(0.5 / 2 ** 30, '$0.50 per GB ingested (Standard class)', 'cloudwatch/pricing/'),
  xrayTrace: price(5 / 1e6, '$5.00 per million traces recorded', 'xray/pricing/'),
  s3Request: price(0.005 / 1000, '$0.005 per 1,000 PUT, COPY, POST or LIST requests', 's3/pricing/'),
  s3Get: price(0.0004 / 1000, '$0.0004 per 1,000 GET, SELECT and all other requests', 's3/pricing/'),
  kmsRequest: price(0.03 / 10_000, '$0.03 per 10,000 requests', 'kms/pricing/'),
};
const PRICES_AS_OF = '2026-11-30';

/** An item's size, bounded above by its JSON length (attribute names and values, plus quotes). */
const bytes = (item: unknown): number => Buffer.byteLength(JSON.stringify(item ?? {}));
const units = (size: number, per: number): number => Math.max(1, Math.ceil(size / per));
const sum = (values: readonly number[]): number => values.reduce((t, v) => t + v, 0);

/** The size of an item an update or delete names (the request does not carry it), by `pk|sk`. */
type SizeOf = (key: string) => number;

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const factor = (request: unknown): number => (isObject(request) && request.ConsistentRead === true ? 1 : 0.5);

/**
 * BatchGetItem: each requested key read as a GetItem (at least one unit, found or not), at each
 * table's own consistency; unprocessed keys are not read.
 */
function batchReadUnits(call: DynamoCall): number {
  const requested = isObject(call.input.RequestItems) ? call.input.RequestItems : {};
  const field = (name: string) => (isObject(call.output[name]) ? call.output[name] : {});
  const [responses, unprocessed] = [field('Responses'), field('UnprocessedKeys')];
  return sum(
    Object.entries(requested).map(([name, request]) => {
      const found = list(responses[name]).map((item) => units(bytes(item), 4096));
      const keys = list(isObject(request) ? request.Keys : undefined).length;
      const skipped = list(isObject(unprocessed[name]) ? unprocessed[name].Keys : undefined).length;
      return (sum(found) + Math.max(0, keys - skipped - found.length)) * factor(request);
    }),
  );
}

/** On-demand request units, counted as the DynamoDB developer guide does ("Read/write capacity mode"). */
export function requestUnits(call: DynamoCall, sizeOf: SizeOf): { rru: number; wru: number } {
  const { operation, output } = call;
  const reads = (sizes: number[]) => units(sum(sizes), 4096) * factor(call.input);
  if (operation === 'GetItem') return { rru: reads([bytes(output.Item)]), wru: 0 };
  if (operation === 'Query') return { rru: reads(list(output.Items).map(bytes)), wru: 0 };
  if (operation === 'BatchGetItem') return { rru: batchReadUnits(call), wru: 0 };
  // Writes: writtenItems names none for any other operation.
  const per = operation === 'TransactWriteItems' ? 2 : 1;
  const sizes = writtenItems(call).map((w) => (w.item ? bytes(w.item) : sizeOf(w.key)));
  return { rru: 0, wru: sum(sizes.map((size) => per * units(size, 1024))) };
}

const LABELS: Record<FunctionName, [string, keyof ReturnType<typeof loadStageConfig>]> = {
  api: ['API', 'apiFunction'],
  authorizer: ['authorizer', 'authorizerFunction'],
  'step-runner': ['step runner', 'stepRunnerFunction'],
  'approval-handler': ['approval handler', 'approvalHandlerFunction'],
  'status-handler': ['status handler', 'statusHandlerFunction'],
};

/** What Lambda writes to a log group per invocation, as AWS documents it: START, END, REPORT, X-Ray. */
export function platformLogBytes(ms: number, memoryMb: number): number {
  const id = '8f507cfc-1234-4697-b07a-ac58fc914c95';
  return [
    `START RequestId: ${id} Version: $LATEST`,
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${Math.ceil(ms)} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${memoryMb} MB\t`,
    'XRAY TraceId: 1-61c86fa4-59b3c6d959653c527fd10966\tSegmentId: 107ea78a5750a811\tSampled: true',
  ].reduce((total, line) => total + line.length + 1, 0);
}

/**
 * The HTTP API's access log line for one request (lib/constructs/api.ts), its variables filled with
 * values as long as a start request's.
 */
export function accessLogLine(): string {
  const values: Record<string, string> = {
    requestId: 'JQv2ZiO1oAMEbXw=',
    'identity.sourceIp': '203.0.113.10',
    requestTime: '30/Nov/2026:16:00:00 +0000',
    httpMethod: 'POST',
    // Every authorized route is the one proxy route (lib/constructs/api.ts).
    routeKey: 'ANY /{proxy+}',
    status: '202',
    protocol: 'HTTP/1.1',
    responseLength: '1024',
    integrationErrorMessage: '-',
    'authorizer.error': '-',
    responseLatency: '62',
  };
  return ACCESS_LOG_FORMAT.replace(/\$context\.([\w.]+)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`No sample value for $context.${name}`);
    return value;
  });
}

/** Bytes of {@link accessLogLine} with its newline. */
const accessLogBytes = (): number => accessLogLine().length + 1;

/**
 * S3 requests the runs' writes imply: a PUT per offloaded output and, for an execution that carries
 * a retention, when it ends a listing of its artifacts and a tagging PUT per object
 * (functions/core/executions/settle.ts, functions/adapters/s3-tenant-data.ts tagRetention); and a GET
 * per offloaded output, read back once (by a later step, or by the client reading the result).
 */
export function s3Requests(calls: readonly DynamoCall[]): { puts: number; gets: number } {
  const byPartition = new Map<string, { puts: number; retention: boolean }>();
  for (const { item } of calls.flatMap(writtenItems)) {
    if (!isObject(item)) continue;
    const entry = byPartition.get(String(item.pk)) ?? { puts: 0, retention: false };
    if ('outputRef' in item) entry.puts++;
    if (item.sk === 'META' && 'retentionDays' in item) entry.retention = true;
    byPartition.set(String(item.pk), entry);
  }
  const counts = { puts: 0, gets: 0 };
  for (const { puts, retention } of byPartition.values()) {
    counts.puts += puts + (retention ? 1 + puts : 0);
    counts.gets += puts;
  }
  return counts;
}

const usd = (v: number): string => (v === 0 ? '$0' : v >= 0.01 ? `$${v.toFixed(4)}` : `$${v.toPrecision(3)}`);

/** One component of the model: `count` units of `price` per execution, in USD per 1,000 executions. */
function line(component: string, price: { usd: number; unit: string }, count: number, quantity = `${count}`) {
  return { component, quantity, price: price.unit, per1000: count * price.usd * 1000 };
}

export function costModel(samples: readonly ExecutionSample[], transitions: number, sizeOf: SizeOf) {
  const n = samples.length;
  if (n === 0) throw new Error('No sampled execution');
  // Memory of the prod stage (lib/config.ts); sizing does not depend on the sign-in URLs prod requires.
  const app = 'https://app.example.com/';
  const prod = loadStageConfig('prod', { callbackUrls: `${app}cb`, logoutUrls: app });
  const invocations = samples.flatMap((s) => s.invocations);
  let platformBytes = 0;
  const lines = [line('Step Functions Standard, states entered', PRICES.stateTransition, transitions)];
  for (const [fn, [label, sizing]] of Object.entries(LABELS)) {
    const mine = invocations.filter((i) => i.fn === fn);
    // The status rule forwards only FINAL_EXECUTION_STATUSES (lib/constructs/flows.ts): one invocation.
    if (mine.length === 0) continue;
    const memoryGb = (prod[sizing] as { memoryMb: number }).memoryMb / 1024;
    const each = mine.length / n;
    // Lambda bills each invocation rounded up to the next millisecond.
    const billedS = mine.reduce((t, i) => t + Math.max(1, Math.ceil(i.ms)), 0) / mine.length / 1000;
    const gbS = each * billedS * memoryGb;
    platformBytes += mine.reduce((t, i) => t + platformLogBytes(i.ms, memoryGb * 1024), 0) / n;
    const quantity = `${gbS.toPrecision(3)} GB-s (${each} × ${(billedS * 1000).toFixed(0)} ms)`;
    lines.push(
      line(`Lambda ${label}: requests`, PRICES.lambdaRequest, each),
      line(`Lambda ${label}: compute (${memoryGb * 1024} MB)`, PRICES.lambdaGbSecond, gbS, quantity),
    );
  }
  const requests = samples.flatMap((s) => s.calls).map((c) => requestUnits(c, sizeOf));
  const wru = sum(requests.map((u) => u.wru)) / n;
  const rru = sum(requests.map((u) => u.rru)) / n;
  const apiRequests = invocations.filter((i) => i.fn === 'api').length / n;
  const accessBytes = apiRequests * accessLogBytes();
  const logBytes = sum(samples.map((s) => s.logBytes)) / n + platformBytes + accessBytes;
  // A traced Lambda invoked without a trace header starts a trace, the execution one for the Lambdas it
  // invokes; the default rule records 1 per second and 5 % of the rest: all recorded is the upper bound.
  const traced = invocations.filter((i) => ['api', 'authorizer', 'status-handler'].includes(i.fn)).length;
  const traces = traced / n + 1;
  const s3 = s3Requests(samples.flatMap((s) => s.calls));
  const [s3Puts, s3Gets] = [s3.puts / n, s3.gets / n];
  const logged = `${kib(logBytes)} (Lambda's own lines ${kib(platformBytes)}, API access log ${kib(accessBytes)})`;
  lines.push(
    line('DynamoDB write request units', PRICES.writeUnit, wru, wru.toFixed(1)),
    line('DynamoDB read request units', PRICES.readUnit, rru, rru.toFixed(1)),
    line('API Gateway HTTP API requests', PRICES.httpApiRequest, apiRequests),
    line('EventBridge status events (RUNNING, then final)', PRICES.serviceEvent, 2),
    line('CloudWatch Logs ingestion', PRICES.logIngestion, logBytes, logged),
    line('X-Ray traces recorded (every one sampled)', PRICES.xrayTrace, traces, traces.toFixed(0)),
    line(
      'S3 requests (offloaded outputs, retention listing and tagging)',
      PRICES.s3Request,
      s3Puts,
      s3Puts.toFixed(1),
    ),
    line('S3 GET requests (offloaded outputs read back)', PRICES.s3Get, s3Gets, s3Gets.toFixed(1)),
    // DynamoDB caches the table key, S3 uses bucket keys (lib/constructs/storage.ts): none per run.
    line('KMS requests', PRICES.kmsRequest, 0),
  );
  return { lines, total: sum(lines.map((l) => l.per1000)) };
}

/** The states entered, a Standard transition each (at a Choice, the target that ran); flat ASL only. */
export function statesEntered(asl: unknown, ran: ReadonlySet<string>): string[] {
  if (!isObject(asl) || !isObject(asl.States) || typeof asl.StartAt !== 'string')
    throw new Error('Not an ASL definition');
  const path: string[] = [];
  for (let name: unknown = asl.StartAt; typeof name === 'string' && path.length < 1000; ) {
    const state = asl.States[name];
    if (!isObject(state)) throw new Error(`No state ${name}`);
    path.push(name);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) break;
    const targets = Array.isArray(state.Choices) ? state.Choices.map((c) => c?.Next) : [];
    name = state.Type === 'Choice' ? (targets.find((t) => ran.has(t)) ?? state.Default) : state.Next;
  }
  return path;
}

/** The size of each item an update or delete named, read back after the runs. */
async function itemSizes(samples: readonly ExecutionSample[]): Promise<SizeOf> {
  const sizes = new Map<string, number>();
  const written = samples.flatMap((s) => s.calls.flatMap(writtenItems));
  for (const key of new Set(written.filter((w) => !w.item).map((w) => w.key))) {
    const [pk, sk] = key.split('|');
    const Key = { pk, sk };
    const out = await dynamoDocumentClient().send(
      new GetCommand({ TableName: config([core]).TABLE_NAME, Key }),
    );
    if (out.Item) sizes.set(key, bytes(out.Item));
  }
  return (key) => sizes.get(key) ?? 1024;
}

/** Section `cost`: executions sampled on the bench platform (bench/executions.ts), then priced. */
export async function measureCost(bench: BenchPlatform): Promise<SectionResult> {
  const { samples, asl, ran } = await sampleExecutions(bench);
  const path = statesEntered(asl, ran);
  const { lines, total } = costModel(samples, path.length, await itemSizes(samples));
  const top = [...lines].sort((a, b) => b.per1000 - a.per1000)[0];
  return {
    rows: [
      {
        target: `Cost ≤ $${COST_TARGET_PER_1000.toFixed(2)} per 1,000 executions on AWS (model tokens excluded)`,
        measured: `${usd(total)} per 1,000 (largest: ${top?.component} ${usd(top?.per1000 ?? 0)})`,
        verdict: verdict(total <= COST_TARGET_PER_1000),
      },
    ],
    values: {
      samples: String(samples.length),
      path: `${path.map((s) => `\`${s}\``).join(' → ')} = ${path.length}`,
      table: table(
        ['Component', 'Per execution', 'Unit price', 'USD per 1,000 executions'],
        [
          ...lines.map((l) => [l.component, l.quantity, l.price, usd(l.per1000)]),
          ['**Total**', '', '', `**${usd(total)}**`],
        ],
      ),
      prices: table(
        ['Price', 'Source', 'As of'],
        Object.values(PRICES).map((p) => [p.unit, p.url, PRICES_AS_OF]),
      ),
    },
  };
}
