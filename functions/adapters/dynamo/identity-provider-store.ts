import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import { type DomainClaim, type IdentityProvider, verifiedDomains } from '#core/identity/model.ts';
import type { IdentityProviderStore } from '#core/identity/providers.ts';
import type { Page, PageRequest, User } from '#core/tenancy/model.ts';
import * as keys from './item-keys.ts';
import { tenantPk } from './keys.ts';
import { strip, type Table } from './table.ts';

// `type` is the table's item kind, so the provider's own type is stored as `providerType`.
function toItem(tenantId: string, provider: IdentityProvider): Record<string, unknown> {
  const { type, ...rest } = provider;
  return {
    ...keys.identityProvider(tenantId, provider.providerId),
    ...rest,
    type: 'identity-provider',
    providerType: type,
  };
}

function fromItem(item: Record<string, unknown>): IdentityProvider {
  const { providerType, ...rest } = strip<Record<string, unknown>>(item);
  return { ...rest, type: providerType } as unknown as IdentityProvider;
}

/**
 * DynamoDB implementation of {@link IdentityProviderStore}. Providers live in their tenant's
 * partition; each verified email domain is claimed by a platform-level item (`SSODOMAIN#<domain>`)
 * written with a conditional put, which is what stops tenant B from routing tenant A's domain.
 */
export class DynamoIdentityProviderStore implements IdentityProviderStore {
  constructor(private readonly table: Table) {}

  private get platform() {
    return this.table.clients.platform;
  }

  async claimDomain(tenantId: string, providerId: string, domain: string): Promise<boolean> {
    try {
      await this.platform.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.ssoDomain(domain), type: 'sso-domain', domain, tenantId, providerId },
          ConditionExpression: 'attribute_not_exists(pk) OR (tenantId = :t AND providerId = :p)',
          ExpressionAttributeValues: { ':t': tenantId, ':p': providerId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseDomain(tenantId: string, providerId: string, domain: string): Promise<void> {
    await this.platform
      .send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: keys.ssoDomain(domain),
          ConditionExpression: 'tenantId = :t AND providerId = :p',
          ExpressionAttributeValues: { ':t': tenantId, ':p': providerId },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  async addVerifiedDomain(
    tenantId: string,
    providerId: string,
    domain: string,
    audit: AuditContext,
  ): Promise<void> {
    await this.table.commit(
      audit,
      [
        {
          Update: {
            TableName: this.table.name,
            Key: keys.identityProvider(tenantId, providerId),
            UpdateExpression:
              'SET verifiedDomains = list_append(if_not_exists(verifiedDomains, :none), :added)',
            ConditionExpression:
              'attribute_exists(pk) AND attribute_exists(verificationToken) AND NOT contains(verifiedDomains, :domain)',
            ExpressionAttributeValues: { ':none': [], ':added': [domain], ':domain': domain },
          },
        },
      ],
      () => new ConflictError('The identity provider changed meanwhile; read it again and retry.'),
    );
  }

  async removeVerifiedDomain(
    tenantId: string,
    provider: IdentityProvider,
    domain: string,
    audit: AuditContext,
  ): Promise<void> {
    const previous = provider.verifiedDomains;
    await this.table.commit(
      audit,
      [
        {
          Update: {
            TableName: this.table.name,
            Key: keys.identityProvider(tenantId, provider.providerId),
            UpdateExpression: 'SET verifiedDomains = :next',
            // Only the list as read (none for a provider registered before domains were verified):
            // a verification that landed meanwhile is not undone.
            ConditionExpression:
              previous === undefined
                ? 'attribute_exists(pk) AND attribute_not_exists(verifiedDomains)'
                : 'verifiedDomains = :previous',
            ExpressionAttributeValues: {
              ':next': verifiedDomains(provider).filter((d) => d !== domain),
              ...(previous === undefined ? {} : { ':previous': previous }),
            },
          },
        },
      ],
      () => new ConflictError('The identity provider changed meanwhile; retry.'),
    );
  }

  async transferDomain(
    domain: string,
    from: { readonly tenantId: string; readonly providerId: string },
    to: { readonly tenantId: string; readonly providerId: string },
  ): Promise<boolean> {
    try {
      await this.platform.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.ssoDomain(domain), type: 'sso-domain', domain, ...to },
          ConditionExpression: 'tenantId = :t AND providerId = :p',
          ExpressionAttributeValues: { ':t': from.tenantId, ':p': from.providerId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async create(tenantId: string, provider: IdentityProvider, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put(toItem(tenantId, provider), 'attribute_not_exists(pk)')],
      () => new ConflictError('This identity provider already exists.'),
    );
  }

  async get(tenantId: string, providerId: string): Promise<IdentityProvider | undefined> {
    const item = await this.table.get<Record<string, unknown>>(
      tenantId,
      keys.identityProvider(tenantId, providerId),
    );
    return item ? fromItem(item) : undefined;
  }

  list(tenantId: string, page: PageRequest): Promise<Page<IdentityProvider>> {
    return this.table.page(
      tenantId,
      'identity-providers',
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'IDP#' },
      },
      page,
      fromItem,
    );
  }

  async update(
    tenantId: string,
    next: IdentityProvider,
    previous: IdentityProvider,
    audit: AuditContext,
  ): Promise<void> {
    await this.table.commit(
      audit,
      [
        // Optimistic: the write lands only if nobody changed the provider since it was read, its
        // verified domains included (a verification and a mapping change must not undo each other).
        this.table.put(
          toItem(tenantId, next),
          'attribute_exists(pk) AND groupMapping = :previousMapping AND defaultRoles = :previousDefaults AND ' +
            (previous.verifiedDomains === undefined
              ? 'attribute_not_exists(verifiedDomains)'
              : 'verifiedDomains = :previousVerified'),
          undefined,
          {
            ':previousMapping': previous.groupMapping,
            ':previousDefaults': previous.defaultRoles,
            ...(previous.verifiedDomains === undefined
              ? {}
              : { ':previousVerified': previous.verifiedDomains }),
          },
        ),
      ],
      () => new ConflictError('The identity provider changed meanwhile; read it again and retry.'),
    );
  }

  async delete(tenantId: string, provider: IdentityProvider, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.identityProvider(tenantId, provider.providerId), 'attribute_exists(pk)')],
      () => new NotFoundError('No such identity provider.'),
    );
    // Every listed domain: a claim is released only if this provider holds it.
    for (const domain of provider.emailDomains)
      await this.releaseDomain(tenantId, provider.providerId, domain);
  }

  async domainOwner(domain: string): Promise<DomainClaim | undefined> {
    const out = await this.platform.send(
      new GetCommand({ TableName: this.table.name, Key: keys.ssoDomain(domain), ConsistentRead: true }),
    );
    const item = out.Item;
    return item
      ? { domain: String(item.domain), tenantId: String(item.tenantId), providerId: String(item.providerId) }
      : undefined;
  }

  async findUserByEmail(tenantId: string, email: string): Promise<User | undefined> {
    const pointer = await this.table.get<{ userId?: string }>(tenantId, keys.userEmail(tenantId, email));
    if (!pointer?.userId) return undefined;
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.user(tenantId, pointer.userId));
    return item ? strip<User>(item) : undefined;
  }
}
