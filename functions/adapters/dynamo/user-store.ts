import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest, User } from '#core/tenancy/model.ts';
import type { UserStore } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';
import { changed, EXISTS, emailOf, NEW, prefixQuery, unchanged, userItem } from './tenancy-items.ts';

/** DynamoDB implementation of {@link UserStore}: a user item, and an email item keeping emails unique. */
export class DynamoUserStore implements UserStore {
  constructor(private readonly table: Table) {}

  async createUser(user: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.userEmail(user.tenantId, emailOf(user)), type: 'email', userId: user.userId },
          NEW,
        ),
        this.table.put(userItem(user), NEW),
      ],
      (i) =>
        new ConflictError(i === 0 ? 'A user with this email already exists.' : 'This user already exists.', [
          { path: 'email', message: 'already in use' },
        ]),
    );
  }

  async getUser(tenantId: string, userId: string): Promise<User | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.user(tenantId, userId));
    return item ? strip<User>(item) : undefined;
  }

  listUsers(tenantId: string, page: PageRequest): Promise<Page<User>> {
    return this.table.page(tenantId, 'users', prefixQuery(tenantId, keys.prefix.user), page, (i) =>
      strip<User>(i),
    );
  }

  async updateUser(next: User, previous: User, audit: AuditContext): Promise<void> {
    await this.table.commit(audit, [unchanged(this.table, userItem(next), previous.updatedAt)], changed);
  }

  async deleteUser(user: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.delete(keys.user(user.tenantId, user.userId), EXISTS),
        // An erased user has no email left, and no email item.
        ...(user.email ? [this.table.delete(keys.userEmail(user.tenantId, user.email))] : []),
      ],
      () => new NotFoundError('No such user.'),
    );
  }

  async eraseUser(erased: User, previous: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        unchanged(this.table, userItem(erased), previous.updatedAt),
        ...(previous.email ? [this.table.delete(keys.userEmail(previous.tenantId, previous.email))] : []),
      ],
      changed,
    );
  }

  async findUserBySub(sub: string): Promise<User | undefined> {
    const [item] = await this.table.queryIndex(`SUB#${sub}`);
    return item ? strip<User>(item) : undefined;
  }
}
