/**
 * Records every DynamoDB request a client sends, with the capacity DynamoDB says it consumed: a
 * middleware added to the client's stack asks for `ReturnConsumedCapacity: 'TOTAL'` on every request
 * and reads `ConsumedCapacity` from every response. Requests made while {@link DynamoRecorder.phase}
 * runs with a label are recorded under that label (the authorizer's, apart from the route's).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BillingDetail, billingDetail } from './dynamo-units.ts';

/** One request as recorded. */
export interface DynamoCall {
  /** Operation, e.g. `GetItem`, `Query`, `TransactWriteItems`. */
  readonly operation: string;
  /** What it touched: item kind of a key, index and key prefix of a query, item count of a batch. */
  readonly detail: string;
  /** Primary keys (`pk|sk`) read, for item reads. */
  readonly readKeys: readonly string[];
  /** Primary keys (`pk|sk`) written, for writes and transactions. */
  readonly writtenKeys: readonly string[];
  readonly rcu: number;
  readonly wcu: number;
  /** The label of the phase the request was made in. */
  readonly phase: string;
  /** Item sizes and consistency, for the on-demand units of the cost model (bench/dynamo-units.ts). */
  readonly billing?: BillingDetail;
  /** Round trip of the request as the client saw it (middleware to response), ms. */
  readonly ms?: number;
}

/** Operations that only read. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'TransactGetItems',
]);
/** Operations that write outside a transaction. */
export const SINGLE_WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
]);
/** Operations that take `ReturnConsumedCapacity` (the control plane, e.g. DescribeTable, does not). */
const DATA_OPERATIONS: ReadonlySet<string> = new Set([
  ...READ_OPERATIONS,
  ...SINGLE_WRITE_OPERATIONS,
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string attribute, plain (document client input) or marshalled (`{ S: ... }`). */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.S === 'string') return value.S;
  return undefined;
}

/** `pk|sk` of a key or item, or undefined when it has no string pk and sk. */
function keyOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  const pk = text(item.pk);
  const sk = text(item.sk);
  return pk !== undefined && sk !== undefined ? `${pk}|${sk}` : undefined;
}

