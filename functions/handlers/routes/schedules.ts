import { adapters } from '#adapters/wiring/api.ts';
import { MAX_CRON_LENGTH, nextFireTimes, parseCron } from '#core/schedules/cron.ts';
import { createSchedule, deleteSchedule, listSchedules, type Schedule } from '#core/schedules/schedules.ts';
import { ENVIRONMENTS } from '#core/versioning/model.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { oneOf, type Static, t, withOptions } from '#shared/schema.ts';
import { jsonObject } from './definitions.ts';
import { authErrors, created, idParam, pageOf, pageQuery } from './schemas.ts';
import { pageOfItems, scheduleView } from './views.ts';

/** How many upcoming fire times a schedule's view lists. */
const NEXT_FIRE_TIMES = 3;

function view(schedule: Schedule, now: Date): Static<typeof scheduleView> {
  return {
    ...schedule,
    input: { ...schedule.input },
    nextFireTimes: schedule.enabled
      ? nextFireTimes(parseCron(schedule.cron), schedule.timeZone, now, NEXT_FIRE_TIMES).map((d) =>
          d.toISOString(),
        )
      : [],
  };
}

/** Schedules: create, list and delete; each firing starts the workflow (functions/handlers/schedule-fire.ts). */
export const scheduleRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}/schedules',
    summary: "List a workflow's schedules, with each one's next fire times",
    tag: 'schedules',
    auth: 'workflows:read',
    params: t.Object({ workflowId: idParam }, { additionalProperties: false }),
    query: pageQuery,
    responses: {
      200: { description: 'Schedules', schema: pageOfItems(scheduleView) },
      ...authErrors,
      404: { description: 'No such workflow' },
    },
    handler: async ({ principal, params, query, meta }) => {
      const page = await listSchedules(
        adapters().schedules,
        principal.tenantId,
        params.workflowId,
        pageOf(query),
      );
      const now = new Date(meta.now);
      return { status: 200, body: { ...page, items: page.items.map((s) => view(s, now)) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/schedules',
    summary:
      'Create a schedule that starts the workflow on a cron in an IANA time zone. Needs executions:start too: its runs are requested for its creator',
    tag: 'schedules',
    auth: 'workflows:write',
    params: t.Object({ workflowId: idParam }, { additionalProperties: false }),
    body: t.Object(
      {
        cron: t.String({
          minLength: 1,
          maxLength: MAX_CRON_LENGTH,
          description: 'Five fields: minute hour day-of-month month day-of-week (at most once a minute)',
        }),
        timeZone: t.Optional(
          t.String({ minLength: 1, maxLength: 64, description: 'IANA time zone (default UTC)' }),
        ),
        input: t.Optional(
          withOptions(jsonObject, { description: 'The input of every run (at most 16 KB as JSON)' }),
        ),
        environment: t.Optional(oneOf(ENVIRONMENTS, { description: 'Default prod' })),
        enabled: t.Optional(t.Boolean({ description: 'Default true; a disabled schedule never fires' })),
        description: t.Optional(t.String({ maxLength: 500 })),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Created', schema: scheduleView, headers: created },
      ...authErrors,
      404: { description: 'No such workflow' },
      409: { description: 'The tenant (100) or the workflow (10) has as many schedules as allowed' },
      503: { description: 'The scheduler could not register it; nothing was created' },
    },
    handler: async ({ principal, meta, params, body }) => {
      const schedule = await createSchedule(
        adapters().schedules,
        { principal, meta },
        params.workflowId,
        body,
      );
      return {
        status: 201,
        body: view(schedule, new Date(meta.now)),
        headers: { location: `/schedules/${schedule.scheduleId}` },
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/schedules/{scheduleId}',
    summary: 'Delete a schedule; it fires no more',
    tag: 'schedules',
    auth: 'workflows:write',
    params: t.Object({ scheduleId: idParam }, { additionalProperties: false }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, 404: { description: 'No such schedule' } },
    handler: async ({ principal, meta, params }) => {
      await deleteSchedule(adapters().schedules, { principal, meta }, params.scheduleId);
      return { status: 204 };
    },
  }),
];
