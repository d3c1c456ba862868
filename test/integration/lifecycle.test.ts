import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AdminGetUserCommand, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cognitoClient } from '../../bin/local/auth.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { call } from '../helpers/api.ts';
import { publishTxt } from '../helpers/dns-zone.ts';
import { TEST_AUDIT_DIGEST_INTERVAL_SECONDS } from '../helpers/platform-settings.ts';
import {
  authCacheTimeoutMs,
  createApiKey,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';
import {
  auditRecords,
  builtinToolBody,
  createAgent,
  createTool,
  deployWorkflow,
  expectCall,
  scriptedAgentBody,
  startExecution,
  waitForStatus,
  workflowBody,
} from '../helpers/workflows.ts';

/** Offboarding, exports, retention and erasure of a person (docs/lifecycle.md). */

const TABLE = LOCAL_NAMES.tableName;
const BUCKET = LOCAL_NAMES.artifactBucket;
const db = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);
const s3 = new S3Client({
  endpoint: inject('s3Endpoint'),
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const cognito = cognitoClient(inject('demo').cognito.endpoint);
afterAll(() => {
  db.destroy();
  s3.destroy();
  cognito.destroy();
});

/** The local vault's file of a secret (bin/local keeps its state beside the platform log). */
const vaultFile = (tenantId: string, name: string) =>
  join(
    dirname(inject('platformLogFile')),
    'secrets',
    `${createHash('sha256').update(`${tenantId}/${name}`).digest('hex')}.enc`,
  );

/** Every item whose key starts with the tenant's, read as a test may (a Scan; no request path does). */
async function itemsOf(tenantId: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: 'begins_with(pk, :t) OR begins_with(gsi1pk, :t)',
        ExpressionAttributeValues: { ':t': `TENANT#${tenantId}` },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Items that would still exist on AWS: rate counters past their TTL are the table's to delete. */
const live = (items: Record<string, unknown>[]) =>
  items.filter((i) => !(typeof i.expiresAt === 'number' && i.expiresAt < Date.now() / 1000));

async function objectsOf(tenantId: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `tenants/${tenantId}/` }));
  return (out.Contents ?? []).map((o) => String(o.Key));
}

async function loginExists(email: string): Promise<boolean> {
  try {
    await cognito.send(
      new AdminGetUserCommand({ UserPoolId: inject('demo').cognito.userPoolId, Username: email }),
    );
    return true;
  } catch (error) {
    if (error instanceof UserNotFoundException || (error as Error).name === 'UserNotFoundException')
      return false;
    throw error;
  }
}

interface Seeded {
  readonly tenant: TestTenant;
  readonly memberEmail: string;
  readonly workflowId: string;
  readonly hookId: string;
  readonly executionId: string;
  /** The email domain its identity provider claims (platform-wide). */
  readonly ssoDomain: string;
  readonly channelId: string;
}

const SECRET_VALUE = `sv-${uniqueName('secret-value')}`;

