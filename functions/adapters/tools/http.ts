import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { HttpToolDefinition, JsonValue } from '#core/catalog/model.ts';
import { type ToolContext, ToolError } from '#core/executions/model-port.ts';
import { EgressAllowlist } from '#core/net/egress.ts';
import { parseDataPath, scanTemplates } from '#core/workflows/templates.ts';
import {
  bareHost,
  EgressGuard,
  EgressRefused,
  EgressUnresolved,
  errorCode,
  type HostResolver,
  pinnedLookup,
  type ResolvedAddress,
} from '../egress-guard.ts';

export { type HostResolver, type ResolvedAddress, systemResolver } from '../egress-guard.ts';

/** Largest response body read, in bytes (1 MiB). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Most redirects followed. */
export const MAX_REDIRECTS = 5;

/** Options of {@link HttpToolRunner}. */
export interface HttpToolRunnerOptions {
  /** @default systemResolver */
  readonly resolve?: HostResolver;
  /** @default MAX_RESPONSE_BYTES */
  readonly maxResponseBytes?: number;
  /** @default MAX_REDIRECTS */
  readonly maxRedirects?: number;
  /**
   * Why an address is refused, or undefined to allow it. Tests wrap the default to let their
   * loopback server stand in for a public host. @default forbiddenAddressClass
   */
  readonly forbiddenAddress?: (address: string) => string | undefined;
  /** CA certificates trusted for https instead of the bundled ones (a private PKI, tests). */
  readonly ca?: string | Buffer;
}

type Hop =
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: Buffer;
    };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// Framing and routing headers belong to the runner: a tool setting them could smuggle requests.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
]);

/**
 * Runs `type: 'http'` tools. The URL's `{{args.x}}` templates are filled URL-encoded, header
 * templates verbatim; methods other than GET send the args as a JSON body; the tool's `authSecret`
 * goes in `Authorization: Bearer …` and nowhere else (not in messages, not in logs).
 *
 * SSRF guard (functions/adapters/egress-guard.ts): every host, including each redirect target, is
 * resolved once and refused (`Tool.Refused`) if ANY of its addresses is not public, and plain http
 * is refused, unless a platform admin allowlisted the destination for the tenant (`ctx.egress`).
 * The connection then goes to the checked addresses only (a pinned `lookup`), so a DNS answer that
 * changes between check and connect (rebinding) cannot redirect it. Also: one deadline of
 * `timeoutMs` over all hops (`Tool.Timeout`), at most {@link MAX_REDIRECTS} redirects, bodies capped at {@link MAX_RESPONSE_BYTES} while streaming
 * (`Tool.TooLarge`), non-2xx → `Tool.HttpError` with the status. A JSON response is returned
 * parsed; anything else as `{status, text}`.
 */
export class HttpToolRunner {
  private readonly guard: EgressGuard;
  private readonly maxResponseBytes: number;
  private readonly maxRedirects: number;
  private readonly ca: string | Buffer | undefined;

  constructor(options: HttpToolRunnerOptions = {}) {
    this.guard = new EgressGuard({
      ...(options.resolve ? { resolve: options.resolve } : {}),
      ...(options.forbiddenAddress ? { forbiddenAddress: options.forbiddenAddress } : {}),
    });
    this.ca = options.ca;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
  }

  /** Calls the tool's endpoint with `args` (already validated against its `inputSchema`). */
  async run(tool: HttpToolDefinition, args: Record<string, unknown>, ctx: ToolContext): Promise<unknown> {
    let url = parseUrl(renderTemplate(tool.url, args, 'url', encodeURIComponent));
    const headers: Record<string, string> = {
      accept: 'application/json, */*;q=0.8',
      'user-agent': 'Meridian-HttpTool/1',
    };
    for (const [name, template] of Object.entries(tool.headers ?? {})) {
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        throw new ToolError('failed', `header ${name} is set by the runner and cannot be configured`);
      const value = renderTemplate(template, args, `headers.${name}`, (text) => text);
      // CR/LF in a header value would let an argument inject headers.
      if (/[\r\n\0]/.test(value)) throw new ToolError('failed', `header ${name}: value has a line break`);
      setHeader(headers, name, value);
    }
    if (tool.authSecret) {
      const secret = await ctx.secret(tool.authSecret);
      if (secret === undefined || secret === '')
        throw new ToolError('failed', `auth secret "${tool.authSecret}" is not set for this tenant`);
      if (/[\r\n\0]/.test(secret))
        throw new ToolError('failed', `auth secret "${tool.authSecret}" is not a valid header value`);
      setHeader(headers, 'authorization', `Bearer ${secret}`);
    }
    let method: string = tool.method;
    let body: Buffer | undefined;
    if (method !== 'GET') {
      body = Buffer.from(JSON.stringify(args));
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    }

    const timeout = AbortSignal.timeout(tool.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
    const timedOut = () =>
      new ToolError(
        'timeout',
        timeout.aborted
          ? `no complete answer from ${url.host} within ${tool.timeoutMs} ms`
          : 'tool call aborted',
      );

    const allowlist = new EgressAllowlist(ctx.egress ?? []);
    for (let redirects = 0; ; redirects++) {
      const addresses = await this.checkedAddresses(url, allowlist, signal, timedOut);
      const hop = await this.send(url, method, headers, body, addresses, signal, timedOut);
      if (hop.kind === 'response') return resultOf(hop);
      if (redirects >= this.maxRedirects)
        throw new ToolError('failed', `more than ${this.maxRedirects} redirects (last from ${url.host})`);
      const next = parseUrl(hop.location, url);
      // Like fetch: never carry the credential to another origin.
      if (next.origin !== url.origin) deleteHeader(headers, 'authorization');
      if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        deleteHeader(headers, 'content-type');
      }
      url = next;
    }
  }

