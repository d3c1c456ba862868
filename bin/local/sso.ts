import { createHash, randomBytes } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { adapters } from '#adapters/container.ts';
import { EgressGuard } from '#adapters/egress-guard.ts';
import { DomainError } from '#core/errors.ts';
import { emailDomain, type IdentityProvider } from '#core/identity/model.ts';
import { providerSecretName } from '#core/identity/providers.ts';
import { provisionSsoUser } from '#core/identity/provisioning.ts';
import { EgressAllowlist } from '#core/net/egress.ts';
import type { User } from '#core/tenancy/model.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { cognitoClient, passwordLogin, type Tokens } from './auth.ts';
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
  ) {
    super(message);
  }
}

interface Pending {
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

/** The relying party; one per platform process. */
export class LocalSso {
  private readonly pending = new Map<string, Pending>();
  private readonly discovery = new Map<string, Discovery>();

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
  async start(query: URLSearchParams): Promise<string> {
    const { tenantId, provider } = await this.providerFor(query);
    const discovery = await this.discover(provider.issuer ?? '');
    const now = Date.now();
    for (const [key, value] of this.pending) if (value.until <= now) this.pending.delete(key);
    if (this.pending.size >= MAX_PENDING)
      throw new SsoError(503, 'Too many sign-ins in progress; retry shortly.');
    const state = base64url(randomBytes(24));
    const pending: Pending = {
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
    return { user, tokens };
  }

  private async provision(
    pending: Pending,
    claims: Record<string, unknown>,
    meta: { sourceIp: string; userAgent: string; requestId: string },
  ): Promise<User> {
    const deps = adapters();
    try {
      return await provisionSsoUser(
        { providers: deps.identity.providers, store: deps.store },
        {
          tenantId: pending.tenantId,
          providerId: pending.providerId,
          claims,
          meta: { ...meta, now: new Date().toISOString() },
          login: (email) => this.ensureLogin(email, pending.tenantId),
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