/** A tenant with data of every kind: users and logins, a secret, a webhook, an execution, objects. */
async function seed(label: string): Promise<Seeded> {
  const tenant = await createTenant(label);
  const token = await tenant.token();
  const memberEmail = uniqueEmail(`${label}-member`);
  await inviteUser(token, memberEmail, ['viewer']);
  await expectCall(201, 'PUT', '/secrets/api-token', { token, body: { value: SECRET_VALUE } });
  await createApiKey(token, ['executions:read']);
  const agentId = await createAgent(token, scriptedAgentBody([{ reply: 'done' }], `${label}-agent`));
  const workflowId = await deployWorkflow(
    token,
    workflowBody({ ask: { type: 'agent', agentId, prompt: 'go', end: true } }),
  );
  const hook = await expectCall<{ webhookId: string }>(201, 'POST', `/workflows/${workflowId}/webhooks`, {
    token,
    body: { environment: 'dev' },
  });
  // What lives outside the table's tenant partition too: a schedule, an identity provider (its
  // domain claim is platform-wide, its client secret in the vault) and a signed notification channel.
  await expectCall(201, 'POST', `/workflows/${workflowId}/schedules`, {
    token,
    body: { cron: '0 3 * * *', timeZone: 'Europe/Berlin' },
  });
  const ssoDomain = `${uniqueName(label)}.example.com`;
  const provider = await expectCall<{
    providerId: string;
    domains: { domain: string; record: { name: string; value: string } }[];
  }>(201, 'POST', '/identity-providers', {
    token,
    body: {
      type: 'oidc',
      name: `${label}-idp`,
      issuer: 'https://idp.example.com',
      clientId: 'lifecycle-client',
      clientSecret: 'lifecycle-idp-secret',
      emailDomains: [ssoDomain],
      groupMapping: [{ group: 'eng', roles: ['viewer'] }],
    },
  });
  // Verified, so the domain is claimed platform-wide: offboarding must release the claim.
  for (const { domain, record } of provider.body.domains) {
    await publishTxt(record.name, record.value);
    await expectCall(
      200,
      'POST',
      `/identity-providers/${provider.body.providerId}/domains/${domain}/verify`,
      {
        token,
      },
    );
  }
  const channel = await expectCall<{ channelId: string }>(201, 'POST', '/notification-channels', {
    token,
    body: { name: `${label}-ops`, type: 'email', events: ['execution.failed'], target: 'ops@example.com' },
  });
  const executionId = await startExecution({ token }, workflowId, {});
  await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: `tenants/${tenant.tenantId}/executions/${executionId}/big-1.json`,
      Body: '{"big":true}',
    }),
  );
  return {
    tenant,
    memberEmail,
    workflowId,
    hookId: hook.body.webhookId,
    executionId,
    ssoDomain,
    channelId: channel.body.channelId,
  };
}

interface OffboardingView {
  readonly jobId: string;
  readonly status: string;
  readonly runs: number;
  readonly phases: readonly { name: string; erased: number; done: boolean }[];
}