  // The shared guard (scheme, DNS, address classes, allowlist), its refusals as tool errors.
  private async checkedAddresses(
    url: URL,
    allowlist: EgressAllowlist,
    signal: AbortSignal,
    timedOut: () => ToolError,
  ): Promise<readonly ResolvedAddress[]> {
    try {
      this.guard.checkScheme(url, allowlist);
      return await this.guard.addresses(url, allowlist, signal);
    } catch (error) {
      if (signal.aborted) throw timedOut();
      if (error instanceof EgressRefused) throw new ToolError('refused', error.message);
      if (error instanceof EgressUnresolved) throw new ToolError('failed', error.message);
      throw error;
    }
  }

  private send(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | undefined,
    addresses: readonly ResolvedAddress[],
    signal: AbortSignal,
    timedOut: () => ToolError,
  ): Promise<Hop> {
    const max = this.maxResponseBytes;
    return new Promise<Hop>((resolve, reject) => {
      if (signal.aborted) {
        reject(timedOut());
        return;
      }
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request({
        hostname: bareHost(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method,
        headers: body ? { ...headers, 'content-length': body.length } : headers,
        lookup: pinnedLookup(addresses),
        // No pooled sockets: a socket opened for another check (or another tool) is never reused.
        agent: false,
        ...(this.ca !== undefined && url.protocol === 'https:' ? { ca: this.ca } : {}),
      });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (error: ToolError) => {
        settle(() => reject(error));
        request.destroy();
      };
      const onAbort = () => fail(timedOut());
      signal.addEventListener('abort', onAbort, { once: true });

      request.on('error', (error) =>
        fail(new ToolError('failed', `request to ${url.host} failed: ${errorCode(error)}`)),
      );
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location) {
          response.resume();
          settle(() => resolve({ kind: 'redirect', status, location }));
          request.destroy();
          return;
        }
        if (status < 200 || status >= 300) {
          response.resume();
          fail(new ToolError('http', `${url.host} answered HTTP ${status}`, status));
          return;
        }
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > max) {
          fail(tooLarge(url, max));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) fail(tooLarge(url, max));
          else chunks.push(chunk);
        });
        response.on('error', () => fail(new ToolError('failed', `response from ${url.host} was cut off`)));
        response.on('close', () => {
          if (!response.complete) fail(new ToolError('failed', `response from ${url.host} was cut off`));
        });
        response.on('end', () =>
          settle(() =>
            resolve({ kind: 'response', status, headers: response.headers, body: Buffer.concat(chunks) }),
          ),
        );
      });
      request.end(body);
    });
  }
}

function resultOf(hop: Extract<Hop, { kind: 'response' }>): unknown {
  const text = hop.body.toString('utf8');
  const type = String(hop.headers['content-type'] ?? '').toLowerCase();
  if (/^application\/([\w.+-]*\+)?json\b/.test(type) && text.trim() !== '') {
    try {
      return JSON.parse(text);
    } catch {
      // A server that labels non-JSON as JSON: hand the text back rather than failing the step.
      return { status: hop.status, text };
    }
  }
  return { status: hop.status, text };
}

function tooLarge(url: URL, max: number): ToolError {
  return new ToolError('too-large', `response from ${url.host} is larger than ${max} bytes`);
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new ToolError('refused', 'not a valid URL once its templates are filled');
  }
}

/**
 * Fills `{{args.path}}` templates of `text` from `args`. Strings are inserted as they are, other
 * values as JSON, each passed through `encode`. A missing argument is an error naming the template.
 */
export function renderTemplate(
  text: string,
  args: Record<string, unknown>,
  field: string,
  encode: (value: string) => string,
): string {
  const { matches, error } = scanTemplates(text);
  if (error) throw new ToolError('failed', `${field}: ${error}`);
  let out = '';
  let from = 0;
  for (const match of matches) {
    const parsed = parseDataPath(match.expression, ['args']);
    if (!parsed.ok)
      throw new ToolError('failed', `${field}: template {{${match.expression}}}: ${parsed.message}`);
    let value: unknown = args;
    for (const segment of parsed.ref.segments) {
      value = readSegment(value, segment);
    }
    if (value === undefined || value === null)
      throw new ToolError('failed', `${field}: template {{${match.expression}}} has no value`);
    out += text.slice(from, match.offset) + encode(typeof value === 'string' ? value : stringify(value));
    from = text.indexOf('}}', match.offset) + 2;
  }
  return out + text.slice(from);
}

function readSegment(value: unknown, segment: string | number): unknown {
  if (typeof segment === 'number') return Array.isArray(value) ? value[segment] : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  // Own properties only: `{{args.constructor}}` must not reach the prototype.
  return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
}

function stringify(value: unknown): string {
  return JSON.stringify(value as JsonValue) ?? '';
}

function setHeader(headers: Record<string, string>, name: string, value: string): void {
  deleteHeader(headers, name);
  headers[name.toLowerCase()] = value;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());
}

function deleteHeader(headers: Record<string, string>, name: string): void {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
}
