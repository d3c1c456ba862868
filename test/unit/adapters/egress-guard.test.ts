import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PinnedRequest,
  pinnedRequest,
  ResponseCutOff,
  ResponseTooLarge,
} from '#adapters/egress-guard.ts';
import { startServers, TEST_CERT, type TestServers } from './tools/server.ts';

// The one request the HTTP tool, the OpenAI-compatible provider and the webhook poster send.

let servers: TestServers;
beforeAll(async () => {
  servers = await startServers();
});
afterAll(async () => {
  await servers.close();
});

// The URL names a host nobody resolves: only the pinned address can reach the server.
const request = (path: string, overrides: Partial<PinnedRequest> = {}): Promise<unknown> =>
  pinnedRequest({
    url: new URL(`https://api.example.test:${servers.httpsPort}${path}`),
    method: 'GET',
    headers: {},
    addresses: [{ address: '127.0.0.1', family: 4 }],
    signal: AbortSignal.timeout(5000),
    ca: TEST_CERT,
    maxBytes: 1024 * 1024,
    reads: () => true,
    ...overrides,
  });

describe('pinnedRequest', () => {
  it('connects to the pinned address with the body, and reads the response', async () => {
    // Act
    const response = (await request('/echo?q=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    })) as { status: number; headers: Record<string, string>; body: Buffer };
    // Assess
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const echoed = JSON.parse(response.body.toString('utf8'));
    expect(echoed).toMatchObject({ method: 'POST', url: '/echo?q=1', body: '{"a":1}' });
    expect(echoed.headers['content-length']).toBe('7');
    expect(echoed.headers.host).toBe(`api.example.test:${servers.httpsPort}`);
  });

  it('discards a body it is told not to read', async () => {
    // Act
    const response = (await request('/status/503', { reads: (status) => status === 200 })) as {
      status: number;
      body: Buffer;
    };
    // Assess
    expect(response.status).toBe(503);
    expect(response.body).toHaveLength(0);
  });

  it.each([
    ['declared', '/big-declared'],
    ['streamed', '/big'],
  ])('refuses a body larger than allowed (%s)', async (_how, path) => {
    // Act / Assess
    await expect(request(path)).rejects.toThrow(ResponseTooLarge);
    await expect(request(path)).rejects.toThrow(/is larger than 1048576 bytes/);
  });

  it('reads a body of exactly the allowed size', async () => {
    // Act
    const response = (await request('/exactly-cap')) as { body: Buffer };
    // Assess
    expect(response.body).toHaveLength(1024 * 1024);
  });

  it('says when the connection drops before the body ends', async () => {
    // Act / Assess
    await expect(request('/cut')).rejects.toThrow(ResponseCutOff);
    await expect(request('/cut')).rejects.toThrow(
      `response from api.example.test:${servers.httpsPort} was cut off`,
    );
  });

  it('ends with the signal, before and during the request', async () => {
    // Prepare
    const before = new AbortController();
    before.abort(new Error('gone before'));
    const during = new AbortController();
    // Act
    const early = request('/echo', { signal: before.signal });
    const hanging = request('/hang', { signal: during.signal });
    setTimeout(() => during.abort(new Error('gone during')), 50);
    // Assess
    await expect(early).rejects.toThrow('gone before');
    await expect(hanging).rejects.toThrow('gone during');
  });

  it('passes on a connection error as it is', async () => {
    // Act / Assess: nothing listens on port 1.
    await expect(request('/', { url: new URL('http://api.example.test:1/') })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});

describe('pinnedRequest sockets', () => {
  // Two servers on one port, at 127.0.0.1 and 127.0.0.2: which one answers says where the socket went.
  let a: Server;
  let b: Server;
  let port = 0;
  beforeAll(async () => {
    a = createServer((_request, response) => response.end('A'));
    await new Promise<void>((resolve) => a.listen(0, '127.0.0.1', resolve));
    port = (a.address() as AddressInfo).port;
    b = createServer((_request, response) => response.end('B'));
    await new Promise<void>((resolve) => b.listen(port, '127.0.0.2', resolve));
  });
  afterAll(async () => {
    for (const server of [a, b]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const from = async (address: string) =>
    (
      await pinnedRequest({
        url: new URL(`http://same.example.test:${port}/`),
        method: 'GET',
        headers: {},
        addresses: [{ address, family: 4 }],
        signal: AbortSignal.timeout(2000),
        maxBytes: 100,
        reads: () => true,
      })
    ).body.toString('utf8');

  it('never reuses a socket opened for another check of the same host', async () => {
    // Act / Assess: a pooled socket (keep-alive by host and port) would answer A twice.
    expect(await from('127.0.0.1')).toBe('A');
    expect(await from('127.0.0.2')).toBe('B');
  });
});
