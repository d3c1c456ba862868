import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ID_PATTERN } from '#core/ids.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { type FunctionName, TENANT_ITEM_PARTITIONS, TENANT_ITEM_TARGETS } from '../../lib/aws-calls.ts';

/**
 * Which AWS calls each function makes on the local platform. With `MERIDIAN_LOCAL_CALL_LOG=<file>`,
 * the platform writes a line `<function> <command> <files> <targets> <session>` the first time a
 * function sends a command from a place (the files under functions/ on the stack) to some tenant
 * partitions on a session. On AWS each function may send only what lib/aws-calls.ts grants it, and
 * nothing local enforces IAM: the integration suite's log is held to that list
 * (test/calls/aws-calls.test.ts).
 */

const running = new AsyncLocalStorage<FunctionName>();

/** `handler` run as the function `name`: the AWS calls made while it runs are that function's. */
export function asFunction<A extends unknown[], R>(name: FunctionName, handler: (...args: A) => R) {
  return (...args: A): R => running.run(name, () => handler(...args));
}

/** `work` outside any function: what AWS does itself (Cognito making a federated user, say). */
export const asAws = <R>(work: () => R): R => running.exit(work);

let logFile: string | undefined;

/**
 * Appends each function's first send of a command from a place to `file`; calls outside functions
 * are not written. Locally every tenant's session is the platform's client, so `forTenant` hands
 * out a view of it per tenant, by which the log tells the session a request was sent on.
 */
export async function recordCalls(file: string): Promise<void> {
  const patched = logFile !== undefined;
  logFile = file;
  if (patched) return;
  const { TenantTableClients } = await import('#adapters/tenant-credentials.ts');
  const forTenant = TenantTableClients.prototype.forTenant;
  const views = new WeakMap<object, Map<string, object>>();
  TenantTableClients.prototype.forTenant = async function (
    this: InstanceType<typeof TenantTableClients>,
    tenantId,
  ) {
    const client = await forTenant.call(this, tenantId);
    if (client !== this.platform) return client;
    const byTenant = views.get(client) ?? new Map<string, object>();
    views.set(client, byTenant);
    let view = byTenant.get(tenantId);
    if (!view) {
      view = Object.create(client) as object;
      sessions.set(view, tenantId);
      byTenant.set(tenantId, view);
    }
    return view as typeof client;
  };
  // Every SDK v3 client, the document client included, inherits `send` from smithy's one Client class.
  type Send = (this: object, command: object, ...rest: unknown[]) => unknown;
  const client: { send: Send } = Object.getPrototypeOf(DynamoDBClient.prototype);
  const send = client.send;
  const seen = new Set<string>();
  client.send = function (command, ...rest) {
    const fn = running.getStore();
    if (fn && logFile) {
      const targets = tenantTargetsOf(command).join(',');
      const fields = [
        fn,
        command.constructor.name,
        projectFrames().join(','),
        targets,
        sessionOf(this, command),
      ];
      const line = fields.join(' ');
      if (!seen.has(line)) {
        seen.add(line);
        appendFileSync(logFile, `${line}\n`);
      }
    }
    return send.call(this, command, ...rest);
  };
}

/** The tenant each view {@link recordCalls} handed out serves. */
const sessions = new WeakMap<object, string>();

/**
 * Which session a table request went on: `platform` (the function's own role), `tenant` (its tenant
 * data role, with only that tenant's keys) or `outside` (a key of another tenant, or of the platform,
 * on a tenant's session: its role would refuse it); `-` for a request to another service.
 */
