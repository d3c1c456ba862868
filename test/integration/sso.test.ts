import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { type LocalIdp, startLocalIdp } from '../../bin/local/oidc.ts';
import { call, type Problem } from '../helpers/api.ts';
import { publishTxt, replaceTxt } from '../helpers/dns-zone.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';
import { ssoSignIn } from '../helpers/sso.ts';
import {
  authCacheTimeoutMs,
  createApiKey,
  createRole,
  createTenant,
  eventually,
  inviteUser,
  type TestTenant,
  uniqueEmail,
  uniqueName,
} from '../helpers/tenants.ts';
import { platformAdminToken } from '../helpers/tokens.ts';

/**
 * Single sign-on end to end on the local platform: a real OpenID provider (oidc-provider) signs
 * people in, the platform as relying party verifies the ID token and provisions the user with the
 * roles their groups map to, and the tokens it returns work on the API.
 */

const CLIENT = { clientId: 'it-client', clientSecret: 'it-client-secret-value-1234567890' };

interface Provider {
  readonly providerId: string;
  readonly emailDomains: string[];
  readonly domains: { domain: string; verified: boolean; record?: { name: string; value: string } }[];
  readonly clientSecret?: string;
}

interface Me {
  readonly tenantId: string;
  readonly roles: string[];
  readonly principal: { id: string; type: string; email?: string };
}

let idp: LocalIdp;
const apiUrl = () => inject('apiUrl');
const TABLE = LOCAL_NAMES.tableName;
// DynamoDB Local of the platform: one test stores a provider as it was before domains were verified.
const db = localDocumentClient();

beforeAll(async () => {
  idp = await startLocalIdp({
    accounts: [],
    clients: [{ ...CLIENT, redirectUris: [`${apiUrl()}/local/sso/callback`] }],
  });
});
afterAll(async () => idp?.stop());

/** A fresh domain for one test (a domain belongs to one tenant, platform-wide). */
function domain(): string {
  return `${uniqueName('sso')}.example.com`;
}

function person(emailDomain: string, groups: string[]): string {
  const email = `${uniqueName('p')}@${emailDomain}`;
  idp.accounts.set(email, { email, groups });
  return email;
}

async function register(owner: TestTenant, body: Record<string, unknown>) {
  return call<Provider & Partial<Problem>>('POST', '/identity-providers', {
    token: await owner.token(),
    body: {
      type: 'oidc',
      name: 'Corp IdP',
      issuer: idp.issuer,
      ...CLIENT,
      groupMapping: [
        { group: 'eng', roles: ['developer'] },
        { group: 'ops', roles: ['operator'] },
        { group: 'admins', roles: ['admin'] },
      ],
      ...body,
    },
  });
}

/** Publishes each unverified domain's record and verifies it, as the tenant's admin would. */
async function verify(owner: TestTenant, provider: Provider, publish = true) {
  const answers = [];
  for (const { domain: name, record } of provider.domains.filter((d) => !d.verified)) {
    if (publish && record) await publishTxt(record.name, record.value);
    answers.push(
      await call<Provider & Partial<Problem>>(
        'POST',
        `/identity-providers/${provider.providerId}/domains/${name}/verify`,
        { token: await owner.token() },
      ),
    );
  }
  return answers;
}

/** Registers a provider and verifies its domains. */
async function registerVerified(owner: TestTenant, body: Record<string, unknown>) {
  const created = await register(owner, body);
  expect(created.status).toBe(201);
  for (const answer of await verify(owner, created.body)) expect(answer.status).toBe(200);
  return created;
}

