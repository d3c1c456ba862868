import { Resolver } from 'node:dns/promises';
import type { TxtLookup } from '#core/identity/domains.ts';

export type { TxtLookup } from '#core/identity/domains.ts';

/**
 * Reads DNS TXT records, for tenants proving they own an email domain
 * (`_meridian-verification.example.com TXT "meridian-verification=abc123"`). Only "no such record" is an
 * answer; anything else is a {@link DnsLookupError} so a caller retries instead of deciding the record is absent.
 */

/** How {@link txtLookup} asks. */
export interface TxtLookupOptions {
  /** DNS servers to ask instead of the system's, as `host` or `host:port` (tests, the local platform). */
  readonly servers?: readonly string[];
  /** Per-try timeout, ms. @default 3000 */
  readonly timeoutMs?: number;
  /** @default 2 */
  readonly tries?: number;
  /**
   * The whole lookup, ms, whatever the number of servers (each is tried in turn, so a resolver with
   * several unanswering servers would otherwise outlast the API's 29 s). @default 8000
   */
  readonly deadlineMs?: number;
}

/** A lookup failed for another reason than "no such record" (timeout, refused, server failure): try again later. */
export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
  /** Node's error code, e.g. `ETIMEOUT`, `ESERVFAIL`, `ECONNREFUSED`, `ECANCELLED` (the deadline). */
  readonly code: string;

  constructor(code: string) {
    // The code only: node's own message adds nothing a caller can act on.
    super(`DNS TXT lookup failed: ${code}`);
    this.code = code;
  }
}

// NXDOMAIN and NOERROR-without-TXT: the record is not there, which is an answer, not a failure.
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * A {@link TxtLookup} (the system's servers unless `servers` is given). Each lookup has a resolver of
 * its own, so the deadline cancels only that lookup.
 */
export function txtLookup(options: TxtLookupOptions = {}): TxtLookup {
  return async (name) => {
    const resolver = new Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
    if (options.servers !== undefined) resolver.setServers(options.servers);
    const deadline = setTimeout(() => resolver.cancel(), options.deadlineMs ?? 8000);
    try {
      const records = await resolver.resolveTxt(name);
      return records.map((strings) => strings.join(''));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && ABSENT.has(code)) return [];
      throw new DnsLookupError(typeof code === 'string' ? code : 'EUNKNOWN');
    } finally {
      clearTimeout(deadline);
    }
  };
}
