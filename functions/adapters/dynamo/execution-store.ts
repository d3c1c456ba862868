import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import type { Execution, ExecutionError, ExecutionStatus, StepRecord } from '#core/executions/model.ts';
import type { ExecutionFilter, ExecutionStore, StepCharge, UsageCounters } from '#core/executions/ports.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { keys, tenantPk } from './keys.ts';
import { strip, type Table, type TransactItem } from './table.ts';

const ZERO: UsageCounters = { executions: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };

function counters(item: Record<string, unknown> | undefined): UsageCounters {
  return {
    executions: Number(item?.executions ?? 0),
    inputTokens: Number(item?.inputTokens ?? 0),
    outputTokens: Number(item?.outputTokens ?? 0),
    costMicros: Number(item?.costMicros ?? 0),
  };
}

/** DynamoDB implementation of {@link ExecutionStore}. */
export class DynamoExecutionStore implements ExecutionStore {
  constructor(private readonly table: Table) {}

  private add(
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
        TableName: this.table.name,
        Key: key,
        UpdateExpression: `ADD ${adds.join(', ')}${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: vals,
      },
    };
  }

  async create(
    tenantId: string,
    execution: Execution,
    month: string,
    audit: AuditContext,
    agents: readonly string[] = [],
  ): Promise<{ created: boolean; execution: Execution }> {
    const item = {
      ...keys.execution(tenantId, execution.executionId),
      ...keys.executionsIndex(tenantId, execution.startedAt, execution.executionId),
      type: 'execution',
      ...execution,
    };
    try {
      await this.table.commit(
        audit,
        [
          this.table.put(item, 'attribute_not_exists(pk)'),
          this.add(keys.usage(tenantId, month), { executions: 1 }, { type: 'usage' }),
          this.add(
            keys.usage(tenantId, month, { kind: 'WORKFLOW', id: execution.workflowId }),
            { executions: 1 },
            { type: 'usage' },
          ),
          ...execution.teams.map((team) =>
            this.add(
              keys.usage(tenantId, month, { kind: 'TEAM', id: team }),
              { executions: 1 },
              { type: 'usage' },
            ),
          ),
          ...agents.map((agentId) =>
            this.add(
              keys.usage(tenantId, month, { kind: 'AGENT', id: agentId }),
              { executions: 1 },
              { type: 'usage' },
            ),
          ),
        ],
        () => new ExistsSignal(),
      );
      return { created: true, execution };
    } catch (error) {
      if (!(error instanceof ExistsSignal)) throw error;
      const existing = await this.get(tenantId, execution.executionId);
      if (!existing) throw error;
      return { created: false, execution: existing };
    }
  }

  async get(tenantId: string, executionId: string): Promise<Execution | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.execution(tenantId, executionId),
    );
    return item ? strip<Execution>(item) : undefined;
  }

  async steps(tenantId: string, executionId: string): Promise<StepRecord[]> {
    const items = await this.table.queryAll(
      tenantId,
      keys.execution(tenantId, executionId).pk,
      'STEP#',
      true,
    );
    return items
      .map((item) => {
        const { stepType, lastAttemptAt: _l, ...rest } = strip<Record<string, unknown>>(item);
        return { ...(rest as unknown as StepRecord), type: String(stepType) };
      })
      .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  }

  list(tenantId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<Execution>> {
    const names: Record<string, string> = { '#pk': 'gsi1pk' };
    const values: Record<string, unknown> = { ':pk': `${tenantPk(tenantId)}#EXECS` };
    let key = '#pk = :pk';
    if (filter.from || filter.to) {
      names['#sk'] = 'gsi1sk';
      values[':from'] = filter.from ?? '0000';
      // '~' sorts after every id character, so `to` includes executions started at exactly `to`.
      values[':to'] = `${filter.to ?? '9999'}~`;
      key += ' AND #sk BETWEEN :from AND :to';
    }
    const conditions: string[] = [];
    if (filter.workflowId) {
      names['#w'] = 'workflowId';
      values[':w'] = filter.workflowId;
      conditions.push('#w = :w');
    }
    if (filter.status) {
      names['#s'] = 'status';
      values[':s'] = filter.status;
      conditions.push('#s = :s');
    }
    return this.table.page(
      tenantId,
      'executions',
      {
        IndexName: 'gsi1',
        KeyConditionExpression: key,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
        ScanIndexForward: false,
      },
      page,
      (i) => strip<Execution>(i),
    );
  }

