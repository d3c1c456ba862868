import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SecretsManagerSecrets, SecretsManagerVault, secretId } from '#adapters/secret-vault.ts';
import { ConflictError } from '#core/errors.ts';
import { sdkOptions } from '../helpers/moto.ts';

const PREFIX = 'meridian/test/tenants';
const client = new SecretsManagerClient(sdkOptions(inject('awsEndpoint')));
const vault = new SecretsManagerVault(async () => client, PREFIX);
const tenant = (): string => `t${randomUUID().replaceAll('-', '').slice(0, 16)}`;

describe('SecretsManagerVault against the AWS API (moto by default)', () => {
  it('creates a secret tagged with its tenant and reads it back', async () => {
    const tenantId = tenant();
    await vault.put(tenantId, 'openai', 'sk-one', 'provider key');

    const described = await client.send(
      new DescribeSecretCommand({ SecretId: secretId(PREFIX, tenantId, 'openai') }),
    );
    expect(described.Tags).toContainEqual({ Key: 'TenantId', Value: tenantId });
    expect(described.Description).toBe('provider key');
    expect(await vault.get(tenantId, 'openai')).toBe('sk-one');
  });

  it("the read-only reader (the step runner's) reads what the vault wrote, and nothing for a missing name", async () => {
    const tenantId = tenant();
    await vault.put(tenantId, 'openai', 'sk-read');
    const reader = new SecretsManagerSecrets(async () => client, PREFIX);

    expect(await reader.get(tenantId, 'openai')).toBe('sk-read');
    expect(await reader.get(tenantId, 'never-written')).toBeUndefined();
    expect('put' in reader).toBe(false);
  });

  it('replaces the value of an existing secret', async () => {
    const tenantId = tenant();
    await vault.put(tenantId, 'openai', 'sk-one');
    await vault.put(tenantId, 'openai', 'sk-two');
    expect(await vault.get(tenantId, 'openai')).toBe('sk-two');
  });

  it('deletes without a recovery window, so the name can be created again at once', async () => {
    const tenantId = tenant();
    await vault.put(tenantId, 'openai', 'sk-one');

    await vault.delete(tenantId, 'openai');
    expect(await vault.get(tenantId, 'openai')).toBeUndefined();
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: secretId(PREFIX, tenantId, 'openai') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    await vault.put(tenantId, 'openai', 'sk-three');
    expect(await vault.get(tenantId, 'openai')).toBe('sk-three');
  });

  it('deleting a secret that does not exist is not an error', async () => {
    await expect(vault.delete(tenant(), 'never-written')).resolves.toBeUndefined();
  });

  it('a secret scheduled for deletion reads as a conflict, and writing it again restores it', async () => {
    const tenantId = tenant();
    await vault.put(tenantId, 'legacy', 'old');
    // How earlier versions deleted: with a recovery window.
    await client.send(
      new DeleteSecretCommand({ SecretId: secretId(PREFIX, tenantId, 'legacy'), RecoveryWindowInDays: 7 }),
    );

    const read = vault.get(tenantId, 'legacy');
    await expect(read).rejects.toBeInstanceOf(ConflictError);
    await expect(read).rejects.toThrow(/scheduled for deletion/);

    await vault.put(tenantId, 'legacy', 'new');
    expect(await vault.get(tenantId, 'legacy')).toBe('new');
  });
});

/**
 * moto is more lenient than AWS here (docs/emulators.md: it lets CreateSecret answer
 * ResourceExistsException and PutSecretValue succeed on a secret scheduled for deletion), so AWS's
 * answers are replayed at the SDK edge.
 */
describe('SecretsManagerVault with AWS answers moto does not give', () => {
  // One mocked instance (mocking the class would also capture the moto client above).
  const edge = new SecretsManagerClient({ region: 'us-east-1' });
  const sm = mockClient(edge);
  const mocked = new SecretsManagerVault(async () => edge, PREFIX);
  const scheduled = (): InvalidRequestException =>
    new InvalidRequestException({
      message: "You can't perform this operation on the secret because it was marked for deletion.",
      $metadata: {},
    });
  afterEach(() => sm.reset());

  it('restores a secret scheduled for deletion before creating it again, instead of failing', async () => {
    sm.on(CreateSecretCommand).rejects(scheduled());
    sm.on(DescribeSecretCommand).resolves({ DeletedDate: new Date() });
    sm.on(RestoreSecretCommand).resolves({});
    sm.on(PutSecretValueCommand).resolves({});

    await mocked.put('tabc', 'openai', 'sk-new');

    expect(sm.commandCalls(RestoreSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: `${PREFIX}/tabc/openai`,
    });
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: `${PREFIX}/tabc/openai`,
      SecretString: 'sk-new',
    });
  });

  it('replaces an existing secret with PutSecretValue and no restore', async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    sm.on(DescribeSecretCommand).resolves({});
    sm.on(PutSecretValueCommand).resolves({});

    await mocked.put('tabc', 'openai', 'sk-new');

    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('passes on an InvalidRequestException that is not about deletion', async () => {
    sm.on(CreateSecretCommand).rejects(new InvalidRequestException({ message: 'other', $metadata: {} }));
    sm.on(DescribeSecretCommand).resolves({});

    await expect(mocked.put('tabc', 'openai', 'v')).rejects.toBeInstanceOf(InvalidRequestException);
    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(0);
  });

  it('deletes with ForceDeleteWithoutRecovery', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await mocked.delete('tabc', 'openai');
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: `${PREFIX}/tabc/openai`,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it('a read of a secret scheduled for deletion is a ConflictError (409), not a server error', async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    sm.on(DescribeSecretCommand).resolves({ DeletedDate: new Date() });
    await expect(mocked.get('tabc', 'openai')).rejects.toBeInstanceOf(ConflictError);
  });
});
