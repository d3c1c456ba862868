/**
 * A local HTTP and HTTPS test server on 127.0.0.1 for the http tool tests, with canned routes and a
 * record of what it received. The TLS key and certificate below were generated for these tests
 * only (self-signed, CN api.example.test, SANs api.example.test, other.example.test, 127.0.0.1);
 * they protect nothing and are trusted only by the runner a test builds with `ca: TEST_CERT`.
 */
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Test-only private key of {@link TEST_CERT}. */
export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+BcTytD+UOyP5EIJ
ZMZZ67Lw/ILv9gn9/9uW1roemUyhRANCAASK9Sg63eN/nvoE68vPjeiLRlEDaYft
DhWc5k1zRyYTMV9vla7Z1k8DjDUw0++gzmVeG5DNoa2iih1wugtXrvxB
-----END PRIVATE KEY-----`;

/** Test-only self-signed certificate for api.example.test, other.example.test and 127.0.0.1. */
export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBxjCCAWygAwIBAgIUW10NebsC9auQgnRO6mWKbdxco7QwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQYXBpLmV4YW1wbGUudGVzdDAgFw0yNjExMjIwMjMzMjNaGA8y
MTI2MTAyOTAyMzMyM1owGzEZMBcGA1UEAwwQYXBpLmV4YW1wbGUudGVzdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABIr1KDrd43+e+gTry8+N6ItGUQNph+0OFZzm
TXNHJhMxX2+VrtnWTwOMNTDT76DOZV4bkM2hraKKHXC6C1eu/EGjgYswgYgwHQYD
VR0OBBYEFKQSZxF6Aot3XKm5nz2uygX2jFkQMB8GA1UdIwQYMBaAFKQSZxF6Aot3
XKm5nz2uygX2jFkQMA8GA1UdEwEB/wQFMAMBAf8wNQYDVR0RBC4wLIIQYXBpLmV4
YW1wbGUudGVzdIISb3RoZXIuZXhhbXBsZS50ZXN0hwR/AAABMAoGCCqGSM49BAMC
A0gAMEUCIQCRUgeN9JRzcA2Ap0pxiIR8JVF82zoM1oPtAQFlGKPYcgIgDtmstDCf
wa2jBN64c0ioQApGHo5/UltUB/q/WFKZIoc=
-----END CERTIFICATE-----`;

/** One request the server received. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A running pair of servers. */
export interface TestServers {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly received: Received[];
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const path = url.pathname;
  if (path.startsWith('/echo')) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  } else if (path === '/text') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('plain text');
  } else if (path === '/bad-json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{not json');
  } else if (path.startsWith('/status/')) {
    res.writeHead(Number(path.slice('/status/'.length)), { 'content-type': 'text/plain' });
    res.end('failure body');
  } else if (path === '/redirect') {
    res.writeHead(Number(url.searchParams.get('status') ?? 302), {
      location: url.searchParams.get('to') ?? '/',
    });
    res.end();
  } else if (path.startsWith('/loop/')) {
    // /loop/n redirects to /loop/n+1 forever.
    res.writeHead(302, { location: `/loop/${Number(path.slice('/loop/'.length)) + 1}` });
    res.end();
  } else if (path === '/big') {
    // Chunked, no content-length: the cap must apply while streaming.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent <= MIB; sent += chunk.length) res.write(chunk);
    res.end();
  } else if (path === '/exactly-cap') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(MIB) });
    res.end(Buffer.alloc(MIB, 'b'));
  } else if (path === '/big-declared') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(2 * MIB) });
    res.write('a');
  } else if (path.startsWith('/status-big/')) {
    // A failure status with a body over any cap that never ends: only the status may be read.
    res.writeHead(Number(path.slice('/status-big/'.length)), { 'content-length': String(2 * MIB) });
    res.write('a');
  } else if (path === '/redirect-big') {
    // A redirect with a body over any cap that never ends: only the status and Location may be read.
    res.writeHead(302, { location: '/echo/after', 'content-length': String(2 * MIB) });
    res.write('a');
  } else if (path === '/cut') {
    // Declares 100 bytes, sends 3, and drops the connection.
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
    res.write('abc', () => req.socket.destroy());
  } else if (path === '/hang') {
    // Never answers.
  } else if (path === '/slow-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
  } else {
    res.writeHead(404);
    res.end();
  }
}

function handler(received: Received[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, res, body);
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Starts the servers on 127.0.0.1, on ports the system chooses. */
export async function startServers(): Promise<TestServers> {
  const received: Received[] = [];
  const plain = createHttpServer(handler(received));
  const secure = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, handler(received));
  const httpPort = await listen(plain);
  const httpsPort = await listen(secure);
  return {
    httpPort,
    httpsPort,
    received,
    async close() {
      for (const server of [plain, secure]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
