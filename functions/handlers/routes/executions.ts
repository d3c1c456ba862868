import { adapters } from '#adapters/wiring/api.ts';
import { ValidationError } from '#core/errors.ts';
import { setBudget } from '#core/executions/budget.ts';
import { cancelExecution } from '#core/executions/cancel.ts';
import { EXECUTION_STATUSES, monthOf } from '#core/executions/model.ts';
import { getExecution, listExecutions } from '#core/executions/queries.ts';
import { redriveExecution } from '#core/executions/redrive.ts';
import { startExecution } from '#core/executions/start.ts';
import { monthBudget, monthUsage } from '#core/executions/usage.ts';
import { ENVIRONMENTS } from '#core/versioning/model.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import {
  check,
  dateTimeString,
  extend,
  finished,
  int,
  nullable,
  oneOf,
  record,
  type TString,
  t,
  withMessage,
} from '#shared/schema.ts';
import { authErrors, created, idParam, pageOf, pageQuery, replayed } from './schemas.ts';
import {
  executionDetail,
  executionRedriven,
  executionStarted,
  executionSummary,
  pageOfItems,
  usageView,
} from './views.ts';

const USD_AMOUNT = /^\d{1,9}(\.\d{1,6})?$/;

const deps = () => adapters().executions;
const executionParams = t.Object({ executionId: idParam }, { additionalProperties: false });
const idempotencyKey = withMessage(
  t.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' }),
  'printable ASCII without spaces',
);

/** The `Idempotency-Key` header, checked: a bad one is 400 naming it. */
function keyOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const key = check(idempotencyKey, raw);
  if (!key.ok) {
    throw new ValidationError('Invalid Idempotency-Key.', [
      { path: 'Idempotency-Key', message: 'printable ASCII, 1 to 200 characters' },
    ]);
  }
  return key.value;
}

const budgetSchema = t.Object({
  configured: t.Boolean(),
  month: t.String(),
  spentUsd: t.String(),
  monthlyLimitUsd: t.Optional(t.String()),
  alertThresholds: t.Optional(t.Array(t.Number())),
  hardStop: t.Optional(t.Boolean()),
  reservePerExecutionUsd: t.Optional(t.String()),
  percentUsed: t.Optional(nullable(t.Number())),
  alertsFired: t.Optional(t.Array(t.Number())),
  updatedAt: t.Optional(t.String()),
  updatedBy: t.Optional(t.String()),
});

