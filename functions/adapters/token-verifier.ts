/**
 * Verifies Cognito access tokens (the `Authorization: Bearer` credential of users) with aws-jwt-verify.
 *
 * - `aws` mode trusts only the stack's own user pool: `CognitoJwtVerifier` derives issuer and JWKS URI
 *   from the pool id, so a stage can never be pointed at another issuer, cognito-local included
 *   (its signing key ships in the npm package: anyone can mint tokens it would accept).
 * - `local` mode trusts cognito-local: `JwtVerifier` with its issuer and JWKS URI (plain http), and
 *   the Cognito claims (`token_use`, `client_id`) checked here, since that verifier knows nothing of them.
 *
 * Build one verifier per process (the authorizer does it at module scope) so the JWKS and the parsed
 * public keys are cached across invocations: a warm `verify` is one RSA signature check and no I/O.
 */
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { type Jwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { TokenExpiredError, TransientError, UnauthenticatedError } from '#core/errors.ts';
import { ConfigError, type RuntimeConfig } from '#shared/config.ts';

/** The claims of a verified Cognito access token that Meridian uses. */
export interface VerifiedToken {
  /** The user's immutable Cognito id. */
  sub: string;
  /** The Cognito user name (`username` claim of access tokens). */
  username: string;
  /** The app client the token was issued to (`client_id`). */
  clientId: string;
  /** The `cognito:groups` claim; empty when the user is in no group. */
  groups: readonly string[];
  tokenUse: 'access';
  /** The `iss` claim: the user pool (or cognito-local pool) that issued the token. */
  issuer: string;
  /** The `exp` claim, in seconds since the epoch. */
  expiresAt: number;
}

/** Port: turns a bearer token into verified claims. */
export interface TokenVerifier {
  /**
   * Verifies signature, algorithm, key, issuer, expiry, not-before, token use and client id.
   * @throws {UnauthenticatedError} on every failure, with a generic message (safe to show) and the
   *   library's error as `cause` (for logs; see {@link tokenRejectionReason}).
   */
  verify(token: string): Promise<VerifiedToken>;
}

/** A {@link TokenVerifier} backed by a JWKS cache that can be warmed or pre-loaded. */
export interface CachingTokenVerifier extends TokenVerifier {
  /**
   * Fetches the JWKS into the cache (cold-start warm-up), so the first `verify` does no I/O.
   * @throws {TransientError} when the JWKS cannot be fetched; `verify` would fetch it again later.
   */
  hydrate(): Promise<void>;
  /** Loads a JWKS into the cache without any HTTP (tests, or a JWKS bundled with the code). */
  cacheJwks(jwks: Jwks): void;
}

/** How to build a verifier: a real Cognito user pool, or cognito-local's issuer and JWKS. */
export type TokenVerifierOptions =
  | {
      readonly mode: 'aws';
      /** The stack's user pool id, e.g. `us-east-1_AbCdEfGhI`; issuer and JWKS URI derive from it. */
      readonly userPoolId: string;
      /** The only app client whose access tokens are accepted. */
      readonly clientId: string;
    }
  | {
      readonly mode: 'local';
      /** cognito-local's issuer, `http://HOST:PORT/<poolId>`. */
      readonly issuer: string;
      /** cognito-local's JWKS, `http://HOST:PORT/<poolId>/.well-known/jwks.json` (not from discovery: it is wrong). */
      readonly jwksUri: string;
      /** The only app client whose access tokens are accepted. */
      readonly clientId: string;
    };

/** Why a token was refused: a short, stable code for logs and the authorizer's `reason`. */
export type TokenRejectionReason =
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'bad-algorithm'
  | 'unknown-key'
  | 'untrusted-issuer'
  | 'wrong-client'
  | 'wrong-token-use'
  | 'bad-claims'
  | 'jwks-unavailable'
  | 'invalid';

/** The one message callers see, whatever failed: which check failed helps an attacker, not a user. */
const REJECTED = 'Missing, invalid or expired access token';

/** Cognito signs with RS256 only; anything else is refused even if the library supports it. */
const ALGORITHM = 'RS256';

/** Far above any Cognito access token (API Gateway caps headers at 10 KB); bounds JSON parsing work. */
const MAX_TOKEN_LENGTH = 16_384;

/** Response time-out of the local JWKS fetch, as the library's default fetcher. */
const JWKS_FETCH_TIMEOUT_MS = 3_000;

const NO_GROUPS: readonly string[] = Object.freeze([]);

/** A verified token whose claims Meridian cannot use (missing `username`, no `exp`, ...). */
class TokenClaimsError extends Error {
  override readonly name = 'TokenClaimsError';
}

/** What both library verifiers offer once every expected value is fixed at creation. */
interface LibraryVerifier {
  verify(token: string): Promise<JwtPayload>;
  hydrate(): Promise<void>;
  cacheJwks(jwks: Jwks): void;
}

/**
 * Fetches the JWKS over http or https. The library's default fetcher uses `node:https` and fails
 * with `TypeError: Protocol "http:" not supported` on cognito-local's plain-http JWKS; this one is
 * only ever given to the local verifier, so a deployed stage still fetches over https only.
 */
class LocalJwksFetcher implements Fetcher {
  async fetch(uri: string): Promise<ArrayBuffer> {
    let response: Response;
    try {
      response = await fetch(uri, { redirect: 'error', signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new FetchError(uri, error instanceof Error ? error.message : String(error));
    }
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  }
}

function assertAlgorithm(header: JwtHeader): void {
  if (header.alg !== ALGORITHM) {
    throw new JwtInvalidSignatureAlgorithmError('JWT signature algorithm not allowed', header.alg, ALGORITHM);
  }
}

/** Runs after signature, expiry, not-before and issuer checks passed. */
function awsCheck({ header }: { header: JwtHeader }): void {
  assertAlgorithm(header);
}

/**
 * cognito-local access tokens carry `client_id` and no `aud`, and `JwtVerifier` checks neither
 * `token_use` nor `client_id`: without this an id token, or another client's token, would pass.
 */
function localCheck(clientId: string): (props: { header: JwtHeader; payload: JwtPayload }) => void {
  return ({ header, payload }) => {
    assertAlgorithm(header);
    if (payload.token_use !== 'access') {
      throw new CognitoJwtInvalidTokenUseError('Token use not allowed', payload.token_use, 'access');
    }
    if (payload.client_id !== clientId) {
      throw new CognitoJwtInvalidClientIdError('Client ID not allowed', payload.client_id, clientId);
    }
  };
}

function createLibraryVerifier(options: TokenVerifierOptions): LibraryVerifier {
  if (options.mode === 'aws') {
    try {
      return CognitoJwtVerifier.create({
        userPoolId: options.userPoolId,
        tokenUse: 'access',
        clientId: options.clientId,
        customJwtCheck: awsCheck,
      });
    } catch (error) {
      // Pool id shape is checked here, at cold start, not on the first request.
      throw new ConfigError(
        `Invalid Cognito user pool id "${options.userPoolId}": expected <region>_<id> such as us-east-1_AbCdEfGhI ` +
          '(a cognito-local pool needs MERIDIAN_MODE=local)',
        { cause: error },
      );
    }
  }
  const protocol = URL.canParse(options.jwksUri) ? new URL(options.jwksUri).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError(`Invalid JWKS URI "${options.jwksUri}": expected an http(s) URL`);
  }
  return JwtVerifier.create(
    {
      issuer: options.issuer,
      jwksUri: options.jwksUri,
      // Access tokens have no `aud`; the client is checked on `client_id` in localCheck.
      audience: null,
      customJwtCheck: localCheck(options.clientId),
    },
    { jwksCache: new SimpleJwksCache({ fetcher: new LocalJwksFetcher() }) },
  );
}

function rejectClaim(name: string): never {
  throw new UnauthenticatedError(REJECTED, {
    cause: new TokenClaimsError(`Access token claim "${name}" is missing or malformed`),
  });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Reads the claims Meridian needs from a payload whose signature and standard claims were verified. */
function toVerifiedToken(payload: JwtPayload): VerifiedToken {
  const { sub, username, client_id: clientId, iss: issuer, exp: expiresAt } = payload;
  const groups = payload['cognito:groups'] ?? NO_GROUPS;
  if (typeof sub !== 'string' || sub === '') return rejectClaim('sub');
  if (typeof username !== 'string' || username === '') return rejectClaim('username');
  if (typeof clientId !== 'string') return rejectClaim('client_id');
  if (typeof issuer !== 'string') return rejectClaim('iss');
  // The library checks `exp` only when present: a token without one would never expire.
  if (typeof expiresAt !== 'number') return rejectClaim('exp');
  if (!isStringArray(groups)) return rejectClaim('cognito:groups');
  return Object.freeze({
    sub,
    username,
    clientId,
    groups: Object.isFrozen(groups) ? groups : Object.freeze(groups),
    tokenUse: 'access',
    issuer,
    expiresAt,
  });
}

/**
 * Builds a verifier for access tokens of one app client. Create it once per process and reuse it:
 * its JWKS cache (refetched on an unknown `kid`, at most once per 10 s) lives in the instance.
 * @throws {ConfigError} when the user pool id or JWKS URI cannot be right.
 */
export function createTokenVerifier(options: TokenVerifierOptions): CachingTokenVerifier {
  const library = createLibraryVerifier(options);
  return {
    async verify(token: string): Promise<VerifiedToken> {
      let payload: JwtPayload;
      try {
        if (token.length > MAX_TOKEN_LENGTH) throw new JwtParseError('JWT longer than allowed');
        // No per-call properties: they would override (and could relax) the ones fixed at creation.
        payload = await library.verify(token);
      } catch (error) {
        // Expiry is told apart so the API can say so (WWW-Authenticate); the message stays generic.
        if (error instanceof JwtExpiredError) throw new TokenExpiredError(REJECTED, { cause: error });
        throw new UnauthenticatedError(REJECTED, { cause: error });
      }
      return toVerifiedToken(payload);
    },
    async hydrate(): Promise<void> {
      try {
        await library.hydrate();
      } catch (error) {
        throw new TransientError('The token signing keys could not be loaded', { cause: error });
      }
    },
    cacheJwks(jwks: Jwks): void {
      library.cacheJwks(jwks);
    },
  };
}

/** The configuration values the verifier reads (a {@link RuntimeConfig} fits). */
export type TokenVerifierConfig = Pick<
  RuntimeConfig,
  'MERIDIAN_MODE' | 'USER_POOL_ID' | 'USER_POOL_CLIENT_ID' | 'LOCAL_JWT_ISSUER' | 'LOCAL_JWKS_URI'
>;

/**
 * Builds the verifier the configuration asks for: `aws` trusts only `USER_POOL_ID` (never the local
 * issuer, whatever `LOCAL_*` says); `local` trusts `LOCAL_JWT_ISSUER` with keys from `LOCAL_JWKS_URI`.
 * Both accept only `USER_POOL_CLIENT_ID`'s access tokens.
 * @throws {ConfigError} when a value the mode needs is missing or malformed.
 */
export function tokenVerifierFromConfig(cfg: TokenVerifierConfig): CachingTokenVerifier {
  if (cfg.MERIDIAN_MODE === 'aws') {
    return createTokenVerifier({
      mode: 'aws',
      userPoolId: cfg.USER_POOL_ID,
      clientId: cfg.USER_POOL_CLIENT_ID,
    });
  }
  const { LOCAL_JWT_ISSUER: issuer, LOCAL_JWKS_URI: jwksUri } = cfg;
  if (!issuer || !jwksUri) {
    throw new ConfigError('LOCAL_JWT_ISSUER and LOCAL_JWKS_URI are required in local mode');
  }
  return createTokenVerifier({ mode: 'local', issuer, jwksUri, clientId: cfg.USER_POOL_CLIENT_ID });
}

/**
 * Why `verify` refused a token, from the error it threw. Maps the library's error classes by
 * `instanceof`, so it survives minification (which renames classes: `cause.constructor.name` does not).
 * @returns `undefined` when `error` is not an {@link UnauthenticatedError}.
 */
export function tokenRejectionReason(error: unknown): TokenRejectionReason | undefined {
  if (!(error instanceof UnauthenticatedError)) return undefined;
  const cause = error.cause;
  if (cause instanceof JwtParseError) return 'malformed';
  if (cause instanceof JwtExpiredError) return 'expired';
  if (cause instanceof JwtNotBeforeError) return 'not-yet-valid';
  if (cause instanceof JwtInvalidSignatureError) return 'bad-signature';
  if (cause instanceof JwtInvalidSignatureAlgorithmError) return 'bad-algorithm';
  if (
    cause instanceof KidNotFoundInJwksError ||
    cause instanceof JwtWithoutValidKidError ||
    cause instanceof WaitPeriodNotYetEndedJwkError
  ) {
    return 'unknown-key';
  }
  // A CognitoJwtVerifier knows two issuers (regional and global format) and refuses any other
  // `iss` with ParameterValidationError ("issuer not configured"), before fetching any key.
  if (cause instanceof JwtInvalidIssuerError || cause instanceof ParameterValidationError) {
    return 'untrusted-issuer';
  }
  if (cause instanceof CognitoJwtInvalidClientIdError || cause instanceof JwtInvalidAudienceError) {
    return 'wrong-client';
  }
  if (cause instanceof CognitoJwtInvalidTokenUseError) return 'wrong-token-use';
  if (cause instanceof TokenClaimsError) return 'bad-claims';
  if (
    cause instanceof FetchError ||
    cause instanceof JwksValidationError ||
    cause instanceof JwkValidationError ||
    cause instanceof JwkInvalidUseError ||
    cause instanceof JwkInvalidKtyError
  ) {
    return 'jwks-unavailable';
  }
  return 'invalid';
}
