import { randomUUID } from 'node:crypto';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeIdentityProviderCommand,
  DescribeUserPoolClientCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CognitoFederation } from '#adapters/cognito-federation.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { DynamoLease } from '#adapters/dynamo/lease.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { cognitoProviderName, type IdentityProvider } from '#core/identity/model.ts';
import { newId } from '#core/ids.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { tableDefinition } from '../../bin/local/dynamodb.ts';
import { sdkOptions } from '../helpers/moto.ts';

const T = 'tabcdefghijklmnop';

function provider(overrides: Partial<IdentityProvider> = {}): IdentityProvider {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  return {
    providerId: `p${suffix}`,
    type: 'oidc',
    name: 'Corp',
    issuer: 'https://idp.example.com',
    clientId: 'corp-client',
    emailDomains: [`${suffix}.example.com`, `eu.${suffix}.example.com`],
    groupsClaim: 'roles',
    groupMapping: [{ group: 'eng', roles: ['developer'] }],
    defaultRoles: [],
    createdAt: '',
    createdBy: 'u',
    ...overrides,
  };
}

describe('CognitoFederation against the AWS API (moto by default)', () => {
  const client = new CognitoIdentityProviderClient(sdkOptions(inject('awsEndpoint')));
  const dynamo = new DynamoDBClient(sdkOptions(inject('awsEndpoint')));
  const db = DynamoDBDocumentClient.from(dynamo);
  // The lease lives in a table of the single-table shape, as the API wires it (functions/adapters/wiring/api.ts).
  const tableName = `meridian-fed-${randomUUID().slice(0, 8)}`;
  let federation: CognitoFederation;
  let poolId: string;
  let clientId: string;
  const appClient = async () =>
    (await client.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId })))
      .UserPoolClient;
  const describeProvider = (name: string) =>
    client.send(new DescribeIdentityProviderCommand({ UserPoolId: poolId, ProviderName: name }));

  beforeAll(async () => {
    const pool = await client.send(
      new CreateUserPoolCommand({ PoolName: `meridian-fed-${randomUUID().slice(0, 8)}` }),
    );
    poolId = pool.UserPool?.Id ?? '';
    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'web',
        SupportedIdentityProviders: ['COGNITO'],
        CallbackURLs: ['https://app.example.com/auth/callback'],
        AllowedOAuthFlows: ['code'],
        AllowedOAuthScopes: ['openid', 'email'],
        AllowedOAuthFlowsUserPoolClient: true,
      }),
    );
    clientId = created.UserPoolClient?.ClientId ?? '';
    await dynamo.send(new CreateTableCommand(tableDefinition(tableName)));
    const lease = new DynamoLease(
      new Table(tableName, { platform: db, forTenant: async () => db }),
      keys.appClientLease,
    );
    federation = new CognitoFederation(client, poolId, clientId, (work) => lease.run(work));
  });

  afterAll(async () => {
    await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
    dynamo.destroy();
  });

  it('routes only verified domains: none at registration, each once verified', async () => {
    // Prepare: a provider registered since domains are verified.
    const p = provider({ verificationToken: 'k'.repeat(32), verifiedDomains: [] });
    const name = cognitoProviderName(T, p.providerId);
    const [first] = p.emailDomains;

    // Act
    await federation.register(T, p, 'the-client-secret');
    const registered = (await describeProvider(name)).IdentityProvider?.IdpIdentifiers ?? [];
    await federation.identify(T, p.providerId, async () => ({ ...p, verifiedDomains: [first ?? ''] }));
    const gone = federation.identify(T, 'pnosuchprov', async () => p);
    const deleted = federation.identify(T, p.providerId, async () => undefined);

    // Assert
    expect(registered).toEqual([]);
    expect((await describeProvider(name)).IdentityProvider?.IdpIdentifiers).toEqual([first]);
    await expect(gone).rejects.toThrow('No identity provider pnosuchprov.');
    await expect(deleted).resolves.toBeUndefined();
    await federation.remove(T, p);
  });

  it("registers an OIDC provider named by tenant, routed by the tenant's email domains, offered by the app client", async () => {
    // Prepare
    const p = provider();
    const name = cognitoProviderName(T, p.providerId);

    // Act
    await federation.register(T, p, 'the-client-secret');

    // Assert
    const described = (await describeProvider(name)).IdentityProvider;
    expect(described?.ProviderType).toBe('OIDC');
    expect(described?.IdpIdentifiers).toEqual(p.emailDomains);
    expect(described?.ProviderDetails).toMatchObject({
      client_id: 'corp-client',
      oidc_issuer: 'https://idp.example.com',
    });
    expect(described?.AttributeMapping).toMatchObject({
      email: 'email',
      [`custom:${IDENTITY_SCHEMA.groupsAttribute}`]: 'roles',
    });
    const app = await appClient();
    expect(app?.SupportedIdentityProviders).toEqual(['COGNITO', name]);
    // The rest of the client survives the update (UpdateUserPoolClient resets what it is not given).
    expect(app?.CallbackURLs).toEqual(['https://app.example.com/auth/callback']);
    expect(app?.AllowedOAuthFlows).toEqual(['code']);
  });

  it('registers SAML metadata too', async () => {
    const p = provider({ type: 'saml', metadataUrl: 'https://idp.example.com/saml/metadata' });
    delete (p as { issuer?: string }).issuer;

    await federation.register(T, p, undefined);

    const described = (await describeProvider(cognitoProviderName(T, p.providerId))).IdentityProvider;
    expect(described?.ProviderType).toBe('SAML');
    expect(described?.ProviderDetails?.MetadataURL).toBe('https://idp.example.com/saml/metadata');
  });

  it('removes the provider from the app client and the pool; removing it again is harmless', async () => {
    // Prepare
    const kept = provider();
    const removed = provider();
    await federation.register(T, kept, 's');
    await federation.register(T, removed, 's');
    const removedName = cognitoProviderName(T, removed.providerId);

    // Act
    await federation.remove(T, removed);
    await federation.remove(T, removed);

    // Assert
    await expect(describeProvider(removedName)).rejects.toBeInstanceOf(ResourceNotFoundException);
    const offered = (await appClient())?.SupportedIdentityProviders ?? [];
    expect(offered).not.toContain(removedName);
    expect(offered).toContain(cognitoProviderName(T, kept.providerId));
  });

  // Every tenant's provider is listed on the one app client, whose list is read and written back
  // whole: without the lease, concurrent changes (of any tenants, in any containers) lose some.
  it("keeps every tenant's provider when six tenants register at once", async () => {
    // Prepare
    const registrations = Array.from({ length: 6 }, () => ({ tenantId: newId('t'), p: provider() }));

    // Act
    await Promise.all(registrations.map(({ tenantId, p }) => federation.register(tenantId, p, 's')));

    // Assert
    const offered = (await appClient())?.SupportedIdentityProviders ?? [];
    const names = registrations.map(({ tenantId, p }) => cognitoProviderName(tenantId, p.providerId));
    expect(names.filter((n) => !offered.includes(n))).toEqual([]);
    expect(offered).toContain('COGNITO');
  });

  it('loses no change when tenants remove and register providers at once', async () => {
    // Prepare
    const leaving = Array.from({ length: 3 }, () => ({ tenantId: newId('t'), p: provider() }));
    const staying = { tenantId: newId('t'), p: provider() };
    for (const { tenantId, p } of [...leaving, staying]) await federation.register(tenantId, p, 's');
    const arriving = Array.from({ length: 3 }, () => ({ tenantId: newId('t'), p: provider() }));

    // Act
    await Promise.all([
      ...leaving.map(({ tenantId, p }) => federation.remove(tenantId, p)),
      ...arriving.map(({ tenantId, p }) => federation.register(tenantId, p, 's')),
    ]);

    // Assert
    const offered = (await appClient())?.SupportedIdentityProviders ?? [];
    const name = ({ tenantId, p }: { tenantId: string; p: IdentityProvider }) =>
      cognitoProviderName(tenantId, p.providerId);
    expect(leaving.map(name).filter((n) => offered.includes(n))).toEqual([]);
    expect([staying, ...arriving].map(name).filter((n) => !offered.includes(n))).toEqual([]);
  });
});
