/**
 * Section 3: the authorizer's in-process cost per request. The real `Authenticator` with the real
 * token verifier (aws-jwt-verify, JWKS loaded with `cacheJwks`, so no HTTP) over an in-memory store
 * that counts its calls: a warm request must make none.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';
import {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
} from '#adapters/token-verifier.ts';
import { Authenticator, type AuthenticatorOptions } from '#core/access/authenticate.ts';
import { formatApiKey, hashApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '#core/tenancy/model.ts';
import type { AuthorizerContext } from '#shared/auth-context.ts';
import { parseConfig } from '#shared/config.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { signJwt } from '../test/helpers/jwt.ts';
import { LAMBDA_ENV } from './init-time.ts';
import { percentile } from './stats.ts';

type Store = AuthenticatorOptions['store'];
type StoreMethod = keyof Store;

const TENANT_ID = 'tbenchbenchbench0';
const KEY_ID = 'kbenchbenchbench0';
const USER_SUB = 'bench-user-sub';
const CLIENT_ID = 'bench-client';
const KID = 'bench-key';
const LOCAL_ISSUER = 'http://127.0.0.1:9/local_bench';
const AWS_POOL_ID = 'us-east-1_AbCdEfGhI';

/** Latency of one kind of call, in milliseconds. */
export interface Latency {
  readonly calls: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Store (DynamoDB) calls made while these calls were timed. */
  readonly storeCalls: number;
}

/** Everything section 3 measured. */
export interface AuthorizerResults {
  /** Authenticator cache lifetime used: the configured default `AUTH_CACHE_TTL_SECONDS`. */
  readonly cacheTtlSeconds: number;
  readonly warmupCalls: number;
  readonly cachedToken: Latency;
  readonly cachedApiKey: Latency;
  /** Store calls of the first (uncached) request of each credential, by method. */
  readonly coldStoreCalls: { readonly token: string; readonly apiKey: string };
  /** Cache cleared before every call: signature check plus in-memory store reads. */
  readonly uncachedToken: Latency;
  readonly uncachedApiKey: Latency;
  /** `verify()` alone, per verifier mode (no cache above it). */
  readonly verifyLocal: Latency;
  readonly verifyAws: Latency;
  /** The first `verify()` of a new verifier after `cacheJwks` (imports the public key). */
  readonly firstVerifyMs: number;
}

/** An in-memory store holding one tenant, one admin user and one API key, counting every call. */
class CountingStore implements Store {
  readonly calls = new Map<StoreMethod, number>();

  constructor(
    private readonly user: User,
    private readonly tenant: Tenant,
    private readonly apiKey: ApiKeyRecord,
  ) {}

  private count(method: StoreMethod): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  total(): number {
    let sum = 0;
    for (const n of this.calls.values()) sum += n;
    return sum;
  }

  describe(): string {
    return [...this.calls].map(([method, n]) => `${method}×${n}`).join(', ') || 'none';
  }

  async findUserBySub(sub: string): Promise<User | undefined> {
    this.count('findUserBySub');
    return sub === this.user.userId ? this.user : undefined;
  }
  async getUser(tenantId: string, userId: string): Promise<User | undefined> {
    this.count('getUser');
    return tenantId === this.user.tenantId && userId === this.user.userId ? this.user : undefined;
  }
  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    this.count('getTenant');
    return tenantId === this.tenant.tenantId ? this.tenant : undefined;
  }
  async getRoles(): Promise<readonly []> {
    this.count('getRoles');
    return [];
  }
  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    this.count('getApiKey');
    return tenantId === this.tenant.tenantId && keyId === this.apiKey.keyId ? this.apiKey : undefined;
  }
  async touchApiKey(): Promise<void> {
    this.count('touchApiKey');
  }
}

function jwksOf(key: KeyObject): Jwks {
  const { n, e } = key.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA public key');
  return { keys: [{ kty: 'RSA', kid: KID, alg: 'RS256', use: 'sig', n, e }] };
}

function accessToken(privateKey: KeyObject, issuer: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { alg: 'RS256', kid: KID },
    {
      sub: USER_SUB,
      iss: issuer,
      client_id: CLIENT_ID,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      auth_time: now,
      iat: now,
      exp: now + 3600,
      jti: 'bench',
      username: 'bench@example.com',
    },
    privateKey,
  );
}

function verifierFor(options: TokenVerifierOptions, jwks: Jwks): TokenVerifier {
  const verifier = createTokenVerifier(options);
  verifier.cacheJwks(jwks);
  return verifier;
}

