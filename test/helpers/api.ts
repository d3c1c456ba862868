import { inject } from 'vitest';

/** What {@link call} returns: status, headers and the parsed body (JSON when the response is JSON). */
export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  /** The raw response text. */
  readonly text: string;
}

/** Options of {@link call}. */
export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Sent as `X-Api-Key`. */
  readonly apiKey?: string;
  /** JSON-encoded (with `content-type: application/json` unless `headers` sets one); a string or bytes go as they are. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A problem+json error body (API.md). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly { path: string; message: string }[];
  readonly requestId: string;
}

/**
 * Calls the local API started by the integration global setup. `path` starts with `/`.
 */
export async function call<T = unknown>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const has = (name: string): boolean => Object.keys(headers).some((key) => key.toLowerCase() === name);
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  let body: string | Uint8Array | undefined;
  if (typeof options.body === 'string' || options.body instanceof Uint8Array) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!has('content-type')) headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${inject('apiUrl')}${path}`, { method, headers, body });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json');
  let parsed: unknown = text;
  if (json && text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
