/**
 * The API key use cases as they stand: scopes within the caller's permissions, expiry bounds, what is
 * stored (a hash, never the key), listing only live keys, revocation killing both secrets, rotation
 * keeping the old secret for the grace period, and the audit record each write carries.
 */
import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS, type Permission } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { NotFoundError, ValidationError } from '#core/errors.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import {
  API_KEY_PREFIX,
  createApiKey,
  DEFAULT_GRACE_SECONDS,
  hashApiKey,
  listApiKeys,
  MAX_GRACE_SECONDS,
  MAX_KEY_LIFETIME_MS,
  parseApiKey,
  revokeApiKey,
  rotateApiKey,
  viewOf,
} from '#core/tenancy/api-keys.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { ApiKeyRecord, Page } from '#core/tenancy/model.ts';
import { fakeApiKeys } from '../../helpers/tenancy-stores.ts';

const T = 'tabcdefghijklmnop';
const NOW = '2026-11-29T12:00:00.000Z';
const META: RequestMeta = { requestId: 'req-1', sourceIp: '10.0.0.1', userAgent: 'unit', now: NOW };

function caller(permissions: readonly Permission[] = PERMISSIONS): Caller {
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: T,
    principalId: 'admin-sub',
    principalType: 'user',
    roles: ['admin'],
    permissions: new Set(permissions),
  };
  return { principal, meta: META };
}

/** A store holding `keys`; records every write with its audit context. */
function fakeStore(keys: ApiKeyRecord[] = []) {
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  const writes: Array<{
    op: string;
    tenantId: string;
    record: ApiKeyRecord;
    previous?: ApiKeyRecord;
    audit: AuditContext;
  }> = [];
  const store = {
    createApiKey: vi.fn(async (tenantId: string, record: ApiKeyRecord, audit: AuditContext) => {
      writes.push({ op: 'create', tenantId, record, audit });
    }),
    getApiKey: vi.fn(async (_t: string, id: string) => byId.get(id)),
    listApiKeys: vi.fn(
      async (): Promise<Page<ApiKeyRecord>> => ({ items: [...byId.values()], nextCursor: 'c2' }),
    ),
    updateApiKey: vi.fn(
      async (tenantId: string, record: ApiKeyRecord, previous: ApiKeyRecord, audit: AuditContext) => {
        writes.push({ op: 'update', tenantId, record, previous, audit });
      },
    ),
  };
  return { store: fakeApiKeys(store), spies: store, writes };
}

const KEY_ID = 'kabcdefghijklmnop';
function stored(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    keyId: KEY_ID,
    name: 'ci',
    scopes: ['workflows:read'],
    createdBy: 'admin-sub',
    createdAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2027-06-01T00:00:00.000Z',
    status: 'active',
    secretHash: 'a'.repeat(64),
    ...overrides,
  };
}

describe('limits', () => {
  it('are one year and a day of lifetime, one day of default grace, a week at most', () => {
    expect(API_KEY_PREFIX).toBe('mk_');
    expect(MAX_KEY_LIFETIME_MS).toBe(366 * 86_400_000);
    expect(DEFAULT_GRACE_SECONDS).toBe(86_400);
    expect(MAX_GRACE_SECONDS).toBe(604_800);
  });
});

describe('createApiKey', () => {
  it('stores only the hash, sorted unique scopes and the creator, returns the key once, and audits', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const { view, key } = await createApiKey(store, caller(), {
      name: 'ci',
      scopes: ['workflows:read', 'agents:read', 'workflows:read'],
      expiresAt: '2027-01-01T00:00:00Z',
    });
    // Assess
    const parts = parseApiKey(key);
    expect(parts?.tenantId).toBe(T);
    const record: ApiKeyRecord = {
      keyId: parts?.keyId ?? '',
      name: 'ci',
      scopes: ['agents:read', 'workflows:read'],
      createdBy: 'admin-sub',
      createdAt: NOW,
      expiresAt: '2027-01-01T00:00:00.000Z',
      status: 'active',
      secretHash: hashApiKey(key),
    };
    expect(writes).toEqual([
      {
        op: 'create',
        tenantId: T,
        record,
        audit: {
          tenantId: T,
          actor: { id: 'admin-sub', type: 'user' },
          meta: META,
          draft: {
            action: 'apikey.create',
            resourceType: 'apikey',
            resourceId: record.keyId,
            after: viewOf(record),
          },
        },
      },
    ]);
    expect(view).toEqual(viewOf(record));
    expect(JSON.stringify(view)).not.toContain('secretHash');
  });

  it('refuses scopes the caller does not hold, naming each one', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const attempt = createApiKey(store, caller(['workflows:read']), {
      name: 'x',
      scopes: ['workflows:read', 'secrets:write', 'audit:read'],
      expiresAt: '2027-01-01T00:00:00Z',
    });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await attempt.catch((error: ValidationError) =>
      expect(error.problems).toEqual([
        { path: 'scopes.1', message: 'you do not hold secrets:write' },
        { path: 'scopes.2', message: 'you do not hold audit:read' },
      ]),
    );
    expect(writes).toEqual([]);
  });

  it.each([
    ['now', NOW, 'must be in the future'],
    ['the past', '2026-01-01T00:00:00Z', 'must be in the future'],
    ['not a date', 'soon', 'must be in the future'],
    [
      'past the longest lifetime',
      new Date(Date.parse(NOW) + MAX_KEY_LIFETIME_MS + 1).toISOString(),
      'must be at most one year ahead',
    ],
  ])('refuses an expiry of %s', async (_name, expiresAt, message) => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    const attempt = createApiKey(store, caller(), { name: 'x', scopes: [], expiresAt });
    // Assess
    await expect(attempt).rejects.toMatchObject({
      message: 'The API key cannot be created.',
      problems: [{ path: 'expiresAt', message }],
    });
    expect(writes).toEqual([]);
  });

  it('accepts an expiry exactly at the longest lifetime', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    const expiresAt = new Date(Date.parse(NOW) + MAX_KEY_LIFETIME_MS).toISOString();
    // Act
    await createApiKey(store, caller(), { name: 'x', scopes: [], expiresAt });
    // Assess
    expect(writes[0]?.record.expiresAt).toBe(expiresAt);
  });

  it('expires 90 days after creation when no expiry is given', async () => {
    // Prepare
    const { store, writes } = fakeStore();
    // Act
    await createApiKey(store, caller(), { name: 'x', scopes: [] });
    // Assess
    expect(writes[0]?.record.expiresAt).toBe(new Date(Date.parse(NOW) + 90 * 86_400_000).toISOString());
  });
});

