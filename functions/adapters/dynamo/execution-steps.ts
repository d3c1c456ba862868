import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { overrunOf } from '#core/executions/budget.ts';
import type { StepRecord } from '#core/executions/model.ts';
import type { StepCharge } from '#core/executions/ports.ts';
import { logger } from '#shared/observability.ts';
import { addCounters, pairKey, runUpdate } from './execution-items.ts';
import * as keys from './item-keys.ts';
import { strip, type TableBase } from './table-base.ts';

/**
 * What running a step writes: its record and its charge (with the give-back to the run's
 * reservation). The step runner needs only these (functions/adapters/wiring/step-runner.ts).
 */
export class DynamoExecutionSteps {
  constructor(protected readonly table: TableBase) {}

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
      runUpdate(
        db,
        addCounters(
          this.table.name,
          keys.usage(tenantId, charge.month),
          { ...values, committedMicros: values.costMicros },
          { type: 'usage' },
        ),
      ),
      ...dimensions.map((key) => runUpdate(db, addCounters(this.table.name, key, values, { type: 'usage' }))),
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
    db: Awaited<ReturnType<TableBase['clients']['forTenant']>>,
    tenantId: string,
    executionId: string,
    step: StepRecord,
    month: string,
    micros: number,
    counted: boolean,
    run: number | undefined,
  ): Promise<void> {
    const usage = addCounters(this.table.name, keys.usage(tenantId, month), { committedMicros: -micros });
    if (!counted) {
      await runUpdate(db, usage);
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
}
