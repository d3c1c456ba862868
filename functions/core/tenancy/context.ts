import { type AuditContext, type AuditDraft, actorOf } from '../audit/audit.ts';
import type { RequestMeta, TenantPrincipal } from '../principal.ts';
import type { Page, PageRequest } from './model.ts';

/** The caller and request of a tenant-scoped use case. */
export interface Caller {
  readonly principal: TenantPrincipal;
  readonly meta: RequestMeta;
}

/** The audit context of a mutation by `caller`. */
export function audited(caller: Caller, draft: AuditDraft): AuditContext {
  return { tenantId: caller.principal.tenantId, actor: actorOf(caller.principal), meta: caller.meta, draft };
}

/** Reads every page of a tenant-bounded list (used for small per-tenant sets: users of a team, roles in use). */
export async function readAll<T>(list: (page: PageRequest) => Promise<Page<T>>, max = 10_000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < max);
  return out;
}
