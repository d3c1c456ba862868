import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { call } from '../helpers/api.ts';

/**
 * The console's single sign-on on the local platform: `/local/sso/authorize` (authorization code +
 * PKCE S256, redirect only to this platform's /console/) rides on the SSO sign-in through the local
 * OpenID provider and returns a one-time code; `/local/sso/token` redeems it once, with the verifier.
 */

const apiUrl = () => inject('apiUrl');
const consoleUrl = () => `${apiUrl()}/console/`;

interface Me {
  readonly tenantId: string;
  readonly roles: string[];
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(query: Record<string, string>): string {
  return `${apiUrl()}/local/sso/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: 'console',
    redirect_uri: consoleUrl(),
    code_challenge_method: 'S256',
    state: 'console-state-1234',
    ...query,
  })}`;
}

/**
 * A browser's part: follows the redirects (keeping the provider's cookies) until one goes back to
 * the console; returns that URL, or the status and body of the answer that ended the flow.
 */
async function follow(start: string): Promise<{ back?: URL; status: number; text: string }> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 12; hop++) {
    const target = new URL(url);
    const jar = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      redirect: 'manual',
      headers: target.origin === new URL(apiUrl()).origin || !jar ? {} : { cookie: jar },
      signal: AbortSignal.timeout(20_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (pair && index > 0) cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, target);
      if (next.pathname === '/console/') return { back: next, status: response.status, text: '' };
      url = next.toString();
      continue;
    }
    return { status: response.status, text: await response.text() };
  }
  throw new Error('Too many redirects in the SSO flow');
}

async function token(
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${apiUrl()}/local/sso/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'console', grant_type: 'authorization_code', ...form }),
  });
  expect(response.headers.get('cache-control')).toBe('no-store');
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function demoAccount(group: string): string {
  const email = inject('demo').sso?.accounts.find((a) => a.groups.includes(group))?.email;
  if (!email) throw new Error(`no demo SSO account in ${group}`);
  return email;
}