  async setEngineArn(tenantId: string, executionId: string, engineArn: string): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.execution(tenantId, executionId),
        UpdateExpression: 'SET engineArn = :a',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':a': engineArn },
      }),
    );
  }

  async startStep(
    tenantId: string,
    executionId: string,
    step: Pick<StepRecord, 'stepId' | 'stepKey' | 'type' | 'startedAt' | 'ref'>,
  ): Promise<number> {
    const db = await this.table.clients.forTenant(tenantId);
    const out = await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.executionStep(tenantId, executionId, step.stepKey),
        UpdateExpression:
          'ADD attempts :one SET #status = :running, stepId = :id, stepKey = :key, stepType = :type, #type = :item, startedAt = if_not_exists(startedAt, :at), lastAttemptAt = :at' +
          (step.ref ? ', #ref = :ref' : ''),
        ExpressionAttributeNames: {
          '#status': 'status',
          '#type': 'type',
          ...(step.ref ? { '#ref': 'ref' } : {}),
        },
        ExpressionAttributeValues: {
          ':one': 1,
          ':running': 'RUNNING',
          ':id': step.stepId,
          ':key': step.stepKey,
          ':type': step.type,
          ':item': 'step',
          ':at': step.startedAt,
          ...(step.ref ? { ':ref': step.ref } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Number(out.Attributes?.attempts ?? 1);
  }

  async finishStep(
    tenantId: string,
    executionId: string,
    step: StepRecord,
    charge: StepCharge | undefined,
  ): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    // `type` is the table's item-kind attribute, so the step's own type is stored as `stepType`.
    const { type: stepType, ...rest } = step;
    const items: TransactItem[] = [
      this.table.put({
        ...keys.executionStep(tenantId, executionId, step.stepKey),
        ...rest,
        stepType,
        type: 'step',
      }),
    ];
    if (charge && (charge.usage.inputTokens > 0 || charge.usage.outputTokens > 0 || charge.costMicros > 0)) {
      const values = {
        inputTokens: charge.usage.inputTokens,
        outputTokens: charge.usage.outputTokens,
        costMicros: charge.costMicros,
      };
      items.push(
        this.add(keys.execution(tenantId, executionId), {
          'usage.inputTokens': values.inputTokens,
          'usage.outputTokens': values.outputTokens,
          costMicros: values.costMicros,
        }),
        this.add(keys.usage(tenantId, charge.month), values, { type: 'usage' }),
        this.add(keys.usage(tenantId, charge.month, { kind: 'WORKFLOW', id: charge.workflowId }), values, {
          type: 'usage',
        }),
        ...(charge.agentId
          ? [
              this.add(keys.usage(tenantId, charge.month, { kind: 'AGENT', id: charge.agentId }), values, {
                type: 'usage',
              }),
            ]
          : []),
        ...charge.teams.map((team) =>
          this.add(keys.usage(tenantId, charge.month, { kind: 'TEAM', id: team }), values, { type: 'usage' }),
        ),
      );
    }
    await db.send(new TransactWriteCommand({ TransactItems: items }));
  }

  async transition(
    tenantId: string,
    executionId: string,
    from: readonly ExecutionStatus[],
    status: ExecutionStatus,
    fields: { output?: unknown; error?: ExecutionError; endedAt?: string; pendingApprovalId?: string | null },
    audit?: AuditContext,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status };
    const sets = ['#status = :status'];
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    const allowed = from.map((s, i) => {
      values[`:from${i}`] = s;
      return `:from${i}`;
    });
    const update: TransactItem = {
      Update: {
        TableName: this.table.name,
        Key: keys.execution(tenantId, executionId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `#status IN (${allowed.join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
    try {
      if (audit) {
        await this.table.commit(audit, [update], () => new ExistsSignal());
      } else {
        const db = await this.table.clients.forTenant(tenantId);
        await db.send(new TransactWriteCommand({ TransactItems: [update] }));
      }
      return true;
    } catch (error) {
      if (error instanceof ExistsSignal) return false;
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return false;
      throw error;
    }
  }

  async monthTotal(tenantId: string, month: string): Promise<UsageCounters> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.usage(tenantId, month));
    return counters(item);
  }

  async usage(tenantId: string, month: string) {
    const db = await this.table.clients.forTenant(tenantId);
    const prefix = keys.usage(tenantId, month).sk;
    const [total, dims] = await Promise.all([
      db.send(new GetCommand({ TableName: this.table.name, Key: keys.usage(tenantId, month) })),
      this.table.queryAll(tenantId, tenantPk(tenantId), `${prefix}#`),
    ]);
    return {
      total: total.Item ? counters(total.Item) : ZERO,
      byDimension: dims.map((item) => {
        const [, , kind = '', ...rest] = String(item.sk).split('#');
        return { kind, id: rest.join('#'), counters: counters(item) };
      }),
    };
  }
}

/** Internal: a create or transition whose condition failed. */
class ExistsSignal extends Error {}
