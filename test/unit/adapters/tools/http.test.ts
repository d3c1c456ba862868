import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HostResolver, HttpToolRunner, type ResolvedAddress } from '#adapters/tools/http.ts';
import { type HttpToolDefinition, httpToolSchema } from '#core/catalog/model.ts';
import { type ToolContext, ToolError } from '#core/executions/model-port.ts';
import { forbiddenAddressClass } from '#core/net/address-guard.ts';
import { parse } from '#shared/schema.ts';
import { type Received, startServers, TEST_CERT, type TestServers } from './server.ts';

const SECRET = 'tok-very-secret-123';

let servers: TestServers;
let lookups: string[] = [];

beforeAll(async () => {
  servers = await startServers();
});

afterAll(async () => {
  await servers.close();
});

beforeEach(() => {
  servers.received.length = 0;
  lookups = [];
});

/** Names the tests own: public-looking ones point at the local server, others at private ranges. */
const DNS: Record<string, ResolvedAddress[]> = {
  'api.example.test': [{ address: '127.0.0.1', family: 4 }],
  'other.example.test': [{ address: '127.0.0.1', family: 4 }],
  'intranet.example.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.1.2.3', family: 4 },
  ],
  'metadata.example.test': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example.test': [{ address: '::ffff:192.168.0.10', family: 6 }],
  'ula.example.test': [{ address: 'fd12:3456::1', family: 6 }],
};

