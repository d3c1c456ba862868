import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { Page, PageRequest, Tenant, User } from '#core/tenancy/model.ts';
import type { TenantStore } from '#core/tenancy/ports.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import * as keys from './item-keys.ts';
import type { Table } from './table.ts';
import { strip, type TableBase } from './table-base.ts';
import { changed, emailOf, NEW, unchanged, userItem } from './tenancy-items.ts';

/** A tenant's record ({@link TenantStore} getTenant) with nothing else of the store: the step runner's one tenant read. */
export async function readTenant(table: TableBase, tenantId: string): Promise<Tenant | undefined> {
  const item = await table.get<Record<string, unknown>>(tenantId, keys.tenant(tenantId));
  return item ? strip<Tenant>(item) : undefined;
}

/** DynamoDB implementation of {@link TenantStore}; tenants are listed through GSI1. */
export class DynamoTenantStore implements TenantStore {
  constructor(private readonly table: Table) {}

  async createTenant(tenant: Tenant, admin: User, audit: AuditContext): Promise<void> {
    const t = tenant.tenantId;
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.tenant(t), ...keys.tenantsIndex(tenant.name, t), type: 'tenant', ...tenant },
          NEW,
        ),
        this.table.put(userItem(admin), NEW),
        this.table.put({ ...keys.userEmail(t, emailOf(admin)), type: 'email', userId: admin.userId }, NEW),
      ],
      () => new ConflictError('A tenant with this id already exists.'),
    );
  }

  getTenant(tenantId: string): Promise<Tenant | undefined> {
    return readTenant(this.table, tenantId);
  }

  listTenants(page: PageRequest): Promise<Page<Tenant>> {
    return this.table.page(
      'platform',
      'tenants',
      {
        IndexName: TABLE_SCHEMA.gsi1.indexName,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': 'TENANTS' },
      },
      page,
      (item) => strip<Tenant>(item),
    );
  }

  async updateTenant(next: Tenant, previous: Tenant, audit: AuditContext): Promise<void> {
    const t = next.tenantId;
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          { ...keys.tenant(t), ...keys.tenantsIndex(next.name, t), type: 'tenant', ...next },
          previous.updatedAt,
        ),
      ],
      changed,
    );
  }
}
