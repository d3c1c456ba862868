import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '#adapters/dynamo/keys.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import { LOCAL_NAMES } from '../../../bin/local/env.ts';
import { call } from '../../helpers/api.ts';
import { localDocumentClient } from '../../helpers/local-dynamo.ts';
import { createTenant, type TestTenant, uniqueName } from '../../helpers/tenants.ts';
import { platformAdminToken } from '../../helpers/tokens.ts';
import type { Page, Verdict } from './helpers.ts';

describe('audit trail: tampering in DynamoDB is detected', () => {
  const db = localDocumentClient();
  const TableName = LOCAL_NAMES.tableName;

  /** A fresh tenant with five audit records (tenant.create and four renames), oldest first. */
  async function fiveRecords(): Promise<{ tenant: TestTenant; ids: string[] }> {
    const tenant = await createTenant('tamper');
    const platform = await platformAdminToken();
    for (let i = 0; i < 4; i++) {
      const renamed = await call('PATCH', `/tenants/${tenant.tenantId}`, {
        token: platform,
        body: { name: uniqueName('tamper') },
      });
      expect(renamed.status, renamed.text).toBe(200);
    }
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: await tenant.token() });
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.digested + verdict.body.undigested).toBe(5);
    const list = await call<Page<AuditRecord>>('GET', '/audit?limit=10', { token: await tenant.token() });
    return { tenant, ids: list.body.items.map((r) => r.id).reverse() };
  }

  async function item(tenantId: string, id: string): Promise<Record<string, unknown>> {
    const out = await db.send(new GetCommand({ TableName, Key: keys.auditRecord(tenantId, id) }));
    if (!out.Item) throw new Error(`no audit record ${id} of ${tenantId}`);
    return out.Item;
  }

  async function verify(tenant: TestTenant): Promise<Verdict> {
    const verdict = await call<Verdict>('GET', '/audit/verify', { token: await tenant.token() });
    expect(verdict.status, verdict.text).toBe(200);
    return verdict.body;
  }

  it("modifying one record's action is named by that record's id", async () => {
    // Prepare
    const { tenant, ids } = await fiveRecords();
    const id = ids[2] ?? '';
    const record = await item(tenant.tenantId, id);
    // Act
    await db.send(new PutCommand({ TableName, Item: { ...record, action: 'tenant.nothing-happened' } }));
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-altered', recordId: id });
  });
});
