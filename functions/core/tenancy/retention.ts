import { NotFoundError } from '../errors.ts';
import { audited, type Caller } from './context.ts';
import type { Tenant } from './model.ts';
import type { TenantStore } from './ports.ts';

/** Bounds of a tenant's execution retention, in days. */
export const RETENTION_DAYS = { min: 1, max: 3650 } as const;

/** A tenant's retention settings as the API shows them. */
export interface RetentionView {
  /** Days an execution is kept after it ends; `null`: kept until deleted with the tenant. */
  readonly executionRetentionDays: number | null;
}

const viewOf = (tenant: Tenant): RetentionView => ({
  executionRetentionDays: tenant.executionRetentionDays ?? null,
});

/** The caller's tenant's retention. */
export async function getRetention(
  deps: { store: Pick<TenantStore, 'getTenant'> },
  tenantId: string,
): Promise<RetentionView> {
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError(`No tenant ${tenantId}.`);
  return viewOf(tenant);
}

/**
 * Sets how long executions are kept after they end. It applies to executions that start from now on
 * (each keeps the days it started with, core/executions/start.ts) and gets its expiry when it ends,
 * after its usage was counted, so changing the setting never rewrites old executions.
 */
export async function setRetention(
  deps: { store: Pick<TenantStore, 'getTenant' | 'updateTenant'> },
  caller: Caller,
  days: number | null,
): Promise<RetentionView> {
  const tenantId = caller.principal.tenantId;
  const previous = await deps.store.getTenant(tenantId);
  if (!previous) throw new NotFoundError(`No tenant ${tenantId}.`);
  const { executionRetentionDays: _old, ...rest } = previous;
  const next: Tenant = {
    ...rest,
    ...(days === null ? {} : { executionRetentionDays: days }),
    updatedAt: caller.meta.now,
  };
  await deps.store.updateTenant(
    next,
    previous,
    audited(caller, {
      action: 'tenant.retention',
      resourceType: 'tenant',
      resourceId: tenantId,
      before: viewOf(previous),
      after: viewOf(next),
    }),
  );
  return viewOf(next);
}

/** Epoch seconds at which an execution that ended at `endedAt` expires, or none. */
export function executionExpiry(endedAt: string, retentionDays: number | undefined): number | undefined {
  if (retentionDays === undefined) return undefined;
  return Math.floor(Date.parse(endedAt) / 1000) + retentionDays * 86_400;
}
