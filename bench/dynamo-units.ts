/**
 * What DynamoDB on-demand would bill for a request, in read and write request units, following the
 * rules of the DynamoDB developer guide ("Item sizes and formats", "Read/write capacity mode"):
 * - an item's size is the UTF-8 length of its attribute names plus the size of their values;
 * - a read is 1 unit per 4 KB (strongly consistent; half for eventually consistent), at least one
 *   unit per request, a Query summed over the items it returns; a transactional read is 2 per 4 KB;
 * - a write is 1 unit per 1 KB of the larger of the item before and after; a transactional write is
 *   2 per KB of every item it names (ConditionCheck included).
 *
 * DynamoDB Local reports capacity too, but under-counts transactions (see section 4), so the cost
 * model uses these units instead. Sizes of items an Update, Delete or ConditionCheck names are not in
 * the request: the caller supplies them (read back after the run), else 1 KB is assumed.
 */

/** One item a write names. */
export interface WrittenItem {
  /** `pk|sk` */
  readonly key: string;
  readonly action: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  /** Size of the item written, known for Put only. */
  readonly bytes?: number;
}

/** The billing-relevant shape of one request, taken from its input and output. */
export interface BillingDetail {
  /** Strongly consistent read. */
  readonly consistent: boolean;
  /** Sizes of the items a read returned, bytes. */
  readonly readBytes: readonly number[];
  /** Items written or checked. */
  readonly writes: readonly WrittenItem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Size of a number: about one byte per two significant digits, plus one. */
function numberBytes(value: number | bigint): number {
  const digits = String(value)
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size DynamoDB counts for a value in document-client form (plain JavaScript). */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value) total += valueBytes(element);
    return total;
  }
  if (Array.isArray(value)) {
    return value.reduce<number>((total, element) => total + valueBytes(element) + 1, 3);
  }
  if (isRecord(value)) {
    let total = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      total += utf8(name) + valueBytes(element) + 1;
    }
    return total;
  }
  return 0;
}

/** Size of an item: attribute names plus values. */
export function itemBytes(item: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8(name) + valueBytes(value);
  }
  return total;
}

function keyOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  return typeof item.pk === 'string' && typeof item.sk === 'string' ? `${item.pk}|${item.sk}` : undefined;
}

function transactionWrites(input: Record<string, unknown>): WrittenItem[] {
  const out: WrittenItem[] = [];
  const entries = Array.isArray(input.TransactItems) ? input.TransactItems : [];
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    for (const [action, body] of Object.entries(entry)) {
      if (!isRecord(body)) continue;
      if (action === 'Put' && isRecord(body.Item)) {
        out.push({ key: keyOf(body.Item) ?? '?', action, bytes: itemBytes(body.Item) });
      } else if (action === 'Update' || action === 'Delete' || action === 'ConditionCheck') {
        out.push({ key: keyOf(body.Key) ?? '?', action });
      }
    }
  }
  return out;
}

function returnedItems(operation: string, output: Record<string, unknown>): unknown[] {
  switch (operation) {
    case 'GetItem':
      return output.Item === undefined ? [] : [output.Item];
    case 'Query':
    case 'Scan':
      return Array.isArray(output.Items) ? output.Items : [];
    case 'BatchGetItem':
    case 'TransactGetItems': {
      if (Array.isArray(output.Responses)) {
        return output.Responses.map((r) => (isRecord(r) ? r.Item : undefined)).filter((i) => i !== undefined);
      }
      return isRecord(output.Responses)
        ? Object.values(output.Responses).flatMap((v) => (Array.isArray(v) ? v : []))
        : [];
    }
    default:
      return [];
  }
}

/** The billing-relevant shape of a request (document-client input and output). */
export function billingDetail(operation: string, input: unknown, output: unknown): BillingDetail {
  const request = isRecord(input) ? input : {};
  const response = isRecord(output) ? output : {};
  const writes: WrittenItem[] =
    operation === 'TransactWriteItems'
      ? transactionWrites(request)
      : operation === 'PutItem' && isRecord(request.Item)
        ? [{ key: keyOf(request.Item) ?? '?', action: 'Put', bytes: itemBytes(request.Item) }]
        : operation === 'UpdateItem' || operation === 'DeleteItem'
          ? [{ key: keyOf(request.Key) ?? '?', action: operation === 'UpdateItem' ? 'Update' : 'Delete' }]
          : [];
  return {
    consistent: request.ConsistentRead === true,
    readBytes: returnedItems(operation, response).map((item) => (isRecord(item) ? itemBytes(item) : 0)),
    writes,
  };
}

/** Request units of one request. `sizeOf` gives the size of an item a write names by key, when known. */
export function onDemandUnits(
  operation: string,
  detail: BillingDetail,
  sizeOf: (key: string) => number | undefined = () => undefined,
): { rru: number; wru: number } {
  const readFactor = detail.consistent ? 1 : 0.5;
  const kb = (bytes: number, unit: number): number => Math.max(1, Math.ceil(bytes / unit));
  switch (operation) {
    case 'GetItem':
      return { rru: kb(detail.readBytes[0] ?? 0, 4096) * readFactor, wru: 0 };
    case 'Query':
    case 'Scan': {
      const bytes = detail.readBytes.reduce((n, b) => n + b, 0);
      return { rru: kb(bytes, 4096) * readFactor, wru: 0 };
    }
    case 'BatchGetItem':
      return { rru: detail.readBytes.reduce((n, b) => n + kb(b, 4096) * readFactor, 0), wru: 0 };
    case 'TransactGetItems':
      return { rru: detail.readBytes.reduce((n, b) => n + kb(b, 4096) * 2, 0), wru: 0 };
    case 'TransactWriteItems':
      return {
        rru: 0,
        wru: detail.writes.reduce((n, w) => n + 2 * kb(w.bytes ?? sizeOf(w.key) ?? 1024, 1024), 0),
      };
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return {
        rru: 0,
        wru: detail.writes.reduce((n, w) => n + kb(Math.max(w.bytes ?? 0, sizeOf(w.key) ?? 0), 1024), 0),
      };
    default:
      return { rru: 0, wru: 0 };
  }
}