describe('console sign-in through the local OpenID provider', () => {
  it("returns a one-time code to the console that buys the user's platform tokens with the verifier", async () => {
    // Prepare
    const { verifier, challenge } = pkce();
    const alice = demoAccount('engineering');

    // Act: no tenant named: the demo tenant's provider, the hint picks the account at the provider
    const flow = await follow(authorizeUrl({ code_challenge: challenge, login_hint: alice }));
    const code = flow.back?.searchParams.get('code') ?? '';
    const answer = await token({ code, code_verifier: verifier, redirect_uri: consoleUrl() });

    // Assert
    expect(flow.status).toBe(302);
    expect(flow.back?.origin).toBe(new URL(apiUrl()).origin);
    expect(flow.back?.searchParams.get('state')).toBe('console-state-1234');
    expect(flow.back?.searchParams.has('access_token')).toBe(false); // only the code travels in the URL
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', id_token: expect.stringMatching(/^eyJ/) });
    expect(answer.body.expires_in).toBeGreaterThan(60);
    const me = await call<Me>('GET', '/me', { token: String(answer.body.access_token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: inject('demo').tenant.tenantId, roles: ['developer'] });
  });

  it('renews the access token with the refresh token the sign-in gave, and refuses a forged one', async () => {
    // Prepare
    const { verifier, challenge } = pkce();
    const flow = await follow(authorizeUrl({ code_challenge: challenge, email: demoAccount('operations') }));
    const signedIn = await token({
      code: flow.back?.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: consoleUrl(),
    });
    expect(signedIn.body.refresh_token).toEqual(expect.any(String));

    // Act
    const renewed = await token({
      grant_type: 'refresh_token',
      refresh_token: String(signedIn.body.refresh_token),
    });
    const forged = await token({ grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' });

    // Assert
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^eyJ/) });
    const me = await call<Me>('GET', '/me', { token: String(renewed.body.access_token) });
    expect(me.body.roles).toEqual(['operator']);
    expect(forged).toEqual({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a wrong verifier, a reused code and another redirect_uri with invalid_grant', async () => {
    // Prepare: three sign-ins, three codes
    const alice = demoAccount('engineering');
    const codes: { code: string; verifier: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const { verifier, challenge } = pkce();
      const flow = await follow(authorizeUrl({ code_challenge: challenge, email: alice }));
      codes.push({ code: flow.back?.searchParams.get('code') ?? '', verifier });
    }
    const [first, second, third] = codes as [(typeof codes)[0], (typeof codes)[0], (typeof codes)[0]];

    // Act
    const wrongVerifier = await token({
      code: first.code,
      code_verifier: pkce().verifier,
      redirect_uri: consoleUrl(),
    });
    // The code was spent by the failed attempt: even the right verifier cannot redeem it now.
    const afterWrong = await token({
      code: first.code,
      code_verifier: first.verifier,
      redirect_uri: consoleUrl(),
    });
    const redeemed = await token({
      code: second.code,
      code_verifier: second.verifier,
      redirect_uri: consoleUrl(),
    });
    const reused = await token({
      code: second.code,
      code_verifier: second.verifier,
      redirect_uri: consoleUrl(),
    });
    const wrongRedirect = await token({
      code: third.code,
      code_verifier: third.verifier,
      redirect_uri: `${apiUrl()}/console/other`,
    });
    const unknown = await token({
      code: 'x'.repeat(43),
      code_verifier: third.verifier,
      redirect_uri: consoleUrl(),
    });

    // Assert
    expect(wrongVerifier).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect(afterWrong).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect(redeemed.status).toBe(200);
    expect(reused).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect(wrongRedirect).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect(unknown).toEqual({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a redirect_uri that is not this platform’s /console/, and malformed requests, before any redirect', async () => {
    // Prepare
    const { challenge } = pkce();
    const refused = async (query: Record<string, string>) => {
      const response = await fetch(authorizeUrl({ code_challenge: challenge, ...query }), {
        redirect: 'manual',
      });
      return {
        status: response.status,
        location: response.headers.get('location'),
        text: await response.text(),
      };
    };

    // Act
    const foreign = await refused({ redirect_uri: 'https://evil.example.com/console/' });
    const otherPort = await refused({ redirect_uri: 'http://127.0.0.1:1/console/' });
    const otherPath = await refused({ redirect_uri: `${apiUrl()}/elsewhere/` });
    const withQuery = await refused({ redirect_uri: `${consoleUrl()}?next=https://evil.example.com` });
    const plain = await refused({ code_challenge_method: 'plain' });
    const noChallenge = await refused({ code_challenge: '' });
    const otherClient = await refused({ client_id: 'someone-else' });
    const implicit = await refused({ response_type: 'token' });

    // Assert
    for (const answer of [foreign, otherPort, otherPath, withQuery]) {
      expect(answer.status).toBe(400);
      expect(answer.location).toBeNull();
      expect(answer.text).toContain('redirect_uri');
    }
    expect(plain.status).toBe(400);
    expect(plain.text).toContain('code_challenge_method');
    expect(noChallenge.status).toBe(400);
    expect(noChallenge.text).toContain('code_challenge');
    expect(otherClient.status).toBe(400);
    expect(otherClient.text).toContain('client_id');
    expect(implicit.status).toBe(400);
    expect(implicit.text).toContain('response_type');
  });

  it('sends a refusal back to the console as an OAuth error, and keeps the JSON answer of /local/sso/start', async () => {
    // Prepare
    const { challenge } = pkce();

    // Act: a person with no mapped group is refused at provisioning, before any code is issued
    const guest = await follow(authorizeUrl({ code_challenge: challenge, email: demoAccount('visitors') }));
    const plain = await follow(
      `${apiUrl()}/local/sso/start?email=${encodeURIComponent(demoAccount('engineering'))}`,
    );

    // Assert
    expect(guest.back?.searchParams.get('error')).toBe('access_denied');
    expect(guest.back?.searchParams.get('error_description')).toContain('mapped');
    expect(guest.back?.searchParams.get('state')).toBe('console-state-1234');
    expect(guest.back?.searchParams.has('code')).toBe(false);
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.text)).toMatchObject({ tokenType: 'Bearer', user: { roles: ['developer'] } });
  });

  it('refuses token requests from another client, of another grant type, or not as a form', async () => {
    // Act
    const otherClient = await token({ client_id: 'someone-else', code: 'x', code_verifier: 'y' });
    const password = await token({ grant_type: 'password', code: 'x', code_verifier: 'y' });
    const missing = await token({ redirect_uri: consoleUrl() });
    const asJson = await fetch(`${apiUrl()}/local/sso/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'console', grant_type: 'authorization_code', code: 'x' }),
    });
    const asGet = await fetch(`${apiUrl()}/local/sso/token`);

    // Assert
    expect(otherClient).toEqual({ status: 400, body: { error: 'invalid_client' } });
    expect(password).toEqual({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(missing).toEqual({ status: 400, body: { error: 'invalid_request' } });
    expect(asJson.status).toBe(400);
    expect(asGet.status).toBe(405);
  });
});
