import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest, Role } from '#core/tenancy/model.ts';
import type { RoleStore } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';
import { changed, EXISTS, NEW, prefixQuery, unchanged } from './tenancy-items.ts';

/** DynamoDB implementation of {@link RoleStore}: one item per custom role, keyed by name. */
export class DynamoRoleStore implements RoleStore {
  constructor(private readonly table: Table) {}

  async createRole(tenantId: string, role: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put({ ...keys.role(tenantId, role.name), type: 'role', ...role }, NEW)],
      () =>
        new ConflictError('A role with this name already exists.', [
          { path: 'name', message: 'already in use' },
        ]),
    );
  }

  async getRole(tenantId: string, name: string): Promise<Role | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.role(tenantId, name));
    return item ? strip<Role>(item) : undefined;
  }

  async getRoles(tenantId: string, names: readonly string[]): Promise<readonly Role[]> {
    if (names.length === 0) return [];
    const db = await this.table.clients.forTenant(tenantId);
    const out = await db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.table.name]: { Keys: names.map((n) => keys.role(tenantId, n)), ConsistentRead: true },
        },
      }),
    );
    return (out.Responses?.[this.table.name] ?? []).map((i) => strip<Role>(i));
  }

  listRoles(tenantId: string, page: PageRequest): Promise<Page<Role>> {
    return this.table.page(tenantId, 'roles', prefixQuery(tenantId, keys.prefix.role), page, (i) =>
      strip<Role>(i),
    );
  }

  async updateRole(tenantId: string, next: Role, previous: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          { ...keys.role(tenantId, next.name), type: 'role', ...next },
          previous.updatedAt,
        ),
      ],
      changed,
    );
  }

  async deleteRole(tenantId: string, role: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.role(tenantId, role.name), EXISTS)],
      () => new NotFoundError('No such role.'),
    );
  }
}