function sessionOf(client: object, command: object): string {
  const input = Reflect.get(command, 'input');
  if (!isInput(input) || !isTableRequest(input)) return '-';
  const tenant = sessions.get(client);
  if (tenant === undefined) return 'platform';
  const owners = partitionsOf(input).map((pk) => OWNER.exec(pk)?.[1]);
  return owners.every((owner) => owner === tenant) ? 'tenant' : 'outside';
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The files under functions/ on the stack, innermost first: the adapter that sends the command and
 * its callers (V8 keeps awaiting callers as `at async` frames).
 */
function projectFrames(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const files = [...stack.replaceAll('file://', '').matchAll(/(\/[^\s():]+\.ts):\d+/g)]
    .map((match) => relative(ROOT, match[1] ?? ''))
    .filter((file) => file.startsWith('functions/'));
  return [...new Set(files)];
}

type Input = Record<string, unknown>;
const isInput = (value: unknown): value is Input => typeof value === 'object' && value !== null;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** A DynamoDB request (or a transaction's item): it names a table. */
const isTableRequest = (input: Input): boolean =>
  ['TableName', 'RequestItems', 'TransactItems'].some((field) => field in input);

/** A tenant id as functions/core/ids.ts makes them, and the tenant a partition key belongs to. */
const TENANT_ID = ID_PATTERN.source.replace(/^\^|\$$/g, '');
const OWNER = new RegExp(`^TENANT#(${TENANT_ID})(#|$)`);

/**
 * The partition keys a DynamoDB request names (`dynamodb:LeadingKeys`): item keys, a batch's or a
 * transaction's, a query's partition (the index's, on the index).
 */
export function partitionsOf(input: Input): string[] {
  const keys: unknown[] = [input.Key, input.Item];
  for (const item of list(input.TransactItems).filter(isInput)) {
    for (const op of [item.Put, item.Update, item.Delete, item.ConditionCheck].filter(isInput))
      keys.push(op.Item ?? op.Key);
  }
  for (const request of Object.values(isInput(input.RequestItems) ? input.RequestItems : {})) {
    keys.push(...list(isInput(request) ? request.Keys : undefined));
    for (const write of list(request).filter(isInput)) {
      if (isInput(write.PutRequest)) keys.push(write.PutRequest.Item);
      if (isInput(write.DeleteRequest)) keys.push(write.DeleteRequest.Key);
    }
  }
  // The one index's partition key on the index; another index's is unknown, so nothing is found.
  const partitionKey =
    input.IndexName === undefined
      ? TABLE_SCHEMA.partitionKey
      : input.IndexName === TABLE_SCHEMA.gsi1.indexName
        ? TABLE_SCHEMA.gsi1.partitionKey
        : undefined;
  if (partitionKey === undefined) return [];
  const found = keys.filter(isInput).map((key) => key[partitionKey]);
  if (typeof input.KeyConditionExpression === 'string') {
    const names = isInput(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
    const values = isInput(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
    const equalities = /([#\w]+)\s*=\s*(:\w+)|(:\w+)\s*=\s*([#\w]+)/g;
    for (const [, left, value, flipped, right] of input.KeyConditionExpression.matchAll(equalities)) {
      const name = left ?? right ?? '';
      if ((names[name] ?? name) === partitionKey) found.push(values[value ?? flipped ?? '']);
    }
  }
  return [...new Set(found.filter((pk): pk is string => typeof pk === 'string'))];
}

/** `TENANT#<t>...` patterns as expressions: `<t>` a tenant id, `*` anything (StringLike). */
const PATTERNS = TENANT_ITEM_TARGETS.map((target) => ({
  target,
  patterns: TENANT_ITEM_PARTITIONS[target].map(
    (p) => new RegExp(`^${p.replaceAll('<t>', TENANT_ID).replaceAll('*', '.*')}$`),
  ),
}));

/** The IAM item action of a table request by its command, bar transactions (each item its own). */
const ACTIONS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  ConditionCheck: 'ConditionCheckItem',
};
const actionOf = (name: string): string => ACTIONS[name] ?? name;

/**
 * What a table request does to tenant partitions, as `<item action>@<target>` (lib/aws-calls.ts): a
 * transaction's items each with their own action. A tenant partition of no target is `TENANT#?`, a
 * table request naming no partition {@link NO_PARTITION}. Platform keys are the function role's,
 * which the fence checks by key.
 */
export function tenantTargetsOf(command: object): string[] {
  const input = Reflect.get(command, 'input');
  if (!isInput(input)) return [];
  const request = actionOf(command.constructor.name.replace(/(Item)?Command$/, ''));
  // A transaction's items one by one, as IAM authorizes them; any other request as one.
  const parts = list(input.TransactItems)
    .filter(isInput)
    .flatMap((item) =>
      Object.entries(item)
        .filter(([, op]) => isInput(op))
        .map(([kind, op]) => ({ action: actionOf(kind), input: op as Input })),
    );
  const requests = 'TransactItems' in input ? parts : [{ action: request, input }];
  const pairs = requests.flatMap(({ action, input: one }) => {
    const partitions = partitionsOf(one);
    // A table request that names no partition IAM can check: denied on AWS (or reaching every one).
    if (isTableRequest(one) && partitions.length === 0) return [`${action}@${NO_PARTITION}`];
    return partitions
      .filter((pk) => pk.startsWith('TENANT#'))
      .map((pk) => PATTERNS.find(({ patterns }) => patterns.some((p) => p.test(pk)))?.target ?? 'TENANT#?')
      .map((target) => `${action}@${target}`);
  });
  return [...new Set(pairs)].sort();
}

/** What {@link tenantTargetsOf} answers for a table request whose partition it cannot name. */
export const NO_PARTITION = 'no-partition';

/** One line {@link recordCalls} wrote. */
export interface LoggedCall {
  readonly fn: string;
  readonly command: string;
  /** The files under functions/ on the stack, innermost first. */
  readonly files: string[];
  /** What it did to tenant partitions: `<item action>@<target>` (lib/aws-calls.ts). */
  readonly targets: string[];
  /** `platform`, `tenant`, `outside`, or `-` for another service. */
  readonly session: string;
}

/** The lines {@link recordCalls} wrote. */
export function parseCallLog(text: string): LoggedCall[] {
  const split = (field: string) => field.split(',').filter((part) => part !== '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [fn = '', command = '', files = '', targets = '', session = ''] = line.split(' ');
      return { fn, command, files: split(files), targets: split(targets), session };
    });
}
