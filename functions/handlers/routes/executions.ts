import { z } from 'zod';
import { adapters } from '#adapters/container.ts';
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
import { authErrors, created, idParam, pageOf, pageQuery, replayed } from './schemas.ts';
import {
  executionDetail,
  executionRedriven,
  executionStarted,
  executionSummary,
  pageOfItems,
  usageView,
} from './views.ts';

const deps = () => adapters().executions;
const executionParams = z.strictObject({ executionId: idParam });
const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** The `Idempotency-Key` header, checked: a bad one is 400 naming it. */
function keyOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const key = idempotencyKey.safeParse(raw);
  if (!key.success) {
    throw new ValidationError('Invalid Idempotency-Key.', [
      { path: 'Idempotency-Key', message: 'printable ASCII, 1 to 200 characters' },
    ]);
  }
  return key.data;
}

const budgetSchema = z.object({
  configured: z.boolean(),
  month: z.string(),
  spentUsd: z.string(),
  monthlyLimitUsd: z.string().optional(),
  alertThresholds: z.array(z.number()).optional(),
  hardStop: z.boolean().optional(),
  reservePerExecutionUsd: z.string().optional(),
  percentUsed: z.number().nullable().optional(),
  alertsFired: z.array(z.number()).optional(),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});

/** Starting, reading and cancelling executions; usage and budget. */
export const executionRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/executions',
    summary: 'Start the workflow in an environment (default dev); idempotent with Idempotency-Key',
    tag: 'executions',
    auth: 'executions:start',
    params: z.strictObject({ workflowId: idParam }),
    body: z.strictObject({
      input: z.record(z.string(), z.unknown()),
      environment: z.enum(ENVIRONMENTS).optional(),
    }),
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
    query: pageQuery.extend({
      workflowId: idParam.optional(),
      status: z.enum(EXECUTION_STATUSES).optional(),
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
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
    query: z.strictObject({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
        .optional(),
    }),
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
    body: z.strictObject({
      // A number is accepted too (clients send `250`); it is read as its decimal text, so at most
      // six decimals survive exactly, as for the string form.
      monthlyLimitUsd: z
        .union([
          z.string().max(16),
          z
            .number()
            .min(0)
            .max(999_999_999)
            .transform((n) => String(n)),
        ])
        .pipe(z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, 'a decimal amount of USD, e.g. "250.00" or 250')),
      alertThresholds: z.array(z.number().int().min(1).max(100)).max(10).optional(),
      hardStop: z.boolean().optional(),
      reservePerExecutionUsd: z
        .string()
        .regex(/^\d{1,9}(\.\d{1,6})?$/, 'a decimal amount of USD, e.g. "0.50"')
        .optional(),
    }),
    responses: { 200: { description: 'The budget', schema: budgetSchema }, ...authErrors },
    handler: async ({ principal, meta, body }) => {
      await setBudget(deps().budgets, { principal, meta }, body);
      return { status: 200, body: await monthBudget(deps(), principal.tenantId, monthOf(meta.now)) };
    },
  }),
];
