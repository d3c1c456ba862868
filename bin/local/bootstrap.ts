import { existsSync } from 'node:fs';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { publishLocalTxt } from '#adapters/wiring/local.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { cognitoClient, passwordLogin } from './auth.ts';
import { LocalPlatformError } from './errors.ts';
import {
  type DemoInfo,
  type DemoUser,
  generatePassword,
  type PlatformState,
  readJson,
  saveState,
  statePaths,
  writeSecretJson,
} from './state.ts';

/**
 * First-start data: a platform admin made directly in cognito-local (there is no API for that,
 * exactly as on AWS where the stack's operator creates it), then the demo tenant and its users made
 * through the API itself, as a client would. Every step is recorded in `platform.json` before the
 * next one, so an interrupted bootstrap resumes instead of duplicating, and a completed one is skipped.
 */

/** The demo tenant and users bootstrap creates. */
export const DEMO = Object.freeze({
  platformAdmin: 'platform-admin@meridian.local',
  tenant: { name: 'Demo', plan: 'pro', adminEmail: 'admin@demo.meridian.local' },
  users: [
    { username: 'developer@demo.meridian.local', roles: ['developer'] },
    { username: 'operator@demo.meridian.local', roles: ['operator'] },
    { username: 'viewer@demo.meridian.local', roles: ['viewer'] },
  ],
});

/** The demo tenant's local OpenID provider: its people, their groups and how groups map to roles. */
export const DEMO_IDP = Object.freeze({
  clientId: 'meridian-local',
  name: 'Demo corporate IdP (local)',
  emailDomains: ['sso.demo.meridian.local'],
  accounts: [
    { email: 'alice@sso.demo.meridian.local', groups: ['engineering'] },
    { email: 'oscar@sso.demo.meridian.local', groups: ['operations', 'on-call'] },
    { email: 'guest@sso.demo.meridian.local', groups: ['visitors'] },
  ],
  groupMapping: [
    { group: 'engineering', roles: ['developer'] },
    { group: 'operations', roles: ['operator'] },
  ],
});

/** Thrown when the API does not do what bootstrap needs (e.g. a route is missing). */
export class BootstrapError extends LocalPlatformError {
  override readonly name = 'BootstrapError';
}

interface BootstrapContext {
  readonly apiUrl: string;
  readonly stateDir: string;
  readonly state: PlatformState;
  readonly cognito: { readonly endpoint: string; readonly userPoolId: string; readonly clientId: string };
  readonly log: (line: string) => void;
  /** The local OpenID provider's issuer (its port may differ between starts). */
  readonly idpIssuer?: string;
}

interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

async function callApi(
  apiUrl: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text };
}

/** One of `domains` of an identity provider (`GET /identity-providers/{providerId}`). */
interface DomainEntry {
  readonly domain: string;
  readonly verified: boolean;
  readonly record?: { readonly name: string; readonly value: string };
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? Reflect.get(body, name) : undefined;
}

function unexpected(what: string, answer: ApiAnswer, expected: string): BootstrapError {
  if (answer.status === 404 || answer.status === 405) {
    return new BootstrapError(
      `Bootstrap could not ${what}: the API answered ${answer.status} (${answer.text.slice(0, 200)}). ` +
        'The route is missing from functions/handlers/api.ts. Everything else is running; bootstrap ' +
        'resumes on the next start once the route exists.',
    );
  }
  return new BootstrapError(
    `Bootstrap could not ${what}: expected ${expected}, the API answered ${answer.status} ${answer.text.slice(0, 500)}`,
  );
}

/** A password for `username`, chosen once and saved before use so a retry sets the same one. */
async function passwordFor(ctx: BootstrapContext, username: string): Promise<string> {
  ctx.state.demo ??= { passwords: {}, complete: false };
  const existing = ctx.state.demo.passwords[username];
  if (existing) return existing;
  const password = generatePassword();
  ctx.state.demo.passwords[username] = password;
  await saveState(ctx.stateDir, ctx.state);
  return password;
}

async function setPermanentPassword(
  ctx: BootstrapContext,
  username: string,
  password: string,
): Promise<void> {
  const client = cognitoClient(ctx.cognito.endpoint);
  try {
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: ctx.cognito.userPoolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
  } catch (error) {
    if (error instanceof UserNotFoundException) {
      throw new BootstrapError(
        `Bootstrap expected the API to have created ${username} in Cognito (user pool ${ctx.cognito.userPoolId}), but it does not exist.`,
      );
    }
    throw error;
  } finally {
    client.destroy();
  }
}

