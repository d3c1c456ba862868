import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { cognitoClient } from './auth.ts';
import { type ManagedProcess, manage, type Watchdog, waitUntilReady } from './process.ts';

/** cognito-local running as a child process. */
export interface RunningCognito {
  readonly endpoint: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** The pool and app client the platform uses. */
export interface IdentityIds {
  readonly userPoolId: string;
  readonly clientId: string;
}

/** Issuer and JWKS of a cognito-local pool (its discovery document names the wrong port: not used). */
export function issuerOf(endpoint: string, userPoolId: string): { issuer: string; jwksUri: string } {
  const issuer = `${endpoint}/${userPoolId}`;
  return { issuer, jwksUri: `${issuer}/.well-known/jwks.json` };
}

function cognitoLocalBin(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('cognito-local/package.json');
  const { bin } = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: string };
  return join(dirname(packageJson), bin);
}

/**
 * Starts cognito-local with its data in `<dir>/.cognito`, bound to 127.0.0.1:`port`, and waits for
 * its health check. The issuer domain is written on every start because the port may change.
 */
export async function startCognito(options: {
  port: number;
  dir: string;
  watchdog?: Watchdog;
  timeoutMs?: number;
}): Promise<RunningCognito> {
  const dir = resolve(options.dir);
  const configDir = join(dir, '.cognito');
  await mkdir(configDir, { recursive: true });
  const endpoint = `http://127.0.0.1:${options.port}`;
  const configPath = join(configDir, 'config.json');
  const config = await readFile(configPath, 'utf8')
    .then((text) => JSON.parse(text) as Record<string, unknown>)
    .catch(() => ({}));
  await writeFile(
    configPath,
    `${JSON.stringify({ ...config, TokenConfig: { IssuerDomain: endpoint } }, null, 2)}\n`,
  );

  const child = spawn(process.execPath, [cognitoLocalBin()], {
    cwd: dir,
    // Only what it needs: NODE_OPTIONS from a test runner or tsx must not leak into it, and DEBUG
    // would make it log every request body (passwords included).
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      PORT: String(options.port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const managed = manage('cognito-local', child, options.watchdog);
  try {
    await waitUntilReady(
      managed,
      async () => (await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) })).ok,
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    await managed.stop();
    throw error;
  }
  return { endpoint, process: managed, stop: () => managed.stop() };
}

async function exists(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Returns the saved pool and client if they still exist, else creates them from `IDENTITY_SCHEMA`:
 * email as the username, the immutable tenant attribute, the platform-admin group and an app client
 * without a secret that allows the password flows.
 */
export async function ensureIdentity(
  endpoint: string,
  saved?: IdentityIds,
): Promise<IdentityIds & { created: boolean }> {
  const client = cognitoClient(endpoint);
  try {
    if (
      saved &&
      (await exists(() => client.send(new DescribeUserPoolCommand({ UserPoolId: saved.userPoolId })))) &&
      (await exists(() =>
        client.send(
          new DescribeUserPoolClientCommand({ UserPoolId: saved.userPoolId, ClientId: saved.clientId }),
        ),
      ))
    ) {
      return { ...saved, created: false };
    }
    const pool = await client.send(
      new CreateUserPoolCommand({
        PoolName: 'meridian-local',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Schema: [
          {
            Name: IDENTITY_SCHEMA.tenantAttribute,
            AttributeDataType: 'String',
            Mutable: false,
            StringAttributeConstraints: { MinLength: '1', MaxLength: '64' },
          },
        ],
      }),
    );
    const userPoolId = pool.UserPool?.Id;
    if (!userPoolId) throw new Error('cognito-local returned no user pool id');
    await client.send(
      new CreateGroupCommand({
        UserPoolId: userPoolId,
        GroupName: IDENTITY_SCHEMA.platformAdminGroup,
        Description: 'Platform operators: no tenant, only the /tenants routes',
      }),
    );
    const appClient = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: 'meridian-local-web',
        GenerateSecret: false,
        ExplicitAuthFlows: IDENTITY_SCHEMA.passwordAuthFlows.map((flow) => `ALLOW_${flow}` as const),
      }),
    );
    const clientId = appClient.UserPoolClient?.ClientId;
    if (!clientId) throw new Error('cognito-local returned no app client id');
    return { userPoolId, clientId, created: true };
  } finally {
    client.destroy();
  }
}
