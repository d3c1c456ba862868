import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import { settlementOf } from '#core/executions/budget.ts';
import type {
  Execution,
  ExecutionError,
  ExecutionStatus,
  RedriveRecord,
  StepRecord,
} from '#core/executions/model.ts';
import type {
  ExecutionFilter,
  ExecutionStore,
  RedriveChange,
  UsageCounters,
} from '#core/executions/ports.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { addCounters, counters, ExistsSignal, ZERO } from './execution-items.ts';
import { DynamoExecutionStarts } from './execution-starts.ts';
import { DynamoExecutionSteps } from './execution-steps.ts';
import * as keys from './item-keys.ts';
import { tenantPk } from './keys.ts';
import { strip, type TransactItem } from './table.ts';

/** Reads and tries again when a charge lands between a settlement's read and its write. */
const SETTLE_ATTEMPTS = 5;

/**
 * An agent's usage is counted on one item per workflow and agent (`PAIR#<workflowId>#<agentId>`), so
 * a step's charge is one write for both breakdowns; the workflow's item keeps its execution count.
 * Reading folds the pairs into the by-workflow and by-agent views.
 */

type Dimension = { kind: string; id: string; counters: UsageCounters };

function foldDimensions(items: readonly Record<string, unknown>[]): Dimension[] {
  const folded = new Map<string, Dimension>();
  const add = (kind: string, id: string, c: UsageCounters) => {
    const key = `${kind}#${id}`;
    const was = folded.get(key)?.counters ?? ZERO;
    folded.set(key, {
      kind,
      id,
      counters: {
        executions: was.executions + c.executions,
        inputTokens: was.inputTokens + c.inputTokens,
        outputTokens: was.outputTokens + c.outputTokens,
        costMicros: was.costMicros + c.costMicros,
      },
    });
  };
  for (const item of items) {
    const [, , kind = '', ...rest] = String(item.sk).split('#');
    const c = counters(item);
    if (kind === 'PAIR') {
      const [workflowId = '', agentId = ''] = rest;
      add('AGENT', agentId, c);
      // A workflow's executions are counted once, on its own item.
      add('WORKFLOW', workflowId, { ...c, executions: 0 });
    } else {
      add(kind, rest.join('#'), c);
    }
  }
  // In key order (`kind#id`, as the sort keys), as the query returned the items before pairs were folded in.
  return [...folded.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/**
 * DynamoDB implementation of {@link ExecutionStore}: the starts and the step writes (each a store of
 * its own, for the functions that need only them) with the rest.
 */
export class DynamoExecutionStore extends DynamoExecutionStarts implements ExecutionStore {
  private readonly stepWrites = new DynamoExecutionSteps(this.table);

  steps(tenantId: string, executionId: string): Promise<StepRecord[]> {
    return this.stepWrites.steps(tenantId, executionId);
  }

  startStep(...args: Parameters<DynamoExecutionSteps['startStep']>): Promise<number> {
    return this.stepWrites.startStep(...args);
  }

  finishStep(...args: Parameters<DynamoExecutionSteps['finishStep']>): Promise<number | undefined> {
    return this.stepWrites.finishStep(...args);
  }

  async settleReservation(
    tenantId: string,
    executionId: string,
    month: string,
    run: number,
  ): Promise<number> {
    const db = await this.table.clients.forTenant(tenantId);
    const key = keys.execution(tenantId, executionId);
    // The mark and the release are one transaction, conditioned on what the release was computed
    // from: a give-back or charge landing between the read and the write fails it, and it is read
    // again. A failed release therefore never leaves the mark behind it.
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
      const out = await db.send(
        new GetCommand({ TableName: this.table.name, Key: key, ConsistentRead: true }),
      );
      const found = out.Item as Execution | undefined;
      // Gone, settled, or redriven since (that run is not this one to settle).
      if (!found || found.reservationSettled || (found.redriveCount ?? 0) !== run) return 0;
      const micros = settlementOf(found);
      const values: Record<string, unknown> = {
        ':yes': true,
        ':reserved': found.reservedMicros ?? 0,
        ':run': run,
        ':zero': 0,
      };
      const conditions = [
        'attribute_not_exists(reservationSettled)',
        '(reservedMicros = :reserved OR (attribute_not_exists(reservedMicros) AND :reserved = :zero))',
        '(redriveCount = :run OR (attribute_not_exists(redriveCount) AND :run = :zero))',
      ];
      if (found.givenBackMicros === undefined) {
        // Settled by what it spent: the cost must be the one read.
        conditions.push('attribute_not_exists(givenBackMicros)', 'costMicros = :cost');
        values[':cost'] = found.costMicros;
      } else {
        conditions.push('givenBackMicros = :given');
        values[':given'] = found.givenBackMicros;
      }
      const mark: TransactItem = {
        Update: {
          TableName: this.table.name,
          Key: key,
          UpdateExpression: 'SET reservationSettled = :yes',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeValues: values,
        },
      };
      try {
        await db.send(
          new TransactWriteCommand({
            TransactItems: [
              mark,
              ...(micros > 0
                ? [addCounters(this.table.name, keys.usage(tenantId, month), { committedMicros: -micros })]
                : []),
            ],
          }),
        );
        return micros;
      } catch (error) {
        if (
          !(error instanceof TransactionCanceledException) ||
          error.CancellationReasons?.[0]?.Code !== 'ConditionalCheckFailed'
        )
          throw error;
      }
    }
    throw new ConflictError(`The reservation of execution ${executionId} kept changing; settle it again.`);
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
        IndexName: TABLE_SCHEMA.gsi1.indexName,
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

  async expire(tenantId: string, executionId: string, expiresAt: number | undefined): Promise<number> {
    const db = await this.table.clients.forTenant(tenantId);
    const pk = keys.execution(tenantId, executionId).pk;
    const items = [{ sk: 'META' }, ...(await this.table.queryAll(tenantId, pk, 'STEP#', true))];
    // One UpdateItem per item of this execution's own partition: no item shared with other writes.
    await Promise.all(
      items.map((item) =>
        db.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: { pk, sk: String(item.sk) },
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#e': TABLE_SCHEMA.ttlAttribute },
            ...(expiresAt === undefined
              ? { UpdateExpression: 'REMOVE #e' }
              : { UpdateExpression: 'SET #e = :e', ExpressionAttributeValues: { ':e': expiresAt } }),
          }),
        ),
      ),
    );
    return items.length;
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

  async getRedrive(
    tenantId: string,
    executionId: string,
    redriveId: string,
  ): Promise<RedriveRecord | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.executionRedrive(tenantId, executionId, redriveId),
    );
    return item ? strip<RedriveRecord>(item) : undefined;
  }

  async redrive(
    tenantId: string,
    executionId: string,
    change: RedriveChange,
    audit: AuditContext,
  ): Promise<boolean> {
    const update: TransactItem = {
      Update: {
        TableName: this.table.name,
        Key: keys.execution(tenantId, executionId),
        UpdateExpression:
          'SET #status = :running, redriveCount = :next, redrivenAt = :at, reservedMicros = :reserved, reserveBaseMicros = :base, givenBackMicros = :zero REMOVE endedAt, #error, #output, reservationSettled',
        ConditionExpression:
          '#status IN (:failed, :timedOut) AND (redriveCount = :previous OR (attribute_not_exists(redriveCount) AND :previous = :zero))',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#output': 'output' },
        ExpressionAttributeValues: {
          ':running': 'RUNNING',
          ':failed': 'FAILED',
          ':timedOut': 'TIMED_OUT',
          ':next': change.previousCount + 1,
          ':previous': change.previousCount,
          ':zero': 0,
          ':at': change.redrivenAt,
          ':reserved': change.reservedMicros,
          ':base': change.reserveBaseMicros,
        },
      },
    };
    const items = [update];
    if (change.record) {
      items.push(
        this.table.put(
          {
            ...keys.executionRedrive(tenantId, executionId, change.record.redriveId),
            type: 'redrive',
            ...change.record,
          },
          'attribute_not_exists(pk)',
        ),
      );
    }
    try {
      await this.table.commit(audit, items, () => new ExistsSignal());
      return true;
    } catch (error) {
      if (error instanceof ExistsSignal) return false;
      throw error;
    }
  }

  async abandonRedrive(
    tenantId: string,
    executionId: string,
    prior: Execution,
    redriveId?: string,
  ): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':status': prior.status,
      ':running': 'RUNNING',
      ':current': (prior.redriveCount ?? 0) + 1,
      ':reserved': prior.reservedMicros ?? 0,
    };
    const sets = ['#status = :status', 'reservedMicros = :reserved'];
    const removes: string[] = [];
    const restore = (name: string, value: unknown) => {
      names[`#${name}`] = name;
      if (value === undefined) {
        removes.push(`#${name}`);
      } else {
        values[`:${name}`] = value;
        sets.push(`#${name} = :${name}`);
      }
    };
    restore('endedAt', prior.endedAt);
    restore('error', prior.error);
    restore('output', prior.output);
    restore('redriveCount', prior.redriveCount);
    restore('redrivenAt', prior.redrivenAt);
    restore('reserveBaseMicros', prior.reserveBaseMicros);
    restore('givenBackMicros', prior.givenBackMicros);
    restore('reservationSettled', prior.reservationSettled);
    try {
      await db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.execution(tenantId, executionId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#status = :running AND #redriveCount = :current',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // Moved on meanwhile (cancelled, or another redrive): nothing of this redrive is left to undo.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    if (redriveId) {
      // Through the transaction API the function already holds: no extra grant for one rare delete.
      await db.send(
        new TransactWriteCommand({
          TransactItems: [this.table.delete(keys.executionRedrive(tenantId, executionId, redriveId))],
        }),
      );
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
      byDimension: foldDimensions(dims),
    };
  }
}
