import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { EgressGuard } from '#adapters/egress-guard.ts';
import { adapters } from '#adapters/wiring/api.ts';
import { DomainError } from '#core/errors.ts';
import { emailDomain, type IdentityProvider } from '#core/identity/model.ts';
import { providerSecretName } from '#core/identity/providers.ts';
import { provisionSsoUser } from '#core/identity/provisioning.ts';
import { EgressAllowlist } from '#core/net/egress.ts';
import type { User } from '#core/tenancy/model.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { cognitoClient, passwordLogin, type Tokens } from './auth.ts';
import { asAws, asFunction } from './call-log.ts';
import { generatePassword } from './state.ts';

/**
 * The local platform as an OpenID relying party, standing in for Cognito's hosted login on AWS:
 * `GET /local/sso/start` sends the browser to the tenant's provider (authorization code + PKCE),
 * `GET /local/sso/callback` exchanges the code, verifies the ID token (signature, issuer, audience,
 * expiry, nonce), runs the same provisioning code as the Cognito trigger, and signs the user in to
 * cognito-local, so the tokens it returns are the platform's ordinary tokens.
 */

/** What the relying party needs of the local platform. */
export interface SsoContext {
  readonly apiUrl: string;
  readonly cognito: { readonly endpoint: string; readonly userPoolId: string; readonly clientId: string };
}

/** A problem answered to the browser (400/403/404), as problem+json. */
export class SsoError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Where to send the browser instead (a console sign-in's error redirect). */
    readonly location?: string,
  ) {
    super(message);
  }
}

/**
 * A console sign-in riding on an SSO sign-in (`GET /local/sso/authorize`): where to send the browser
 * back with a one-time code, and the console's own PKCE challenge and state.
 */
export interface ConsoleRequest {
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly state: string;
}

/** A one-time code handed to the console, redeemed at `POST /local/sso/token`. */
interface ConsoleCode {
  readonly request: ConsoleRequest;
  readonly tokens: Tokens;
  readonly until: number;
}

/** The console's OAuth answer, shaped like any token endpoint's (RFC 6749 §5.1). */
export interface ConsoleTokens {
  readonly access_token: string;
  readonly id_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string;
}

/** An OAuth error from the token endpoint (RFC 6749 §5.2): always 400, never a problem document. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_grant' | 'invalid_client' | 'unsupported_grant_type',
  ) {
    super(error);
  }
}

/** The console's client id at this relying party (public client: PKCE, no secret). */
export const CONSOLE_CLIENT_ID = 'console';
const CODE_MS = 60_000;
const MAX_CODES = 1_000;

interface Pending {
  readonly console?: ConsoleRequest;
  readonly tenantId: string;
  readonly providerId: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly until: number;
}

interface Discovery {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

/** Sign-ins started and not yet finished; bounded so that unfinished ones cannot pile up. */
const MAX_PENDING = 1_000;
const PENDING_MS = 10 * 60_000;

const guard = new EgressGuard();
const noAllowlist = new EgressAllowlist();

/**
 * Fetches from a provider: loopback http is the local OpenID provider; anything else must be https
 * to a public address (the address guard), since tenants choose these URLs.
 */
async function providerFetch(url: string, init?: RequestInit): Promise<Response> {
  const parsed = new URL(url);
  const loopback = parsed.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(parsed.hostname);
  if (!loopback) {
    guard.checkScheme(parsed, noAllowlist);
    await guard.addresses(parsed, noAllowlist, AbortSignal.timeout(5_000));
  }
  return fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(10_000) });
}

/** The library's own fetcher is https only; this one goes through {@link providerFetch}. */
const providerJwks: Fetcher = {
  fetch: async (uri: string) => {
    const response = await providerFetch(uri);
    if (response.status !== 200) throw new Error(`JWKS answered ${response.status}`);
    return response.arrayBuffer();
  },
};

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/** Seconds until the access token's `exp` (cognito-local's tokens are JWTs). */
function expiresIn(accessToken: string): number {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number') return Math.max(0, Math.floor(payload.exp - Date.now() / 1000));
  } catch {
    // Not a JWT: fall through to Cognito's default lifetime.
  }
  return 3600;
}

function consoleTokens(tokens: Tokens): ConsoleTokens {
  return {
    access_token: tokens.accessToken,
    id_token: tokens.idToken,
    token_type: 'Bearer',
    expires_in: expiresIn(tokens.accessToken),
    ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
  };
}

/** The relying party; one per platform process. */
export class LocalSso {
  private readonly pending = new Map<string, Pending>();
  private readonly discovery = new Map<string, Discovery>();
  private readonly codes = new Map<string, ConsoleCode>();
  /** The demo tenant: whose provider a console sign-in uses when it names neither email nor tenant. */
  defaultTenantId: string | undefined;