/** Times `n` sequential calls of `call` with `process.hrtime.bigint()`, each on its own. */
async function timeCalls(
  n: number,
  call: () => Promise<unknown>,
  store: CountingStore,
  beforeEach?: () => void,
): Promise<Latency> {
  const samples = new Float64Array(n);
  const storeBefore = store.total();
  for (let i = 0; i < n; i++) {
    beforeEach?.();
    const start = process.hrtime.bigint();
    await call();
    samples[i] = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const values = Array.from(samples);
  return {
    calls: n,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: percentile(values, 100),
    storeCalls: store.total() - storeBefore,
  };
}

function expectAuthenticated(context: AuthorizerContext, what: string): AuthorizerContext {
  if (!context.authenticated)
    throw new Error(`${what} was refused (${context.reason}): the bench setup is wrong`);
  return context;
}

/** Runs section 3: `iterations` timed calls per cached credential, after `warmup` untimed ones. */
export async function measureAuthorizer(iterations: number, warmup: number): Promise<AuthorizerResults> {
  const cfg = parseConfig(LAMBDA_ENV);
  const now = new Date().toISOString();
  const tenant: Tenant = {
    tenantId: TENANT_ID,
    name: 'Bench',
    plan: 'pro',
    status: 'active',
    adminEmail: 'bench@example.com',
    createdAt: now,
    updatedAt: now,
  };
  const user: User = {
    userId: USER_SUB,
    tenantId: TENANT_ID,
    email: 'bench@example.com',
    roles: ['admin'],
    teams: [],
    status: 'active',
    createdAt: now,
    updatedAt: now,
  };
  const key = formatApiKey(TENANT_ID, KEY_ID);
  const apiKey: ApiKeyRecord = {
    keyId: KEY_ID,
    name: 'bench',
    scopes: ['workflows:read', 'executions:start'],
    createdBy: USER_SUB,
    createdAt: now,
    expiresAt: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
    status: 'active',
    secretHash: hashApiKey(key),
  };
  const store = new CountingStore(user, tenant, apiKey);

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = jwksOf(publicKey);
  const localOptions: TokenVerifierOptions = {
    mode: 'local',
    issuer: LOCAL_ISSUER,
    jwksUri: `${LOCAL_ISSUER}/.well-known/jwks.json`,
    clientId: CLIENT_ID,
  };
  const token = accessToken(privateKey, LOCAL_ISSUER);
  const awsToken = accessToken(privateKey, `https://cognito-idp.us-east-1.amazonaws.com/${AWS_POOL_ID}`);

  // The first verify of a fresh verifier turns the cached JWK into a key object.
  const fresh = verifierFor(localOptions, jwks);
  const firstStart = process.hrtime.bigint();
  await fresh.verify(token);
  const firstVerifyMs = Number(process.hrtime.bigint() - firstStart) / 1e6;

  // As functions/handlers/authorizer.ts builds it, with the store swapped for the counting one.
  const verifier = verifierFor(localOptions, jwks);
  const authenticator = new Authenticator({
    store,
    verifier,
    platformAdminGroup: IDENTITY_SCHEMA.platformAdminGroup,
    cacheTtlMs: cfg.AUTH_CACHE_TTL_SECONDS * 1000,
  });
  const bearer = { authorization: `Bearer ${token}` };
  const apiKeyHeaders = { 'x-api-key': key };

  store.calls.clear();
  expectAuthenticated(await authenticator.authenticate(bearer), 'The bench token');
  const coldToken = store.describe();
  store.calls.clear();
  expectAuthenticated(await authenticator.authenticate(apiKeyHeaders), 'The bench API key');
  // The key's use is recorded off the critical path: let that promise run before reading the count.
  await new Promise((resolve) => setImmediate(resolve));
  const coldApiKey = store.describe();

  for (let i = 0; i < warmup; i++) {
    await authenticator.authenticate(bearer);
    await authenticator.authenticate(apiKeyHeaders);
  }
  const cachedToken = await timeCalls(iterations, () => authenticator.authenticate(bearer), store);
  const cachedApiKey = await timeCalls(iterations, () => authenticator.authenticate(apiKeyHeaders), store);
  expectAuthenticated(await authenticator.authenticate(bearer), 'The cached token');

  const uncachedRuns = Math.max(100, Math.round(iterations / 40));
  const clear = () => authenticator.clear();
  const uncachedToken = await timeCalls(uncachedRuns, () => authenticator.authenticate(bearer), store, clear);
  const uncachedApiKey = await timeCalls(
    uncachedRuns,
    () => authenticator.authenticate(apiKeyHeaders),
    store,
    clear,
  );
  const verifyLocal = await timeCalls(uncachedRuns, () => verifier.verify(token), store);
  const awsVerifier = verifierFor({ mode: 'aws', userPoolId: AWS_POOL_ID, clientId: CLIENT_ID }, jwks);
  await awsVerifier.verify(awsToken);
  const verifyAws = await timeCalls(uncachedRuns, () => awsVerifier.verify(awsToken), store);

  return {
    cacheTtlSeconds: cfg.AUTH_CACHE_TTL_SECONDS,
    warmupCalls: warmup,
    cachedToken,
    cachedApiKey,
    coldStoreCalls: { token: coldToken, apiKey: coldApiKey },
    uncachedToken,
    uncachedApiKey,
    verifyLocal,
    verifyAws,
    firstVerifyMs,
  };
}