describe('single sign-on (local)', () => {
  it("signs in the demo tenant's people through the platform's own OpenID provider", async () => {
    // Prepare
    const demo = inject('demo');
    const alice = demo.sso?.accounts.find((a) => a.groups.includes('engineering'))?.email ?? '';
    const guest = demo.sso?.accounts.find((a) => a.groups.includes('visitors'))?.email ?? '';

    // Act
    const signedIn = await ssoSignIn(apiUrl(), { email: alice });
    const refused = await ssoSignIn(apiUrl(), { email: guest });

    // Assert
    expect(signedIn.status).toBe(200);
    const me = await call<Me>('GET', '/me', { token: signedIn.body.accessToken ?? '' });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: demo.tenant.tenantId, roles: ['developer'] });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('mapped');
  });

  it('first sign-in creates the user with mapped roles; later sign-ins update them; no mapped group disables them and stops their keys', async () => {
    // Prepare
    const owner = await createTenant('sso');
    const emailDomain = domain();
    const created = await registerVerified(owner, { emailDomains: [emailDomain] });
    const email = person(emailDomain, ['eng', 'unknown-group']);

    // Act: first sign-in
    const first = await ssoSignIn(apiUrl(), { email });

    // Assert
    expect(first.status).toBe(200);
    const me = await call<Me>('GET', '/me', { token: first.body.accessToken ?? '' });
    expect(me.body).toMatchObject({ tenantId: owner.tenantId, roles: ['developer'] });
    const user = await call<{ roles: string[]; sso?: { providerId: string } }>(
      'GET',
      `/users/${me.body.principal.id}`,
      { token: await owner.token() },
    );
    expect(user.body).toMatchObject({ roles: ['developer'], sso: { providerId: created.body.providerId } });

    // Act: the person moves to other groups at the provider
    idp.accounts.set(email, { email, groups: ['admins', 'ops'] });
    const second = await ssoSignIn(apiUrl(), { email });

    // Assert
    expect(second.status).toBe(200);
    expect(second.body.user?.roles).toEqual(['admin', 'operator']);
    expect(second.body.user?.userId).toBe(me.body.principal.id);
    const key = await createApiKey(second.body.accessToken ?? '', ['workflows:read']);
    expect((await call('GET', '/me', { apiKey: key.key })).status).toBe(200);

    // Act: the admin changes the mapping; the person's next sign-in gets the new roles
    const remapped = await call<Provider>('PATCH', `/identity-providers/${created.body.providerId}`, {
      token: await owner.token(),
      body: {
        groupMapping: [
          { group: 'ops', roles: ['viewer'] },
          { group: 'admins', roles: ['admin'] },
        ],
      },
    });
    const afterRemap = await ssoSignIn(apiUrl(), { email });

    // Assert
    expect(remapped.status).toBe(200);
    expect(remapped.body.emailDomains).toEqual([emailDomain]);
    expect(afterRemap.body.user?.roles).toEqual(['admin', 'viewer']);

    // Act: the person leaves every mapped group
    idp.accounts.set(email, { email, groups: ['visitors'] });
    const third = await ssoSignIn(apiUrl(), { email });

    // Assert: refused, disabled, and their key stops working (keys follow the provider)
    expect(third.status).toBe(403);
    const after = await call<{ status: string }>('GET', `/users/${me.body.principal.id}`, {
      token: await owner.token(),
    });
    expect(after.body.status).toBe('disabled');
    await eventually(async () => expect((await call('GET', '/me', { apiKey: key.key })).status).toBe(401), {
      timeoutMs: authCacheTimeoutMs(),
    });
  });

  it('keeps the client secret out of every answer and sign-ins stop when the provider is deleted', async () => {
    // Prepare
    const owner = await createTenant('sso-del');
    const emailDomain = domain();
    const created = await registerVerified(owner, { emailDomains: [emailDomain.toUpperCase()] });
    const email = person(emailDomain, ['eng']);

    // Act
    const listed = await call<{ items: Provider[] }>('GET', '/identity-providers', {
      token: await owner.token(),
    });
    const read = await call<Provider>('GET', `/identity-providers/${created.body.providerId}`, {
      token: await owner.token(),
    });
    const deleted = await call('DELETE', `/identity-providers/${created.body.providerId}`, {
      token: await owner.token(),
    });
    const signIn = await ssoSignIn(apiUrl(), { email });

    // Assert
    expect(created.body.emailDomains).toEqual([emailDomain]);
    for (const text of [created.text, listed.text, read.text])
      expect(text).not.toContain(CLIENT.clientSecret);
    expect(listed.body.items.map((p) => p.providerId)).toEqual([created.body.providerId]);
    expect(deleted.status).toBe(204);
    expect(signIn.status).toBe(404);
    // The domain is free again: another tenant may verify it now.
    const other = await createTenant('sso-del-b');
    await registerVerified(other, { emailDomains: [emailDomain] });
  });

  it('lets a domain another tenant verified be listed but not taken while its record stands, and refuses bad issuers, unknown roles and roles the admin could not grant', async () => {
    // Prepare
    const [a, b] = await Promise.all([createTenant('sso-a'), createTenant('sso-b')]);
    const emailDomain = domain();
    await registerVerified(a, { emailDomains: [emailDomain] });
    const limitedRole = await createRole(await b.token(), 'idp-admin', ['tenant:admin', 'users:manage']);
    const limited = await inviteUser(await b.token(), uniqueEmail('limited'), [limitedRole]);

    // Act
    const fresh = domain();
    const hijack = await register(b, { emailDomains: [fresh, emailDomain] });
    const [, hijackVerify] = await verify(b, hijack.body);
    const plainHttp = await register(b, { emailDomains: [domain()], issuer: 'http://idp.example.com' });
    const metadata = await register(b, { emailDomains: [domain()], issuer: 'https://169.254.169.254' });
    const unknownRole = await register(b, {
      emailDomains: [domain()],
      groupMapping: [{ group: 'x', roles: ['no-such-role'] }],
    });
    const escalation = await call<Problem>('POST', '/identity-providers', {
      token: await limited.token(),
      body: {
        type: 'oidc',
        name: 'x',
        issuer: idp.issuer,
        ...CLIENT,
        emailDomains: [domain()],
        defaultRoles: ['admin'],
      },
    });
    const developer = await inviteUser(await b.token(), uniqueEmail('dev'), ['developer']);
    const notAllowed = await call<Problem>('GET', '/identity-providers', { token: await developer.token() });

    // Assert
    expect(hijack.status).toBe(201);
    expect(hijackVerify?.status).toBe(409);
    expect(hijackVerify?.body.errors).toEqual([{ path: 'domain', message: 'already claimed' }]);
    expect(hijackVerify?.text).not.toContain(a.tenantId);
    expect(plainHttp.status).toBe(400);
    expect(plainHttp.body.errors?.[0]?.path).toBe('issuer');
    expect(metadata.status).toBe(400);
    expect(metadata.body.errors?.[0]?.path).toBe('issuer');
    expect(unknownRole.status).toBe(400);
    expect(unknownRole.body.errors?.[0]?.path).toBe('groupMapping.0.roles.0');
    expect(escalation.status).toBe(403);
    expect(notAllowed.status).toBe(403);
    // B's listing holds nothing but what B proved: a's domain stays a's, routed to a.
    const listed = await call<{ items: Provider[] }>('GET', '/identity-providers', {
      token: await b.token(),
    });
    expect(listed.body.items.map((p) => p.domains.map((d) => [d.domain, d.verified]))).toEqual([
      [
        [fresh, true],
        [emailDomain, false],
      ],
    ]);
    const routed = await ssoSignIn(apiUrl(), { email: person(emailDomain, ['eng']) });
    expect((await call<Me>('GET', '/me', { token: routed.body.accessToken ?? '' })).body.tenantId).toBe(
      a.tenantId,
    );
  });

  it("routes and signs in a domain only once it publishes the provider's own record; the first to prove it keeps it", async () => {
    // Prepare: two tenants list the same domain; neither has proven it.
    const [a, b, c] = await Promise.all([createTenant('dv-a'), createTenant('dv-b'), createTenant('dv-c')]);
    const contested = domain();
    const byA = await register(a, { emailDomains: [contested] });
    const byB = await register(b, { emailDomains: [contested] });
    const email = person(contested, ['eng']);
    const [recordA, recordB] = [byA.body.domains[0]?.record, byB.body.domains[0]?.record];

    // Act: nothing routes or signs in the unproven domain; B cannot prove it with nothing published,
    // nor with the record A published (each provider's token is its own).
    const routed = await ssoSignIn(apiUrl(), { email });
    const direct = await ssoSignIn(apiUrl(), { tenant: b.tenantId, login_hint: email });
    const [unpublished] = await verify(b, byB.body, false);
    await publishTxt(recordA?.name ?? '', recordA?.value ?? '');
    const [withAsRecord] = await verify(b, byB.body, false);
    const [byAVerified] = await verify(a, byA.body, false);
    const afterA = await ssoSignIn(apiUrl(), { email });
    const [bTooLate] = await verify(b, byB.body);
    const cRegisters = await register(c, { emailDomains: [contested] });
    const [cVerifies] = await verify(c, cRegisters.body);
    const [again] = await verify(a, byA.body, false);

    // Assert
    expect([byA.status, byB.status]).toEqual([201, 201]);
    expect(byA.body.domains).toEqual([
      {
        domain: contested,
        verified: false,
        record: { name: `_meridian-verification.${contested}`, type: 'TXT', value: expect.any(String) },
      },
    ]);
    expect(recordA?.value).toMatch(/^meridian-verification=[a-z0-9]{32}$/);
    expect(recordB?.value).not.toBe(recordA?.value);
    expect(JSON.stringify(byA.body)).not.toContain('verificationToken');
    expect(routed.status).toBe(404);
    expect(direct.status).toBe(403);
    expect(direct.body.detail).toContain('not a verified domain');
    expect(unpublished?.status).toBe(409);
    expect(unpublished?.body.detail).toContain(`${recordB?.name} has no TXT record "${recordB?.value}"`);
    expect(withAsRecord?.status).toBe(409);
    expect(byAVerified?.status).toBe(200);
    expect(byAVerified?.body.domains).toEqual([{ domain: contested, verified: true }]);
    expect(afterA.status).toBe(200);
    expect((await call<Me>('GET', '/me', { token: afterA.body.accessToken ?? '' })).body.tenantId).toBe(
      a.tenantId,
    );
    expect(bTooLate?.status).toBe(409);
    expect(bTooLate?.body.errors).toEqual([{ path: 'domain', message: 'already claimed' }]);
    expect(bTooLate?.text).not.toContain(a.tenantId);
    expect(cRegisters.status).toBe(201);
    expect(cVerifies?.status).toBe(409);
    expect(again?.status).toBe(200);
  });

  it('verifications at once, of one domain or several, each land: every domain claimed, routed and kept', async () => {
    // Prepare
    const [a, b] = await Promise.all([createTenant('dv-par-a'), createTenant('dv-par-b')]);
    const [one, two] = [domain(), domain()];
    const created = await register(a, { emailDomains: [one, two] });
    for (const entry of created.body.domains)
      await publishTxt(entry.record?.name ?? '', entry.record?.value ?? '');
    const post = async (name: string) =>
      call<Provider>('POST', `/identity-providers/${created.body.providerId}/domains/${name}/verify`, {
        token: await a.token(),
      });

    // Act
    const answers = await Promise.all([one, one, one, two, two, one, two, one].map(post));
    const read = await call<Provider>('GET', `/identity-providers/${created.body.providerId}`, {
      token: await a.token(),
    });
    const signIns = await Promise.all(
      [one, two].map((d) => ssoSignIn(apiUrl(), { email: person(d, ['eng']) })),
    );
    const taken = await register(b, { emailDomains: [two] });
    const [takenVerify] = await verify(b, taken.body);

    // Assert
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(read.body.domains.map((d) => [d.domain, d.verified]).sort()).toEqual(
      [
        [one, true],
        [two, true],
      ].sort(),
    );
    expect(signIns.map((signIn) => signIn.status)).toEqual([200, 200]);
    expect(taken.status).toBe(201);
    expect(takenVerify?.status).toBe(409);
  });

  it('keeps a proven domain with its provider, even once its record is gone and another is published', async () => {
    // Prepare: A proved the domain; then its DNS publishes B's record only.
    const [a, b] = await Promise.all([createTenant('dv-keep-a'), createTenant('dv-keep-b')]);
    const kept = domain();
    const byA = await registerVerified(a, { emailDomains: [kept] });
    const recordA = byA.body.domains[0]?.record;
    const byB = await register(b, { emailDomains: [kept] });
    await replaceTxt(recordA?.name ?? '', []);

    // Act
    const [refused] = await verify(b, byB.body);
    const signIn = await ssoSignIn(apiUrl(), { email: person(kept, ['eng']) });

    // Assert
    expect(refused?.status).toBe(409);
    expect(refused?.body.errors).toEqual([{ path: 'domain', message: 'already claimed' }]);
    expect((await call<Me>('GET', '/me', { token: signIn.body.accessToken ?? '' })).body.tenantId).toBe(
      a.tenantId,
    );
  });

  it('takes a domain from a provider registered before domains were verified once its DNS proves another', async () => {
    // Prepare: A's provider as one registered before this change stored it: no token, no list, and a
    // claim on each domain written at registration.
    const [a, b] = await Promise.all([createTenant('dv-old-a'), createTenant('dv-old-b')]);
    const [squatted, kept] = [domain(), domain()];
    const byA = await register(a, { emailDomains: [squatted, kept] });
    const key = { pk: `TENANT#${a.tenantId}`, sk: `IDP#${byA.body.providerId}` };
    await db.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: key,
        UpdateExpression: 'REMOVE verificationToken, verifiedDomains',
      }),
    );
    for (const name of [squatted, kept]) {
      await db.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            pk: `SSODOMAIN#${name}`,
            sk: 'CLAIM',
            type: 'sso-domain',
            domain: name,
            tenantId: a.tenantId,
            providerId: byA.body.providerId,
          },
        }),
      );
    }
    const older = await call<Provider>('GET', `/identity-providers/${byA.body.providerId}`, {
      token: await a.token(),
    });
    const byB = await register(b, { emailDomains: [squatted] });

    // Act
    const [moved] = await verify(b, byB.body);
    const after = await call<Provider>('GET', `/identity-providers/${byA.body.providerId}`, {
      token: await a.token(),
    });
    const signIn = await ssoSignIn(apiUrl(), { email: person(squatted, ['eng']) });
    const stillA = await ssoSignIn(apiUrl(), { email: person(kept, ['eng']) });

    // Assert
    expect(older.body.domains).toEqual([
      { domain: squatted, verified: true },
      { domain: kept, verified: true },
    ]);
    expect(moved?.status).toBe(200);
    expect(after.body.domains.map((d) => [d.domain, d.verified])).toEqual([
      [squatted, false],
      [kept, true],
    ]);
    const tenantOf = async (answer: typeof signIn) =>
      (await call<Me>('GET', '/me', { token: answer.body.accessToken ?? '' })).body.tenantId;
    expect(await tenantOf(signIn)).toBe(b.tenantId);
    expect(await tenantOf(stillA)).toBe(a.tenantId);
  });

  it('caps how fast a tenant creates and deletes providers (each changes the app client every tenant shares)', async () => {
    const owner = await createTenant('sso-cap');
    const token = await owner.token();
    const statuses: number[] = [];
    let refused: { status: number; headers: Headers; body: Partial<Problem> } | undefined;
    // 120 a minute is 12 per 6-second slot of the limiter. Creating and deleting one provider after
    // another (a tenant holds at most 10) makes 30 changes in a few seconds, at most two slots: some
    // must be refused.
    // More pairs than two slots allow, with room for a slow machine: it stops at the first 429.
    for (let i = 0; i < 40 && !refused; i++) {
      const made = await register(owner, { emailDomains: [domain()] });
      statuses.push(made.status);
      if (made.status === 429) refused = made;
      else {
        const gone = await call<Problem>('DELETE', `/identity-providers/${made.body.providerId}`, { token });
        statuses.push(gone.status);
        if (gone.status === 429) refused = gone;
      }
    }
    expect(statuses.slice(0, -1).every((status) => status === 201 || status === 204)).toBe(true);
    expect(statuses.length).toBeGreaterThan(12);
    // Until the limiter's 6-second slot ends.
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused?.headers.get('retry-after'))).toBeLessThanOrEqual(6);
    expect(refused?.body.detail).toMatch(/identity providers a minute/);
  });

  it('refuses a replayed callback, a forged state, and a provider asserting emails outside its domains', async () => {
    // Prepare
    const [a, b] = await Promise.all([createTenant('sso-x-a'), createTenant('sso-x-b')]);
    const domainA = domain();
    const domainB = domain();
    await registerVerified(a, { emailDomains: [domainA] });
    await registerVerified(b, { emailDomains: [domainB] });
    const victim = person(domainA, ['admins']);
    const signedIn = await ssoSignIn(apiUrl(), { email: person(domainB, ['eng']) });

    // Act
    const replayed = await fetch(signedIn.lastUrl);
    const forged = await fetch(`${apiUrl()}/local/sso/callback?state=forged&code=x`);
    const noTenant = await fetch(`${apiUrl()}/local/sso/start`, { redirect: 'manual' });
    // Tenant B's provider signs in someone of tenant A's domain.
    const crossDomain = await ssoSignIn(apiUrl(), { tenant: b.tenantId, login_hint: victim });

    // Assert
    expect(signedIn.status).toBe(200);
    expect(replayed.status).toBe(400);
    expect(forged.status).toBe(400);
    expect(noTenant.status).toBe(400);
    expect(crossDomain.status).toBe(403);
    expect(crossDomain.body.detail).toContain('not a verified domain of this identity provider');
    expect(crossDomain.body.accessToken).toBeUndefined();
  });

  it('requiring SSO refuses password users and their keys, but not SSO users or the break-glass admin', async () => {
    // Prepare
    const owner = await createTenant('sso-req');
    const emailDomain = domain();
    const before = await call<Problem>('PUT', '/sso', {
      token: await owner.token(),
      body: { requireSso: true },
    });
    await registerVerified(owner, { emailDomains: [emailDomain] });
    const passwordUser = await inviteUser(await owner.token(), uniqueEmail('pw'), ['admin']);
    const passwordKey = await createApiKey(await passwordUser.token(), ['workflows:read']);
    const sso = await ssoSignIn(apiUrl(), { email: person(emailDomain, ['eng']) });

    // Act
    const required = await call<{ requireSso: boolean }>('PUT', '/sso', {
      token: await owner.token(),
      body: { requireSso: true },
    });

    // Assert
    expect(before.status).toBe(400);
    expect(before.body.errors?.[0]?.path).toBe('requireSso');
    expect(required.body).toEqual({ requireSso: true });
    expect((await call<{ requireSso: boolean }>('GET', '/sso', { token: await owner.token() })).body).toEqual(
      {
        requireSso: true,
      },
    );
    await eventually(
      async () => {
        expect((await call('GET', '/me', { token: await passwordUser.token() })).status).toBe(401);
        expect((await call('GET', '/me', { apiKey: passwordKey.key })).status).toBe(401);
      },
      { timeoutMs: authCacheTimeoutMs() },
    );
    expect((await call('GET', '/me', { token: sso.body.accessToken ?? '' })).status).toBe(200);
    expect((await call('GET', '/me', { token: await owner.token() })).status).toBe(200);
  });
});