  constructor(private readonly ctx: SsoContext) {}

  get redirectUri(): string {
    return `${this.ctx.apiUrl}/local/sso/callback`;
  }

  private async discover(issuer: string): Promise<Discovery> {
    const known = this.discovery.get(issuer);
    if (known) return known;
    const response = await providerFetch(`${issuer}/.well-known/openid-configuration`);
    if (!response.ok)
      throw new SsoError(502, `The provider's discovery document answered ${response.status}.`);
    const doc = (await response.json()) as Partial<Discovery>;
    if (!doc.authorization_endpoint || !doc.token_endpoint || !doc.jwks_uri) {
      throw new SsoError(502, "The provider's discovery document lacks its endpoints.");
    }
    const found = doc as Discovery;
    this.discovery.set(issuer, found);
    return found;
  }

  /** The provider to use: by email domain (like the hosted login), or the tenant's (first) provider. */
  private async providerFor(
    query: URLSearchParams,
  ): Promise<{ tenantId: string; provider: IdentityProvider }> {
    const { providers } = adapters().identity;
    const email = query.get('email');
    let tenantId = query.get('tenant') ?? undefined;
    let providerId = query.get('provider') ?? undefined;
    if (email) {
      const claim = await providers.domainOwner(emailDomain(email));
      if (!claim) throw new SsoError(404, `No identity provider signs in ${emailDomain(email)}.`);
      tenantId = claim.tenantId;
      providerId = claim.providerId;
    }
    if (!tenantId || !/^t[a-z0-9]{16}$/.test(tenantId)) {
      throw new SsoError(400, 'Name the tenant (tenant=<tenantId>) or the email to sign in (email=...).');
    }
    if (providerId && !/^p[a-z0-9]{10}$/.test(providerId)) throw new SsoError(400, 'Not a provider id.');
    const provider = providerId
      ? await providers.get(tenantId, providerId)
      : (await providers.list(tenantId, { limit: 1 })).items[0];
    if (provider?.type !== 'oidc' || !provider.issuer) {
      throw new SsoError(404, 'This tenant has no OpenID Connect provider to sign in with.');
    }
    return { tenantId, provider };
  }