const resolver: HostResolver = async (hostname) => {
  lookups.push(hostname);
  const found = DNS[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

/** The real guard, except that the local server (127.0.0.1) stands in for a public host. */
const guardWithLocalAsPublic = (address: string) =>
  address === '127.0.0.1' ? undefined : forbiddenAddressClass(address);

/** A runner whose public-looking names reach the local HTTPS server. */
const runner = new HttpToolRunner({
  resolve: resolver,
  forbiddenAddress: guardWithLocalAsPublic,
  ca: TEST_CERT,
});
/** A runner with the real guard and resolver. */
const strict = new HttpToolRunner();

const ctx: ToolContext = {
  tenantId: 't1',
  secret: async (name) => (name === 'api-token' ? SECRET : undefined),
};

function tool(fields: Record<string, unknown>): HttpToolDefinition {
  return parse(httpToolSchema, {
    name: 'Test tool',
    type: 'http',
    method: 'GET',
    inputSchema: { type: 'object' },
    ...fields,
  });
}

const https = (path: string, host = 'api.example.test') => `https://${host}:${servers.httpsPort}${path}`;

async function failure(promise: Promise<unknown>): Promise<ToolError> {
  const thrown = await promise.catch((e: unknown) => e);
  if (!(thrown instanceof ToolError)) throw new Error(`expected a ToolError, got ${String(thrown)}`);
  return thrown;
}

function lastReceived(): Received {
  const last = servers.received.at(-1);
  if (!last) throw new Error('the server received nothing');
  return last;
}

describe('SSRF guard on literal addresses', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast or reserved'],
    ['[::1]', 'loopback'],
    ['[::]', 'unspecified'],
    ['[fe80::1]', 'link-local'],
    ['[fc00::1]', 'private'],
    ['[fd12:3456::1]', 'private'],
    ['[ff02::1]', 'multicast'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[::ffff:10.0.0.1]', 'private'],
  ])('refuses %s (%s) without connecting', async (host, kind) => {
    // Prepare
    const target = tool({ url: `https://${host}/latest/meta-data` });

    // Act
    const error = await failure(strict.run(target, {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.Refused', failure: 'refused' });
    expect(error.message).toContain(`(${kind})`);
  });
});

describe('SSRF guard after DNS resolution', () => {
  it('refuses localhost, resolved by the system resolver', async () => {
    // Act
    const error = await failure(strict.run(tool({ url: 'https://localhost/admin' }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Refused');
    expect(error.message).toMatch(/localhost resolves to .* \(loopback\)/);
  });

  it.each([
    ['intranet.example.test', '10.1.2.3 (private)'],
    ['metadata.example.test', '169.254.169.254 (link-local)'],
    ['mapped.example.test', '::ffff:192.168.0.10 (private)'],
    ['ula.example.test', 'fd12:3456::1 (private)'],
  ])('refuses %s when any of its addresses is not public', async (host, detail) => {
    // Act
    const error = await failure(runner.run(tool({ url: `https://${host}/x` }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Refused');
    expect(error.message).toContain(detail);
    expect(servers.received).toHaveLength(0);
  });

  it('refuses plain http unless the tool allows the private network', async () => {
    // Act
    const error = await failure(
      runner.run(tool({ url: `http://api.example.test:${servers.httpPort}/echo` }), {}, ctx),
    );

    // Assess
    expect(error.name).toBe('Tool.Refused');
    expect(servers.received).toHaveLength(0);
  });

  it('lets a loopback server through when a platform admin allowlisted it for the tenant', async () => {
    // Prepare
    const local = tool({ url: `http://127.0.0.1:${servers.httpPort}/echo/ok` });

    // Act
    const result = await strict.run(local, {}, { ...ctx, egress: ['127.0.0.1'] });

    // Assess
    expect(result).toMatchObject({ method: 'GET', url: '/echo/ok' });
  });

  it('connects to the checked address: one lookup, TLS verified for the host name', async () => {
    // Act
    const result = await runner.run(tool({ url: https('/echo/pinned') }), {}, ctx);

    // Assess
    expect(lookups).toEqual(['api.example.test']);
    expect(result).toMatchObject({
      url: '/echo/pinned',
      headers: { host: `api.example.test:${servers.httpsPort}` },
    });
  });

  it('fails (not refuses) a name that does not resolve', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: 'https://nowhere.example.test/' }), {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.Failed' });
    expect(error.message).toContain('ENOTFOUND');
  });
});

describe('redirects', () => {
  it.each([
    ['a name resolving to a private address', 'https://intranet.example.test/x', 'private'],
    ['the metadata address', 'https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['an IPv6 loopback literal', 'https://[::1]/', 'loopback'],
  ])('re-checks the target and refuses %s', async (_what, target, kind) => {
    // Prepare
    const url = https(`/redirect?to=${encodeURIComponent(target)}`);

    // Act
    const error = await failure(runner.run(tool({ url }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Refused');
    expect(error.message).toContain(`(${kind})`);
    expect(servers.received).toHaveLength(1);
  });

  it('refuses a downgrade to http', async () => {
    // Prepare
    const url = https(
      `/redirect?to=${encodeURIComponent(`http://api.example.test:${servers.httpPort}/echo`)}`,
    );

    // Act
    const error = await failure(runner.run(tool({ url }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Refused');
    expect(servers.received).toHaveLength(1);
  });

  it('follows a same-origin redirect with the credential and turns a 303 into a GET', async () => {
    // Prepare
    const target = tool({
      method: 'POST',
      url: https('/redirect?status=303&to=/echo/after'),
      authSecret: 'api-token',
    });

    // Act
    const result = await runner.run(target, { a: 1 }, ctx);

    // Assess
    expect(result).toMatchObject({
      method: 'GET',
      url: '/echo/after',
      body: '',
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(servers.received.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('keeps the method and body on a 307 and drops the credential on a cross-origin redirect', async () => {
    // Prepare
    const to = https('/echo/moved', 'other.example.test');
    const target = tool({
      method: 'POST',
      url: https(`/redirect?status=307&to=${encodeURIComponent(to)}`),
      authSecret: 'api-token',
    });

    // Act
    const result = await runner.run(target, { a: 1 }, ctx);

    // Assess
    expect(result).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect((result as { headers: Record<string, string> }).headers).not.toHaveProperty('authorization');
    expect(lookups).toEqual(['api.example.test', 'other.example.test']);
  });

  it('stops after 5 redirects', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/loop/0') }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Failed');
    expect(error.message).toContain('more than 5 redirects');
    expect(servers.received).toHaveLength(6);
  });
});

describe('limits', () => {
  it('times out a server that never answers', async () => {
    // Prepare
    const started = Date.now();

    // Act
    const error = await failure(runner.run(tool({ url: https('/hang'), timeoutMs: 200 }), {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.Timeout', failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a body that stops halfway', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/slow-body'), timeoutMs: 200 }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.Timeout');
  });

  it('stops when the step signal aborts', async () => {
    // Prepare
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    // Act
    const error = await failure(
      runner.run(tool({ url: https('/hang') }), {}, { ...ctx, signal: controller.signal }),
    );

    // Assess
    expect(error.name).toBe('Tool.Timeout');
  });

  it('aborts a streamed body past 1 MiB', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/big') }), {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.TooLarge', failure: 'too-large' });
  });

  it('refuses a declared length past 1 MiB before reading it', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/big-declared'), timeoutMs: 2_000 }), {}, ctx));

    // Assess
    expect(error.name).toBe('Tool.TooLarge');
  });

  it('accepts a body of exactly 1 MiB', async () => {
    // Act
    const result = await runner.run(tool({ url: https('/exactly-cap') }), {}, ctx);

    // Assess
    expect((result as { text: string }).text).toHaveLength(1024 * 1024);
  });
});

describe('requests and responses', () => {
  it('injects the auth secret as a bearer token and keeps it out of error messages', async () => {
    // Prepare
    const ok = tool({ url: https('/echo'), authSecret: 'api-token' });
    const failing = tool({ url: https('/status/503'), authSecret: 'api-token' });

    // Act
    const result = await runner.run(ok, {}, ctx);
    const error = await failure(runner.run(failing, {}, ctx));

    // Assess
    expect(lastReceived().headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(result).toMatchObject({ headers: { authorization: `Bearer ${SECRET}` } });
    expect(error.message).not.toContain(SECRET);
  });

  it('fails when the auth secret is not set, naming the secret but sending nothing', async () => {
    // Act
    const error = await failure(
      runner.run(tool({ url: https('/echo'), authSecret: 'missing-one' }), {}, ctx),
    );

    // Assess
    expect(error.name).toBe('Tool.Failed');
    expect(error.message).toContain('"missing-one"');
    expect(servers.received).toHaveLength(0);
  });

  it('fills URL templates URL-encoded and header templates verbatim', async () => {
    // Prepare
    const target = tool({
      url: https('/echo/{{args.city}}?q={{args.query}}&id={{args.user.id}}&n={{args.n}}'),
      headers: { 'X-City': '{{args.city}}', 'X-Static': 'fixed' },
    });

    // Act
    await runner.run(target, { city: 'São Paulo/Centro', query: 'a&b=c', user: { id: 42 }, n: true }, ctx);

    // Assess
    const received = lastReceived();
    expect(received.url).toBe('/echo/S%C3%A3o%20Paulo%2FCentro?q=a%26b%3Dc&id=42&n=true');
    expect(received.headers['x-city']).toBe('São Paulo/Centro');
    expect(received.headers['x-static']).toBe('fixed');
  });

  it('sends the args as a JSON body for methods other than GET', async () => {
    // Prepare
    const target = tool({ method: 'PUT', url: https('/echo') });

    // Act
    await runner.run(target, { name: 'x', tags: ['a'] }, ctx);

    // Assess
    const received = lastReceived();
    expect(received.method).toBe('PUT');
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received.body)).toEqual({ name: 'x', tags: ['a'] });
  });

  it('refuses a missing template argument and a header value with a line break', async () => {
    // Act
    const missing = await failure(runner.run(tool({ url: https('/echo/{{args.id}}') }), {}, ctx));
    const injected = await failure(
      runner.run(
        tool({ url: https('/echo'), headers: { 'X-A': '{{args.v}}' } }),
        { v: 'x\r\nX-Evil: 1' },
        ctx,
      ),
    );

    // Assess
    expect(missing.message).toContain('{{args.id}}');
    expect(injected.message).toContain('line break');
    expect(servers.received).toHaveLength(0);
  });

  it.each(['Host', 'content-length', 'Transfer-Encoding'])(
    'refuses to let a tool set the %s header',
    async (name) => {
      // Act
      const error = await failure(
        runner.run(tool({ url: https('/echo'), headers: { [name]: 'x' } }), {}, ctx),
      );

      // Assess
      expect(error).toMatchObject({ name: 'Tool.Failed' });
      expect(servers.received).toHaveLength(0);
    },
  );

  it('reads neither the body of a non-2xx answer nor that of a redirect', async () => {
    // Act: each body is over the cap and never ends.
    const error = await failure(
      runner.run(tool({ url: https('/status-big/503'), timeoutMs: 2_000 }), {}, ctx),
    );
    const followed = await runner.run(tool({ url: https('/redirect-big'), timeoutMs: 2_000 }), {}, ctx);

    // Assess
    expect(error).toMatchObject({ name: 'Tool.HttpError', status: 503 });
    expect(followed).toMatchObject({ method: 'GET', url: '/echo/after' });
  });

  it('says when the connection drops before the body ends', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/cut') }), {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.Failed', failure: 'failed' });
    expect(error.message).toBe(`response from api.example.test:${servers.httpsPort} was cut off`);
  });

  it('names the status of a non-2xx answer', async () => {
    // Act
    const error = await failure(runner.run(tool({ url: https('/status/404') }), {}, ctx));

    // Assess
    expect(error).toMatchObject({ name: 'Tool.HttpError', status: 404 });
  });

  it('returns text responses as {status, text}, and mislabelled JSON as text', async () => {
    // Act
    const text = await runner.run(tool({ url: https('/text') }), {}, ctx);
    const bad = await runner.run(tool({ url: https('/bad-json') }), {}, ctx);

    // Assess
    expect(text).toEqual({ status: 200, text: 'plain text' });
    expect(bad).toEqual({ status: 200, text: '{not json' });
  });
});
