import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package) on a loopback port, standing in for a
 * tenant's corporate IdP on the local platform: authorization code flow, signed ID tokens, a
 * `groups` claim. Sign-in needs no password: the interaction logs in the account named by
 * `login_hint` (or offers a button per account), since this provider only ever serves a developer's
 * own machine.
 */

/** One person at the local provider. */
export interface LocalIdpAccount {
  readonly email: string;
  /** Mutable, so a test can change someone's groups between two sign-ins. */
  groups: string[];
}

/** The relying party the provider accepts (the local platform's `/local/sso/callback`). */
export interface LocalIdpClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
}

/** A running local OpenID provider. */
export interface LocalIdp {
  readonly issuer: string;
  readonly accounts: Map<string, LocalIdpAccount>;
  stop(): Promise<void>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Starts the provider on 127.0.0.1:`port` (0: a free port). */
export async function startLocalIdp(options: {
  readonly port?: number;
  readonly accounts: readonly LocalIdpAccount[];
  readonly clients: readonly LocalIdpClient[];
}): Promise<LocalIdp> {
  const accounts = new Map(
    options.accounts.map((a) => [a.email.toLowerCase(), { ...a, groups: [...a.groups] }]),
  );
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [...c.redirectUris],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'local', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    scopes: ['openid', 'email', 'groups'],
    // Scope claims in the ID token itself: the relying party reads only the ID token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, email: account.email, email_verified: true, groups: [...account.groups] }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      IdToken: 300,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
  };
  const provider = new Provider(issuer, configuration);

  /** Logs in the chosen account and grants what was asked (no consent screen: the user is the developer). */
  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const url = new URL(req.url ?? '/', issuer);
    const hint = url.searchParams.get('account') ?? String(details.params.login_hint ?? '');
    const account = accounts.get(hint.toLowerCase());
    if (!account) {
      const buttons = [...accounts.keys()]
        .map((id) => `<li><a href="?account=${encodeURIComponent(id)}">${escapeHtml(id)}</a></li>`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      // A real page in a browser (the console's SSO button lands here): a language and a main landmark.
      res.end(
        `<!doctype html><html lang="en"><title>Local IdP</title><main><h1>Sign in as</h1><ul>${buttons}</ul></main></html>`,
      );
      return;
    }
    const clientId = String(details.params.client_id);
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: hint, clientId }))
      : new provider.Grant({ accountId: hint.toLowerCase(), clientId });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: hint.toLowerCase() }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  };

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`Interaction failed: ${(error as Error).message}`);
      });
      return;
    }
    callback(req, res);
  });
  return {
    issuer,
    accounts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