describe('local mailbox and bin/token.ts', () => {
  it('invitations land in the mailbox with a temporary password, readable by platform operators only', async () => {
    // Prepare
    const owner = await createTenant('mailbox');
    const email = uniqueEmail('invitee');
    expect(
      (await call('POST', '/users', { token: await owner.token(), body: { email, roles: ['viewer'] } }))
        .status,
    ).toBe(201);

    // Act
    const mailbox = await call<{ items: { to: string; subject: string; text: string; sentAt: string }[] }>(
      'GET',
      `/local/mailbox?to=${encodeURIComponent(email)}`,
      { token: await platformAdminToken(), checkContract: false },
    );
    const asTenant = await call('GET', '/local/mailbox', {
      token: await owner.token(),
      checkContract: false,
    });
    const anonymous = await call('GET', '/local/mailbox', { checkContract: false });

    // Assert
    expect(mailbox.status).toBe(200);
    expect(mailbox.body.items).toHaveLength(1);
    expect(mailbox.body.items[0]).toMatchObject({ to: email, subject: 'Your Meridian invitation' });
    expect(mailbox.body.items[0]?.text).toMatch(/^Temporary password: \S+$/m);
    expect(asTenant.status).toBe(403);
    expect(anonymous.status).toBe(403);
  });

  it('bin/token.ts signs in a new user with the invitation password, setting their own on first sign-in', async () => {
    // Prepare
    const owner = await createTenant('token-cli');
    const email = uniqueEmail('newcomer');
    expect(
      (await call('POST', '/users', { token: await owner.token(), body: { email, roles: ['viewer'] } }))
        .status,
    ).toBe(201);
    const env = { ...process.env, MERIDIAN_STATE_DIR: dirname(inject('platformLogFile')) };
    const token = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/token.ts', ...args], { env }).then(
        (out) => ({ code: 0, stdout: out.stdout.trim(), stderr: out.stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          stdout: '',
          stderr: error.stderr,
        }),
      );

    // Act
    const withoutNewPassword = await token([email]);
    const first = await token([email, '--new-password', 'Chosen-Passw0rd!']);
    const later = await token([email, '--password', 'Chosen-Passw0rd!']);

    // Assert
    expect(withoutNewPassword.code).toBe(2);
    expect(withoutNewPassword.stderr).toContain('--new-password');
    expect(first.code).toBe(0);
    for (const signedIn of [first, later]) {
      const me = await call<Me>('GET', '/me', { token: signedIn.stdout });
      expect(me.body).toMatchObject({ tenantId: owner.tenantId, principal: { email } });
    }
  });
});
