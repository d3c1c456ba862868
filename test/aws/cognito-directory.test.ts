import { randomUUID } from 'node:crypto';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { CognitoDirectory } from '#adapters/cognito-directory.ts';
import { ConflictError } from '#core/errors.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { sdkOptions } from '../helpers/moto.ts';

describe('CognitoDirectory against the AWS API (moto by default)', () => {
  const client = new CognitoIdentityProviderClient(sdkOptions(inject('awsEndpoint')));
  let directory: CognitoDirectory;
  let poolId: string;
  const email = (): string => `u${randomUUID().slice(0, 8)}@example.com`;
  const getUser = (username: string) =>
    client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));

  beforeAll(async () => {
    const pool = await client.send(
      new CreateUserPoolCommand({
        PoolName: `meridian-test-${randomUUID().slice(0, 8)}`,
        UsernameAttributes: ['email'],
        Schema: [{ Name: IDENTITY_SCHEMA.tenantAttribute, AttributeDataType: 'String', Mutable: false }],
      }),
    );
    poolId = pool.UserPool?.Id ?? '';
    directory = new CognitoDirectory(client, poolId);
  });

  it('creates a user with a verified email and the tenant attribute, and returns its sub', async () => {
    const username = email();
    const { sub } = await directory.createUser(username, 'tabc123');

    const user = await getUser(username);
    const attribute = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
    expect(attribute('sub')).toBe(sub);
    expect(attribute(IDENTITY_SCHEMA.tenantClaim)).toBe('tabc123');
    expect(attribute('email_verified')).toBe('true');
    expect(user.Enabled).toBe(true);
  });

  it('a second user with the same email is a ConflictError naming the field', async () => {
    const username = email();
    await directory.createUser(username, 'tabc123');
    const again = directory.createUser(username, 'tabc123');
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toMatchObject({ problems: [{ path: 'email', message: 'already in use' }] });
  });

  it('disables and enables a user', async () => {
    const username = email();
    await directory.createUser(username, 'tabc123');

    await directory.disableUser(username);
    expect((await getUser(username)).Enabled).toBe(false);
    await directory.enableUser(username);
    expect((await getUser(username)).Enabled).toBe(true);
  });

  it('deletes a user, and deleting again is fine', async () => {
    const username = email();
    await directory.createUser(username, 'tabc123');

    await directory.deleteUser(username);
    await expect(getUser(username)).rejects.toBeInstanceOf(UserNotFoundException);
    await expect(directory.deleteUser(username)).resolves.toBeUndefined();
  });
});
