import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddressClass } from '#core/net/address-guard.ts';
import type { EgressAllowlist } from '#core/net/egress.ts';

/**
 * The SSRF guard HTTP tools and OpenAI-compatible providers share: a URL's host is resolved once,
 * every address is checked (address-guard.ts) against the tenant's platform allowlist (egress.ts),
 * and the connection then goes to the checked addresses only (a pinned `lookup`, {@link pinnedRequest}),
 * so a DNS answer that changes between check and connect (rebinding) cannot move it. Callers re-check
 * each redirect.
 */

/** One resolved address of a host. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all of its addresses (injectable so tests can point names anywhere). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver: `dns.lookup(host, {all: true})`, in the order the resolver gives. */
export const systemResolver: HostResolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** The destination is not allowed: not retryable. */
export class EgressRefused extends Error {
  override readonly name = 'EgressRefused';
}

/** The host did not resolve. */
export class EgressUnresolved extends Error {
  override readonly name = 'EgressUnresolved';
}

/** How a guard decides. */
export interface EgressGuardOptions {
  /** @default systemResolver */
  readonly resolve?: HostResolver;
  /**
   * Why an address is refused, or undefined to allow it. Tests wrap the default to let their
   * loopback server stand in for a public host. @default forbiddenAddressClass
   */
  readonly forbiddenAddress?: (address: string) => string | undefined;
}

/** The URL's host without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export class EgressGuard {
  private readonly resolve: HostResolver;
  private readonly forbiddenAddress: (address: string) => string | undefined;

  constructor(options: EgressGuardOptions = {}) {
    this.resolve = options.resolve ?? systemResolver;
    this.forbiddenAddress = options.forbiddenAddress ?? forbiddenAddressClass;
  }

  /** Refuses what is neither https nor http to an allowlisted host, and URLs with credentials. */
  checkScheme(url: URL, allowlist: EgressAllowlist): void {
    if (url.username !== '' || url.password !== '') throw new EgressRefused('URL must not carry credentials');
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && allowlist.allowsHost(bareHost(url))) return;
    throw new EgressRefused(
      `${url.protocol} URLs are refused: use https${url.protocol === 'http:' ? ' (http only to a host a platform admin allowlisted for the tenant)' : ''}`,
    );
  }

  /**
   * Resolves the host (an IP literal as itself) and refuses it if ANY address is not public and not
   * allowlisted. Returns the addresses to connect to. Stops waiting when `signal` aborts.
   */
  async addresses(
    url: URL,
    allowlist: EgressAllowlist,
    signal: AbortSignal,
  ): Promise<readonly ResolvedAddress[]> {
    const host = bareHost(url);
    const literal = isIP(host);
    let addresses: readonly ResolvedAddress[];
    if (literal !== 0) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await abortable(this.resolve(host), signal);
      } catch (error) {
        if (signal.aborted) throw error;
        throw new EgressUnresolved(`cannot resolve ${host}: ${errorCode(error)}`);
      }
    }
    if (addresses.length === 0) throw new EgressUnresolved(`cannot resolve ${host}: no addresses`);
    const hostListed = allowlist.allowsHost(host);
    for (const { address } of addresses) {
      const kind = this.forbiddenAddress(address);
      if (kind && !hostListed && !allowlist.allowsAddress(address)) {
        throw new EgressRefused(
          `${host} resolves to ${address} (${kind}); only a platform admin can allowlist it for the tenant`,
        );
      }
    }
    return addresses;
  }
}

/** Hands net.connect the addresses already checked instead of asking DNS again. */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all)
      callback(
        null,
        addresses.map(({ address, family }) => ({ address, family })),
      );
    else {
      const first = addresses[0];
      if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error('no checked address'), { code: 'ENOTFOUND' }), '', 0);
    }
  };
}

// Stops waiting when the deadline passes (a DNS lookup cannot itself be cancelled).
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

// Error codes (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED) say what happened without echoing headers.
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}

/** One request of {@link pinnedRequest}. */
export interface PinnedRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
  /** Where to connect: the addresses {@link EgressGuard.addresses} checked. */
  readonly addresses: readonly ResolvedAddress[];
  /** Ends the request: the promise then rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** CA certificates trusted for https instead of the bundled ones (a private PKI, tests). */
  readonly ca?: string | Buffer | undefined;
  /** Most body bytes read: a longer body (declared or streamed) rejects with {@link ResponseTooLarge}. */
  readonly maxBytes: number;
  /** Whether to read the body of a response with this status; otherwise it is discarded unread. */
  readonly reads: (status: number) => boolean;
}

/** A response of {@link pinnedRequest}; `body` is empty when it was not read. */
export interface PinnedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The response body is longer than the request allowed. */
export class ResponseTooLarge extends Error {
  override readonly name = 'ResponseTooLarge';
}

/** The connection closed before the response body ended. */
export class ResponseCutOff extends Error {
  override readonly name = 'ResponseCutOff';
}

/**
 * Sends one request to the checked addresses only, on a socket of its own: none is pooled, so a
 * socket opened for another tenant's check is never reused. Rejects with the connection's error,
 * the signal's reason, {@link ResponseTooLarge} or {@link ResponseCutOff}; callers say which is which.
 */
export function pinnedRequest(req: PinnedRequest): Promise<PinnedResponse> {
  const { url, signal, maxBytes } = req;
  return new Promise<PinnedResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const https_ = url.protocol === 'https:';
    const request = (https_ ? https : http).request({
      hostname: bareHost(url),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: req.body ? { ...req.headers, 'content-length': req.body.length } : req.headers,
      lookup: pinnedLookup(req.addresses),
      agent: false,
      ...(req.ca !== undefined && https_ ? { ca: req.ca } : {}),
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (error: unknown) => {
      settle(() => reject(error));
      request.destroy();
    };
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const { headers } = response;
      if (!req.reads(status)) {
        response.resume();
        settle(() => resolve({ status, headers, body: Buffer.alloc(0) }));
        request.destroy();
        return;
      }
      const tooLarge = () =>
        fail(new ResponseTooLarge(`response from ${url.host} is larger than ${maxBytes} bytes`));
      if (Number(headers['content-length']) > maxBytes) {
        tooLarge();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) tooLarge();
        else chunks.push(chunk);
      });
      const cutOff = () => fail(new ResponseCutOff(`response from ${url.host} was cut off`));
      response.on('error', cutOff);
      response.on('close', () => {
        if (!response.complete) cutOff();
      });
      response.on('end', () => settle(() => resolve({ status, headers, body: Buffer.concat(chunks) })));
    });
    request.end(req.body);
  });
}
