import { GetObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { dynamoDocumentClient } from '#adapters/aws-clients.ts';
import { TenantTableClients, tenantCredentials } from '#adapters/tenant-credentials.ts';
import { presignS3For, s3For } from '#adapters/tenant-storage-clients.ts';
import { sdkOptions } from '../helpers/moto.ts';

const ROLE =
  process.env.MERIDIAN_AWS_TEST_TENANT_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-tenant-data';

describe('tenant credentials from STS (moto by default)', () => {
  const options = sdkOptions(inject('awsEndpoint'));
  const sts = new STSClient(options);

  it('assumes the tenant data role as a session named for the tenant', async () => {
    const credentials = await tenantCredentials(sts, ROLE, 'tabc123')();

    expect(credentials.accessKeyId).toBeTruthy();
    expect(credentials.sessionToken).toBeTruthy();
    expect(credentials.expiration?.getTime()).toBeGreaterThan(Date.now());
    // The assumed identity is the one later calls make: the role, with the tenant's session.
    const asTenant = new STSClient({ ...options, credentials });
    const identity = await asTenant.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(/:assumed-role\/meridian-test-tenant-data\/tenant-tabc123$/);
  });
});

/** moto takes session tags but cannot show them back: the request is checked at the SDK edge. */
describe('tenant credentials: the AssumeRole request', () => {
  const edge = new STSClient({ region: 'us-east-1' });
  const sts = mockClient(edge);
  afterEach(() => {
    sts.reset();
    vi.unstubAllEnvs();
  });
  const expiring = (ms: number) => ({
    Credentials: {
      AccessKeyId: 'AKIA',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + ms),
    },
  });

  it('tags the session with the tenant id, for 15 minutes', async () => {
    sts.on(AssumeRoleCommand).resolves(expiring(900_000));
    await tenantCredentials(edge, ROLE, 'tabc123')();
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 'tenant-tabc123',
      DurationSeconds: 900,
      Tags: [{ Key: 'TenantId', Value: 'tabc123' }],
    });
  });

  it('reuses credentials until a minute before they expire, then assumes the role again', async () => {
    sts.on(AssumeRoleCommand).resolvesOnce(expiring(900_000)).resolves(expiring(30_000));
    const provide = tenantCredentials(edge, ROLE, 'tabc123');
    await provide();
    await provide();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);

    sts.reset();
    sts.on(AssumeRoleCommand).resolves(expiring(30_000));
    const soon = tenantCredentials(edge, ROLE, 'tdef456');
    await soon();
    await soon();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('assumes the role again when a caller needs the credentials valid longer than they are', async () => {
    sts.on(AssumeRoleCommand).resolves(expiring(600_000));
    const provide = tenantCredentials(edge, ROLE, 'tabc123');
    await provide();
    await provide({ minValidityMs: 300_000 });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    await provide({ minValidityMs: 900_000 });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('signs a 15-minute link on an hour-long session, not on cached credentials with two minutes left', async () => {
    // Prepare: the tenant's cached session has two minutes left
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const session = (token: string, ms: number) => ({
      Credentials: {
        AccessKeyId: 'AKIA',
        SecretAccessKey: 'secret',
        SessionToken: token,
        Expiration: new Date(Date.now() + ms),
      },
    });
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(session('cached', 120_000))
      .resolvesOnce(session('signing', 3_600_000))
      .resolves(session('unexpected', 3_600_000));
    const clients = new TenantTableClients(dynamoDocumentClient(), ROLE, edge);
    const cached = await s3For(clients, 'tabc123');
    expect((await cached.config.credentials()).sessionToken).toBe('cached');
    // Act
    const signer = await presignS3For(clients, 'tabc123', 900);
    const url = new URL(
      await getSignedUrl(signer, new GetObjectCommand({ Bucket: 'b', Key: 'tenants/tabc123/x' }), {
        expiresIn: 900,
      }),
    );
    const again = await presignS3For(clients, 'tabc123', 900);
    // Assess: an hour-long signing session, assumed once and reused while it outlives the link
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('signing');
    expect((await again.config.credentials()).sessionToken).toBe('signing');
    const calls = sts.commandCalls(AssumeRoleCommand);
    expect(calls.map((c) => c.args[0].input.DurationSeconds)).toEqual([900, 3600]);
  });

  it('refuses an answer without credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(tenantCredentials(edge, ROLE, 'tabc123')()).rejects.toThrow(/no credentials/);
  });
});
