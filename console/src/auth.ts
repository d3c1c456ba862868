import type { ConsoleConfig, OAuthProvider } from './config.ts';

/**
 * Sign-in, refresh and sign-out. Tokens live in this module's memory only (never localStorage or
 * cookies): a reload signs in again, which Cognito's hosted login does without a prompt while its
 * own session lasts. Only the PKCE verifier and state survive the redirect, in sessionStorage, and
 * are deleted on return.
 */

export interface Tokens {
  readonly accessToken: string;
  readonly idToken?: string;
  readonly refreshToken?: string;
  /** Epoch ms when the access token expires. */
  readonly expiresAt: number;
}

/** How the current session was obtained, so refresh and sign-out use the same server. */
type Origin = { kind: 'password' } | { kind: 'oauth'; provider: OAuthProvider };

let tokens: Tokens | undefined;
let origin: Origin | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<Tokens | undefined> | undefined;
const listeners = new Set<() => void>();

export function currentTokens(): Tokens | undefined {
  return tokens;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Refresh a minute before expiry (the API would refuse the token after). */
const REFRESH_MARGIN_MS = 60_000;

function setSession(next: Tokens | undefined, how?: Origin): void {
  tokens = next;
  if (how) origin = how;
  if (!next) origin = undefined;
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = undefined;
  if (next?.refreshToken) {
    const delay = Math.max(5_000, next.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    refreshTimer = setTimeout(() => void refresh(), delay);
  }
  for (const listener of listeners) listener();
}

/** The `exp` claim of a JWT, as epoch ms; undefined when the token is not a readable JWT. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof json === 'object' && json !== null && 'exp' in json && typeof json.exp === 'number') {
      return json.exp * 1000;
    }
  } catch {
    // Not a JWT: fall back to the lifetime the server announced.
  }
  return undefined;
}

function expiryOf(accessToken: string, expiresInSeconds: unknown): number {
  if (typeof expiresInSeconds === 'number') return Date.now() + expiresInSeconds * 1000;
  return jwtExpiry(accessToken) ?? Date.now() + 3_600_000;
}

/** A Cognito API error, with the message Cognito gives (e.g. "Incorrect username or password."). */
export class SignInError extends Error {}

async function cognitoCall(
  endpoint: string,
  target: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const message = typeof json.message === 'string' ? json.message : `HTTP ${response.status}`;
    throw new SignInError(message);
  }
  return json;
}

function tokensFromCognito(json: Record<string, unknown>, previousRefresh?: string): Tokens {
  const result = json.AuthenticationResult as Record<string, unknown> | undefined;
  if (!result || typeof result.AccessToken !== 'string') {
    const challenge = typeof json.ChallengeName === 'string' ? json.ChallengeName : 'none';
    throw new SignInError(`Sign-in needs a step the console does not support here (${challenge}).`);
  }
  const refreshToken = typeof result.RefreshToken === 'string' ? result.RefreshToken : previousRefresh;
  return {
    accessToken: result.AccessToken,
    ...(typeof result.IdToken === 'string' ? { idToken: result.IdToken } : {}),
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt: expiryOf(result.AccessToken, result.ExpiresIn),
  };
}

/** Local platform: USER_PASSWORD_AUTH against cognito-local, as bin/token.ts does. */
export async function passwordSignIn(
  config: ConsoleConfig,
  username: string,
  password: string,
): Promise<void> {
  const local = config.passwordSignIn;
  if (!local) throw new SignInError('Password sign-in is not available here.');
  const json = await cognitoCall(local.cognitoEndpoint, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: local.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  setSession(tokensFromCognito(json), { kind: 'password' });
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The console's own address without hash or query: the redirect and logout URI. */
export function consoleUrl(): string {
  const url = new URL(window.location.href);
  return `${url.origin}${url.pathname}`;
}

const PKCE_KEY = 'meridian.pkce';

/** Starts the authorization code flow with PKCE (S256) at `provider`; the page leaves. */
export async function startOAuth(provider: OAuthProvider, kind: 'hosted' | 'sso'): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, kind, returnTo: window.location.hash }));
  // Relative URLs (the local platform's own /local/sso/...) resolve against the console's address.
  const url = new URL(provider.authorizeUrl, window.location.href);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', provider.clientId);
  url.searchParams.set('redirect_uri', consoleUrl());
  url.searchParams.set('scope', (provider.scopes ?? ['openid', 'email', 'profile']).join(' '));
  url.searchParams.set('code_challenge', base64url(digest));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  window.location.assign(url.toString());
}

