/**
 * The per-tenant private-network egress allowlist, set only by a platform admin
 * (`PUT /tenants/{tenantId}/egress`) and stored on the tenant's item. HTTP tools and model provider
 * base URLs refuse loopback, private, link-local and metadata addresses (address-guard.ts) and plain
 * http, unless the destination is on this list: a host name (exact, or `*.suffix` for its
 * subdomains) or an IPv4/IPv6 address or CIDR block. A tenant cannot set it.
 */
import { isIP } from 'node:net';
import type { FieldProblem } from '../errors.ts';
import { parseV6 } from './address-guard.ts';

/** Most entries on one tenant's list. */
export const MAX_EGRESS_ENTRIES = 50;

type Entry =
  | { readonly kind: 'host'; readonly name: string; readonly subdomains: boolean }
  | { readonly kind: 'cidr'; readonly family: 4 | 6; readonly base: bigint; readonly bits: number };

const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function addressValue(address: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(address);
  if (family === 4) {
    return {
      family: 4,
      value: address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n),
    };
  }
  if (family === 6) {
    const groups = parseV6(address);
    if (!groups) return undefined;
    return { family: 6, value: groups.reduce((acc, group) => (acc << 16n) + BigInt(group), 0n) };
  }
  return undefined;
}

function maskOf(family: 4 | 6, bits: number): bigint {
  const width = family === 4 ? 32 : 128;
  return ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
}

/** Parses one entry, or returns why it is refused. */
export function parseEgressEntry(text: string): Entry | string {
  const entry = text.trim().toLowerCase();
  if (entry === '') return 'must not be empty';
  const [addressPart, bitsPart, extra] = entry.split('/');
  if (extra !== undefined) return 'not a host, address or CIDR block';
  const bare =
    addressPart?.startsWith('[') && addressPart.endsWith(']') ? addressPart.slice(1, -1) : addressPart;
  const address = bare === undefined ? undefined : addressValue(bare);
  if (address) {
    const width = address.family === 4 ? 32 : 128;
    const bits = bitsPart === undefined ? width : /^\d{1,3}$/.test(bitsPart) ? Number(bitsPart) : Number.NaN;
    if (!(bits >= 0 && bits <= width)) return `prefix length must be 0 to ${width}`;
    // A short prefix would open whole address families: refuse what would allow "everything".
    if (bits < (address.family === 4 ? 8 : 32)) return 'prefix too wide: list the private ranges you mean';
    const mask = maskOf(address.family, bits);
    return { kind: 'cidr', family: address.family, base: address.value & mask, bits };
  }
  if (bitsPart !== undefined) return 'not a valid IP address before the prefix length';
  const subdomains = entry.startsWith('*.');
  const name = subdomains ? entry.slice(2) : entry;
  if (!HOST_NAME.test(name)) return 'not a host name, IP address or CIDR block';
  if (subdomains && !name.includes('.')) return 'a wildcard needs at least two labels, e.g. *.corp.example';
  return { kind: 'host', name, subdomains };
}

/** Problems of a list as a platform admin submits it, named `allow.<i>`. */
export function egressProblems(list: readonly string[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (list.length > MAX_EGRESS_ENTRIES) {
    problems.push({ path: 'allow', message: `at most ${MAX_EGRESS_ENTRIES} entries` });
  }
  list.forEach((text, i) => {
    const parsed = parseEgressEntry(text);
    if (typeof parsed === 'string') problems.push({ path: `allow.${i}`, message: parsed });
  });
  return problems;
}

/** Entries normalized (trimmed, lower case), duplicates dropped, in their order. */
export function normalizeEgress(list: readonly string[]): string[] {
  return [...new Set(list.map((text) => text.trim().toLowerCase()))];
}

/** A tenant's allowlist, ready to answer. Entries that do not parse are ignored. */
export class EgressAllowlist {
  private readonly entries: readonly Entry[];

  constructor(list: readonly string[] = []) {
    this.entries = list.map(parseEgressEntry).filter((e): e is Entry => typeof e !== 'string');
  }

  /** Whether the list names no destination at all. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether `hostname` (a DNS name, or an IP literal with or without brackets) is listed. */
  allowsHost(hostname: string): boolean {
    const host = hostname
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '');
    if (isIP(host) !== 0) return this.allowsAddress(host);
    return this.entries.some(
      (e) => e.kind === 'host' && (e.subdomains ? host.endsWith(`.${e.name}`) : e.name === host),
    );
  }

  /** Whether the IP `address` falls in a listed address or CIDR block. */
  allowsAddress(address: string): boolean {
    const parsed = addressValue(address.replace(/^\[|\]$/g, '').split('%')[0] ?? '');
    if (!parsed) return false;
    return this.entries.some(
      (e) =>
        e.kind === 'cidr' &&
        e.family === parsed.family &&
        (parsed.value & maskOf(e.family, e.bits)) === e.base,
    );
  }
}