describe('listApiKeys', () => {
  it('lists only active keys, without hashes, and keeps the cursor', async () => {
    // Prepare
    const live = stored({ previousSecretHash: 'b'.repeat(64) });
    const { store } = fakeStore([live, stored({ keyId: 'kzzzzzzzzzzzzzzzz', status: 'revoked' })]);
    // Act
    const page = await listApiKeys(store, T, { limit: 10 });
    // Assess
    expect(page).toEqual({ items: [viewOf(live)], nextCursor: 'c2' });
    expect(Object.keys(page.items[0] ?? {})).not.toContain('previousSecretHash');
  });
});

describe('revokeApiKey', () => {
  it('marks the key revoked and drops its previous secret, with an audit record', async () => {
    // Prepare
    const previous = stored({
      previousSecretHash: 'b'.repeat(64),
      previousValidUntil: '2026-11-30T00:00:00.000Z',
    });
    const { store, writes } = fakeStore([previous]);
    // Act
    await revokeApiKey(store, caller(), KEY_ID);
    // Assess
    // The record names who revoked it and when (the audit names who did it).
    const next = { ...stored(), status: 'revoked', revokedAt: NOW, revokedBy: 'admin-sub' };
    expect(writes).toEqual([
      {
        op: 'update',
        tenantId: T,
        record: next,
        previous,
        audit: {
          tenantId: T,
          actor: { id: 'admin-sub', type: 'user' },
          meta: META,
          draft: {
            action: 'apikey.revoke',
            resourceType: 'apikey',
            resourceId: KEY_ID,
            before: viewOf(previous),
            after: viewOf(next as ApiKeyRecord),
          },
        },
      },
    ]);
  });

  it.each([
    ['missing', []],
    ['already revoked', [stored({ status: 'revoked' })]],
  ])('answers 404 for a key that is %s', async (_name, keys) => {
    // Prepare
    const { store, writes } = fakeStore(keys);
    // Act
    const attempt = revokeApiKey(store, caller(), KEY_ID);
    // Assess
    await expect(attempt).rejects.toThrow(new NotFoundError(`No API key ${KEY_ID}.`));
    expect(writes).toEqual([]);
  });
});

describe('rotateApiKey', () => {
  it('issues a new secret and keeps the old hash for the grace period, with an audit record', async () => {
    // Prepare
    const previous = stored();
    const { store, writes } = fakeStore([previous]);
    // Act
    const { view, key } = await rotateApiKey(store, caller(), KEY_ID, 600);
    // Assess
    expect(parseApiKey(key)).toEqual({ tenantId: T, keyId: KEY_ID });
    const next: ApiKeyRecord = {
      ...previous,
      secretHash: hashApiKey(key),
      previousSecretHash: previous.secretHash,
      previousValidUntil: '2026-11-29T12:10:00.000Z',
      rotatedAt: NOW,
      rotatedBy: 'admin-sub',
    };
    expect(writes).toEqual([
      {
        op: 'update',
        tenantId: T,
        record: next,
        previous,
        audit: {
          tenantId: T,
          actor: { id: 'admin-sub', type: 'user' },
          meta: META,
          draft: {
            action: 'apikey.rotate',
            resourceType: 'apikey',
            resourceId: KEY_ID,
            before: viewOf(previous),
            after: viewOf(next),
          },
        },
      },
    ]);
    expect(view).toEqual(viewOf(next));
  });

  it('keeps the old secret one day by default', async () => {
    // Prepare
    const { store, writes } = fakeStore([stored()]);
    // Act
    await rotateApiKey(store, caller(), KEY_ID);
    // Assess
    expect(writes[0]?.record.previousValidUntil).toBe('2026-11-30T12:00:00.000Z');
  });

  it('answers 404 for a revoked key', async () => {
    // Prepare
    const { store, writes } = fakeStore([stored({ status: 'revoked' })]);
    // Act
    const attempt = rotateApiKey(store, caller(), KEY_ID);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    expect(writes).toEqual([]);
  });
});
