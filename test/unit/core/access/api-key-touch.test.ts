import { describe, expect, it } from 'vitest';
import { Authenticator } from '#core/access/authenticate.ts';
import { formatApiKey, hashApiKey } from '#core/tenancy/api-keys.ts';
import type { ApiKeyRecord, Tenant } from '#core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const KEY_ID = 'kabcdefghijklmnop';
const NOW = Date.parse('2026-11-22T00:00:00Z');

/** A store whose touch write takes a while and can fail, to see whether authentication waits for it. */
function setup(touch: () => Promise<void>) {
  const key = formatApiKey(T, KEY_ID);
  const record: ApiKeyRecord = {
    keyId: KEY_ID,
    name: 'ci',
    scopes: ['workflows:read'],
    createdBy: 'sub-1',
    createdAt: '2026-11-01T00:00:00Z',
    expiresAt: '2027-01-01T00:00:00Z',
    status: 'active',
    secretHash: hashApiKey(key),
  };
  const tenant = { tenantId: T, status: 'active' } as Tenant;
  const touches: string[] = [];
  const store = {
    findUserBySub: async () => undefined,
    getTenant: async () => tenant,
    getRoles: async () => [],
    // The key's creator, active and holding the key's scope, so the key resolves.
    getUser: async () => ({
      userId: 'sub-1',
      tenantId: T,
      email: 'ci@example.com',
      roles: ['viewer'],
      teams: [],
      status: 'active' as const,
      createdAt: '2026-11-01T00:00:00Z',
      updatedAt: '2026-11-01T00:00:00Z',
    }),
    getApiKey: async () => record,
    touchApiKey: async (_t: string, _k: string, at: string) => {
      await touch();
      touches.push(at);
    },
  };
  const auth = new Authenticator({
    store,
    verifier: { verify: async () => Promise.reject(new Error('no tokens here')) },
    platformAdminGroup: 'platform-admins',
    cacheTtlMs: 0,
    now: () => NOW,
  });
  return { auth, key, touches };
}

describe("recording an API key's last use", () => {
  it('the write has finished when authentication returns (no fire-and-forget)', async () => {
    const { auth, key, touches } = setup(() => new Promise((resolve) => setTimeout(resolve, 20)));

    const context = await auth.authenticate({ 'x-api-key': key });

    expect(context.authenticated).toBe(true);
    expect(touches).toEqual([new Date(NOW).toISOString()]);
  });

  it('a failed write does not refuse the key, and the next request tries again', async () => {
    let fail = true;
    const { auth, key, touches } = setup(async () => {
      if (fail) throw new Error('throttled');
    });

    const first = await auth.authenticate({ 'x-api-key': key });
    fail = false;
    await auth.authenticate({ 'x-api-key': key });

    expect(first.authenticated).toBe(true);
    expect(touches).toHaveLength(1);
  });
});
