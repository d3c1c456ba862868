import type { AuditContext } from '../audit/audit.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { DefinitionKind, Head, Version } from './model.ts';

/**
 * Persistence of versioned definitions (agents, tools, workflows). A head names the latest version;
 * versions are immutable. Every write carries its audit record in the same transaction.
 */
export interface DefinitionStore {
  create<D>(tenantId: string, head: Head<D>, version: Version<D>, audit: AuditContext): Promise<void>;
  getHead<D>(tenantId: string, kind: DefinitionKind, id: string): Promise<Head<D> | undefined>;
  listHeads<D>(tenantId: string, kind: DefinitionKind, page: PageRequest): Promise<Page<Head<D>>>;
  getVersion<D>(
    tenantId: string,
    kind: DefinitionKind,
    id: string,
    version: number,
  ): Promise<Version<D> | undefined>;
  listVersions<D>(
    tenantId: string,
    kind: DefinitionKind,
    id: string,
    page: PageRequest,
  ): Promise<Page<Version<D>>>;
  /** Writes `next` (and `version`, when a new one is added) if the head is still `previous`. */
  saveHead<D>(
    tenantId: string,
    next: Head<D>,
    previous: Head<D>,
    version: Version<D> | undefined,
    audit: AuditContext,
  ): Promise<void>;
  /** Removes the head; versions stay, so executions pinned to them keep running. */
  deleteHead<D>(tenantId: string, head: Head<D>, audit: AuditContext): Promise<void>;
}