  /** `GET /local/sso/start`: the URL to send the browser to. */
  async start(query: URLSearchParams, consoleRequest?: ConsoleRequest): Promise<string> {
    const { tenantId, provider } = await this.providerFor(query);
    const discovery = await this.discover(provider.issuer ?? '');
    const now = Date.now();
    for (const [key, value] of this.pending) if (value.until <= now) this.pending.delete(key);
    if (this.pending.size >= MAX_PENDING)
      throw new SsoError(503, 'Too many sign-ins in progress; retry shortly.');
    const state = base64url(randomBytes(24));
    const pending: Pending = {
      ...(consoleRequest ? { console: consoleRequest } : {}),
      tenantId,
      providerId: provider.providerId,
      nonce: base64url(randomBytes(24)),
      verifier: base64url(randomBytes(32)),
      until: now + PENDING_MS,
    };
    this.pending.set(state, pending);
    const url = new URL(discovery.authorization_endpoint);
    const hint = query.get('login_hint') ?? query.get('email');
    url.search = new URLSearchParams({
      client_id: provider.clientId ?? '',
      response_type: 'code',
      scope: `openid email ${provider.groupsClaim === 'groups' ? 'groups' : ''}`.trim(),
      redirect_uri: this.redirectUri,
      state,
      nonce: pending.nonce,
      code_challenge: base64url(createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
      ...(hint ? { login_hint: hint } : {}),
    }).toString();
    return url.toString();
  }

  /** `GET /local/sso/callback`: the platform's tokens for the signed-in (and provisioned) user. */
  async callback(query: URLSearchParams, meta: { sourceIp: string; userAgent: string; requestId: string }) {
    const state = query.get('state') ?? '';
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (!pending || pending.until <= Date.now())
      throw new SsoError(400, 'Unknown or expired sign-in (state).');
    try {
      return await this.finish(pending, query, meta);
    } catch (error) {
      // The console shows the refusal itself (OAuth's error redirect), with the console's state.
      if (pending.console && error instanceof SsoError) {
        const back = new URL(pending.console.redirectUri);
        back.search = new URLSearchParams({
          error: error.status === 403 ? 'access_denied' : 'server_error',
          error_description: error.message,
          state: pending.console.state,
        }).toString();
        throw new SsoError(error.status, error.message, back.toString());
      }
      throw error;
    }
  }

  private async finish(
    pending: Pending,
    query: URLSearchParams,
    meta: { sourceIp: string; userAgent: string; requestId: string },
  ) {
    const error = query.get('error');
    if (error) throw new SsoError(403, `The provider refused the sign-in: ${error.slice(0, 200)}`);
    const code = query.get('code');
    if (!code) throw new SsoError(400, 'The provider returned no code.');
    const deps = adapters();
    const provider = await deps.identity.providers.get(pending.tenantId, pending.providerId);
    if (!provider?.issuer || !provider.clientId)
      throw new SsoError(404, 'The identity provider was deleted.');
    const secret = await deps.vault.get(pending.tenantId, providerSecretName(provider.providerId));
    const discovery = await this.discover(provider.issuer);
    const response = await providerFetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(
          `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(secret ?? '')}`,
        ).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.redirectUri,
        code_verifier: pending.verifier,
      }).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string };
    if (!response.ok || !body.id_token) {
      throw new SsoError(403, `The provider refused the code: ${body.error ?? response.status}`);
    }
    const verifier = JwtVerifier.create(
      {
        issuer: provider.issuer,
        audience: provider.clientId,
        jwksUri: discovery.jwks_uri,
        customJwtCheck: ({ header }) => {
          if (header.alg !== 'RS256') throw new Error(`alg ${String(header.alg)} is not allowed`);
        },
      },
      { jwksCache: new SimpleJwksCache({ fetcher: providerJwks }) },
    );
    let claims: Record<string, unknown>;
    try {
      claims = (await verifier.verify(body.id_token)) as Record<string, unknown>;
    } catch (cause) {
      throw new SsoError(403, `The ID token is not valid: ${(cause as Error).message}`);
    }
    if (claims.nonce !== pending.nonce)
      throw new SsoError(403, 'The ID token answers another sign-in (nonce).');
    const user = await this.provision(pending, claims, meta);
    // An erased person has no email left to sign in with (POST /users/{id}/erasure).
    if (!user.email) throw new SsoError(403, 'This user was erased.');
    const tokens = await this.signIn(user.email);
    return { user, tokens, console: pending.console };
  }

  /**
   * `GET /local/sso/authorize`: the console's authorization request (code + PKCE S256). The
   * redirect URI must be this platform's own `/console/` (the origin the browser used, or the
   * platform's URL), so a code never leaves for another site.
   */
  async authorize(query: URLSearchParams, requestOrigin: string | undefined): Promise<string> {
    if (query.get('response_type') !== 'code') throw new SsoError(400, 'response_type must be code.');
    if (query.get('client_id') !== CONSOLE_CLIENT_ID)
      throw new SsoError(400, `client_id must be ${CONSOLE_CLIENT_ID}.`);
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!this.isConsoleUrl(redirectUri, requestOrigin))
      throw new SsoError(400, "redirect_uri must be this platform's /console/ URL.");
    if (query.get('code_challenge_method') !== 'S256')
      throw new SsoError(400, 'code_challenge_method must be S256.');
    const codeChallenge = query.get('code_challenge') ?? '';
    // S256 of a verifier: 32 bytes as base64url, 43 characters.
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw new SsoError(400, 'code_challenge is not S256.');
    const state = query.get('state') ?? '';
    if (state.length < 8 || state.length > 512 || !/^[\x21-\x7e]+$/.test(state))
      throw new SsoError(400, 'state must be 8 to 512 printable characters.');
    const startQuery = new URLSearchParams();
    for (const name of ['email', 'login_hint', 'tenant', 'provider']) {
      const value = query.get(name);
      if (value) startQuery.set(name, value.slice(0, 320));
    }
    const hint = startQuery.get('login_hint');
    if (hint && !startQuery.has('email') && !startQuery.has('tenant') && hint.includes('@'))
      startQuery.set('email', hint);
    if (!startQuery.has('email') && !startQuery.has('tenant') && this.defaultTenantId)
      startQuery.set('tenant', this.defaultTenantId);
    return this.start(startQuery, { redirectUri, codeChallenge, state });
  }

  private isConsoleUrl(value: string, requestOrigin: string | undefined): boolean {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return false;
    }
    const origins = [new URL(this.ctx.apiUrl).origin, ...(requestOrigin ? [requestOrigin] : [])];
    return (
      origins.includes(url.origin) &&
      url.pathname === '/console/' &&
      url.search === '' &&
      url.hash === '' &&
      url.username === '' &&
      url.password === ''
    );
  }

  /** The console's return address with a fresh one-time code (random, 60 s, single use). */
  issueConsoleCode(request: ConsoleRequest, tokens: Tokens): string {
    const now = Date.now();
    for (const [key, value] of this.codes) if (value.until <= now) this.codes.delete(key);
    if (this.codes.size >= MAX_CODES)
      throw new SsoError(503, 'Too many sign-ins in progress; retry shortly.');
    const code = base64url(randomBytes(32));
    this.codes.set(code, { request, tokens, until: now + CODE_MS });
    const url = new URL(request.redirectUri);
    url.search = new URLSearchParams({ code, state: request.state }).toString();
    return url.toString();
  }

  /** `POST /local/sso/token`: the code (with its PKCE verifier), or a refresh token, for tokens. */
  async token(form: URLSearchParams): Promise<ConsoleTokens> {
    if (form.get('client_id') !== CONSOLE_CLIENT_ID) throw new OAuthError('invalid_client');
    const grantType = form.get('grant_type');
    if (grantType === 'refresh_token') return this.refresh(form.get('refresh_token') ?? '');
    if (grantType !== 'authorization_code') throw new OAuthError('unsupported_grant_type');
    const code = form.get('code') ?? '';
    const verifier = form.get('code_verifier') ?? '';
    if (!code || !verifier) throw new OAuthError('invalid_request');
    const found = this.codes.get(code);
    // Single use: a code is spent by its first redemption, right or wrong.
    this.codes.delete(code);
    if (!found || found.until <= Date.now()) throw new OAuthError('invalid_grant');
    if (form.get('redirect_uri') !== found.request.redirectUri) throw new OAuthError('invalid_grant');
    const challenge = Buffer.from(base64url(createHash('sha256').update(verifier).digest()));
    const expected = Buffer.from(found.request.codeChallenge);
    if (challenge.length !== expected.length || !timingSafeEqual(challenge, expected))
      throw new OAuthError('invalid_grant');
    return consoleTokens(found.tokens);
  }

  private async refresh(refreshToken: string): Promise<ConsoleTokens> {
    if (!refreshToken || refreshToken.length > 8_192) throw new OAuthError('invalid_request');
    const client = cognitoClient(this.ctx.cognito.endpoint);
    try {
      const output = await client.send(
        new InitiateAuthCommand({
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: this.ctx.cognito.clientId,
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      );
      const result = output.AuthenticationResult;
      if (!result?.AccessToken || !result.IdToken) throw new OAuthError('invalid_grant');
      return consoleTokens({ accessToken: result.AccessToken, idToken: result.IdToken });
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      // cognito-local refuses an unknown, revoked or expired refresh token.
      throw new OAuthError('invalid_grant');
    } finally {
      client.destroy();
    }
  }

  private async provision(
    pending: Pending,
    claims: Record<string, unknown>,
    meta: { sourceIp: string; userAgent: string; requestId: string },
  ): Promise<User> {
    const deps = adapters();
    try {
      return await asFunction('ssoTrigger', provisionSsoUser)(
        { providers: deps.identity.providers, store: deps.store },
        {
          tenantId: pending.tenantId,
          providerId: pending.providerId,
          claims,
          meta: { ...meta, now: new Date().toISOString() },
          login: async (email) => ({
            ...(await asAws(() => this.ensureLogin(email, pending.tenantId))),
            username: email,
          }),
        },
      );
    } catch (error) {
      if (error instanceof DomainError) throw new SsoError(403, error.message);
      throw error;
    }
  }

  /**
   * The user's cognito-local login, made without an invitation when missing: on AWS Cognito makes
   * the federated user itself. Its password is random and never shown: nobody signs in with it.
   */
  private async ensureLogin(email: string, tenantId: string): Promise<{ sub: string }> {
    const client = cognitoClient(this.ctx.cognito.endpoint);
    const UserPoolId = this.ctx.cognito.userPoolId;
    try {
      const sub = (attrs: { Name?: string; Value?: string }[] | undefined) =>
        attrs?.find((a) => a.Name === 'sub')?.Value;
      try {
        const found = await client.send(new AdminGetUserCommand({ UserPoolId, Username: email }));
        const tenant = found.UserAttributes?.find((a) => a.Name === IDENTITY_SCHEMA.tenantClaim)?.Value;
        if (tenant !== tenantId) throw new SsoError(403, 'This email has a login elsewhere.');
        const id = sub(found.UserAttributes);
        if (!id) throw new Error('cognito-local returned a user without a sub');
        return { sub: id };
      } catch (error) {
        if (!(error instanceof UserNotFoundException)) throw error;
      }
      const created = await client.send(
        new AdminCreateUserCommand({
          UserPoolId,
          Username: email,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: IDENTITY_SCHEMA.tenantClaim, Value: tenantId },
          ],
        }),
      );
      const id = sub(created.User?.Attributes);
      if (!id) throw new Error('cognito-local returned a user without a sub');
      return { sub: id };
    } finally {
      client.destroy();
    }
  }

  /** Tokens for the login, the way local password sign-in makes them (a fresh random password each time). */
  private async signIn(email: string): Promise<Tokens> {
    const password = generatePassword();
    const client = cognitoClient(this.ctx.cognito.endpoint);
    try {
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: this.ctx.cognito.userPoolId,
          Username: email,
          Password: password,
          Permanent: true,
        }),
      );
    } finally {
      client.destroy();
    }
    return passwordLogin(this.ctx.cognito, email, password);
  }
}
