import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CachingTokenVerifier,
  createTokenVerifier,
  type TokenRejectionReason,
  type TokenVerifierConfig,
  tokenRejectionReason,
  tokenVerifierFromConfig,
} from '#adapters/token-verifier.ts';
import { TokenExpiredError, TransientError, UnauthenticatedError } from '#core/errors.ts';
import { ConfigError } from '#shared/config.ts';
import { encodeSegment, type JwtPart, signJwt } from '../../helpers/jwt.ts';

const LOCAL_POOL = 'local_abc';
const CLIENT_ID = 'client-1';
const KID = 'key-1';
const AWS_POOL = 'us-east-1_AbCdEfGhI';
const AWS_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${AWS_POOL}`;
const GENERIC_MESSAGE = 'Missing, invalid or expired access token';

let privateKey: KeyObject;
let publicKey: KeyObject;
let otherPrivateKey: KeyObject;
let jwks: Jwks;
let server: Server;
let jwksRequests = 0;
let baseUrl: string;
let localIssuer: string;
let jwksUri: string;
let verifier: CachingTokenVerifier;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The public JWK as Cognito and cognito-local publish it: with `kid`, `alg` and `use`. */
function jwksOf(key: KeyObject, kid: string): Jwks {
  const { n, e } = key.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA public key');
  return { keys: [{ kty: 'RSA', kid, alg: 'RS256', use: 'sig', n, e }] };
}

function header(overrides: JwtPart = {}): JwtPart {
  return { alg: 'RS256', kid: KID, ...overrides };
}

/** The claims of a cognito-local access token; `undefined` overrides drop a claim. */
function accessClaims(overrides: JwtPart = {}): JwtPart {
  const now = nowSeconds();
  return {
    sub: 'user-sub-1',
    iss: localIssuer,
    client_id: CLIENT_ID,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: now,
    iat: now,
    exp: now + 3600,
    jti: 'jti-1',
    username: 'alice',
    'cognito:groups': ['tenant-admins', 'editors'],
    ...overrides,
  };
}

function validToken(claims: JwtPart = {}): string {
  return signJwt(header(), accessClaims(claims), privateKey);
}

/** The settled rejection of `promise`, or `undefined` when it resolved (so the assertions fail). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  ({ privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  ({ privateKey: otherPrivateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  jwks = jwksOf(publicKey, KID);
  // Stands in for cognito-local's JWKS endpoint (plain http): used by the unknown-kid refetch and the
  // fetch tests; every other test runs on the JWKS loaded with cacheJwks().
  server = createServer((request, response) => {
    jwksRequests += 1;
    if (request.url?.endsWith('/.well-known/jwks.json')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  localIssuer = `${baseUrl}/${LOCAL_POOL}`;
  jwksUri = `${localIssuer}/.well-known/jwks.json`;
  verifier = createTokenVerifier({ mode: 'local', issuer: localIssuer, jwksUri, clientId: CLIENT_ID });
  verifier.cacheJwks(jwks);
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

describe('local verifier: valid access tokens', () => {
  it('returns the verified claims, with the JWKS from cacheJwks and no HTTP', async () => {
    // Prepare
    const claims = accessClaims();
    const token = signJwt(header(), claims, privateKey);
    const requestsBefore = jwksRequests;

    // Act
    const verified = await verifier.verify(token);

    // Assess
    expect(verified).toEqual({
      sub: 'user-sub-1',
      username: 'alice',
      clientId: CLIENT_ID,
      groups: ['tenant-admins', 'editors'],
      tokenUse: 'access',
      issuer: localIssuer,
      expiresAt: claims.exp,
    });
    expect(Object.isFrozen(verified.groups)).toBe(true);
    expect(jwksRequests).toBe(requestsBefore);
  });

  it('returns no groups when the token has no cognito:groups claim', async () => {
    // Prepare
    const token = validToken({ 'cognito:groups': undefined });

    // Act
    const verified = await verifier.verify(token);

    // Assess
    expect(verified.groups).toEqual([]);
  });
});

interface RejectionCase {
  readonly name: string;
  readonly token: () => string;
  readonly reason: TokenRejectionReason;
}

const rejectionCases: readonly RejectionCase[] = [
  {
    name: 'expired',
    token: () => validToken({ iat: nowSeconds() - 3660, exp: nowSeconds() - 60 }),
    reason: 'expired',
  },
  {
    name: 'not yet valid (nbf in the future)',
    token: () => validToken({ nbf: nowSeconds() + 300 }),
    reason: 'not-yet-valid',
  },
  {
    name: 'issued to another client',
    token: () => validToken({ client_id: 'client-2' }),
    reason: 'wrong-client',
  },
  {
    name: 'an id token instead of an access token',
    token: () =>
      validToken({
        token_use: 'id',
        aud: CLIENT_ID,
        client_id: undefined,
        username: undefined,
        'cognito:username': 'alice',
      }),
    reason: 'wrong-token-use',
  },
  {
    // The library's JWT pattern demands a non-empty signature segment: refused before any key lookup.
    name: 'alg none, unsigned',
    token: () => signJwt(header({ alg: 'none' }), accessClaims(), ''),
    reason: 'malformed',
  },
  {
    name: 'alg none with a signature segment',
    token: () => `${signJwt(header({ alg: 'none' }), accessClaims(), '')}AAAA`,
    reason: 'bad-algorithm',
  },
  {
    name: 'HS256 signed with the public key PEM as HMAC secret',
    token: () =>
      signJwt(
        header({ alg: 'HS256' }),
        accessClaims(),
        publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      ),
    reason: 'bad-algorithm',
  },
  {
    name: 'HS256 signed with the public JWK as HMAC secret',
    token: () => signJwt(header({ alg: 'HS256' }), accessClaims(), JSON.stringify(jwks.keys[0])),
    reason: 'bad-algorithm',
  },
  {
    // Not in the cache, so the library refetches the JWKS (rate-limited), and it is not there either.
    name: 'an unknown kid',
    token: () => signJwt(header({ kid: 'key-unknown' }), accessClaims(), privateKey),
    reason: 'unknown-key',
  },
  {
    name: 'no kid',
    token: () => signJwt(header({ kid: undefined }), accessClaims(), privateKey),
    reason: 'unknown-key',
  },
  {
    name: 'a tampered payload (valid signature over another payload)',
    token: () => {
      const [head, , signature] = validToken().split('.');
      const forged = encodeSegment(accessClaims({ 'cognito:groups': ['platform-admins'] }));
      return `${head}.${forged}.${signature}`;
    },
    reason: 'bad-signature',
  },
  {
    name: 'signed by another key under the trusted kid',
    token: () => signJwt(header(), accessClaims(), otherPrivateKey),
    reason: 'bad-signature',
  },
  { name: 'another issuer', token: () => validToken({ iss: AWS_ISSUER }), reason: 'untrusted-issuer' },
  { name: 'a garbage string', token: () => 'not-a-jwt', reason: 'malformed' },
  { name: 'an empty string', token: () => '', reason: 'malformed' },
  {
    name: 'a missing signature (trailing dot kept)',
    token: () => validToken().split('.').slice(0, 2).join('.').concat('.'),
    reason: 'malformed',
  },
  {
    name: 'a missing signature segment (two parts)',
    token: () => validToken().split('.').slice(0, 2).join('.'),
    reason: 'malformed',
  },
  // The library checks exp only when present: without this check the token would never expire.
  { name: 'no exp claim', token: () => validToken({ exp: undefined }), reason: 'bad-claims' },
  { name: 'no username claim', token: () => validToken({ username: undefined }), reason: 'bad-claims' },
  {
    name: 'larger than any Cognito token',
    token: () => validToken({ padding: 'x'.repeat(20_000) }),
    reason: 'malformed',
  },
];

describe('local verifier: rejected tokens', () => {
  it.each(rejectionCases)('rejects $name with UnauthenticatedError ($reason)', async ({ token, reason }) => {
    // Prepare
    const jwt = token();

    // Act
    const error = await rejectionOf(verifier.verify(jwt));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(tokenRejectionReason(error)).toBe(reason);
    expect((error as Error).message).toBe(GENERIC_MESSAGE);
    // Only expiry is told apart (the API answers it with its own WWW-Authenticate description).
    expect(error instanceof TokenExpiredError).toBe(reason === 'expired');
  });

  it('rejects RS384 even when the JWK does not pin its algorithm (the library would accept it)', async () => {
    // Prepare: without `alg` on the JWK the library accepts any algorithm it supports for the key type.
    const unpinned = createTokenVerifier({
      mode: 'local',
      issuer: localIssuer,
      jwksUri,
      clientId: CLIENT_ID,
    });
    const { n, e } = publicKey.export({ format: 'jwk' });
    unpinned.cacheJwks({ keys: [{ kty: 'RSA', kid: KID, use: 'sig', n: String(n), e: String(e) }] });
    const token = signJwt(header({ alg: 'RS384' }), accessClaims(), privateKey);

    // Act
    const error = await rejectionOf(unpinned.verify(token));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(tokenRejectionReason(error)).toBe('bad-algorithm');
  });

  it("keeps the library's error, class name included, as the cause", async () => {
    // Prepare
    const token = validToken({ exp: nowSeconds() - 60 });

    // Act
    const error = await rejectionOf(verifier.verify(token));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(Error);
    expect((cause as Error).constructor.name).toBe('JwtExpiredError');
    expect((error as Error).message).not.toContain((cause as Error).message);
  });
});

describe('local verifier: JWKS over plain http', () => {
  it('fetches the JWKS on first use and serves later tokens from the cache', async () => {
    // Prepare
    const fresh = createTokenVerifier({ mode: 'local', issuer: localIssuer, jwksUri, clientId: CLIENT_ID });
    const requestsBefore = jwksRequests;

    // Act
    const first = await fresh.verify(validToken());
    const second = await fresh.verify(validToken({ sub: 'user-sub-2' }));

    // Assess
    expect(first.sub).toBe('user-sub-1');
    expect(second.sub).toBe('user-sub-2');
    expect(jwksRequests - requestsBefore).toBe(1);
  });

  it('hydrates the cache ahead of the first verify', async () => {
    // Prepare
    const fresh = createTokenVerifier({ mode: 'local', issuer: localIssuer, jwksUri, clientId: CLIENT_ID });
    const requestsBefore = jwksRequests;

    // Act
    await fresh.hydrate();
    const verified = await fresh.verify(validToken());

    // Assess
    expect(verified.username).toBe('alice');
    expect(jwksRequests - requestsBefore).toBe(1);
  });

  it('reports a JWKS that cannot be fetched as TransientError from hydrate', async () => {
    // Prepare
    const broken = createTokenVerifier({
      mode: 'local',
      issuer: localIssuer,
      jwksUri: `${baseUrl}/missing`,
      clientId: CLIENT_ID,
    });

    // Act
    const error = await rejectionOf(broken.hydrate());

    // Assess
    expect(error).toBeInstanceOf(TransientError);
  });

  it('rejects a token with UnauthenticatedError when the JWKS cannot be fetched', async () => {
    // Prepare
    const broken = createTokenVerifier({
      mode: 'local',
      issuer: localIssuer,
      jwksUri: `${baseUrl}/missing`,
      clientId: CLIENT_ID,
    });

    // Act
    const error = await rejectionOf(broken.verify(validToken()));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(tokenRejectionReason(error)).toBe('jwks-unavailable');
  });
});

/** Only the values the verifier reads, so unrelated configuration changes cannot break these tests. */
function runtimeConfig(values: Omit<TokenVerifierConfig, 'USER_POOL_CLIENT_ID'>): TokenVerifierConfig {
  return { USER_POOL_CLIENT_ID: CLIENT_ID, ...values };
}

describe('tokenVerifierFromConfig', () => {
  it('in aws mode accepts its own pool and refuses a cognito-local issuer signed with the same key', async () => {
    // Prepare: same key and kid cached for the pool, so only the issuer differs between the tokens.
    const aws = tokenVerifierFromConfig(
      runtimeConfig({
        MERIDIAN_MODE: 'aws',
        USER_POOL_ID: AWS_POOL,
        LOCAL_JWT_ISSUER: 'http://127.0.0.1:9229/local_abc',
        LOCAL_JWKS_URI: 'http://127.0.0.1:9229/local_abc/.well-known/jwks.json',
      }),
    );
    aws.cacheJwks(jwks);
    const ownToken = validToken({ iss: AWS_ISSUER });
    const localToken = validToken({ iss: 'http://127.0.0.1:9229/local_abc' });

    // Act
    const own = await aws.verify(ownToken);
    const error = await rejectionOf(aws.verify(localToken));

    // Assess
    expect(own.issuer).toBe(AWS_ISSUER);
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(tokenRejectionReason(error)).toBe('untrusted-issuer');
  });

  it('in aws mode refuses a foreign issuer before looking up its key (no JWKS fetch)', async () => {
    // Prepare: a kid the cache lacks; a fetch would end in a fetch or unknown-key error, not this one.
    const aws = tokenVerifierFromConfig(runtimeConfig({ MERIDIAN_MODE: 'aws', USER_POOL_ID: AWS_POOL }));
    const token = signJwt(
      header({ kid: 'CognitoLocal' }),
      accessClaims({ iss: 'http://127.0.0.1:9229/local_abc' }),
      privateKey,
    );

    // Act
    const error = await rejectionOf(aws.verify(token));

    // Assess
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(tokenRejectionReason(error)).toBe('untrusted-issuer');
  });

  it('in local mode trusts the local issuer and refuses the AWS pool issuer', async () => {
    // Prepare
    const local = tokenVerifierFromConfig(
      runtimeConfig({
        MERIDIAN_MODE: 'local',
        USER_POOL_ID: LOCAL_POOL,
        LOCAL_JWT_ISSUER: localIssuer,
        LOCAL_JWKS_URI: jwksUri,
      }),
    );
    local.cacheJwks(jwks);

    // Act
    const own = await local.verify(validToken());
    const error = await rejectionOf(local.verify(validToken({ iss: AWS_ISSUER })));

    // Assess
    expect(own.issuer).toBe(localIssuer);
    expect(tokenRejectionReason(error)).toBe('untrusted-issuer');
  });

  it('refuses a cognito-local pool id in aws mode at construction', () => {
    // Prepare
    const cfg = runtimeConfig({ MERIDIAN_MODE: 'aws', USER_POOL_ID: LOCAL_POOL });

    // Act
    const build = () => tokenVerifierFromConfig(cfg);

    // Assess
    expect(build).toThrow(ConfigError);
  });

  it('refuses local mode without the local issuer and JWKS URI', () => {
    // Prepare
    const cfg = runtimeConfig({ MERIDIAN_MODE: 'local', USER_POOL_ID: LOCAL_POOL });

    // Act
    const build = () => tokenVerifierFromConfig(cfg);

    // Assess
    expect(build).toThrow(ConfigError);
  });
});
