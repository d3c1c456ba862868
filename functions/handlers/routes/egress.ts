import { adapters } from '#adapters/wiring/api.ts';
import { NotFoundError } from '#core/errors.ts';
import { ID_PATTERN } from '#core/ids.ts';
import { MAX_EGRESS_ENTRIES } from '#core/net/egress.ts';
import { getEgress, setEgress } from '#core/tenancy/egress.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { t } from '#shared/schema.ts';
import { authErrors } from './schemas.ts';

const egressSchema = t.Object({
  tenantId: t.String(),
  allow: t.Array(t.String()),
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

/**
 * A tenant's private-network egress allowlist: which private, loopback or plain-http destinations its
 * HTTP tools and model providers may reach. Platform operators only; a tenant cannot read or set it.
 */
export const egressRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/tenants/{tenantId}/egress',
    summary: "Read a tenant's private-network egress allowlist",
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    responses: {
      200: { description: 'The allowlist', schema: egressSchema },
      ...authErrors,
      404: { description: 'No such tenant' },
    },
    handler: async ({ params }) => ({
      status: 200,
      body: await getEgress(deps(), tenantIdOf(params.tenantId)),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/tenants/{tenantId}/egress',
    summary: "Replace a tenant's private-network egress allowlist (host names, *.suffix, IPs, CIDR blocks)",
    tag: 'tenants',
    auth: 'platform',
    params: tenantParams,
    body: t.Object(
      {
        allow: t.Array(t.String({ maxLength: 255 }), { maxItems: MAX_EGRESS_ENTRIES }),
      },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'Replaced', schema: egressSchema },
      ...authErrors,
      404: { description: 'No such tenant' },
    },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await setEgress(deps(), principal, meta, tenantIdOf(params.tenantId), body.allow),
    }),
  }),
];
