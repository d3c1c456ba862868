import type { Middleware } from 'openapi-fetch';
import { type components, type MeridianClient, meridianClient } from '../../clients/client.ts';
import { currentTokens, refresh, signOut } from './auth.ts';
import type { ConsoleConfig } from './config.ts';

/**
 * The generated, typed client for the public API (the same one `clients/` ships); the console calls
 * nothing else. A middleware adds the access token from memory, refreshing it first when it has
 * expired, and signs out when the API still answers 401.
 */

export type Schemas = components['schemas'];

/** Requests in flight, on `<body data-pending>`: tests and the bench wait for 0 before they look. */
let pending = 0;
function track(delta: number): void {
  pending += delta;
  document.body.dataset.pending = String(pending);
}

const authMiddleware: Middleware = {
  async onRequest({ request }) {
    track(1);
    let tokens = currentTokens();
    if (tokens && tokens.expiresAt <= Date.now() + 5_000) tokens = await refresh();
    if (tokens) request.headers.set('authorization', `Bearer ${tokens.accessToken}`);
    return request;
  },
  async onResponse({ response }) {
    track(-1);
    if (response.status === 401 && currentTokens()) await signOut();
    return response;
  },
  onError() {
    track(-1);
  },
};

let client: MeridianClient | undefined;

export function initApi(config: ConsoleConfig): MeridianClient {
  client = meridianClient(config.apiUrl || window.location.origin, {}, [authMiddleware]);
  return client;
}

export function api(): MeridianClient {
  if (!client) throw new Error('the API client is used before the configuration was loaded');
  return client;
}

/** A problem+json answer (or API Gateway's `{message}`) as one readable line. */
export function problemText(error: unknown, status?: number): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { title?: unknown; detail?: unknown; message?: unknown };
    const detail = typeof e.detail === 'string' ? e.detail : undefined;
    const title =
      typeof e.title === 'string' ? e.title : typeof e.message === 'string' ? e.message : undefined;
    if (title || detail) return [title, detail].filter(Boolean).join(': ');
  }
  return status ? `Request failed (HTTP ${status})` : 'Request failed';
}

/** Unwraps an openapi-fetch result: the data, or an Error carrying the problem's text. */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await promise;
  if (error !== undefined || !response.ok)
    throw new ApiError(problemText(error, response.status), response.status);
  return data as T;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
