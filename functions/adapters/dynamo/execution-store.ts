import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import { type Budget, overrunOf, settlementOf } from '#core/executions/budget.ts';
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
  Refusal,
  Reservation,
  StartQuery,
  StartReads,
  StepCharge,
  UsageCounters,
} from '#core/executions/ports.ts';
import type { Page, PageRequest, Tenant, User } from '#core/tenancy/model.ts';
import type { Head } from '#core/versioning/model.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { logger } from '#shared/observability.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { headKey, type Key, keys, tenantPk } from './keys.ts';
import { strip, type Table, type TransactItem } from './table.ts';

/** Reads and tries again when a charge lands between a settlement's read and its write. */
const SETTLE_ATTEMPTS = 5;

const ZERO: UsageCounters = { executions: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };

function counters(item: Record<string, unknown> | undefined): UsageCounters {
  return {
    executions: Number(item?.executions ?? 0),
    inputTokens: Number(item?.inputTokens ?? 0),
    outputTokens: Number(item?.outputTokens ?? 0),
    costMicros: Number(item?.costMicros ?? 0),
  };
}

/**
 * An agent's usage is counted on one item per workflow and agent (`PAIR#<workflowId>#<agentId>`), so
 * a step's charge is one write for both breakdowns; the workflow's item keeps its execution count.
 * Reading folds the pairs into the by-workflow and by-agent views.
 */