describe('offboarding', () => {
  it('erases every item, object, secret, workflow and login of the tenant, and nothing of another', async () => {
    // Prepare
    const [gone, kept] = await Promise.all([seed('offboard-gone'), seed('offboard-kept')]);
    const goneToken = await gone.tenant.token();
    const exported = await expectCall<{ exportId: string }>(202, 'POST', '/tenant/exports', {
      token: goneToken,
    });
    await eventually(
      async () =>
        expect(
          (
            await call<{ status: string }>('GET', `/tenant/exports/${exported.body.exportId}`, {
              token: goneToken,
            })
          ).body.status,
        ).toBe('completed'),
      { timeoutMs: 20_000 },
    );
    const keptBefore = live(await itemsOf(kept.tenant.tenantId))
      .filter((i) => !String(i.pk).includes('#RATE#') && !String(i.pk).endsWith('#AUDIT'))
      .map((i) => `${i.pk}|${i.sk}`)
      .sort();
    const keptObjects = await objectsOf(kept.tenant.tenantId);
    expect((await itemsOf(gone.tenant.tenantId)).length).toBeGreaterThan(20);
    expect((await objectsOf(gone.tenant.tenantId)).length).toBeGreaterThanOrEqual(2);
    expect(existsSync(vaultFile(gone.tenant.tenantId, 'api-token'))).toBe(true);
    const admin = await platformAdminToken();

    // Act
    const first = await expectCall<OffboardingView>(202, 'DELETE', `/tenants/${gone.tenant.tenantId}`, {
      token: admin,
    });
    // A notification raised after the request swept them (an execution ending as the job stops it):
    // the job's last table family erases it.
    const late = {
      pk: `TENANT#${gone.tenant.tenantId}#NOTIFY`,
      sk: 'NOTIFICATION#late',
      email: 'x@example.com',
    };
    await db.send(new PutCommand({ TableName: TABLE, Item: late }));
    const again = await expectCall<OffboardingView>(202, 'DELETE', `/tenants/${gone.tenant.tenantId}`, {
      token: admin,
    });
    const done = await eventually(
      async () => {
        const job = await expectCall<OffboardingView>(
          200,
          'GET',
          `/tenants/${gone.tenant.tenantId}/offboarding`,
          {
            token: admin,
          },
        );
        expect(job.body.status).toBe('completed');
        return job.body;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );

    // Assess: the same job both times; every phase ran.
    expect(first.headers.get('location')).toBe(`/tenants/${gone.tenant.tenantId}/offboarding`);
    expect(again.body.jobId).toBe(first.body.jobId);
    expect(done.jobId).toBe(first.body.jobId);
    expect(done.phases.map((p) => p.name)).toEqual([
      'schedules',
      'identityProviders',
      'notifications',
      'executions',
      'logins',
      'secrets',
      'stateMachines',
      'objects',
      'items',
      'tenant',
    ]);
    expect(done.phases.every((p) => p.done)).toBe(true);
    expect(done.phases.find((p) => p.name === 'logins')?.erased).toBe(2);
    expect(done.phases.find((p) => p.name === 'identityProviders')?.erased).toBe(1);
    const claim = await db.send(
      new GetCommand({ TableName: TABLE, Key: { pk: `SSODOMAIN#${gone.ssoDomain}`, sk: 'CLAIM' } }),
    );
    expect(claim.Item).toBeUndefined();
    const keptClaim = await db.send(
      new GetCommand({ TableName: TABLE, Key: { pk: `SSODOMAIN#${kept.ssoDomain}`, sk: 'CLAIM' } }),
    );
    expect(keptClaim.Item).toBeDefined();
    expect(done.phases.find((p) => p.name === 'secrets')?.erased).toBe(2);
    // Nothing of the tenant remains but the tombstone that answers GET .../offboarding.
    const left = live(await itemsOf(gone.tenant.tenantId));
    expect(left.map((i) => `${i.pk}|${i.sk}`)).toEqual([`TENANT#${gone.tenant.tenantId}|OFFBOARDING`]);
    expect(JSON.stringify(left)).not.toContain('@');
    // The audit stream consumer archived the offboarding's own records before their partition went,
    // so it writes nothing back into the table afterwards (two digest intervals later, still none).
    await new Promise((resolve) => setTimeout(resolve, (2 * TEST_AUDIT_DIGEST_INTERVAL_SECONDS + 1) * 1000));
    expect(live(await itemsOf(gone.tenant.tenantId)).map((i) => `${i.pk}|${i.sk}`)).toEqual([
      `TENANT#${gone.tenant.tenantId}|OFFBOARDING`,
    ]);
    expect(await objectsOf(gone.tenant.tenantId)).toEqual([]);
    expect(existsSync(vaultFile(gone.tenant.tenantId, 'api-token'))).toBe(false);
    expect(existsSync(vaultFile(gone.tenant.tenantId, `webhooks/${gone.hookId}`))).toBe(false);
    expect(await loginExists(gone.tenant.adminEmail)).toBe(false);
    expect(await loginExists(gone.memberEmail)).toBe(false);
    const tenantRead = await call('GET', `/tenants/${gone.tenant.tenantId}`, { token: admin });
    expect(tenantRead.status).toBe(404);
    // The other tenant is untouched.
    const keptAfter = live(await itemsOf(kept.tenant.tenantId))
      .filter((i) => !String(i.pk).includes('#RATE#') && !String(i.pk).endsWith('#AUDIT'))
      .map((i) => `${i.pk}|${i.sk}`)
      .sort();
    expect(keptAfter).toEqual(keptBefore);
    expect(await objectsOf(kept.tenant.tenantId)).toEqual(keptObjects);
    expect(existsSync(vaultFile(kept.tenant.tenantId, 'api-token'))).toBe(true);
    expect(await loginExists(kept.memberEmail)).toBe(true);
    const keptToken = await kept.tenant.token();
    await expectCall(200, 'GET', `/workflows/${kept.workflowId}`, { token: keptToken });
  }, 180_000);

  it('refuses the tenant at once, is one way, and answers 404 for an unknown tenant', async () => {
    // Prepare
    const tenant = await createTenant('offboard-refused');
    const token = await tenant.token();
    const admin = await platformAdminToken();
    // Act
    await expectCall(202, 'DELETE', `/tenants/${tenant.tenantId}`, { token: admin });
    const reactivate = await call('PATCH', `/tenants/${tenant.tenantId}`, {
      token: admin,
      body: { status: 'active' },
    });
    const unknown = await call('DELETE', '/tenants/tzzzzzzzzzzzzzzzz', { token: admin });
    // Assess
    await eventually(async () => expect((await call('GET', '/users', { token })).status).not.toBe(200), {
      timeoutMs: authCacheTimeoutMs(),
    });
    expect(reactivate.status).toBe(409);
    expect(unknown.status).toBe(404);
    const tenantToken = await call('DELETE', `/tenants/${tenant.tenantId}`, { token });
    expect([401, 403]).toContain(tenantToken.status);
  }, 60_000);
});

describe('exports', () => {
  it('write JSONL of definitions, versions, executions with steps, usage and audit, never a secret value', async () => {
    // Prepare
    const { tenant, executionId } = await seed('export');
    const token = await tenant.token();
    // Act
    const started = await expectCall<{ exportId: string; status: string }>(202, 'POST', '/tenant/exports', {
      token,
    });
    const done = await eventually(
      async () => {
        const out = await expectCall<{ status: string; url?: string; counts?: Record<string, number> }>(
          200,
          'GET',
          `/tenant/exports/${started.body.exportId}`,
          { token },
        );
        expect(out.body.status).toBe('completed');
        return out.body;
      },
      { timeoutMs: 20_000 },
    );
    const downloaded = await fetch(String(done.url));
    const text = await downloaded.text();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; executionId?: string });
    const other = await createTenant('export-other');
    const foreign = await call('GET', `/tenant/exports/${started.body.exportId}`, {
      token: await other.token(),
    });
    // Assess
    expect(started.headers.get('location')).toBe(`/tenant/exports/${started.body.exportId}`);
    expect(downloaded.status).toBe(200);
    expect(new URL(String(done.url)).searchParams.get('X-Amz-Expires')).toBe('900');
    expect(new Set(lines.map((l) => l.type))).toEqual(
      new Set(['definition', 'version', 'execution', 'step', 'usage', 'audit']),
    );
    expect(lines.some((l) => l.type === 'execution' && l.executionId === executionId)).toBe(true);
    expect(lines.some((l) => l.type === 'step' && l.executionId === executionId)).toBe(true);
    expect(done.counts?.execution).toBe(1);
    expect(text).not.toContain(SECRET_VALUE);
    expect(text).not.toContain(tenant.adminEmail);
    expect(foreign.status).toBe(404);
  }, 120_000);
});

