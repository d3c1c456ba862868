import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY_ATTRIBUTES, TABLE_SCHEMA } from '#shared/table-schema.ts';
import { tableDefinition } from '../../../../bin/local/dynamodb.ts';
import { applyEnv, platformEnv } from '../../../../bin/local/env.ts';
import { javaInstallHint, parseJavaMajorVersion } from '../../../../bin/local/java.ts';
import { claimPorts, PORT_DEFAULTS, PortInUseError, portFromEnv } from '../../../../bin/local/ports.ts';

describe('java version check', () => {
  it('reads the major version of modern and legacy version strings', () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime')).toBe(17);
    expect(parseJavaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajorVersion('java version "1.8.0_381"')).toBe(8);
    expect(parseJavaMajorVersion('command not found')).toBeUndefined();
  });

  it('says how to install Java 17 on Debian/Ubuntu and macOS', () => {
    expect(javaInstallHint()).toContain('sudo apt-get install -y openjdk-17-jre-headless');
    expect(javaInstallHint()).toContain('brew install openjdk@17');
  });
});

describe('ports', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function occupy(): Promise<number> {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  it('names the port, the service and the variable that changes it', async () => {
    const port = await occupy();
    const error = await claimPorts([{ ...PORT_DEFAULTS.dynamodb, port }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toContain(`Port ${port} is already in use`);
    expect((error as Error).message).toContain('DynamoDB Local');
    expect((error as Error).message).toContain(`MERIDIAN_DYNAMODB_PORT=${port + 1} npm start`);
  });

  it('resolves 0 to distinct free ports', async () => {
    const ports = await claimPorts([
      { ...PORT_DEFAULTS.api, port: 0 },
      { ...PORT_DEFAULTS.dynamodb, port: 0 },
      { ...PORT_DEFAULTS.cognito, port: 0 },
    ]);
    expect(new Set(ports).size).toBe(3);
    expect(ports.every((port) => port > 0)).toBe(true);
  });

  it('refuses two services on one port and non-numeric values', async () => {
    await expect(
      claimPorts([
        { ...PORT_DEFAULTS.api, port: 4100 },
        { ...PORT_DEFAULTS.s3, port: 4100 },
      ]),
    ).rejects.toThrow(/both want port 4100/);
    expect(() => portFromEnv('PORT', 3000, { PORT: 'abc' })).toThrow(/PORT=abc is not a port number/);
    expect(portFromEnv('PORT', 3000, {})).toBe(3000);
    expect(portFromEnv('PORT', 3000, { PORT: '0' })).toBe(0);
  });
});

describe('table definition', () => {
  it('is built from TABLE_SCHEMA', () => {
    const definition = tableDefinition('meridian-local');
    expect(definition.BillingMode).toBe('PAY_PER_REQUEST');
    expect(definition.AttributeDefinitions?.map((attribute) => attribute.AttributeName)).toEqual([
      ...KEY_ATTRIBUTES,
    ]);
    expect(definition.KeySchema).toEqual([
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ]);
    expect(definition.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: TABLE_SCHEMA.gsi1.indexName,
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.gsi1.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.gsi1.sortKey, KeyType: 'RANGE' },
      ],
    });
    expect(definition.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
  });
});

describe('handler environment', () => {
  const endpoints = {
    stateDir: '/state',
    dynamodbEndpoint: 'http://127.0.0.1:8000',
    s3Endpoint: 'http://127.0.0.1:4569',
    cognitoEndpoint: 'http://127.0.0.1:9229',
    userPoolId: 'local_x',
    clientId: 'client',
    issuer: 'http://127.0.0.1:9229/local_x',
    jwksUri: 'http://127.0.0.1:9229/local_x/.well-known/jwks.json',
    quiet: true,
  };

  it('overrides endpoints and credentials, keeps the user’s tuning knobs, and restores everything', () => {
    const target: NodeJS.ProcessEnv = {
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:4566',
      AWS_ACCESS_KEY_ID: 'AKIAREAL',
      AWS_SESSION_TOKEN: 'real-session',
      AWS_PROFILE: 'prod',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    const { applied, restore } = applyEnv(platformEnv(endpoints), target);
    expect(target.AWS_ENDPOINT_URL_DYNAMODB).toBe('http://127.0.0.1:8000');
    expect(target.AWS_ACCESS_KEY_ID).toBe('S3RVER');
    expect(target.AWS_SESSION_TOKEN).toBeUndefined();
    expect(target.AWS_PROFILE).toBeUndefined();
    // The global endpoint is the user's, for services nothing emulates; per-service ones win in the SDK.
    expect(target.AWS_ENDPOINT_URL).toBe('http://localhost:4566');
    expect(target.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    expect(applied.LOCAL_JWKS_URI).toBe(endpoints.jwksUri);
    expect(target.AWS_REQUEST_CHECKSUM_CALCULATION).toBe('WHEN_REQUIRED');
    restore();
    expect(target).toEqual({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:4566',
      AWS_ACCESS_KEY_ID: 'AKIAREAL',
      AWS_SESSION_TOKEN: 'real-session',
      AWS_PROFILE: 'prod',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
  });
});
