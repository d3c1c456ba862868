import { adapters } from '#adapters/wiring/api.ts';
import { NotFoundError } from '#core/errors.ts';
import { ID_PATTERN } from '#core/ids.ts';
import { PLANS, TENANT_STATES, TENANT_STATUSES } from '#core/tenancy/model.ts';
import { getOffboarding, type OffboardingJob, requestOffboarding } from '#core/tenancy/offboarding.ts';
import { createTenant, getTenant, listTenants, updateTenant } from '#core/tenancy/tenants.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { oneOf, refined, t, trimmed } from '#shared/schema.ts';
import { authErrors, created, email, listOf, pageOf, pageQuery } from './schemas.ts';
import { offboardingView } from './views.ts';

const tenantSchema = t.Object({
  tenantId: t.String(),
  name: t.String(),
  plan: oneOf(PLANS),
  status: oneOf(TENANT_STATES),
  adminEmail: t.String(),
  createdAt: t.String(),
  updatedAt: t.String(),
});

const tenantParams = t.Object(
  { tenantId: t.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

/** Malformed tenant ids are simply not found: they could never name a tenant. */
function tenantIdOf(raw: string): string {
  if (!ID_PATTERN.test(raw) || !raw.startsWith('t')) throw new NotFoundError(`No tenant ${raw}.`);
  return raw;
}

const deps = () => ({ store: adapters().store, directory: adapters().directory });

/** Platform operators' tenant routes. */
export const tenantRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: '/tenants',
    summary: 'Create a tenant, its default roles and its first admin (invited by email)',
    tag: 'tenants',
    auth: 'platform',
    body: t.Object(
      {
        name: trimmed(t.String({ minLength: 1, maxLength: 100 })),
        plan: oneOf(PLANS),
        adminEmail: email,
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Created', schema: tenantSchema, headers: created },
      ...authErrors,
      409: { description: 'Admin email in use' },
    },
    handler: async ({ principal, meta, body }) => {
      const { tenant } = await createTenant(deps(), principal, meta, body);
      return { status: 201, body: tenant, headers: { location: `/tenants/${tenant.tenantId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/tenants',
    summary: 'List tenants',
    tag: 'tenants',
    auth: 'platform',
    query: pageQuery,
    responses: { 200: { description: 'Tenants', schema: listOf(tenantSchema) }, ...authErrors },
    handler: async ({ query }) => ({ status: 200, body: await listTenants(deps(), pageOf(query)) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/tenants/{tenantId}',
    summary: 'Read a tenant',
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    responses: {
      200: { description: 'The tenant', schema: tenantSchema },
      ...authErrors,
      404: { description: 'No such tenant' },
    },
    handler: async ({ params }) => ({
      status: 200,
      body: await getTenant(deps(), tenantIdOf(params.tenantId)),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/tenants/{tenantId}',
    summary: 'Rename, change plan, suspend or reactivate a tenant',
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    body: refined(
      t.Object(
        {
          name: t.Optional(trimmed(t.String({ minLength: 1, maxLength: 100 }))),
          plan: t.Optional(oneOf(PLANS)),
          status: t.Optional(oneOf(TENANT_STATUSES)),
        },
        { additionalProperties: false },
      ),
      (b) => Object.keys(b).length > 0,
      'name, plan or status is required',
    ),
    responses: {
      200: { description: 'Updated', schema: tenantSchema },
      ...authErrors,
      404: { description: 'No such tenant' },
      409: { description: 'Changed meanwhile, or the tenant is being offboarded' },
    },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateTenant(deps(), principal, meta, tenantIdOf(params.tenantId), body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/tenants/{tenantId}',
    summary:
      'Offboard a tenant: refuse its requests and start the job that erases its data (the audit archive stays); again answers the same job',
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    responses: {
      202: {
        description: 'The offboarding job; poll the Location',
        schema: offboardingView,
        headers: created,
      },
      ...authErrors,
      404: { description: 'No such tenant' },
    },
    handler: async ({ principal, meta, params }) => {
      const tenantId = tenantIdOf(params.tenantId);
      const job = await requestOffboarding(adapters().offboarding, principal, meta, tenantId);
      return { status: 202, body: publicJob(job), headers: { location: `/tenants/${tenantId}/offboarding` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/tenants/{tenantId}/offboarding',
    summary: "Progress of a tenant's offboarding, phase by phase (kept after the tenant is gone)",
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    responses: {
      200: { description: 'The job', schema: offboardingView },
      ...authErrors,
      404: { description: 'The tenant is not being offboarded' },
    },
    handler: async ({ params }) => ({
      status: 200,
      body: publicJob(await getOffboarding(adapters().offboarding, tenantIdOf(params.tenantId))),
    }),
  }),
];

/** The job without its internal cursor and version. */
function publicJob(job: OffboardingJob) {
  const { cursor: _c, version: _v, ...view } = job;
  return view;
}
