import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuthEvent } from '#core/access/authenticate.ts';
import { type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import type { AuditFilter, AuditLog } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';

/** DynamoDB implementation of {@link AuditLog}: a tenant's records in its audit partition. */
export class DynamoAuditLog implements AuditLog {
  constructor(private readonly table: Table) {}

  listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    const conditions: string[] = [];
    const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk' };
    const values: Record<string, unknown> = {
      ':pk': keys.auditPartition(tenantId),
      ':p': keys.prefix.auditRecord,
    };
    if (filter.actor) {
      conditions.push('#actor.#id = :actor');
      names['#actor'] = 'actor';
      names['#id'] = 'id';
      values[':actor'] = filter.actor;
    }
    if (filter.action) {
      conditions.push('#action = :action');
      names['#action'] = 'action';
      values[':action'] = filter.action;
    }
    if (filter.resource) {
      conditions.push('(#rid = :res OR #rtype = :res)');
      names['#rid'] = 'resourceId';
      names['#rtype'] = 'resourceType';
      values[':res'] = filter.resource;
    }
    if (filter.from) {
      conditions.push('#at >= :from');
      names['#at'] = 'at';
      values[':from'] = filter.from;
    }
    if (filter.to) {
      conditions.push('#at <= :to');
      names['#at'] = 'at';
      values[':to'] = filter.to;
    }
    return this.table.page(
      tenantId,
      'audit',
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
        // Newest first: what an auditor reads first.
        ScanIndexForward: false,
      },
      page,
      auditRecordOf,
    );
  }

  async recordAuthEvent(tenantId: string, event: AuthEvent): Promise<void> {
    const record = buildRecord({
      tenantId,
      actor: event.actor,
      meta: { requestId: 'authorizer', sourceIp: '', userAgent: event.userAgent, now: event.at },
      draft: {
        action: event.action,
        resourceType: event.actor.type === 'apikey' ? 'apikey' : 'user',
        resourceId: event.actor.id,
        ...(event.reason ? { after: { reason: event.reason } } : {}),
      },
    });
    const item: Record<string, unknown> = { type: 'audit', ...record };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(item).map(([k, v], i) => {
      names[`#a${i}`] = k;
      values[`:a${i}`] = v;
      return `#a${i} = :a${i}`;
    });
    const db = await this.table.clients.forTenant(tenantId);
    await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.auditRecord(tenantId, record.id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readAuditRecords(tenantId: string): Promise<AuditRecord[]> {
    const items = await this.table.queryAll(
      tenantId,
      keys.auditPartition(tenantId),
      keys.prefix.auditRecord,
      true,
    );
    return items.map(auditRecordOf);
  }
}

/** An audit item as its record: without the TTL the stream consumer sets once it is archived. */
function auditRecordOf(item: Record<string, unknown>): AuditRecord {
  const { expiresAt: _ttl, ...record } = strip<Record<string, unknown>>(item);
  return record as unknown as AuditRecord;
}
