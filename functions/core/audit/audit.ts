import { createHash } from 'node:crypto';
import { redact } from '#shared/observability.ts';
import type { Principal, RequestMeta } from '../principal.ts';

/** What a use case says about its mutation; the store adds actor, request facts and the chain. */
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
  readonly type: 'user' | 'apikey' | 'webhook' | 'platform' | 'system';
}

/** Everything a store needs to append one audit record in the same transaction as the change. */
export interface AuditContext {
  readonly tenantId: string;
  readonly actor: AuditActor;
  readonly meta: RequestMeta;
  readonly draft: AuditDraft;
}

/** One record of a tenant's hash-chained audit trail. */
export interface AuditRecord {
  readonly tenantId: string;
  readonly seq: number;
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
  readonly prevHash: string;
  readonly hash: string;
}

/** The hash that precedes a tenant's first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth: the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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

/** Builds the next record of the chain, with secrets redacted from before/after. */
export function nextRecord(
  ctx: AuditContext,
  head: { readonly seq: number; readonly hash: string },
): AuditRecord {
  const unhashed: Omit<AuditRecord, 'hash'> = {
    tenantId: ctx.tenantId,
    seq: head.seq + 1,
    at: ctx.meta.now,
    actor: ctx.actor,
    action: ctx.draft.action,
    resourceType: ctx.draft.resourceType,
    resourceId: ctx.draft.resourceId,
    ...(ctx.draft.before === undefined ? {} : { before: redact(ctx.draft.before) }),
    ...(ctx.draft.after === undefined ? {} : { after: redact(ctx.draft.after) }),
    sourceIp: ctx.meta.sourceIp,
    userAgent: ctx.meta.userAgent,
    requestId: ctx.meta.requestId,
    prevHash: head.hash,
  };
  return { ...unhashed, hash: hashRecord(unhashed) };
}

/** Result of checking a chain. */
export interface ChainVerdict {
  readonly ok: boolean;
  readonly checked: number;
  readonly headSeq: number;
  readonly firstBroken?: { readonly seq: number; readonly reason: string };
}

/**
 * Walks records in sequence order and reports the first broken link: a record whose hash does not
 * match its content (modified), a gap in sequence numbers (deleted), or a previous-hash mismatch
 * (reordered or spliced). `headSeq` is the sequence the chain head claims; a shorter chain is truncated.
 */
export function verifyChain(
  records: readonly AuditRecord[],
  head: { readonly seq: number; readonly hash: string },
): ChainVerdict {
  const headSeq = head.seq;
  let prevHash = GENESIS_HASH;
  let expected = 1;
  for (const record of records) {
    const { hash, ...rest } = record;
    if (record.seq !== expected) {
      return {
        ok: false,
        checked: expected - 1,
        headSeq,
        firstBroken: { seq: expected, reason: 'missing record' },
      };
    }
    if (hashRecord(rest) !== hash) {
      return {
        ok: false,
        checked: expected - 1,
        headSeq,
        firstBroken: { seq: record.seq, reason: 'content does not match its hash' },
      };
    }
    if (record.prevHash !== prevHash) {
      return {
        ok: false,
        checked: expected - 1,
        headSeq,
        firstBroken: { seq: record.seq, reason: 'previous hash does not match' },
      };
    }
    prevHash = hash;
    expected++;
  }
  if (expected - 1 < headSeq) {
    return {
      ok: false,
      checked: expected - 1,
      headSeq,
      firstBroken: { seq: expected, reason: 'missing record' },
    };
  }
  // The head pins the last hash, so rewriting the newest record and re-hashing it is found too.
  if (headSeq > 0 && prevHash !== head.hash) {
    return {
      ok: false,
      checked: expected - 2,
      headSeq,
      firstBroken: { seq: headSeq, reason: 'does not match the chain head' },
    };
  }
  return { ok: true, checked: expected - 1, headSeq };
}