async function ensurePlatformAdmin(ctx: BootstrapContext): Promise<{ username: string; password: string }> {
  const username = DEMO.platformAdmin;
  const password = ctx.state.platformAdmin?.password ?? generatePassword();
  if (!ctx.state.platformAdmin) {
    ctx.state.platformAdmin = { username, password };
    await saveState(ctx.stateDir, ctx.state);
  }
  const client = cognitoClient(ctx.cognito.endpoint);
  const UserPoolId = ctx.cognito.userPoolId;
  try {
    try {
      await client.send(new AdminGetUserCommand({ UserPoolId, Username: username }));
    } catch (error) {
      if (!(error instanceof UserNotFoundException)) throw error;
      await client.send(
        new AdminCreateUserCommand({
          UserPoolId,
          Username: username,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: username },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
    }
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
    await client.send(
      new AdminAddUserToGroupCommand({
        UserPoolId,
        Username: username,
        GroupName: IDENTITY_SCHEMA.platformAdminGroup,
      }),
    );
  } finally {
    client.destroy();
  }
  return { username, password };
}

async function ensureTenant(ctx: BootstrapContext, adminToken: string): Promise<string> {
  ctx.state.demo ??= { passwords: {}, complete: false };
  if (ctx.state.demo.tenantId) return ctx.state.demo.tenantId;
  const created = await callApi(ctx.apiUrl, 'POST', '/tenants', adminToken, DEMO.tenant);
  let tenantId: unknown;
  if (created.status === 201) {
    tenantId = field(created.body, 'tenantId');
  } else if (created.status === 409) {
    // Created by an interrupted earlier run whose id was not saved: find it.
    const list = await callApi(ctx.apiUrl, 'GET', '/tenants?limit=100', adminToken);
    const items = field(list.body, 'items');
    const match = Array.isArray(items)
      ? items.find(
          (item) =>
            field(item, 'name') === DEMO.tenant.name || field(item, 'adminEmail') === DEMO.tenant.adminEmail,
        )
      : undefined;
    tenantId = field(match, 'tenantId');
    if (typeof tenantId !== 'string')
      throw unexpected('find the existing demo tenant', list, 'it in GET /tenants');
  } else {
    throw unexpected('create the demo tenant with POST /tenants', created, '201');
  }
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new BootstrapError(`POST /tenants answered 201 without a tenantId: ${created.text.slice(0, 500)}`);
  }
  ctx.state.demo.tenantId = tenantId;
  await saveState(ctx.stateDir, ctx.state);
  ctx.log(`  created demo tenant ${tenantId} through POST /tenants`);
  return tenantId;
}

async function ensureUser(
  ctx: BootstrapContext,
  adminToken: string,
  user: { username: string; roles: string[] },
): Promise<void> {
  const created = await callApi(ctx.apiUrl, 'POST', '/users', adminToken, {
    email: user.username,
    roles: user.roles,
  });
  // 409: invited by an interrupted earlier run.
  if (created.status !== 201 && created.status !== 409) {
    throw unexpected(`invite ${user.username} with POST /users`, created, '201');
  }
}

/**
 * Registers the local OpenID provider as the demo tenant's identity provider through
 * `POST /identity-providers`, as a tenant admin would; when its issuer moved (another port), the old
 * registration is deleted first.
 */
async function ensureDemoSso(ctx: BootstrapContext, adminToken: string): Promise<DemoInfo['sso']> {
  const sso = ctx.state.sso;
  if (!ctx.idpIssuer || !sso) return undefined;
  if (sso.providerId && sso.issuer !== ctx.idpIssuer) {
    const removed = await callApi(ctx.apiUrl, 'DELETE', `/identity-providers/${sso.providerId}`, adminToken);
    if (removed.status !== 204 && removed.status !== 404) {
      throw unexpected('remove the old demo identity provider', removed, '204');
    }
    delete sso.providerId;
    await saveState(ctx.stateDir, ctx.state);
  }
  if (!sso.providerId) {
    const created = await callApi(ctx.apiUrl, 'POST', '/identity-providers', adminToken, {
      type: 'oidc',
      name: DEMO_IDP.name,
      issuer: ctx.idpIssuer,
      clientId: DEMO_IDP.clientId,
      clientSecret: sso.clientSecret,
      emailDomains: DEMO_IDP.emailDomains,
      groupMapping: DEMO_IDP.groupMapping,
    });
    const providerId = field(created.body, 'providerId');
    if (created.status !== 201 || typeof providerId !== 'string') {
      throw unexpected('register the demo identity provider with POST /identity-providers', created, '201');
    }
    // Its domain signs in once verified, as a tenant admin's would be: the record is published where
    // only the local platform looks (no DNS serves `.local`), then checked over the API.
    const domains = field(created.body, 'domains');
    for (const entry of Array.isArray(domains) ? (domains as DomainEntry[]) : []) {
      if (entry.verified || !entry.record) continue;
      publishLocalTxt(entry.record.name, entry.record.value);
      const path = `/identity-providers/${providerId}/domains/${entry.domain}/verify`;
      const verified = await callApi(ctx.apiUrl, 'POST', path, adminToken);
      if (verified.status !== 200)
        throw unexpected(`verify the demo domain with POST ${path}`, verified, '200');
    }
    sso.providerId = providerId;
    sso.issuer = ctx.idpIssuer;
    await saveState(ctx.stateDir, ctx.state);
    ctx.log(`  registered the local OpenID provider ${ctx.idpIssuer} for the demo tenant`);
  }
  return {
    issuer: ctx.idpIssuer,
    providerId: sso.providerId,
    accounts: DEMO_IDP.accounts.map((a) => ({ email: a.email, groups: [...a.groups] })),
  };
}

/**
 * Creates the platform admin, the demo tenant and its users on first start and writes `demo.json`;
 * on later starts only refreshes the URLs in `demo.json` (ports may differ). Resolves to its content.
 */
export async function bootstrap(ctx: BootstrapContext): Promise<DemoInfo> {
  const paths = statePaths(ctx.stateDir);
  const saved = ctx.state.demo?.complete ? await readJson<DemoInfo>(paths.demo) : undefined;
  if (saved && existsSync(paths.demo)) {
    const admin = saved.users[0];
    const sso = admin
      ? await ensureDemoSso(
          ctx,
          (await passwordLogin(ctx.cognito, admin.username, admin.password)).accessToken,
        )
      : undefined;
    const refreshed: DemoInfo = {
      ...saved,
      apiUrl: ctx.apiUrl,
      cognito: { ...ctx.cognito },
      ...(sso ? { sso } : {}),
    };
    await writeSecretJson(paths.demo, refreshed);
    return refreshed;
  }

  ctx.log('First start: creating the platform admin, the demo tenant and its users...');
  const platformAdmin = await ensurePlatformAdmin(ctx);
  const adminTokens = await passwordLogin(ctx.cognito, platformAdmin.username, platformAdmin.password);
  const tenantId = await ensureTenant(ctx, adminTokens.accessToken);

  const demoAdmin = DEMO.tenant.adminEmail;
  const demoAdminPassword = await passwordFor(ctx, demoAdmin);
  await setPermanentPassword(ctx, demoAdmin, demoAdminPassword);
  const tenantAdminTokens = await passwordLogin(ctx.cognito, demoAdmin, demoAdminPassword);

  const users: DemoUser[] = [{ username: demoAdmin, password: demoAdminPassword, roles: ['admin'] }];
  for (const user of DEMO.users) {
    await ensureUser(ctx, tenantAdminTokens.accessToken, { username: user.username, roles: [...user.roles] });
    const password = await passwordFor(ctx, user.username);
    await setPermanentPassword(ctx, user.username, password);
    users.push({ username: user.username, password, roles: [...user.roles] });
  }

  const sso = await ensureDemoSso(ctx, tenantAdminTokens.accessToken);
  const demo: DemoInfo = {
    apiUrl: ctx.apiUrl,
    cognito: { ...ctx.cognito },
    platformAdmin,
    tenant: { tenantId, name: DEMO.tenant.name },
    users,
    ...(sso ? { sso } : {}),
  };
  await writeSecretJson(paths.demo, demo);
  ctx.state.demo = { ...(ctx.state.demo ?? { passwords: {} }), tenantId, complete: true };
  await saveState(ctx.stateDir, ctx.state);
  return demo;
}