/** The kind of item a key names, without tenant ids: `USER`, `PROFILE`, `AUDIT/HEAD`, ... */
export function kindOf(key: string): string {
  const [pk = '', sk = ''] = key.split('|');
  const partition = pk.replace(/^TENANT#[a-z0-9]+/, '').replace(/^#/, '');
  const sortKind = sk.split('#')[0] ?? sk;
  return partition ? `${partition}/${sortKind}` : sortKind;
}

function transactionKeys(input: Record<string, unknown>): string[] {
  const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
  const keys: string[] = [];
  for (const entry of items) {
    if (!isRecord(entry)) continue;
    for (const [action, body] of Object.entries(entry)) {
      if (!isRecord(body)) continue;
      const key = keyOf(action === 'Put' ? body.Item : body.Key);
      if (key !== undefined) keys.push(action === 'ConditionCheck' ? `check:${key}` : key);
    }
  }
  return keys;
}

function batchGetKeys(input: Record<string, unknown>): string[] {
  const keys: string[] = [];
  if (!isRecord(input.RequestItems)) return keys;
  for (const table of Object.values(input.RequestItems)) {
    if (!isRecord(table) || !Array.isArray(table.Keys)) continue;
    for (const key of table.Keys) {
      const k = keyOf(key);
      if (k !== undefined) keys.push(k);
    }
  }
  return keys;
}

/** Key prefixes a query names (tenant ids removed), e.g. `USER#` or `SUB#`. */
function queryDetail(input: Record<string, unknown>): string {
  const index = typeof input.IndexName === 'string' ? input.IndexName : 'table';
  const values = isRecord(input.ExpressionAttributeValues)
    ? Object.values(input.ExpressionAttributeValues)
    : [];
  const prefixes = values
    .map(text)
    .filter((v): v is string => v !== undefined)
    .map((v) => v.replace(/^TENANT#[a-z0-9]+/, '').replace(/^#/, ''))
    .map((v) => {
      const hash = v.indexOf('#');
      return hash >= 0 ? v.slice(0, hash + 1) : v;
    })
    .filter((v) => v !== '');
  return `${index}${prefixes.length > 0 ? ` ${prefixes.join(' ')}` : ''}`;
}

function describe(
  operation: string,
  request: unknown,
): { detail: string; readKeys: string[]; writtenKeys: string[] } {
  const input = isRecord(request) ? request : {};
  switch (operation) {
    case 'GetItem': {
      const key = keyOf(input.Key);
      return { detail: key ? kindOf(key) : '?', readKeys: key ? [key] : [], writtenKeys: [] };
    }
    case 'BatchGetItem': {
      const keys = batchGetKeys(input);
      return {
        detail: [...new Set(keys.map(kindOf))].join(',') || 'no keys',
        readKeys: keys,
        writtenKeys: [],
      };
    }
    case 'Query':
    case 'Scan':
      return { detail: queryDetail(input), readKeys: [], writtenKeys: [] };
    case 'TransactWriteItems': {
      const keys = transactionKeys(input);
      return { detail: `${keys.length} items`, readKeys: [], writtenKeys: keys };
    }
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem': {
      const key = keyOf(operation === 'PutItem' ? input.Item : input.Key);
      return { detail: key ? kindOf(key) : '?', readKeys: [], writtenKeys: key ? [key] : [] };
    }
    default:
      return { detail: '', readKeys: [], writtenKeys: [] };
  }
}

/** Read and write units of a `ConsumedCapacity` (one object, or a list for batches and transactions). */
function unitsOf(operation: string, consumed: unknown): { rcu: number; wcu: number } {
  const entries = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  let rcu = 0;
  let wcu = 0;
  const reads = READ_OPERATIONS.has(operation);
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const read = typeof entry.ReadCapacityUnits === 'number' ? entry.ReadCapacityUnits : undefined;
    const write = typeof entry.WriteCapacityUnits === 'number' ? entry.WriteCapacityUnits : undefined;
    const total = typeof entry.CapacityUnits === 'number' ? entry.CapacityUnits : 0;
    if (read !== undefined || write !== undefined) {
      rcu += read ?? 0;
      wcu += write ?? 0;
    } else if (reads) {
      rcu += total;
    } else {
      wcu += total;
    }
  }
  return { rcu, wcu };
}

/** Collects the requests of one DynamoDB client. */
export class DynamoRecorder {
  private readonly phases = new AsyncLocalStorage<string>();
  private calls: DynamoCall[] = [];
  private inFlight = 0;
  /** Requests that ran without `ReturnConsumedCapacity` support, by operation (control plane). */
  readonly uncounted = new Map<string, number>();

  /** Adds the recording middleware to `client`'s stack (shared with the client it wraps). */
  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const phase = this.phases.getStore() ?? 'route';
        const measured = DATA_OPERATIONS.has(operation);
        const input = measured
          ? Object.assign({}, args.input, { ReturnConsumedCapacity: 'TOTAL' as const })
          : args.input;
        this.inFlight += 1;
        const started = performance.now();
        try {
          const result = await next({ ...args, input });
          const ms = performance.now() - started;
          const output: unknown = result.output;
          const units = unitsOf(operation, isRecord(output) ? output.ConsumedCapacity : undefined);
          if (measured) {
            this.calls.push({
              operation,
              phase,
              ...describe(operation, input),
              ...units,
              billing: billingDetail(operation, input, output),
              ms,
            });
          } else {
            this.uncounted.set(operation, (this.uncounted.get(operation) ?? 0) + 1);
          }
          return result;
        } finally {
          this.inFlight -= 1;
        }
      },
      { step: 'initialize', name: 'benchConsumedCapacity', priority: 'high' },
    );
  }

  /** Runs `fn` with every request it makes recorded under `label`. */
  phase<T>(label: string, fn: () => T): T {
    return this.phases.run(label, fn);
  }

  /** Waits until no request is in flight (work a handler left running), at most `timeoutMs`. */
  async settle(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // One turn first: a fire-and-forget write may not have started yet.
    await new Promise((resolve) => setTimeout(resolve, 10));
    while (this.inFlight > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Returns the requests recorded since the last call and forgets them. */
  take(): DynamoCall[] {
    const out = this.calls;
    this.calls = [];
    return out;
  }
}
