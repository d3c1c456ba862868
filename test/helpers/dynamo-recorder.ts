/**
 * Records every DynamoDB request a document client sends (a middleware on its stack), with its input,
 * output and round trip, under the label of the phase it ran in. Used by
 * test/integration/route-requests.test.ts and by the bench (bench/platform.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One request as recorded. */
export interface DynamoCall {
  /** `GetItem`, `Query`, `TransactWriteItems`, … */
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly output: Readonly<Record<string, unknown>>;
  readonly phase: string;
  /** Round trip as the client saw it, ms. */
  readonly ms: number;
}

/** Operations that only read. */
export const READS: ReadonlySet<string> = new Set([
  'GetItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'TransactGetItems',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string attribute, plain (document-client form) or marshalled (`{ S: … }`). */
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : isRecord(v) && typeof v.S === 'string' ? v.S : undefined;

/** `pk|sk` of a key or item. */
export function keyOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  const [pk, sk] = [str(item.pk), str(item.sk)];
  return pk !== undefined && sk !== undefined ? `${pk}|${sk}` : undefined;
}

/** The kind of item a key names, without tenant ids: `USER`, `PROFILE`, `AUDIT/HEAD`, … */
export function kindOf(key: string): string {
  const [pk = '', sk = ''] = key.split('|');
  const partition = pk.replace(/^TENANT#[a-z0-9]+/, '').replace(/^#/, '');
  const sortKind = sk.split('#')[0] ?? sk;
  return partition ? `${partition}/${sortKind}` : sortKind;
}

/** Keys a request reads by key (GetItem, BatchGetItem). */
export function readKeys(call: DynamoCall): string[] {
  if (call.operation === 'GetItem') return [keyOf(call.input.Key)].filter((k) => k !== undefined);
  if (call.operation !== 'BatchGetItem' || !isRecord(call.input.RequestItems)) return [];
  return Object.values(call.input.RequestItems).flatMap((t) =>
    isRecord(t) && Array.isArray(t.Keys) ? t.Keys.map(keyOf).filter((k) => k !== undefined) : [],
  );
}

/** Items a write names, with their action (`Put`, `Update`, `Delete`, `ConditionCheck`). */
export function writtenItems(call: DynamoCall): { key: string; action: string; item?: unknown }[] {
  const { operation, input } = call;
  if (operation === 'PutItem') return [{ key: keyOf(input.Item) ?? '?', action: 'Put', item: input.Item }];
  if (operation === 'UpdateItem' || operation === 'DeleteItem')
    return [{ key: keyOf(input.Key) ?? '?', action: operation.replace('Item', '') }];
  if (operation !== 'TransactWriteItems' || !Array.isArray(input.TransactItems)) return [];
  return input.TransactItems.filter(isRecord).flatMap((entry) =>
    Object.entries(entry)
      .filter(([, body]) => isRecord(body))
      .map(([action, body]) => {
        const b = body as Record<string, unknown>;
        return { key: keyOf(action === 'Put' ? b.Item : b.Key) ?? '?', action, item: b.Item };
      }),
  );
}

/** `GetItem(USER)`, `Query(gsi1 SUB#)`, `TransactWriteItems(3 items)`. */
export function describeCall(call: DynamoCall): string {
  const { operation, input } = call;
  if (operation === 'Query' || operation === 'Scan') {
    const values = isRecord(input.ExpressionAttributeValues)
      ? Object.values(input.ExpressionAttributeValues)
      : [];
    const prefixes = values
      .map(str)
      .filter((v): v is string => v !== undefined)
      .map((v) => v.replace(/^TENANT#[a-z0-9]+/, '').replace(/^#/, ''))
      .map((v) => (v.includes('#') ? v.slice(0, v.indexOf('#') + 1) : v))
      .filter((v) => v !== '');
    return `${operation}(${[typeof input.IndexName === 'string' ? input.IndexName : 'table', ...prefixes].join(' ')})`;
  }
  if (operation === 'TransactWriteItems') return `${operation}(${writtenItems(call).length} items)`;
  const keys =
    operation.startsWith('Get') || operation.startsWith('Batch')
      ? readKeys(call)
      : writtenItems(call).map((w) => w.key);
  return `${operation}(${[...new Set(keys.map(kindOf))].join(',')})`;
}

/** Collects the requests of one DynamoDB client. */
export class DynamoRecorder {
  private readonly phases = new AsyncLocalStorage<string>();
  private calls: DynamoCall[] = [];
  private inFlight = 0;

  /** Adds the recording middleware to `client`'s stack (shared with the client it wraps). */
  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const phase = this.phases.getStore() ?? 'route';
        this.inFlight += 1;
        const started = performance.now();
        try {
          const result = await next(args);
          this.calls.push({
            operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
            input: isRecord(args.input) ? args.input : {},
            output: isRecord(result.output) ? result.output : {},
            phase,
            ms: performance.now() - started,
          });
          return result;
        } finally {
          this.inFlight -= 1;
        }
      },
      { step: 'initialize', name: 'recordDynamoCalls', priority: 'high' },
    );
  }

  /** Runs `fn` with every request it makes recorded under `label`. */
  phase<T>(label: string, fn: () => T): T {
    return this.phases.run(label, fn);
  }

  /** Waits until no request is in flight (work a handler left running), at most `timeoutMs`. */
  async settle(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
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
