/** Section `authorizer`: its in-process cost per request (bench/RESULTS.template.md). */
import { generateKeyPairSync } from 'node:crypto';
import { createTokenVerifier } from '#adapters/token-verifier.ts';
import { Authenticator, type AuthenticatorOptions } from '#core/access/authenticate.ts';
import { formatApiKey, hashApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant, User } from '#core/tenancy/model.ts';
import { parseConfig } from '#shared/config.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { signJwt } from '../test/helpers/jwt.ts';
import { LAMBDA_ENV } from './bundles.ts';
import { percentile, type SectionResult, table, verdict } from './lib.ts';

const P50_MS = 0.3;
const CALLS = 20_000;
const WARMUP = 2_000;
const UNCACHED_CALLS = 500;

const TENANT_ID = 'tbenchbenchbench0';
const SUB = 'bench-user-sub';
const ISSUER = 'http://127.0.0.1:9/local_bench';
const EMAIL = 'bench@example.com';

// A tenant, its admin user and an API key, as the authorizer's store returns them.
const NOW = new Date().toISOString();
const AT = { createdAt: NOW, updatedAt: NOW, status: 'active' } as const;
const TENANT: Tenant = { tenantId: TENANT_ID, name: 'Bench', plan: 'pro', adminEmail: EMAIL, ...AT };
const USER: User = { userId: SUB, tenantId: TENANT_ID, email: EMAIL, roles: ['admin'], teams: [], ...AT };
const KEY = formatApiKey(TENANT_ID, 'kbenchbenchbench0');
const API_KEY: ApiKeyRecord = {
  keyId: 'kbenchbenchbench0',
  name: 'bench',
  scopes: ['workflows:read'],
  createdBy: SUB,
  createdAt: NOW,
  expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  status: 'active',
  secretHash: hashApiKey(KEY),
};

export async function measureAuthorizer(): Promise<SectionResult> {
  // A token verifier of the local mode with its JWKS cached (so no HTTP), and an access token it accepts.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n = '', e = '' } = publicKey.export({ format: 'jwk' });
  const jwksUri = `${ISSUER}/.well-known/jwks.json`;
  const verifier = createTokenVerifier({ mode: 'local', issuer: ISSUER, jwksUri, clientId: 'bench-client' });
  verifier.cacheJwks({ keys: [{ kty: 'RSA', kid: 'bench', alg: 'RS256', use: 'sig', n, e }] });
  const t = Math.floor(Date.now() / 1000);
  // Shaped like cognito-local's access tokens.
  const claims = { sub: SUB, iss: ISSUER, client_id: 'bench-client', token_use: 'access', username: EMAIL };
  const payload = { ...claims, scope: 'aws.cognito.signin.user.admin', jti: 'bench', iat: t, auth_time: t };
  const token = signJwt({ alg: 'RS256', kid: 'bench' }, { ...payload, exp: t + 3600 }, privateKey);
  let storeCalls = 0;
  function counted<T>(value: T) {
    return async () => {
      storeCalls++;
      return value;
    };
  }
  const store: AuthenticatorOptions['store'] = {
    findUserBySub: counted(USER),
    getUser: counted(USER),
    getTenant: counted(TENANT),
    getRoles: counted([]),
    getApiKey: counted(API_KEY),
    touchApiKey: counted(undefined),
  };
  // As functions/handlers/authorizer.ts builds it, with the counting store.
  const authenticator = new Authenticator({
    store,
    verifier,
    platformAdminGroup: IDENTITY_SCHEMA.platformAdminGroup,
    cacheTtlMs: parseConfig(LAMBDA_ENV).AUTH_CACHE_TTL_SECONDS * 1000,
  });
  const bearer = { authorization: `Bearer ${token}` };
  const keyHeaders = { 'x-api-key': KEY };

  const time = async (calls: number, headers: Record<string, string>, uncached = false) => {
    const samples: number[] = [];
    const storeBefore = storeCalls;
    for (let i = 0; i < calls; i++) {
      if (uncached) authenticator.clear();
      const start = process.hrtime.bigint();
      await authenticator.authenticate(headers);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), store: storeCalls - storeBefore };
  };
  for (let i = 0; i < WARMUP; i++) {
    for (const h of [bearer, keyHeaders]) {
      const context = await authenticator.authenticate(h);
      if (!context.authenticated) throw new Error(`The bench credential was refused (${context.reason})`);
    }
  }
  const cases = {
    'Cached bearer token': await time(CALLS, bearer),
    'Cached API key': await time(CALLS, keyHeaders),
    // Cache cleared before each call: the signature check or key hash plus the in-memory reads.
    'Uncached bearer token': await time(UNCACHED_CALLS, bearer, true),
    'Uncached API key': await time(UNCACHED_CALLS, keyHeaders, true),
  };
  const fine = (v: number) => (v < 0.1 ? v.toFixed(4) : v.toFixed(3));
  const cached = { 'bearer token': cases['Cached bearer token'], 'API key': cases['Cached API key'] };
  const warmStoreCalls = Object.values(cached).reduce((s, c) => s + c.store, 0);
  return {
    rows: [
      ...Object.entries(cached).map(([label, c]) => ({
        target: `Authorizer p50, cached ${label} ≤ ${P50_MS} ms`,
        measured: `p50 ${fine(c.p50)} ms, p99 ${fine(c.p99)} ms`,
        verdict: verdict(c.p50 <= P50_MS),
      })),
      {
        target: 'Authorizer: zero store (DynamoDB) calls when warm, in process',
        measured: `${warmStoreCalls} in ${(2 * CALLS).toLocaleString('en-US')} warm calls`,
        verdict: verdict(warmStoreCalls === 0),
      },
    ],
    values: {
      calls: CALLS.toLocaleString('en-US'),
      warmup: WARMUP.toLocaleString('en-US'),
      table: table(
        ['Case', 'p50 (ms)', 'p99 (ms)', 'Store calls while timed'],
        Object.entries(cases).map(([label, c]) => [label, fine(c.p50), fine(c.p99), c.store]),
      ),
    },
  };
}