describe('retention', () => {
  it('sets a TTL on ended executions, their steps and artifacts; usage outlives them', async () => {
    // Prepare
    const tenant = await createTenant('retention');
    const token = await tenant.token();
    const bad = await call<{ errors?: { path: string }[] }>('PUT', '/tenant/retention', {
      token,
      body: { executionRetentionDays: 0 },
    });
    const set = await expectCall<{ executionRetentionDays: number }>(200, 'PUT', '/tenant/retention', {
      token,
      body: { executionRetentionDays: 7 },
    });
    const echo = await createTool(token, builtinToolBody('echo', 'retention-echo'));
    const workflowId = await deployWorkflow(
      token,
      workflowBody({
        big: { type: 'tool', toolId: echo, args: { a: '{{input.blob}}', b: '{{input.blob}}' }, end: true },
      }),
    );
    // Act
    const executionId = await startExecution({ token }, workflowId, { blob: 'x'.repeat(110_000) });
    const ended = await waitForStatus({ token }, executionId, 'SUCCEEDED', 30_000);
    const pk = `TENANT#${tenant.tenantId}#EXEC#${executionId}`;
    const items = await eventually(async () => {
      const out = await db.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
        }),
      );
      const all = out.Items ?? [];
      expect(all.map((i) => [i.sk, typeof i.expiresAt])).toEqual(all.map((i) => [i.sk, 'number']));
      return all;
    });
    const usageBefore = await expectCall<{ total: { executions: number } }>(200, 'GET', '/usage', { token });
    // What the table's TTL does once the day comes.
    for (const item of items)
      await db.send(new DeleteCommand({ TableName: TABLE, Key: { pk: item.pk, sk: item.sk } }));
    const usageAfter = await expectCall<{ total: { executions: number } }>(200, 'GET', '/usage', { token });
    const gone = await call('GET', `/executions/${executionId}`, { token });
    const [artifact] = await objectsOf(tenant.tenantId);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: String(artifact) }));
    // Assess
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.path).toContain('executionRetentionDays');
    expect(set.body.executionRetentionDays).toBe(7);
    const expected = Math.floor(Date.parse(String(ended.endedAt)) / 1000) + 7 * 86_400;
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const item of items) expect(Math.abs(Number(item.expiresAt) - expected)).toBeLessThanOrEqual(2);
    expect(usageBefore.body.total.executions).toBe(1);
    expect(usageAfter.body.total.executions).toBe(1);
    expect(gone.status).toBe(404);
    expect(tags.TagSet).toEqual([{ Key: 'meridian-retention-days', Value: '7' }]);
    const reread = await expectCall<{ executionRetentionDays: number | null }>(
      200,
      'GET',
      '/tenant/retention',
      {
        token,
      },
    );
    expect(reread.body.executionRetentionDays).toBe(7);
  }, 90_000);
});

