import { createPublicKey } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '#adapters/dynamo/keys.ts';
import { type AuditRecord, auditId, hashRecord } from '#core/audit/audit.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call } from '../helpers/api.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { createTenant, type TestTenant, uniqueName } from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';

/**
 * The audit anchored in signed digests: the local platform's stream consumer archives every record
 * and signs a digest per tenant per interval (1 s in tests); tampering with the table through direct
 * writes makes `GET /audit/verify` fail naming the divergence.
 */
interface Verdict {
  ok: boolean;
  digests: number;
  digested: number;
  undigested: number;
  firstDivergence?: { kind: string; digestSeq?: number; recordId?: string; message: string };
}

const db = localDocumentClient();
const TableName = LOCAL_NAMES.tableName;

async function verify(tenant: TestTenant): Promise<Verdict> {
  const verdict = await call<Verdict>('GET', '/audit/verify', { token: await tenant.token() });
  expect(verdict.status, verdict.text).toBe(200);
  return verdict.body;
}

/** Polls verify until every record is digested (or 90 s pass: the whole suite makes a backlog). */
async function digested(tenant: TestTenant): Promise<Verdict> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const verdict = await verify(tenant);
    if (verdict.undigested === 0 && verdict.digested > 0) return verdict;
    if (Date.now() > deadline) throw new Error(`not digested: ${JSON.stringify(verdict)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A fresh tenant with five records (tenant.create and four renames), all digested; ids oldest first. */
async function fiveDigested(): Promise<{ tenant: TestTenant; ids: string[] }> {
  const tenant = await createTenant('digest');
  const platform = await platformAdminToken();
  for (let i = 0; i < 4; i++) {
    const renamed = await call('PATCH', `/tenants/${tenant.tenantId}`, {
      token: platform,
      body: { name: uniqueName('digest') },
    });
    expect(renamed.status, renamed.text).toBe(200);
  }
  const verdict = await digested(tenant);
  expect(verdict).toMatchObject({ ok: true, digested: 5, undigested: 0 });
  const list = await call<{ items: AuditRecord[] }>('GET', '/audit?limit=10', {
    token: await tenant.token(),
  });
  return { tenant, ids: list.body.items.map((r) => r.id).reverse() };
}

async function item(tenantId: string, id: string): Promise<Record<string, unknown>> {
  const out = await db.send(new GetCommand({ TableName, Key: keys.auditRecord(tenantId, id) }));
  if (!out.Item) throw new Error(`no audit record ${id}`);
  return out.Item;
}

describe('audit digests', { timeout: 180_000 }, () => {
  it('serves the public key (ECDSA P-256) that verifies the digests', async () => {
    // Prepare
    const tenant = await createTenant('digest-key');
    // Act
    const key = await call<{ keyId: string; algorithm: string; publicKeyPem: string }>(
      'GET',
      '/audit/public-key',
      {
        token: await tenant.token(),
      },
    );
    // Assess
    expect(key.status, key.text).toBe(200);
    expect(key.body.algorithm).toBe('ECDSA_P256_SHA256');
    expect(key.body.keyId).toMatch(/^local:[0-9a-f]{16}$/);
    const parsed = createPublicKey(key.body.publicKeyPem);
    expect(parsed.asymmetricKeyType).toBe('ec');
    expect(parsed.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('digests every record: verify is ok, and a new mutation counts as undigested until the next digest', async () => {
    // Prepare
    const { tenant } = await fiveDigested();
    // Act
    const renamed = await call('PATCH', `/tenants/${tenant.tenantId}`, {
      token: await platformAdminToken(),
      body: { name: uniqueName('digest') },
    });
    const right = await verify(tenant);
    const later = await digested(tenant);
    // Assess
    expect(renamed.status).toBe(200);
    expect(right.ok).toBe(true);
    expect(right.digested + right.undigested).toBe(6);
    expect(later).toMatchObject({ ok: true, digested: 6, undigested: 0 });
    expect(later.digests).toBeGreaterThanOrEqual(1);
  });

  it('a deleted record is named', async () => {
    // Prepare
    const { tenant, ids } = await fiveDigested();
    // Act
    await db.send(new DeleteCommand({ TableName, Key: keys.auditRecord(tenant.tenantId, ids[2] ?? '') }));
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-deleted', recordId: ids[2] });
  });

  it('an altered record is named, even re-hashed', async () => {
    // Prepare
    const { tenant, ids } = await fiveDigested();
    const { pk, sk, type, expiresAt, hash: _h, ...record } = await item(tenant.tenantId, ids[1] ?? '');
    const forged = { ...record, action: 'tenant.nothing-happened' } as Omit<AuditRecord, 'hash'>;
    // Act
    await db.send(
      new PutCommand({ TableName, Item: { pk, sk, type, expiresAt, ...forged, hash: hashRecord(forged) } }),
    );
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-altered', recordId: ids[1] });
  });

  it('a record inserted with a time a digest already covered is named', async () => {
    // Prepare
    const { tenant, ids } = await fiveDigested();
    const old = await item(tenant.tenantId, ids[0] ?? '');
    const at = new Date(Date.parse(String(old.at)) - 3_600_000).toISOString();
    const forged: Omit<AuditRecord, 'hash'> = {
      tenantId: tenant.tenantId,
      id: auditId(Date.parse(at)),
      at,
      actor: { id: 'nobody', type: 'user' },
      action: 'tenant.update',
      resourceType: 'tenant',
      resourceId: tenant.tenantId,
      sourceIp: '10.0.0.1',
      userAgent: 'insider',
      requestId: 'forged',
    };
    // Act
    await db.send(
      new PutCommand({
        TableName,
        Item: {
          ...keys.auditRecord(tenant.tenantId, forged.id),
          type: 'audit',
          ...forged,
          hash: hashRecord(forged),
        },
      }),
    );
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-inserted', recordId: forged.id });
  });

  it('the table truncated and rewound (its newest records deleted) is named at the first missing record', async () => {
    // Prepare
    const { tenant, ids } = await fiveDigested();
    // Act: the last three records go, as if the table were restored from an older backup
    for (const id of ids.slice(2))
      await db.send(new DeleteCommand({ TableName, Key: keys.auditRecord(tenant.tenantId, id) }));
    // Assess
    const verdict = await verify(tenant);
    expect(verdict.ok).toBe(false);
    expect(verdict.firstDivergence).toMatchObject({ kind: 'record-deleted', recordId: ids[2] });
  });
});

describe('authentication events', { timeout: 180_000 }, () => {
  it("audits a refused API key with its reason and the key's first use, as records of their own that get digested", async () => {
    // Prepare
    const tenant = await createTenant('auth-events');
    const token = await tenant.token();
    const created = await call<{ keyId: string; key: string }>('POST', '/api-keys', {
      token,
      body: {
        name: uniqueName('ci'),
        scopes: ['usage:read'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(created.status, created.text).toBe(201);
    const key = created.body.key;
    const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    // Act
    const refused = await call('GET', '/usage', { apiKey: wrong });
    const used = await call('GET', '/usage', { apiKey: key });
    // Assess
    expect(refused.status).toBe(401);
    expect(used.status).toBe(200);
    const deadline = Date.now() + 60_000;
    let actions: AuditRecord[] = [];
    while (Date.now() < deadline) {
      const list = await call<{ items: AuditRecord[] }>('GET', '/audit?limit=20&resource=apikey', { token });
      actions = list.body.items.filter(
        (r) => r.resourceId === created.body.keyId && r.action !== 'apikey.create',
      );
      if (actions.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(actions.map((r) => r.action).sort()).toEqual(['apikey.used', 'auth.denied']);
    expect(actions.find((r) => r.action === 'auth.denied')).toMatchObject({
      actor: { id: created.body.keyId, type: 'apikey' },
      after: { reason: 'wrong-api-key-secret' },
    });
    const verdict = await digested(tenant);
    expect(verdict.ok).toBe(true);
  });
});
