import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleProvider } from '#adapters/providers/openai.ts';
import { HttpToolRunner } from '#adapters/tools/http.ts';
import type { AgentDefinition, HttpToolDefinition } from '#core/catalog/model.ts';
import { type ModelRequest, ToolError } from '#core/executions/model-port.ts';
import { EgressAllowlist, egressProblems, normalizeEgress } from '#core/net/egress.ts';

describe('EgressAllowlist', () => {
  const list = new EgressAllowlist([
    'models.corp.example',
    '*.svc.cluster.example',
    '10.20.0.0/16',
    '192.168.1.7',
    'fd00:1234::/32',
  ]);

  it.each([
    ['models.corp.example', true],
    ['MODELS.corp.example.', true],
    ['other.corp.example', false],
    ['a.svc.cluster.example', true],
    ['svc.cluster.example', false],
    ['evil-svc.cluster.example', false],
    ['10.20.3.4', true],
    ['[fd00:1234::5]', true],
  ])('host %s allowed=%s', (host, allowed) => {
    expect(list.allowsHost(host)).toBe(allowed);
  });

  it.each([
    ['10.20.255.255', true],
    ['10.21.0.1', false],
    ['192.168.1.7', true],
    ['192.168.1.8', false],
    ['fd00:1234:ffff::1', true],
    ['fd00:1235::1', false],
    ['::ffff:10.20.0.1', false],
    ['169.254.169.254', false],
  ])('address %s allowed=%s', (address, allowed) => {
    expect(list.allowsAddress(address)).toBe(allowed);
  });

  it('an empty list allows nothing', () => {
    const none = new EgressAllowlist([]);
    expect(none.empty).toBe(true);
    expect(none.allowsHost('localhost')).toBe(false);
    expect(none.allowsAddress('127.0.0.1')).toBe(false);
  });

  it('names every bad entry by its index', () => {
    expect(
      egressProblems([
        'ok.example',
        '',
        '10.0.0.0/33',
        '0.0.0.0/0',
        '::/0',
        'bad host',
        '*.com',
        '1.2.3.4/8/9',
      ]),
    ).toEqual([
      { path: 'allow.1', message: 'must not be empty' },
      { path: 'allow.2', message: 'prefix length must be 0 to 32' },
      { path: 'allow.3', message: 'prefix too wide: list the private ranges you mean' },
      { path: 'allow.4', message: 'prefix too wide: list the private ranges you mean' },
      { path: 'allow.5', message: 'not a host name, IP address or CIDR block' },
      { path: 'allow.6', message: 'a wildcard needs at least two labels, e.g. *.corp.example' },
      { path: 'allow.7', message: 'not a host, address or CIDR block' },
    ]);
  });

  it('normalizes case and spacing and drops duplicates', () => {
    expect(normalizeEgress([' Models.Corp.Example ', 'models.corp.example', '10.0.0.0/8'])).toEqual([
      'models.corp.example',
      '10.0.0.0/8',
    ]);
  });
});