function pairKey(tenantId: string, month: string, workflowId: string, agentId: string) {
  return keys.usage(tenantId, month, { kind: 'PAIR', id: `${workflowId}#${agentId}` });
}

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

  /** Runs an update built by {@link add} on its own (an atomic ADD, no transaction). */
  private async update(db: Awaited<ReturnType<Table['clients']['forTenant']>>, item: TransactItem) {
    const update = item.Update;
    if (!update) throw new Error('not an update');
    return db.send(new UpdateCommand({ ...update, ReturnValues: 'UPDATED_NEW' }));
  }

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
    await this.update(
      db,
      this.add(keys.usage(tenantId, month), { committedMicros: -micros, executions: -executions }),
    );
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
              ...(micros > 0 ? [this.add(keys.usage(tenantId, month), { committedMicros: -micros })] : []),
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
      ].map((key) => this.update(db, this.add(key, { executions: 1 }, { type: 'usage' }))),
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
  ): Promise<number | undefined> {
    const db = await this.table.clients.forTenant(tenantId);
    // `type` is the table's item-kind attribute, so the step's own type is stored as `stepType`.
    const { type: stepType, ...rest } = step;
    // A later attempt owns the record: an attempt that finishes after it started (a run that timed out
    // and was redriven while its task still ran) is not recorded over it, though its charge counts.
    const put = db
      .send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...keys.executionStep(tenantId, executionId, step.stepKey),
            ...rest,
            stepType,
            type: 'step',
          },
          ConditionExpression: 'attribute_not_exists(attempts) OR attempts <= :attempt',
          ExpressionAttributeValues: { ':attempt': step.attempts },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
    if (
      !charge ||
      (charge.usage.inputTokens === 0 && charge.usage.outputTokens === 0 && charge.costMicros === 0)
    ) {
      await put;
      return undefined;
    }
    const values = {
      inputTokens: charge.usage.inputTokens,
      outputTokens: charge.usage.outputTokens,
      costMicros: charge.costMicros,
    };
    const dimensions = [
      charge.agentId
        ? pairKey(tenantId, charge.month, charge.workflowId, charge.agentId)
        : keys.usage(tenantId, charge.month, { kind: 'WORKFLOW', id: charge.workflowId }),
      ...charge.teams.map((team) => keys.usage(tenantId, charge.month, { kind: 'TEAM', id: team })),
    ];
    // One round trip for the record, the execution's cost and the month's counters: the month's
    // commitment grows by the whole charge at once, and the part the execution's reservation already
    // covered is given back right after (below). Until then the commitment errs high, which can only
    // refuse a start, never let one overrun the budget; a give-back that is lost is made good when
    // the run's reservation is settled (settleReservation).
    const [, execution, month] = await Promise.all([
      put,
      db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.execution(tenantId, executionId),
          UpdateExpression: 'ADD #u.#i :i, #u.#o :o, costMicros :c',
          ExpressionAttributeNames: { '#u': 'usage', '#i': 'inputTokens', '#o': 'outputTokens' },
          ExpressionAttributeValues: {
            ':i': values.inputTokens,
            ':o': values.outputTokens,
            ':c': values.costMicros,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
      this.update(
        db,
        this.add(
          keys.usage(tenantId, charge.month),
          { ...values, committedMicros: values.costMicros },
          { type: 'usage' },
        ),
      ),
      ...dimensions.map((key) => this.update(db, this.add(key, values, { type: 'usage' }))),
    ]);
    const after = execution.Attributes ?? {};
    const costAfter = Number(after.costMicros ?? values.costMicros);
    const reserved = Number(after.reservedMicros ?? 0);
    const covered = values.costMicros - overrunOf(reserved, costAfter - values.costMicros, values.costMicros);
    // Settled already (a step running on after a cancellation): the whole charge stays committed.
    if (covered > 0 && after.reservationSettled === undefined) {
      // An error here only leaves the commitment high until the settlement, which makes it good for
      // an execution that counts its give-backs: the charge itself is recorded, so it is not retried.
      await this.giveBack(
        db,
        tenantId,
        executionId,
        step,
        charge.month,
        covered,
        after.givenBackMicros !== undefined,
        after.redriveCount === undefined ? undefined : Number(after.redriveCount),
      ).catch((error: unknown) =>
        // Visible, since until the settlement the month's commitment stays high and may refuse starts.
        logger.warn('A step charge was not given back to its reservation; the run settlement will', {
          error,
          tenantId,
          executionId,
        }),
      );
    }
    return Number(month.Attributes?.costMicros ?? values.costMicros);
  }

  /**
   * Gives back the part of a charge the run's reservation covered. Counted on the execution in the
   * same transaction, and refused once the reservation is settled; an execution started before
   * give-backs were counted gets the plain update it always had.
   */
  private async giveBack(
    db: Awaited<ReturnType<Table['clients']['forTenant']>>,
    tenantId: string,
    executionId: string,
    step: StepRecord,
    month: string,
    micros: number,
    counted: boolean,
    run: number | undefined,
  ): Promise<void> {
    const usage = this.add(keys.usage(tenantId, month), { committedMicros: -micros });
    if (!counted) {
      await this.update(db, usage);
      return;
    }
    try {
      await db.send(
        new TransactWriteCommand({
          // An SDK retry of a transaction whose answer was lost must not give back twice.
          ClientRequestToken: createHash('sha256')
            .update(`${tenantId}/${executionId}/${step.stepKey}/${step.attempts}`)
            .digest('base64url')
            .slice(0, 36),
          TransactItems: [
            {
              Update: {
                TableName: this.table.name,
                Key: keys.execution(tenantId, executionId),
                UpdateExpression: 'ADD givenBackMicros :micros',
                // Only to the run that was charged: after a redrive, a late give-back of the run
                // before would take from the new run's reservation what the old one's settlement
                // already released.
                ConditionExpression: `attribute_exists(givenBackMicros) AND attribute_not_exists(reservationSettled) AND ${
                  run === undefined ? 'attribute_not_exists(redriveCount)' : 'redriveCount = :run'
                }`,
                ExpressionAttributeValues: {
                  ':micros': micros,
                  ...(run === undefined ? {} : { ':run': run }),
                },
              },
            },
            usage,
          ],
        }),
      );
    } catch (error) {
      // Settled meanwhile: its settlement already counted this charge as spent.
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return;
      throw error;
    }
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

/** Internal: a create or transition whose condition failed. */
class ExistsSignal extends Error {}