async function tokenRequest(provider: OAuthProvider, form: Record<string, string>): Promise<Tokens> {
  const response = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: provider.clientId, ...form }).toString(),
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof json.access_token !== 'string') {
    const reason = typeof json.error === 'string' ? json.error : `HTTP ${response.status}`;
    throw new SignInError(`The sign-in server refused the request (${reason}).`);
  }
  return {
    accessToken: json.access_token,
    ...(typeof json.id_token === 'string' ? { idToken: json.id_token } : {}),
    ...(typeof json.refresh_token === 'string'
      ? { refreshToken: json.refresh_token }
      : form.refresh_token
        ? { refreshToken: form.refresh_token }
        : {}),
    expiresAt: expiryOf(json.access_token, json.expires_in),
  };
}

/**
 * Completes a redirect back from the authorization server (`?code=&state=`): checks the state,
 * exchanges the code with the verifier, and removes both from the URL and sessionStorage. Returns
 * the hash route to go back to, or undefined when this page load is not a return.
 */
export async function completeOAuth(config: ConsoleConfig): Promise<string | undefined> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return undefined;
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  window.history.replaceState(null, '', consoleUrl());
  if (error) throw new SignInError(`Sign-in was refused: ${params.get('error_description') ?? error}`);
  const pending = saved
    ? (JSON.parse(saved) as { verifier: string; state: string; kind: 'hosted' | 'sso'; returnTo: string })
    : undefined;
  if (!pending || pending.state !== params.get('state')) {
    throw new SignInError('The sign-in response does not match a sign-in started here; sign in again.');
  }
  const provider = pending.kind === 'sso' ? config.sso : config.hostedLogin;
  if (!provider) throw new SignInError('This sign-in method is no longer configured.');
  const next = await tokenRequest(provider, {
    grant_type: 'authorization_code',
    code: code ?? '',
    redirect_uri: consoleUrl(),
    code_verifier: pending.verifier,
  });
  setSession(next, { kind: 'oauth', provider });
  return pending.returnTo;
}

let configRef: ConsoleConfig | undefined;

/** Remembers the configuration for refresh (called once at start). */
export function useConfig(config: ConsoleConfig): void {
  configRef = config;
}

/** Exchanges the refresh token for a new access token; signs out when that is refused. */
export function refresh(): Promise<Tokens | undefined> {
  refreshing ??= (async () => {
    const current = tokens;
    const how = origin;
    if (!current?.refreshToken || !how) return current;
    try {
      let next: Tokens;
      if (how.kind === 'password') {
        const local = configRef?.passwordSignIn;
        if (!local) return current;
        const json = await cognitoCall(local.cognitoEndpoint, 'InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: local.clientId,
          AuthParameters: { REFRESH_TOKEN: current.refreshToken },
        });
        next = tokensFromCognito(json, current.refreshToken);
      } else {
        next = await tokenRequest(how.provider, {
          grant_type: 'refresh_token',
          refresh_token: current.refreshToken,
        });
      }
      setSession(next, how);
      return next;
    } catch {
      setSession(undefined);
      return undefined;
    }
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/**
 * Ends the session: revokes the refresh token (so a copy of it is useless), forgets the tokens and,
 * for hosted login, ends the provider's session through its logout endpoint.
 */
export async function signOut(): Promise<void> {
  const current = tokens;
  const how = origin;
  setSession(undefined);
  if (!current?.refreshToken || !how) return;
  try {
    if (how.kind === 'password' && configRef?.passwordSignIn) {
      await cognitoCall(configRef.passwordSignIn.cognitoEndpoint, 'RevokeToken', {
        Token: current.refreshToken,
        ClientId: configRef.passwordSignIn.clientId,
      });
    } else if (how.kind === 'oauth' && how.provider.revokeUrl) {
      await fetch(how.provider.revokeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: current.refreshToken,
          client_id: how.provider.clientId,
        }).toString(),
      });
    }
  } catch {
    // The tokens are gone from memory either way; revocation is defence in depth.
  }
  if (how.kind === 'oauth' && how.provider.logoutUrl) {
    const url = new URL(how.provider.logoutUrl, window.location.href);
    url.searchParams.set('client_id', how.provider.clientId);
    url.searchParams.set('logout_uri', consoleUrl());
    window.location.assign(url.toString());
  }
}