// A local server standing in for a model endpoint; the guard must refuse it unless allowlisted.
let server: Server;
let port: number;
let hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url?.startsWith('/redirect')) {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/v1/chat/completions` });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        choices: [{ message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits = [];
});

function ask(baseUrl: string, egress: readonly string[] = []): ModelRequest {
  const agent = { name: 'a', provider: 'openai', model: 'm', maxToolCalls: 0, baseUrl } as AgentDefinition;
  return { agent, messages: [{ role: 'user', content: 'q' }], tools: [], egress };
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const thrown = await promise.catch((e: unknown) => e);
  if (!(thrown instanceof Error)) throw new Error('expected a refusal');
  return thrown;
}

describe('OpenAI-compatible baseUrl goes through the address guard', () => {
  const lookups: string[] = [];
  const provider = new OpenAiCompatibleProvider({
    timeoutMs: 2_000,
    resolve: async (host) => {
      lookups.push(host);
      if (host === 'internal.example.test') return [{ address: '127.0.0.1', family: 4 }];
      if (host === 'metadata.example.test') return [{ address: '169.254.169.254', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    },
  });

  it.each([
    ['loopback over http', () => `http://127.0.0.1:${port}/v1`],
    ['a private address', () => 'https://10.0.0.5/v1'],
    ['the metadata address', () => 'https://169.254.169.254/v1'],
    ['an IPv4-translated loopback', () => `https://[::ffff:0:7f00:1]:${port}/v1`],
    [
      'a name that resolves to loopback (checked after DNS)',
      () => `https://internal.example.test:${port}/v1`,
    ],
    ['a name that resolves to the metadata address', () => 'https://metadata.example.test/v1'],
  ])('refuses %s without the platform allowlist, reaching nothing', async (_name, url) => {
    const thrown = await refusal(provider.converse(ask(url())));
    expect(thrown).toMatchObject({ name: 'Provider.ClientError', retryable: false });
    expect(thrown.message).toMatch(/refused/);
    expect(hits).toEqual([]);
  });

  it('reaches a loopback endpoint the platform admin allowlisted, by address or by name', async () => {
    await expect(provider.converse(ask(`http://127.0.0.1:${port}/v1`, ['127.0.0.1']))).resolves.toMatchObject(
      {
        text: 'hi',
      },
    );
    await expect(
      provider.converse(ask(`http://internal.example.test:${port}/v1`, ['internal.example.test'])),
    ).resolves.toMatchObject({ text: 'hi' });
    expect(hits).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
  });

  it('does not follow a redirect (it would carry the key elsewhere)', async () => {
    const thrown = await refusal(provider.converse(ask(`http://127.0.0.1:${port}/redirect`, ['127.0.0.1'])));
    expect(thrown.message).toMatch(/HTTP 302: redirects are not followed/);
    expect(hits).toEqual(['/redirect/chat/completions']);
  });

  it('refuses a stored baseUrl with a query or fragment at run time too', async () => {
    for (const url of [`http://127.0.0.1:${port}/v1?x=`, `http://127.0.0.1:${port}/v1#frag`]) {
      const thrown = await refusal(provider.converse(ask(url, ['127.0.0.1'])));
      expect(thrown.message).toMatch(/must not contain "\?" or "#"/);
    }
    expect(hits).toEqual([]);
  });
});

describe('HTTP tools: private egress only through the platform allowlist', () => {
  const runner = new HttpToolRunner();
  const ctx = { tenantId: 't1', secret: async () => undefined };
  const tool = (url: string, extra: Record<string, unknown> = {}) =>
    ({
      name: 't',
      type: 'http',
      method: 'GET',
      url,
      inputSchema: { type: 'object' },
      timeoutMs: 2_000,
      ...extra,
    }) as HttpToolDefinition;

  it('ignores a stored allowPrivateNetwork flag: the loopback endpoint stays refused', async () => {
    const stored = tool(`http://127.0.0.1:${port}/v1`, { allowPrivateNetwork: true });
    const thrown = await refusal(runner.run(stored, {}, ctx));
    expect(thrown).toBeInstanceOf(ToolError);
    expect(thrown).toMatchObject({ name: 'Tool.Refused' });
    expect(hits).toEqual([]);
  });

  it('reaches it once its address is on the tenant allowlist, and not a neighbour', async () => {
    await expect(
      runner.run(tool(`http://127.0.0.1:${port}/ok`), {}, { ...ctx, egress: ['127.0.0.0/30'] }),
    ).resolves.toMatchObject({
      choices: expect.any(Array),
    });
    const neighbour = await refusal(
      runner.run(tool(`http://127.0.0.1:${port}/ok`), {}, { ...ctx, egress: ['127.0.0.2/32'] }),
    );
    expect(neighbour).toMatchObject({ name: 'Tool.Refused' });
    expect(hits).toEqual(['/ok']);
  });
});