describe('erasing a person', () => {
  it('removes their email and login, keeps the opaque id in the audit trail, which still verifies', async () => {
    // Prepare
    const tenant = await createTenant('erasure');
    const token = await tenant.token();
    const email = uniqueEmail('erased');
    const person = await inviteUser(token, email, ['developer']);
    await expectCall(200, 'PATCH', `/users/${person.userId}`, { token, body: { roles: ['viewer'] } });
    // Act
    const erased = await expectCall<{ userId: string; email?: string; erasedAt?: string; status: string }>(
      200,
      'POST',
      `/users/${person.userId}/erasure`,
      { token },
    );
    const twice = await expectCall(200, 'POST', `/users/${person.userId}/erasure`, { token });
    const self = await call('POST', `/users/${tenant.adminUserId}/erasure`, { token });
    const records = await auditRecords({ token }, {});
    const verdict = await expectCall<{ ok: boolean }>(200, 'GET', '/audit/verify', { token });
    const profile = await db.send(
      new GetCommand({
        TableName: TABLE,
        Key: { pk: `TENANT#${tenant.tenantId}`, sk: `USER#${person.userId}` },
      }),
    );
    const emailItem = await db.send(
      new GetCommand({ TableName: TABLE, Key: { pk: `TENANT#${tenant.tenantId}`, sk: `EMAIL#${email}` } }),
    );
    // Assess
    expect(erased.body.userId).toBe(person.userId);
    expect(erased.body.email).toBeUndefined();
    expect(erased.body.erasedAt).toBeDefined();
    expect(erased.body.status).toBe('disabled');
    expect(twice.status).toBe(200);
    expect(self.status).toBe(409);
    expect(await loginExists(email)).toBe(false);
    expect(JSON.stringify(profile.Item)).not.toContain(email);
    expect(emailItem.Item).toBeUndefined();
    const about = records.filter((r) => r.resourceId === person.userId);
    expect(about.map((r) => r.action)).toEqual(
      expect.arrayContaining(['user.invite', 'user.update', 'user.erase']),
    );
    expect(JSON.stringify(records)).not.toContain(email);
    expect(JSON.stringify(records)).not.toContain(tenant.adminEmail);
    expect(verdict.body.ok).toBe(true);
  }, 60_000);
});