/** Starting, reading and cancelling executions; usage and budget. */
export const executionRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/executions',
    summary: 'Start the workflow in an environment (default dev); idempotent with Idempotency-Key',
    tag: 'executions',
    auth: 'executions:start',
    params: t.Object({ workflowId: idParam }, { additionalProperties: false }),
    body: t.Object(
      {
        input: record(t.Unknown()),
        environment: t.Optional(oneOf(ENVIRONMENTS)),
      },
      { additionalProperties: false },
    ),
    headers: [
      {
        name: 'Idempotency-Key',
        required: false,
        description: 'Replays with the same key and body return the same execution',
      },
    ],
    responses: {
      202: {
        description: 'Started (or the same execution, on a replay)',
        schema: executionStarted,
        headers: { ...created, ...replayed },
      },
      402: { description: 'The monthly budget is spent and its hard stop is on' },
      ...authErrors,
      404: { description: 'No such workflow' },
      409: { description: 'Key reused with another body, or no version in that environment' },
      429: { description: 'Monthly execution quota used up' },
    },
    handler: async ({ principal, meta, params, body, headers }) => {
      const { execution, created } = await startExecution(
        deps(),
        { principal, meta },
        params.workflowId,
        body,
        keyOf(headers['idempotency-key']),
      );
      return {
        status: 202,
        body: {
          executionId: execution.executionId,
          status: execution.status,
          workflowVersion: execution.workflowVersion,
          environment: execution.environment,
        },
        headers: {
          location: `/executions/${execution.executionId}`,
          ...(created ? {} : { 'idempotent-replayed': 'true' }),
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/executions',
    summary: 'Executions, newest first; filter by workflow, status and start time',
    tag: 'executions',
    auth: 'executions:read',
    query: extend(pageQuery, {
      workflowId: t.Optional(idParam),
      status: t.Optional(oneOf(EXECUTION_STATUSES)),
      from: t.Optional(dateTimeString({}, true)),
      to: t.Optional(dateTimeString({}, true)),
    }),
    responses: {
      200: {
        description: 'Executions',
        schema: pageOfItems(executionSummary),
      },
      ...authErrors,
    },
    handler: async ({ principal, query }) => {
      const { limit, cursor, from, to, ...rest } = query;
      const filter = {
        ...(rest.workflowId ? { workflowId: rest.workflowId } : {}),
        ...(rest.status ? { status: rest.status } : {}),
        ...(from ? { from: new Date(from).toISOString() } : {}),
        ...(to ? { to: new Date(to).toISOString() } : {}),
      };
      return {
        status: 200,
        body: await listExecutions(
          deps(),
          principal.tenantId,
          filter,
          pageOf({ limit, ...(cursor ? { cursor } : {}) }),
        ),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/executions/{executionId}',
    summary: 'One execution with its steps, output, tokens, cost, timings and errors',
    tag: 'executions',
    auth: 'executions:read',
    params: executionParams,
    responses: {
      200: { description: 'The execution', schema: executionDetail },
      ...authErrors,
      404: { description: 'No such execution' },
    },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getExecution(deps(), principal.tenantId, params.executionId),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/executions/{executionId}/cancel',
    summary: 'Stop a running or waiting execution',
    tag: 'executions',
    auth: 'executions:cancel',
    params: executionParams,
    responses: {
      200: { description: 'Cancelled', schema: executionSummary },
      ...authErrors,
      404: { description: 'No such execution' },
      409: { description: 'Already finished' },
    },
    handler: async ({ principal, meta, params }) => ({
      status: 200,
      body: await cancelExecution(deps(), { principal, meta }, params.executionId),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/executions/{executionId}/redrive',
    summary:
      'Resume a FAILED or TIMED_OUT execution from the step that did not finish; idempotent with Idempotency-Key',
    tag: 'executions',
    // Whoever may start executions may resume one: a redrive runs the same workflow version again.
    auth: 'executions:start',
    params: executionParams,
    headers: [
      {
        name: 'Idempotency-Key',
        required: false,
        description: 'Replays with the same key return the redrive it made, whatever happened since',
      },
    ],
    responses: {
      202: {
        description:
          'Redriven (or, on a replay or while an earlier redrive still runs, that redrive: same redriveCount)',
        schema: executionRedriven,
        headers: { ...created, ...replayed },
      },
      402: { description: 'The monthly budget is spent and its hard stop is on' },
      ...authErrors,
      404: { description: 'No such execution' },
      409: {
        description:
          'Not FAILED or TIMED_OUT, redriven 10 times already, ended over 14 days ago, or the engine cannot redrive it',
      },
      429: { description: 'The plan’s running executions are all taken' },
    },
    handler: async ({ principal, meta, params, headers }) => {
      const { execution, redriveCount, created } = await redriveExecution(
        deps(),
        { principal, meta },
        params.executionId,
        keyOf(headers['idempotency-key']),
      );
      return {
        status: 202,
        body: {
          executionId: execution.executionId,
          status: execution.status,
          redriveCount,
          ...(execution.redrivenAt ? { redrivenAt: execution.redrivenAt } : {}),
        },
        headers: {
          location: `/executions/${execution.executionId}`,
          ...(created ? {} : { 'idempotent-replayed': 'true' }),
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/usage',
    summary: 'Month to date: executions, tokens and cost, by workflow, agent and team; the plan’s limits',
    tag: 'usage',
    auth: 'usage:read',
    query: t.Object(
      {
        month: t.Optional(withMessage(t.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }), 'YYYY-MM')),
      },
      { additionalProperties: false },
    ),
    responses: { 200: { description: 'Usage', schema: usageView }, ...authErrors },
    handler: async ({ principal, meta, query }) => ({
      status: 200,
      body: await monthUsage(deps(), principal.tenantId, query.month ?? monthOf(meta.now)),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/budget',
    summary: 'The monthly budget, this month’s spend and the alert thresholds reached',
    tag: 'usage',
    auth: 'budgets:manage',
    responses: { 200: { description: 'The budget', schema: budgetSchema }, ...authErrors },
    handler: async ({ principal, meta }) => ({
      status: 200,
      body: await monthBudget(deps(), principal.tenantId, monthOf(meta.now)),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/budget',
    summary:
      'Set the monthly limit (USD), alert thresholds (%) and whether a spent budget stops new executions (402)',
    tag: 'usage',
    auth: 'budgets:manage',
    body: t.Object(
      {
        // A number is accepted too (clients send `250`); it is read as its decimal text, so at most
        // six decimals survive exactly, as for the string form.
        monthlyLimitUsd: finished(
          t.Union([
            t.String({ maxLength: 16 }),
            t.Number({ minimum: 0, maximum: 999_999_999 }),
          ]) as unknown as TString,
          (value) => {
            const text = String(value);
            return USD_AMOUNT.test(text)
              ? { value: text }
              : { message: 'a decimal amount of USD, e.g. "250.00" or 250' };
          },
        ),
        alertThresholds: t.Optional(t.Array(int({ minimum: 1, maximum: 100 }), { maxItems: 10 })),
        hardStop: t.Optional(t.Boolean()),
        reservePerExecutionUsd: t.Optional(
          withMessage(
            t.String({ pattern: '^\\d{1,9}(\\.\\d{1,6})?$' }),
            'a decimal amount of USD, e.g. "0.50"',
          ),
        ),
      },
      { additionalProperties: false },
    ),
    responses: { 200: { description: 'The budget', schema: budgetSchema }, ...authErrors },
    handler: async ({ principal, meta, body }) => {
      await setBudget(deps().budgets, { principal, meta }, body);
      return { status: 200, body: await monthBudget(deps(), principal.tenantId, monthOf(meta.now)) };
    },
  }),
];
