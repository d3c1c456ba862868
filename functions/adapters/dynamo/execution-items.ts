import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UsageCounters } from '#core/executions/ports.ts';
import * as keys from './item-keys.ts';
import type { TableBase, TransactItem } from './table-base.ts';

/** The counters of a usage item (0 where absent). */
export const ZERO: UsageCounters = { executions: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };

export function counters(item: Record<string, unknown> | undefined): UsageCounters {
  return {
    executions: Number(item?.executions ?? 0),
    inputTokens: Number(item?.inputTokens ?? 0),
    outputTokens: Number(item?.outputTokens ?? 0),
    costMicros: Number(item?.costMicros ?? 0),
  };
}

export function pairKey(tenantId: string, month: string, workflowId: string, agentId: string) {
  return keys.usage(tenantId, month, { kind: 'PAIR', id: `${workflowId}#${agentId}` });
}

/** A tenant's DynamoDB client, as the table gives it. */
export type TenantDb = Awaited<ReturnType<TableBase['clients']['forTenant']>>;

/** An update that ADDs `values` (nested keys as `usage.inputTokens`) and SETs `extra`. */
export function addCounters(
  tableName: string,
  key: { pk: string; sk: string },
  values: Record<string, number>,
  extra: Record<string, unknown> = {},
): TransactItem {
  const names: Record<string, string> = {};
  const vals: Record<string, unknown> = {};
  // Keys may be nested (`usage.inputTokens`): each segment gets its own name placeholder.
  const adds = Object.entries(values).map(([k, v], i) => {
    const path = k.split('.').map((segment, j) => {
      names[`#a${i}_${j}`] = segment;
      return `#a${i}_${j}`;
    });
    vals[`:a${i}`] = v;
    return `${path.join('.')} :a${i}`;
  });
  const sets = Object.entries(extra).map(([k, v], i) => {
    names[`#s${i}`] = k;
    vals[`:s${i}`] = v;
    return `#s${i} = :s${i}`;
  });
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `ADD ${adds.join(', ')}${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: vals,
    },
  };
}

/** Runs an update built by {@link addCounters} on its own (an atomic ADD, no transaction). */
export async function runUpdate(db: TenantDb, item: TransactItem) {
  const update = item.Update;
  if (!update) throw new Error('not an update');
  return db.send(new UpdateCommand({ ...update, ReturnValues: 'UPDATED_NEW' }));
}

/** Internal: a create or transition whose condition failed. */
export class ExistsSignal extends Error {}
