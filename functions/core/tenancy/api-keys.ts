import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Permission } from '../access/permissions.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { audited, type Caller } from './context.ts';
import type { ApiKeyRecord, Page, PageRequest } from './model.ts';
import type { ApiKeyStore } from './ports.ts';

/** Every key starts with this, so leaked keys are easy to recognise (and to scan for). */
export const API_KEY_PREFIX = 'mk_';
/** Longest lifetime of a key. */
export const MAX_KEY_LIFETIME_MS = 366 * 24 * 3600 * 1000;
/** Default and longest grace period of a rotated key's old secret. */
export const DEFAULT_GRACE_SECONDS = 24 * 3600;
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

/** SHA-256 of the whole key, hex: the only form in which a key is stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** `mk_<tenantId>_<keyId>_<secret>`: tenant and key id let the authorizer read one item, no index. */
export function formatApiKey(tenantId: string, keyId: string): string {
  return `${API_KEY_PREFIX}${tenantId}_${keyId}_${randomBytes(32).toString('base64url')}`;
}

/** Splits a presented key into its parts, or undefined when it is not shaped like one. */
export function parseApiKey(key: string): { tenantId: string; keyId: string } | undefined {
  const match = /^mk_(t[a-z0-9]{16})_(k[a-z0-9]{16})_[A-Za-z0-9_-]{43}$/.exec(key);
  return match?.[1] && match[2] ? { tenantId: match[1], keyId: match[2] } : undefined;
}

/** What the API shows of a key: never a secret or a hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'secretHash' | 'previousSecretHash'>;

/** The public view of a stored key. */
export function viewOf(record: ApiKeyRecord): ApiKeyView {
  const { secretHash: _s, previousSecretHash: _p, ...view } = record;
  return view;
}

/** How long a key lives when its creator names no expiry. */
export const DEFAULT_KEY_LIFETIME_DAYS = 90;

/**
 * Creates a key whose scopes are a subset of the caller's permissions; the key is returned once.
 * Without `expiresAt` it expires {@link DEFAULT_KEY_LIFETIME_DAYS} days from now.
 */
export async function createApiKey(
  store: ApiKeyStore,
  caller: Caller,
  input: { name: string; scopes: Permission[]; expiresAt?: string | undefined },
): Promise<{ view: ApiKeyView; key: string }> {
  const problems: { path: string; message: string }[] = [];
  input.scopes.forEach((scope, i) => {
    if (!caller.principal.permissions.has(scope))
      problems.push({ path: `scopes.${i}`, message: `you do not hold ${scope}` });
  });
  const now = Date.parse(caller.meta.now);
  const expires =
    input.expiresAt === undefined
      ? now + DEFAULT_KEY_LIFETIME_DAYS * 86_400_000
      : Date.parse(input.expiresAt);
  if (!(expires > now)) problems.push({ path: 'expiresAt', message: 'must be in the future' });
  else if (expires - now > MAX_KEY_LIFETIME_MS)
    problems.push({ path: 'expiresAt', message: 'must be at most one year ahead' });
  if (problems.length > 0) throw new ValidationError('The API key cannot be created.', problems);
  const tenantId = caller.principal.tenantId;
  const keyId = newId('k');
  const key = formatApiKey(tenantId, keyId);
  const record: ApiKeyRecord = {
    keyId,
    name: input.name,
    scopes: [...new Set(input.scopes)].sort(),
    // The person, not the key: a key made through a key belongs to the same creator.
    createdBy: actingUser(caller),
    createdAt: caller.meta.now,
    expiresAt: new Date(expires).toISOString(),
    status: 'active',
    secretHash: hashApiKey(key),
  };
  await store.createApiKey(
    tenantId,
    record,
    audited(caller, {
      action: 'apikey.create',
      resourceType: 'apikey',
      resourceId: keyId,
      after: viewOf(record),
    }),
  );
  return { view: viewOf(record), key };
}

async function load(store: ApiKeyStore, tenantId: string, keyId: string): Promise<ApiKeyRecord> {
  const record = await store.getApiKey(tenantId, keyId);
  if (!record || record.status === 'revoked') throw new NotFoundError(`No API key ${keyId}.`);
  return record;
}

/** The person behind a caller: the user, or the user who created the API key acting. */
export function actingUser(caller: Caller): string {
  return caller.principal.onBehalfOf ?? caller.principal.principalId;
}

/**
 * Rotating or revoking a key hands out (or takes away) everything it can do, so `apikeys:manage`
 * alone is not enough: the caller is the key's creator, or holds `tenant:admin` and every scope on
 * the key (otherwise a rotation would hand them a secret worth more than their own permissions).
 */
export function assertMayManageKey(caller: Caller, record: ApiKeyRecord): void {
  if (record.createdBy === actingUser(caller)) return;
  const held = caller.principal.permissions;
  const missing = ['tenant:admin' as const, ...record.scopes].filter((p) => !held.has(p));
  if (missing.length > 0) {
    throw new ForbiddenError(
      `Only the key's creator, or a holder of tenant:admin and every scope on it, can change this key (you lack ${[...new Set(missing)].slice(0, 5).join(', ')}).`,
    );
  }
}

/** Lists keys (metadata only). */
export async function listApiKeys(
  store: ApiKeyStore,
  tenantId: string,
  page: PageRequest,
): Promise<Page<ApiKeyView>> {
  const out = await store.listApiKeys(tenantId, page);
  return { ...out, items: out.items.filter((k) => k.status === 'active').map(viewOf) };
}

/** Revokes a key at once (both its current and any previous secret). */
export async function revokeApiKey(store: ApiKeyStore, caller: Caller, keyId: string): Promise<void> {
  const previous = await load(store, caller.principal.tenantId, keyId);
  assertMayManageKey(caller, previous);
  const { previousSecretHash: _p, previousValidUntil: _v, ...rest } = previous;
  const next: ApiKeyRecord = {
    ...rest,
    status: 'revoked',
    revokedAt: caller.meta.now,
    revokedBy: actingUser(caller),
  };
  await store.updateApiKey(
    caller.principal.tenantId,
    next,
    previous,
    audited(caller, {
      action: 'apikey.revoke',
      resourceType: 'apikey',
      resourceId: keyId,
      before: viewOf(previous),
      after: viewOf(next),
    }),
  );
}

/** Issues a new secret; the old one keeps working for `graceSeconds`. */
export async function rotateApiKey(
  store: ApiKeyStore,
  caller: Caller,
  keyId: string,
  graceSeconds = DEFAULT_GRACE_SECONDS,
): Promise<{ view: ApiKeyView; key: string }> {
  const tenantId = caller.principal.tenantId;
  const previous = await load(store, tenantId, keyId);
  assertMayManageKey(caller, previous);
  const key = formatApiKey(tenantId, keyId);
  const next: ApiKeyRecord = {
    ...previous,
    secretHash: hashApiKey(key),
    previousSecretHash: previous.secretHash,
    previousValidUntil: new Date(Date.parse(caller.meta.now) + graceSeconds * 1000).toISOString(),
    rotatedAt: caller.meta.now,
    rotatedBy: actingUser(caller),
  };
  await store.updateApiKey(
    tenantId,
    next,
    previous,
    audited(caller, {
      action: 'apikey.rotate',
      resourceType: 'apikey',
      resourceId: keyId,
      before: viewOf(previous),
      after: viewOf(next),
    }),
  );
  return { view: viewOf(next), key };
}
