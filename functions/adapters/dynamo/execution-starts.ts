import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import type { Budget } from '#core/executions/budget.ts';
import type { Execution } from '#core/executions/model.ts';
import type { Refusal, Reservation, StartQuery, StartReads } from '#core/executions/ports.ts';
import type { Tenant, User } from '#core/tenancy/model.ts';
import type { Head } from '#core/versioning/model.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { addCounters, ExistsSignal, pairKey, runUpdate } from './execution-items.ts';
import * as keys from './item-keys.ts';
import { headKey, type Key } from './keys.ts';
import { strip, type Table } from './table.ts';

/**
 * What starting an execution reads and writes: the start's reads, the month's reservation, the new
 * execution and its engine ARN. Schedule fire needs only these (functions/adapters/wiring/schedule-fire.ts).
 */
export class DynamoExecutionStarts {
  constructor(protected readonly table: Table) {}

  async startReads(tenantId: string, query: StartQuery): Promise<StartReads> {
    const db = await this.table.clients.forTenant(tenantId);
    const wanted: Record<string, Key> = {
      head: headKey(tenantId, 'workflow', query.workflowId),
      tenant: keys.tenant(tenantId),
      budget: keys.budget(tenantId),
      ...(query.executionId ? { prior: keys.execution(tenantId, query.executionId) } : {}),
      ...(query.userId ? { user: keys.user(tenantId, query.userId) } : {}),
    };
    const found = new Map<string, Record<string, unknown>>();
    let pending: Key[] = Object.values(wanted);
    // BatchGetItem may leave keys unprocessed under load: asked again until all are answered.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
      if (attempt > 8) throw new Error('BatchGetItem left keys unprocessed');
      const out = await db.send(
        new BatchGetCommand({
          RequestItems: { [this.table.name]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of out.Responses?.[this.table.name] ?? [])
        found.set(`${String(item.pk)}|${String(item.sk)}`, item);
      pending = (out.UnprocessedKeys?.[this.table.name]?.Keys ?? []) as Key[];
    }
    const pick = <T>(name: string): T | undefined => {
      const key = wanted[name];
      const item = key ? found.get(`${key.pk}|${key.sk}`) : undefined;
      return item ? strip<T>(item) : undefined;
    };
    const head = pick<Head<WorkflowDefinition>>('head');
    const prior = pick<Execution>('prior');
    const tenant = pick<Tenant>('tenant');
    const budget = pick<Budget>('budget');
    const user = pick<User>('user');
    return {
      ...(head ? { head } : {}),
      ...(prior ? { prior } : {}),
      ...(tenant ? { tenant } : {}),
      ...(budget ? { budget } : {}),
      ...(user ? { user } : {}),
    };
  }

  async reserveStart(tenantId: string, month: string, r: Reservation): Promise<Refusal | undefined> {
    const db = await this.table.clients.forTenant(tenantId);
    const conditions: string[] = [];
    const counts = r.countsExecution ?? true;
    const values: Record<string, unknown> = {
      ':one': counts ? 1 : 0,
      ':r': r.reserveMicros,
      ':usage': 'usage',
    };
    if (r.maxCommittedMicros !== undefined) {
      conditions.push('(attribute_not_exists(committedMicros) OR committedMicros <= :max)');
      values[':max'] = r.maxCommittedMicros;
    }
    if (r.quota !== undefined && counts) {
      conditions.push('(attribute_not_exists(executions) OR executions < :quota)');
      values[':quota'] = r.quota;
    }
    try {
      await db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.usage(tenantId, month),
          UpdateExpression: 'ADD executions :one, committedMicros :r SET #type = :usage',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: values,
          ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = (error.Item ?? {}) as Record<string, { N?: string }>;
      return {
        executions: Number(old.executions?.N ?? 0),
        committedMicros: Number(old.committedMicros?.N ?? 0),
      };
    }
  }

  async release(tenantId: string, month: string, micros: number, executions: number): Promise<void> {
    if (micros === 0 && executions === 0) return;
    const db = await this.table.clients.forTenant(tenantId);
    await runUpdate(
      db,
      addCounters(this.table.name, keys.usage(tenantId, month), {
        committedMicros: -micros,
        executions: -executions,
      }),
    );
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
      // Counted from the start, so the end settles exactly (settlementOf in budget.ts).
      givenBackMicros: 0,
    };
    try {
      await this.table.commit(
        audit,
        [this.table.put(item, 'attribute_not_exists(pk)')],
        () => new ExistsSignal(),
      );
    } catch (error) {
      if (!(error instanceof ExistsSignal)) throw error;
      const existing = await this.get(tenantId, execution.executionId);
      if (!existing) throw error;
      return { created: false, execution: existing };
    }
    // The tenant's month was counted by reserveStart; the workflow's, teams' and agents' counters are atomic
    // ADDs of their own, so concurrent starts never conflict on them.
    const db = await this.table.clients.forTenant(tenantId);
    await Promise.all(
      [
        keys.usage(tenantId, month, { kind: 'WORKFLOW', id: execution.workflowId }),
        ...execution.teams.map((team) => keys.usage(tenantId, month, { kind: 'TEAM', id: team })),
        ...agents.map((agentId) => pairKey(tenantId, month, execution.workflowId, agentId)),
      ].map((key) => runUpdate(db, addCounters(this.table.name, key, { executions: 1 }, { type: 'usage' }))),
    );
    return { created: true, execution };
  }

  async get(tenantId: string, executionId: string): Promise<Execution | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.execution(tenantId, executionId),
    );
    return item ? strip<Execution>(item) : undefined;
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
}
