import { createHash, randomBytes } from 'node:crypto';
import { redact } from '#core/redact.ts';
import type { Principal, RequestMeta } from '../principal.ts';

/** What a use case says about its mutation; the store adds actor, request facts and the record id. */
export interface AuditDraft {
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Who did it and from where. */
export interface AuditActor {
  readonly id: string;
  readonly type: 'user' | 'apikey' | 'webhook' | 'schedule' | 'platform' | 'system';
}

/** Everything a store needs to write one audit record in the same transaction as the change. */
export interface AuditContext {
  readonly tenantId: string;
  readonly actor: AuditActor;
  readonly meta: RequestMeta;
  readonly draft: AuditDraft;
}

/**
 * One record of a tenant's audit trail: an item of its own, keyed by a time-ordered unique id, so no
 * write reads or updates an item that all of a tenant's writes share. `hash` covers the rest of the
 * record; the digests (stream consumer) anchor the hashes.
 */
export interface AuditRecord {
  readonly tenantId: string;
  readonly id: string;
  readonly at: string;
  readonly actor: AuditActor;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly requestId: string;
  readonly hash: string;
}

/**
 * Code-point order of two strings, for sorting ids and keys. One comparator for the audit modules:
 * what they sort (ids, object keys, tenant ids) is unique, so only its sign ever matters.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders anything with an id by that id. */
export const byId = (a: { readonly id: string }, b: { readonly id: string }): number =>
  compareText(a.id, b.id);

/** JSON with object keys sorted at every depth: the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareText(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 over the record's canonical form without its own hash. */
export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** The actor for a principal. */
export function actorOf(principal: Principal): AuditActor {
  if (principal.kind === 'platform') return { id: principal.principalId, type: 'platform' };
  return { id: principal.principalId, type: principal.principalType };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID: 10 characters of milliseconds then 16 of randomness (Crockford base32), so ids sort by time
 * as strings and two writers in the same millisecond do not collide.
 */
export function auditId(ms: number, random: Uint8Array = randomBytes(10)): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`Not a timestamp: ${ms}`);
  if (random.length !== 10) throw new RangeError('A ULID takes 10 random bytes');
  let time = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    time = (CROCKFORD[rest % 32] as string) + time;
    rest = Math.floor(rest / 32);
  }
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let tail = '';
  for (let i = 0; i < 16; i++) {
    tail = (CROCKFORD[Number(bits & 31n)] as string) + tail;
    bits >>= 5n;
  }
  return time + tail;
}

/**
 * Keys whose values are a person's contact data. The audit trail names people only by their opaque
 * id (a Cognito `sub`, an API key id): their email lives in the erasable user profile, so erasing
 * the profile leaves the trail, and the Object Lock archive made from it, with no personal data and
 * still verifiable (pseudonymisation; see docs/lifecycle.md).
 */
const PERSONAL_KEYS = /^(email|adminEmail)$/i;

/** A copy of `value` without {@link PERSONAL_KEYS} at any depth. */
export function withoutPersonalData<T>(value: T, depth = 0): T {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutPersonalData(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!PERSONAL_KEYS.test(key)) out[key] = withoutPersonalData(v, depth + 1);
  }
  return out as T;
}

/**
 * Builds a tenant's audit record for a mutation, with secrets redacted from before/after and
 * personal data left out.
 */
export function buildRecord(ctx: AuditContext, random?: Uint8Array): AuditRecord {
  const unhashed: Omit<AuditRecord, 'hash'> = {
    tenantId: ctx.tenantId,
    id: auditId(Date.parse(ctx.meta.now), random),
    at: ctx.meta.now,
    actor: ctx.actor,
    action: ctx.draft.action,
    resourceType: ctx.draft.resourceType,
    resourceId: ctx.draft.resourceId,
    ...(ctx.draft.before === undefined ? {} : { before: withoutPersonalData(redact(ctx.draft.before)) }),
    ...(ctx.draft.after === undefined ? {} : { after: withoutPersonalData(redact(ctx.draft.after)) }),
    sourceIp: ctx.meta.sourceIp,
    userAgent: ctx.meta.userAgent,
    requestId: ctx.meta.requestId,
  };
  return { ...unhashed, hash: hashRecord(unhashed) };
}

/** Whether a record's content still matches its own hash. */
export function recordIntact(record: AuditRecord): boolean {
  const { hash, ...rest } = record;
  return hashRecord(rest) === hash;
}

/** Result of checking a tenant's records. */
export interface AuditVerdict {
  readonly ok: boolean;
  /** Records whose hash was checked. */
  readonly checked: number;
  readonly firstBroken?: { readonly id: string; readonly reason: string };
}

/** Checks records in id order and names the first whose content no longer matches its hash. */
export function verifyRecords(records: readonly AuditRecord[]): AuditVerdict {
  const ordered = [...records].sort(byId);
  for (const [index, record] of ordered.entries()) {
    if (!recordIntact(record)) {
      return {
        ok: false,
        checked: index,
        firstBroken: { id: record.id, reason: 'content does not match its hash' },
      };
    }
  }
  return { ok: true, checked: ordered.length };
}
