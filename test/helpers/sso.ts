/**
 * Drives a browser's part of the local single sign-on: follows the redirects from
 * `/local/sso/start` through the OpenID provider (keeping its cookies, as a browser would) back to
 * `/local/sso/callback`, and returns the callback's answer.
 */
export interface SsoAnswer {
  readonly status: number;
  /** The last URL requested (the callback, when the provider sent the browser back). */
  readonly lastUrl: string;
  readonly body: {
    readonly accessToken?: string;
    readonly idToken?: string;
    readonly user?: { userId: string; tenantId: string; email: string; roles: string[] };
    readonly detail?: string;
  };
}

export async function ssoSignIn(apiUrl: string, query: Record<string, string>): Promise<SsoAnswer> {
  const cookies = new Map<string, string>();
  let url = `${apiUrl}/local/sso/start?${new URLSearchParams(query)}`;
  for (let hop = 0; hop < 12; hop++) {
    const target = new URL(url);
    const jar = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      redirect: 'manual',
      headers: target.origin === new URL(apiUrl).origin || !jar ? {} : { cookie: jar },
      signal: AbortSignal.timeout(20_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (pair && index > 0) cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, target).toString();
      continue;
    }
    const text = await response.text();
    return {
      status: response.status,
      lastUrl: url,
      body: text ? (JSON.parse(text) as SsoAnswer['body']) : {},
    };
  }
  throw new Error('Too many redirects in the SSO flow');
}
