import { randomBytes } from 'node:crypto';
import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { inject } from 'vitest';
import { cognitoClient, passwordLogin } from '../../bin/local/auth.ts';
import { generatePassword } from '../../bin/local/state.ts';
import { call } from './api.ts';
import { platformAdminToken } from './tokens.ts';

/**
 * Fresh tenants and users for integration tests: every name and email carries a per-run random
 * suffix plus a counter, so test files can run in parallel against one platform and a rerun over a
 * kept state dir never collides.
 */

const RUN = randomBytes(3).toString('hex');
let counter = 0;

/** A name unique in this run: `<label>-<run>-<n>` (lower case, digits and dashes). */
export function uniqueName(label: string): string {
  counter += 1;
  return `${label}-${RUN}-${counter}-${randomBytes(2).toString('hex')}`;
}

/** An email address unique in this run. */
export function uniqueEmail(label: string): string {
  return `${uniqueName(label)}@it.meridian.local`;
}

/** Sets a permanent password in cognito-local, as an invited user would after the invitation mail. */
export async function setPassword(email: string, password: string): Promise<void> {
  const { cognito } = inject('demo');
  const client = cognitoClient(cognito.endpoint);
  try {
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: cognito.userPoolId,
        Username: email,
        Password: password,
        Permanent: true,
      }),
    );
  } finally {
    client.destroy();
  }
}

/** A signed-in person: signs in on first use and reuses the access token afterwards. */
export interface TestLogin {
  readonly email: string;
  readonly password: string;
  /** An access token (signed in once, then cached). */
  token(): Promise<string>;
}

function login(email: string, password: string): TestLogin {
  let tokens: Promise<string> | undefined;
  return {
    email,
    password,
    token() {
      if (!tokens) {
        const pending = passwordLogin(inject('demo').cognito, email, password).then((t) => t.accessToken);
        // A failed sign-in must not be cached.
        pending.catch(() => {
          tokens = undefined;
        });
        tokens = pending;
      }
      return tokens;
    },
  };
}

/** A tenant made by {@link createTenant}. */
export interface TestTenant {
  readonly tenantId: string;
  readonly name: string;
  readonly adminEmail: string;
  /** The admin's user id (their Cognito sub). */
  readonly adminUserId: string;
  /** The tenant admin's access token. */
  token(): Promise<string>;
}

/** A user made by {@link inviteUser}. */
export interface TestUser extends TestLogin {
  readonly userId: string;
  readonly roles: readonly string[];
}

function fail(what: string, response: { status: number; text: string }): never {
  throw new Error(`${what}: ${response.status} ${response.text.slice(0, 500)}`);
}

/**
 * Creates a fresh tenant through `POST /tenants` as the platform admin (the name gets a unique
 * suffix), gives its admin a password and returns a token getter for that admin.
 */
export async function createTenant(
  name: string,
  plan: 'free' | 'pro' | 'enterprise' = 'pro',
): Promise<TestTenant> {
  const tenantName = uniqueName(name);
  const adminEmail = uniqueEmail(`admin-${name}`);
  const created = await call<{ tenantId: string }>('POST', '/tenants', {
    token: await platformAdminToken(),
    body: { name: tenantName, plan, adminEmail },
  });
  if (created.status !== 201) fail(`POST /tenants (${tenantName})`, created);
  const password = generatePassword();
  await setPassword(adminEmail, password);
  const admin = login(adminEmail, password);
  const me = await call<{ principal: { id: string } }>('GET', '/me', { token: await admin.token() });
  if (me.status !== 200) fail(`GET /me as the admin of ${tenantName}`, me);
  return {
    tenantId: created.body.tenantId,
    name: tenantName,
    adminEmail,
    adminUserId: me.body.principal.id,
    token: () => admin.token(),
  };
}

/** Invites `email` with `roles` (and `teams`) as the holder of `tenantToken`, sets a password, returns the user. */
export async function inviteUser(
  tenantToken: string,
  email: string,
  roles: readonly string[],
  teams: readonly string[] = [],
): Promise<TestUser> {
  const created = await call<{ userId: string }>('POST', '/users', {
    token: tenantToken,
    body: { email, roles, ...(teams.length > 0 ? { teams } : {}) },
  });
  if (created.status !== 201) fail(`POST /users (${email})`, created);
  const password = generatePassword();
  await setPassword(email, password);
  return { ...login(email, password), userId: created.body.userId, roles: [...roles] };
}

/** Creates a custom role as the holder of `tenantToken`; returns its name. */
export async function createRole(
  tenantToken: string,
  label: string,
  permissions: readonly string[],
): Promise<string> {
  const name = uniqueName(label);
  const created = await call('POST', '/roles', { token: tenantToken, body: { name, permissions } });
  if (created.status !== 201) fail(`POST /roles (${name})`, created);
  return name;
}

/** An API key as `POST /api-keys` returns it (the `key` appears only there). */
export interface TestApiKey {
  readonly keyId: string;
  readonly key: string;
  readonly scopes: readonly string[];
}

/** Creates an API key with `scopes` valid for `days` as the holder of `tenantToken`. */
export async function createApiKey(
  tenantToken: string,
  scopes: readonly string[],
  days = 30,
): Promise<TestApiKey> {
  const created = await call<TestApiKey>('POST', '/api-keys', {
    token: tenantToken,
    body: {
      name: uniqueName('key'),
      scopes,
      expiresAt: new Date(Date.now() + days * 24 * 3600 * 1000).toISOString(),
    },
  });
  if (created.status !== 201) fail('POST /api-keys', created);
  return created.body;
}

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this long (default 5 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 150 ms). */
  readonly intervalMs?: number;
}

/**
 * Retries `fn` until it resolves without throwing (e.g. its `expect` passes) and returns its result;
 * after `timeoutMs` rethrows the last failure. Bounded polling instead of fixed sleeps.
 */
export async function eventually<T>(fn: () => Promise<T> | T, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 150;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() + intervalMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** A timeout for waiting out the authorizer cache: its TTL plus a margin for a loaded machine. */
export function authCacheTimeoutMs(extraMs = 0): number {
  return inject('authCacheTtlSeconds') * 1000 + 4_000 + extraMs;
}
