import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleCsp } from '#shared/console-csp.ts';
import { initialChunks } from '../../../../bench/console.ts';
import { type LocalConsoleConfig, serveConsole } from '../../../../bin/local/console.ts';

const CONFIG: LocalConsoleConfig = {
  apiUrl: '',
  passwordSignIn: { cognitoEndpoint: 'http://127.0.0.1:9229', clientId: 'client-1' },
};

let dir: string;
let missing: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-console-unit-'));
  missing = join(dir, 'not-built');
  const dist = join(dir, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await mkdir(join(dist, '.vite'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(join(dist, '.vite', 'manifest.json'), '{}');
  await writeFile(join(dir, 'secret.txt'), 'outside');
  server = createServer(async (req, res) => {
    const notBuilt = req.headers['x-not-built'] === '1';
    const handled = await serveConsole(req, res, { dir: notBuilt ? missing : dist, config: () => CONFIG });
    if (!handled) {
      res.statusCode = 299;
      res.end('api');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

/** GET with the path sent exactly as written (fetch would normalise dot segments first). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    get({ hostname, port, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('local console server', () => {
  it('serves index.html at /console/ with the security headers and a CSP that allows only self and cognito-local', async () => {
    const response = await fetch(`${base}/console/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('<title>console</title>');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(consoleCsp(['http://127.0.0.1:9229']));
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:9229;");
    // Served over plain HTTP locally: nothing to upgrade to.
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('caches hashed assets for a year and types them', async () => {
    const response = await fetch(`${base}/console/assets/index-abc.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers config.json from the platform, not from disk', async () => {
    const response = await fetch(`${base}/console/config.json`);
    expect(await response.json()).toEqual(CONFIG);
  });

  it('redirects /console to /console/', async () => {
    const response = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/console/');
  });

  it('never reads outside the build folder, nor the build manifest', async () => {
    for (const path of [
      '/console/..%2fsecret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/../secret.txt',
      '/console/.vite/manifest.json',
      '/console/assets/..%2f.vite/manifest.json',
      '/console/nope.js',
    ]) {
      const response = await rawGet(path);
      expect(response.status, path).toBe(404);
      expect(response.body).not.toContain('outside');
    }
    expect((await fetch(`${base}/console/%E0%A4%A`)).status).toBe(400);
  });

  it('allows only GET and HEAD', async () => {
    const response = await fetch(`${base}/console/`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/console/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('says how to build it when the console is not built', async () => {
    const response = await fetch(`${base}/console/`, { headers: { 'x-not-built': '1' } });
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run console:build');
  });

  it('leaves every other path to the API', async () => {
    for (const path of ['/console-x', '/me', '/consoles/']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(299);
    }
  });
});

describe('console bench: initial chunks', () => {
  it('counts the entry and its static imports, transitively, and no dynamic import', () => {
    const chunks = initialChunks({
      'index.html': {
        file: 'assets/index.js',
        isEntry: true,
        imports: ['_shared.js'],
        dynamicImports: ['src/pages/usage.tsx'],
      },
      '_shared.js': { file: 'assets/shared.js', imports: ['_deep.js'] },
      '_deep.js': { file: 'assets/deep.js' },
      'src/pages/usage.tsx': { file: 'assets/usage.js', imports: ['_shared.js'] },
    });
    expect(chunks).toEqual(['assets/index.js', 'assets/shared.js', 'assets/deep.js']);
  });
});
