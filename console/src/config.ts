/**
 * What the console needs to know about where it runs, read at start from `config.json` next to
 * index.html: written by the local platform, or by the CDK stack into the console bucket. Nothing
 * here is secret (a public app client has no secret).
 */

/** An OAuth 2.0 authorization server the console signs in through (authorization code + PKCE). */
export interface OAuthProvider {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  /** RFC 7009 revocation endpoint (Cognito: `/oauth2/revoke`). */
  readonly revokeUrl?: string;
  /** Where sign-out ends the provider's own session; the console adds `client_id` and `logout_uri`. */
  readonly logoutUrl?: string;
  readonly scopes?: readonly string[];
}

export interface ConsoleConfig {
  /** The API's base URL; empty means the console's own origin (local platform). */
  readonly apiUrl: string;
  /** Local platform: password sign-in against cognito-local's InitiateAuth. */
  readonly passwordSignIn?: { readonly cognitoEndpoint: string; readonly clientId: string };
  /** AWS: Cognito's hosted login. */
  readonly hostedLogin?: OAuthProvider;
  /** Single sign-on through an OpenID provider, shown only when the platform configures one. */
  readonly sso?: OAuthProvider & { readonly label?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function provider(value: unknown): OAuthProvider | undefined {
  if (!isRecord(value)) return undefined;
  const { authorizeUrl, tokenUrl, clientId, revokeUrl, logoutUrl, scopes } = value;
  if (typeof authorizeUrl !== 'string' || typeof tokenUrl !== 'string' || typeof clientId !== 'string') {
    return undefined;
  }
  return {
    authorizeUrl,
    tokenUrl,
    clientId,
    ...(typeof revokeUrl === 'string' ? { revokeUrl } : {}),
    ...(typeof logoutUrl === 'string' ? { logoutUrl } : {}),
    ...(Array.isArray(scopes) ? { scopes: scopes.filter((s): s is string => typeof s === 'string') } : {}),
  };
}

/** Parses config.json; unknown fields are ignored, a malformed file is an error shown to the user. */
export function parseConfig(value: unknown): ConsoleConfig {
  if (!isRecord(value)) throw new Error('config.json is not an object');
  const apiUrl = typeof value.apiUrl === 'string' ? value.apiUrl.replace(/\/+$/, '') : '';
  const password = value.passwordSignIn;
  const passwordSignIn =
    isRecord(password) &&
    typeof password.cognitoEndpoint === 'string' &&
    typeof password.clientId === 'string'
      ? { cognitoEndpoint: password.cognitoEndpoint, clientId: password.clientId }
      : undefined;
  const hostedLogin = provider(value.hostedLogin);
  const ssoProvider = provider(value.sso);
  const label = isRecord(value.sso) && typeof value.sso.label === 'string' ? value.sso.label : undefined;
  if (!passwordSignIn && !hostedLogin && !ssoProvider) throw new Error('config.json names no way to sign in');
  return {
    apiUrl,
    ...(passwordSignIn ? { passwordSignIn } : {}),
    ...(hostedLogin ? { hostedLogin } : {}),
    ...(ssoProvider ? { sso: { ...ssoProvider, ...(label ? { label } : {}) } } : {}),
  };
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
