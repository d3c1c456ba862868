import type { AuditContext } from '#core/audit/audit.ts';
import { NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest, SecretMeta } from '#core/tenancy/model.ts';
import type { SecretMetaStore } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';
import { changed, EXISTS, NEW, prefixQuery } from './tenancy-items.ts';

/** DynamoDB implementation of {@link SecretMetaStore}; a put is versioned by the secret's `version`. */
export class DynamoSecretMetaStore implements SecretMetaStore {
  constructor(private readonly table: Table) {}

  async putSecretMeta(
    tenantId: string,
    next: SecretMeta,
    previous: SecretMeta | undefined,
    audit: AuditContext,
  ): Promise<void> {
    const item = { ...keys.secret(tenantId, next.name), type: 'secret', ...next };
    await this.table.commit(
      audit,
      [
        previous
          ? this.table.put(item, '#v = :v', { '#v': 'version' }, { ':v': previous.version })
          : this.table.put(item, NEW),
      ],
      changed,
    );
  }

  async getSecretMeta(tenantId: string, name: string): Promise<SecretMeta | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.secret(tenantId, name));
    return item ? strip<SecretMeta>(item) : undefined;
  }

  listSecrets(tenantId: string, page: PageRequest): Promise<Page<SecretMeta>> {
    return this.table.page(tenantId, 'secrets', prefixQuery(tenantId, keys.prefix.secret), page, (i) =>
      strip<SecretMeta>(i),
    );
  }

  async deleteSecretMeta(tenantId: string, meta: SecretMeta, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.secret(tenantId, meta.name), EXISTS)],
      () => new NotFoundError('No such secret.'),
    );
  }
}
