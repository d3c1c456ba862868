import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleCsp } from '#shared/console-csp.ts';

/**
 * Serves the Meridian Console (console/dist, built by `npm run console:build`) at `/console/` on the
 * local API's origin, with the same security headers CloudFront adds on AWS, and its
 * `config.json`: where to sign in (cognito-local's InitiateAuth, and SSO when configured). The
 * console then calls only the public API, on this same origin.
 */

export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));
const CONSOLE_SRC = fileURLToPath(new URL('../../console/src/', import.meta.url));
/** The console's bundle takes the validator and permissions from here, and its schemas are built from here. */
const FUNCTIONS = fileURLToPath(new URL('../../functions/', import.meta.url));

/** What config.json tells the console (see console/src/config.ts). */
export interface LocalConsoleConfig {
  readonly apiUrl: string;
  readonly passwordSignIn: { readonly cognitoEndpoint: string; readonly clientId: string };
  readonly sso?: {
    readonly authorizeUrl: string;
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly label?: string;
  };
}

export interface ConsoleOptions {
  readonly dir?: string;
  readonly config: () => LocalConsoleConfig;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function securityHeaders(connectOrigins: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': consoleCsp(connectOrigins),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'cross-origin-opener-policy': 'same-origin',
  };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Answers GET/HEAD under /console; returns false for every other request (the API's). Paths
 * outside the dist folder are 404, never read.
 */
export async function serveConsole(
  req: IncomingMessage,
  res: ServerResponse,
  options: ConsoleOptions,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path !== '/console' && !path.startsWith('/console/')) return false;
  const method = req.method ?? 'GET';
  const config = options.config();
  const connect = [config.passwordSignIn.cognitoEndpoint, config.sso?.tokenUrl]
    .map((u) => (u ? originOf(u) : undefined))
    .filter((o): o is string => o !== undefined);
  const headers = securityHeaders(connect);
  const send = (status: number, type: string, body: Buffer | string, cache = 'no-cache'): true => {
    res.writeHead(status, {
      ...headers,
      'content-type': type,
      'cache-control': cache,
      'content-length': Buffer.byteLength(body),
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'Method Not Allowed');
  }
  if (path === '/console') {
    res.writeHead(308, { ...headers, location: '/console/' });
    res.end();
    return true;
  }
  if (path === '/console/config.json') return send(200, 'application/json', JSON.stringify(config));
  const dir = resolve(options.dir ?? CONSOLE_DIST);
  let relative: string;
  try {
    relative = decodeURIComponent(path.slice('/console/'.length)) || 'index.html';
  } catch {
    return send(400, 'text/plain; charset=utf-8', 'Bad Request');
  }
  const file = resolve(dir, relative);
  // Judged on the resolved path: `assets/../.vite/manifest.json` is the build's manifest too.
  if (!file.startsWith(dir + sep) || file.slice(dir.length + 1).startsWith('.vite')) {
    return send(404, 'text/plain; charset=utf-8', 'Not Found');
  }
  try {
    const body = await readFile(file);
    // Hashed asset names never change content: cache them for a year; index.html is revalidated.
    const immutable = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return send(200, TYPES[extname(file)] ?? 'application/octet-stream', body, immutable);
  } catch {
    if (!existsSync(join(dir, 'index.html'))) {
      return send(
        503,
        'text/plain; charset=utf-8',
        'The console is not built: run `npm run console:build` (npm start builds it when missing).',
      );
    }
    return send(404, 'text/plain; charset=utf-8', 'Not Found');
  }
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/**
 * Whether console/dist is missing or older than what it is built from, console/src and functions/
 * (then `npm start` and the browser tests rebuild it).
 */
export async function consoleNeedsBuild(dist = CONSOLE_DIST): Promise<boolean> {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return true;
  if (!existsSync(CONSOLE_SRC)) return false;
  const built = statSync(index).mtimeMs;
  return (await newestMtime(CONSOLE_SRC)) > built || (await newestMtime(FUNCTIONS)) > built;
}
