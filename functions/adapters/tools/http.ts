import type { OutgoingHttpHeaders } from 'node:http';
import type { HttpToolDefinition, JsonValue } from '#core/catalog/model.ts';
import { type ToolContext, ToolError } from '#core/executions/model-port.ts';
import { EgressAllowlist } from '#core/net/egress.ts';
import { parseDataPath, scanTemplates } from '#core/workflows/templates.ts';
import {
  EgressGuard,
  EgressRefused,
  EgressUnresolved,
  errorCode,
  type HostResolver,
  type PinnedResponse,
  pinnedRequest,
  type ResolvedAddress,
  ResponseCutOff,
  ResponseTooLarge,
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
      const location = redirectOf(hop);
      if (location === undefined) return resultOf(hop);
      if (redirects >= this.maxRedirects)
        throw new ToolError('failed', `more than ${this.maxRedirects} redirects (last from ${url.host})`);
      const next = parseUrl(location, url);
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

  // One hop: a redirect or a 2xx is returned (the body of a 2xx read up to the cap), anything
  // else is the tool's error. Errors become tool errors naming the host, never echoing headers.
  private async send(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | undefined,
    addresses: readonly ResolvedAddress[],
    signal: AbortSignal,
    timedOut: () => ToolError,
  ): Promise<PinnedResponse> {
    let response: PinnedResponse;
    try {
      response = await pinnedRequest({
        url,
        method,
        headers,
        ...(body ? { body } : {}),
        addresses,
        signal,
        ca: this.ca,
        maxBytes: this.maxResponseBytes,
        reads: (status) => status >= 200 && status < 300,
      });
    } catch (error) {
      if (signal.aborted) throw timedOut();
      if (error instanceof ResponseTooLarge) throw new ToolError('too-large', error.message);
      if (error instanceof ResponseCutOff) throw new ToolError('failed', error.message);
      throw new ToolError('failed', `request to ${url.host} failed: ${errorCode(error)}`);
    }
    const { status } = response;
    if ((status < 200 || status >= 300) && redirectOf(response) === undefined)
      throw new ToolError('http', `${url.host} answered HTTP ${status}`, status);
    return response;
  }
}

/** Where a redirect points, or undefined when the response is none. */
function redirectOf(hop: PinnedResponse): string | undefined {
  return REDIRECT_STATUSES.has(hop.status) ? hop.headers.location || undefined : undefined;
}

function resultOf(hop: PinnedResponse): unknown {
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
