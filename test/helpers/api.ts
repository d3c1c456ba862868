import type { Middleware } from 'openapi-fetch';
import { inject } from 'vitest';
import { type MeridianClient, meridianClient } from '../../clients/client.ts';
import { Contract } from './contract.ts';

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
  /**
   * The response is checked against the spec (`GET /openapi.json`) unless this is false: only for
   * requests a test sends outside the contract on purpose (another Content-Type's body, say).
   */
  readonly checkContract?: boolean;
  /** Sent as `X-Api-Key`. */
  readonly apiKey?: string;
  /** JSON-encoded (with `content-type: application/json` unless `headers` sets one); a string or bytes go as they are. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A problem+json error body (docs/api.md). */
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
  if (options.checkContract !== false) {
    const contract = await contractOf(inject('apiUrl'));
    const problems = contract.check(
      method,
      path,
      response.status,
      response.headers.get('content-type') ?? '',
      parsed,
      text,
    );
    if (problems.length > 0) {
      throw new Error(
        `The response breaks the API contract:\n${problems.slice(0, 10).join('\n')}\n${text.slice(0, 500)}`,
      );
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

const contracts = new Map<string, Promise<Contract>>();

/** The spec the API under test serves, fetched once per worker. */
export function contractOf(apiUrl: string): Promise<Contract> {
  let contract = contracts.get(apiUrl);
  if (!contract) {
    contract = fetch(`${apiUrl}/openapi.json`)
      .then((r) => r.json() as Promise<Record<string, unknown>>)
      .then((spec) => new Contract(spec));
    contracts.set(apiUrl, contract);
  }
  return contract;
}

/**
 * Checks every response of the typed client against the spec, as {@link call} does: a response
 * that breaks the contract rejects the call.
 */
const contractCheck: Middleware = {
  async onResponse({ request, response }) {
    const url = new URL(request.url);
    const text = await response.clone().text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '')
      parsed = JSON.parse(text);
    const contract = await contractOf(inject('apiUrl'));
    const problems = contract.check(
      request.method,
      `${url.pathname}${url.search}`,
      response.status,
      response.headers.get('content-type') ?? '',
      parsed,
      text,
    );
    if (problems.length > 0) {
      throw new Error(`The response breaks the API contract:\n${problems.slice(0, 10).join('\n')}`);
    }
    return undefined;
  },
};

/** The generated, typed client (clients/client.ts) against the local API, checked against the spec. */
export function apiClient(credential: { token?: string; apiKey?: string } = {}): MeridianClient {
  return meridianClient(inject('apiUrl'), credential, [contractCheck]);
}
