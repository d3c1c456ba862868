import { describe, expect, it, vi } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError, TransientError } from '#core/errors.ts';
import { type DomainVerificationDeps, verifyDomain } from '#core/identity/domains.ts';
import {
  type DomainClaim,
  type IdentityProvider,
  providerView,
  verificationRecord,
  verifiedDomains,
} from '#core/identity/model.ts';
import { provisionFromClaims } from '#core/identity/provisioning.ts';
import type { Caller } from '#core/tenancy/context.ts';
import type { Tenant } from '#core/tenancy/model.ts';

const T = 'tabcdefghijklmnop';
const TOKEN = 'k'.repeat(32);
const meta = { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 't', now: '2026-11-30T00:00:00.000Z' };
const caller: Caller = {
  principal: {
    kind: 'tenant',
    tenantId: T,
    principalId: 'u1',
    principalType: 'user',
    roles: [],
    permissions: new Set(PERMISSIONS),
  },
  meta,
};

const provider = (fields: Partial<IdentityProvider> = {}): IdentityProvider => ({
  providerId: 'pabcdefghij',
  type: 'oidc',
  name: 'Corp',
  issuer: 'https://idp.acme.io',
  clientId: 'c',
  emailDomains: ['acme.io', 'corp.io'],
  verificationToken: TOKEN,
  verifiedDomains: [],
  groupsClaim: 'groups',
  groupMapping: [{ group: 'eng', roles: ['developer'] }],
  defaultRoles: [],
  createdAt: meta.now,
  createdBy: 'u1',
  ...fields,
});

/** A provider store, a federation and DNS, recording what each was asked. */
function fakes(start: IdentityProvider = provider(), records: Record<string, string[]> = {}) {
  const events: string[] = [];
  let stored: IdentityProvider | undefined = start;
  const deps = {
    providers: {
      get: async (tenantId: string, providerId: string) =>
        tenantId === T && providerId === stored?.providerId ? stored : undefined,
      claimDomain: vi.fn(async (_t: string, _p: string, domain: string) => {
        events.push(`claim ${domain}`);
        return true;
      }),
      releaseDomain: vi.fn(async (_t: string, _p: string, domain: string) => {
        events.push(`release ${domain}`);
      }),
      domainOwner: vi.fn(async (_domain: string): Promise<DomainClaim | undefined> => undefined),
      addVerifiedDomain: vi.fn(async (_t: string, _p: string, domain: string, audit: AuditContext) => {
        events.push(`record ${audit.draft.action} ${domain}`);
        if (!stored) throw new ConflictError('gone');
        stored = { ...stored, verifiedDomains: [...(stored.verifiedDomains ?? []), domain] };
      }),
    },
    federation: {
      identify: vi.fn(
        async (_t: string, _p: string, current: () => Promise<IdentityProvider | undefined>) => {
          const now = await current();
          events.push(`identify ${now ? verifiedDomains(now).join(',') : '(gone)'}`);
        },
      ),
    },
    txt: vi.fn(async (name: string) => {
      events.push(`txt ${name}`);
      return records[name] ?? [];
    }),
  };
  return {
    deps: deps as unknown as DomainVerificationDeps & typeof deps,
    events,
    stored: () => stored,
    remove: () => {
      stored = undefined;
    },
  };
}

const published = (p: IdentityProvider, domain: string) => {
  const record = verificationRecord(p.verificationToken ?? 'none', domain);
  return { [record.name]: ['v=spf1 -all', ` ${record.value} `] };
};

describe('verifyDomain', () => {
  it('claims a domain whose TXT record carries the provider token, then routes it and records it', async () => {
    // Prepare
    const { deps, events, stored } = fakes(provider(), published(provider(), 'corp.io'));
    // Act
    const verified = await verifyDomain(deps, caller, 'pabcdefghij', 'Corp.IO');
    // Assess
    expect(verified.verifiedDomains).toEqual(['corp.io']);
    expect(events).toEqual([
      'txt _meridian-verification.corp.io',
      'claim corp.io',
      'record idp.domain-verify corp.io',
      'identify corp.io',
    ]);
    expect(stored()?.verifiedDomains).toEqual(['corp.io']);
    expect(deps.providers.addVerifiedDomain.mock.calls[0]?.[3].draft).toMatchObject({
      action: 'idp.domain-verify',
      resourceType: 'identity-provider',
      resourceId: 'pabcdefghij',
      before: { verifiedDomains: [] },
      after: { verifiedDomains: ['corp.io'] },
    });
  });

  it.each([
    ['no record', {}],
    ['another provider’s token', published(provider({ verificationToken: 'x'.repeat(32) }), 'acme.io')],
    ['the token for another domain', published(provider(), 'corp.io')],
  ])('refuses (409, nothing claimed) with %s', async (_name, records) => {
    // Prepare
    const { deps, events } = fakes(provider(), records);
    // Act
    const verifying = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    await expect(verifying).rejects.toBeInstanceOf(ConflictError);
    await expect(verifying).rejects.toThrow(
      `_meridian-verification.acme.io has no TXT record "meridian-verification=${TOKEN}" yet`,
    );
    await expect(verifying).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'verification record not found' }],
    });
    expect(events).toEqual(['txt _meridian-verification.acme.io']);
  });

  it('says a failed lookup is worth retrying (503), and claims nothing', async () => {
    // Prepare
    const { deps, events } = fakes();
    deps.txt.mockRejectedValueOnce(new Error('ETIMEOUT'));
    // Act / Assess
    const verifying = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    await expect(verifying).rejects.toBeInstanceOf(TransientError);
    await expect(verifying).rejects.toThrow(
      'Could not look up _meridian-verification.acme.io; try again shortly.',
    );
    expect(events).toEqual([]);
  });

  it('refuses a domain another provider verified first, without naming it, and routes nothing', async () => {
    // Prepare
    const { deps, events } = fakes(provider(), published(provider(), 'acme.io'));
    deps.providers.claimDomain.mockResolvedValue(false);
    // Act
    const verifying = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    await expect(verifying).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'already claimed' }],
    });
    await expect(verifying).rejects.toThrow(
      'The email domain acme.io is already routed to an identity provider.',
    );
    expect(events).toEqual(['txt _meridian-verification.acme.io']);
  });

  it('keeps the claim when another request verified the same domain meanwhile', async () => {
    // Prepare: the record already lists the domain when this request appends it.
    const { deps, events, stored } = fakes(provider(), published(provider(), 'acme.io'));
    deps.providers.addVerifiedDomain.mockImplementationOnce(async () => {
      events.push('record refused');
      throw new ConflictError('changed meanwhile');
    });
    const winner = { ...provider(), verifiedDomains: ['acme.io'] };
    let reads = 0;
    deps.providers.get = async () => (reads++ === 0 ? provider() : winner);
    // Act
    const verified = await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(verified.verifiedDomains).toEqual(['acme.io']);
    expect(events).toEqual([
      'txt _meridian-verification.acme.io',
      'claim acme.io',
      'record refused',
      'identify acme.io',
    ]);
    expect(stored()?.verifiedDomains).toEqual([]);
  });

  it('releases the claim when the provider went meanwhile, and says it is not found', async () => {
    // Prepare
    const { deps, events, remove } = fakes(provider(), published(provider(), 'acme.io'));
    deps.providers.claimDomain.mockImplementationOnce(async (_t, _p, domain) => {
      events.push(`claim ${domain}`);
      remove();
      return true;
    });
    // Act
    const verifying = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    await expect(verifying).rejects.toBeInstanceOf(NotFoundError);
    await expect(verifying).rejects.toThrow('No identity provider pabcdefghij.');
    expect(events.slice(-2)).toEqual(['record idp.domain-verify acme.io', 'release acme.io']);
  });

  it('releases the claim and passes the refusal on when the record refuses for another reason', async () => {
    // Prepare
    const { deps, events } = fakes(provider(), published(provider(), 'acme.io'));
    deps.providers.addVerifiedDomain.mockRejectedValueOnce(new ConflictError('an older provider'));
    // Act / Assess
    await expect(verifyDomain(deps, caller, 'pabcdefghij', 'acme.io')).rejects.toThrow('an older provider');
    expect(events.at(-1)).toBe('release acme.io');
  });

  it('keeps a verified domain when routing fails, and routes it when verified again', async () => {
    // Prepare
    const { deps, events } = fakes(provider(), published(provider(), 'acme.io'));
    deps.federation.identify.mockRejectedValueOnce(new Error('Cognito down'));
    // Act
    const failed = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    await expect(failed).rejects.toBeInstanceOf(TransientError);
    await expect(failed).rejects.toThrow('The domain is verified, but its sign-ins could not be routed');
    const again = await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess: no release and no second lookup; the second call claims (its own: a no-op) and routes.
    expect(again.verifiedDomains).toEqual(['acme.io']);
    expect(events).toEqual([
      'txt _meridian-verification.acme.io',
      'claim acme.io',
      'record idp.domain-verify acme.io',
      'claim acme.io',
      'identify acme.io',
    ]);
  });

  it('passes on that the federation has no such provider', async () => {
    // Prepare
    const { deps } = fakes(provider({ verifiedDomains: ['acme.io'] }));
    deps.federation.identify.mockRejectedValueOnce(new NotFoundError('No identity provider pabcdefghij.'));
    // Act / Assess
    await expect(verifyDomain(deps, caller, 'pabcdefghij', 'acme.io')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('looks nothing up for a domain already verified (or any of an older provider), and claims and routes it again', async () => {
    // Prepare
    const done = fakes(provider({ verifiedDomains: ['acme.io'] }));
    const older = fakes(provider({ verificationToken: undefined, verifiedDomains: undefined }));
    // Act
    await verifyDomain(done.deps, caller, 'pabcdefghij', 'acme.io');
    await verifyDomain(older.deps, caller, 'pabcdefghij', 'corp.io');
    // Assess
    expect(done.events).toEqual(['claim acme.io', 'identify acme.io']);
    expect(older.events).toEqual(['claim corp.io', 'identify acme.io,corp.io']);
  });

  it('refuses to route a verified domain another provider holds', async () => {
    // Prepare
    const { deps, events } = fakes(provider({ verifiedDomains: ['acme.io'] }));
    deps.providers.claimDomain.mockResolvedValueOnce(false);
    // Act / Assess
    await expect(verifyDomain(deps, caller, 'pabcdefghij', 'acme.io')).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'already claimed' }],
    });
    expect(events).toEqual([]);
  });

  it.each([
    ['a domain the provider does not list', 'pabcdefghij', 'other.io'],
    ['not a domain', 'pabcdefghij', '../../etc'],
    ['another tenant’s provider (or none)', 'pzzzzzzzzzz', 'acme.io'],
  ])('is not found for %s', async (_name, providerId, domain) => {
    // Prepare
    const { deps, events } = fakes(provider(), published(provider(), 'acme.io'));
    // Act / Assess
    const verifying = verifyDomain(deps, caller, providerId, domain);
    await expect(verifying).rejects.toBeInstanceOf(NotFoundError);
    await expect(verifying).rejects.toThrow(
      providerId === 'pabcdefghij'
        ? `Identity provider ${providerId} has no email domain ${domain}.`
        : providerId,
    );
    expect(events).toEqual([]);
  });
});

describe('a domain held by a provider that never proved it', () => {
  const OTHER = 'tzzzzzzzzzzzzzzzz';
  const theirs = (fields: Partial<IdentityProvider> = {}) =>
    provider({
      providerId: 'pholder0000',
      verificationToken: 'h'.repeat(32),
      verifiedDomains: ['acme.io'],
      ...fields,
    });

  /** This tenant's provider, and another tenant's that holds acme.io; DNS publishes `records`. */
  function takeover(holder: IdentityProvider | undefined, records: Record<string, string[]>) {
    const made = fakes(provider(), records);
    const { deps, events } = made;
    const claims = new Map<string, DomainClaim>([
      ['acme.io', { domain: 'acme.io', tenantId: OTHER, providerId: 'pholder0000' }],
    ]);
    let held = holder;
    const ours = deps.providers.get;
    deps.providers.get = async (tenantId: string, providerId: string) =>
      tenantId === OTHER ? (providerId === held?.providerId ? held : undefined) : ours(tenantId, providerId);
    deps.providers.domainOwner.mockImplementation(async (domain: string) => claims.get(domain));
    deps.providers.claimDomain.mockImplementation(
      async (tenantId: string, providerId: string, domain: string) => {
        events.push(`claim ${domain}`);
        const claim = claims.get(domain);
        return !claim || (claim.tenantId === tenantId && claim.providerId === providerId);
      },
    );
    // As the store: the list it is given must be the one stored (`verifiedDomains = :previous`).
    const removeVerifiedDomain = vi.fn(
      async (tenantId: string, p: IdentityProvider, domain: string, audit: AuditContext) => {
        if (JSON.stringify(p.verifiedDomains) !== JSON.stringify(held?.verifiedDomains))
          throw new ConflictError('changed meanwhile');
        events.push(`lose ${tenantId} ${domain} ${audit.draft.action} ${audit.actor.type}`);
        held = { ...p, verifiedDomains: verifiedDomains(p).filter((d) => d !== domain) };
      },
    );
    const transferDomain = vi.fn(
      async (
        domain: string,
        from: { tenantId: string; providerId: string },
        to: { tenantId: string; providerId: string },
      ) => {
        events.push(`transfer ${domain} ${from.tenantId} ${to.tenantId}`);
        const claim = claims.get(domain);
        if (claim?.tenantId !== from.tenantId || claim.providerId !== from.providerId) return false;
        claims.set(domain, { domain, ...to });
        return true;
      },
    );
    Object.assign(deps.providers, { removeVerifiedDomain, transferDomain });
    const heldOf = Object.assign(() => held, {
      set: (next: IdentityProvider) => {
        held = next;
      },
    });
    return { ...made, removeVerifiedDomain, transferDomain, held: heldOf, claims };
  }

  /** A holder registered before domains were verified: no token, and here no list either. */
  const older = (fields: Partial<IdentityProvider> = {}) =>
    theirs({
      verificationToken: undefined,
      verifiedDomains: undefined,
      emailDomains: ['acme.io', 'x.io'],
      ...fields,
    });

  it('moves from a holder registered before domains were verified to the provider whose record is published', async () => {
    // Prepare
    const { deps, events, removeVerifiedDomain, held, claims } = takeover(
      older(),
      published(provider(), 'acme.io'),
    );
    // Act
    const verified = await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(verified.verifiedDomains).toEqual(['acme.io']);
    expect(events).toEqual([
      'txt _meridian-verification.acme.io',
      'claim acme.io',
      `lose ${OTHER} acme.io idp.domain-lost system`,
      'identify x.io',
      `transfer acme.io ${OTHER} ${T}`,
      'record idp.domain-verify acme.io',
      'identify acme.io',
    ]);
    expect(held()?.verifiedDomains).toEqual(['x.io']);
    expect(claims.get('acme.io')).toMatchObject({ tenantId: T, providerId: 'pabcdefghij' });
    // The holder's trail says what happened, naming neither the new holder nor its request.
    const audit = removeVerifiedDomain.mock.calls[0]?.[3];
    expect(audit).toMatchObject({ tenantId: OTHER, actor: { id: 'domain-verification', type: 'system' } });
    expect(audit?.meta).toMatchObject({
      requestId: expect.stringMatching(/^domain-verification-[a-z0-9]{16}$/),
      sourceIp: 'domain-verification',
      userAgent: 'meridian-domain-verification',
      now: meta.now,
    });
    expect(audit?.draft).toEqual({
      action: 'idp.domain-lost',
      resourceType: 'identity-provider',
      resourceId: 'pholder0000',
      before: { verifiedDomains: ['acme.io', 'x.io'] },
      after: { verifiedDomains: ['x.io'] },
    });
    expect(JSON.stringify(audit)).not.toContain(T);
    expect(JSON.stringify(audit)).not.toContain('pabcdefghij');
    expect(JSON.stringify(audit)).not.toContain(meta.sourceIp);
  });

  it.each([
    ['whose record the domain still publishes', true],
    ['whose record is gone', false],
  ])('stays with a holder that proved it, %s', async (_name, stillPublished) => {
    // Prepare
    const records = published(provider(), 'acme.io');
    const name = '_meridian-verification.acme.io';
    if (stillPublished)
      records[name] = [...(records[name] ?? []), verificationRecord('h'.repeat(32), 'acme.io').value];
    const { deps, events, removeVerifiedDomain, transferDomain } = takeover(theirs(), records);
    // Act / Assess
    await expect(verifyDomain(deps, caller, 'pabcdefghij', 'acme.io')).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'already claimed' }],
    });
    expect(removeVerifiedDomain).not.toHaveBeenCalled();
    expect(transferDomain).not.toHaveBeenCalled();
    expect(events.filter((e) => e.startsWith('identify'))).toEqual([]);
  });

  it('moves from a claim whose provider is gone, touching no other record', async () => {
    // Prepare
    const { deps, removeVerifiedDomain, claims } = takeover(undefined, published(provider(), 'acme.io'));
    // Act
    await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(removeVerifiedDomain).not.toHaveBeenCalled();
    expect(claims.get('acme.io')?.tenantId).toBe(T);
  });

  it('moves from a holder whose federated provider is being deleted', async () => {
    // Prepare
    const { deps, claims } = takeover(older(), published(provider(), 'acme.io'));
    deps.federation.identify.mockRejectedValueOnce(new NotFoundError('No identity provider pholder0000.'));
    // Act
    const verified = await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(verified.verifiedDomains).toEqual(['acme.io']);
    expect(claims.get('acme.io')?.tenantId).toBe(T);
  });

  it('finishes a takeover that failed part-way when verified again, losing the domain from the holder once', async () => {
    // Prepare
    const { deps, events, removeVerifiedDomain, claims } = takeover(
      older(),
      published(provider(), 'acme.io'),
    );
    deps.federation.identify.mockRejectedValueOnce(new Error('Cognito down'));
    // Act
    const failed = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    await expect(failed).rejects.toBeInstanceOf(TransientError);
    await expect(failed).rejects.toThrow(
      'The domain could not be moved to this provider yet: verify it again shortly.',
    );
    const claimAfterFailure = claims.get('acme.io')?.tenantId;
    const verified = await verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(claimAfterFailure).toBe(OTHER);
    expect(verified.verifiedDomains).toEqual(['acme.io']);
    expect(removeVerifiedDomain).toHaveBeenCalledTimes(1);
    expect(events.filter((e) => e.startsWith('transfer'))).toEqual([`transfer acme.io ${OTHER} ${T}`]);
  });

  it('reads the holder again when its record changed meanwhile, and gives up after three tries', async () => {
    // Prepare
    // The holder's list changes between loseDomain's read and its write: the retry must read again.
    const once = takeover(older(), published(provider(), 'acme.io'));
    const ownGet = once.deps.providers.get;
    let reads = 0;
    once.deps.providers.get = async (tenantId: string, providerId: string) => {
      const read = await ownGet(tenantId, providerId);
      if (tenantId === OTHER && reads++ === 1 && read) {
        once.held.set({ ...read, verifiedDomains: ['acme.io', 'x.io', 'y.io'] });
      }
      return read;
    };
    const always = takeover(older(), published(provider(), 'acme.io'));
    always.removeVerifiedDomain.mockRejectedValue(new ConflictError('changed meanwhile'));
    // Act
    await verifyDomain(once.deps, caller, 'pabcdefghij', 'acme.io');
    const stuck = verifyDomain(always.deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    expect(once.claims.get('acme.io')?.tenantId).toBe(T);
    expect(once.held()?.verifiedDomains).toEqual(['x.io', 'y.io']);
    await expect(stuck).rejects.toThrow('changed meanwhile');
    expect(always.removeVerifiedDomain).toHaveBeenCalledTimes(3);
    expect(always.claims.get('acme.io')?.tenantId).toBe(OTHER);
  });

  it('refuses when the claim moved meanwhile', async () => {
    // Prepare
    const { deps, claims, transferDomain } = takeover(older(), published(provider(), 'acme.io'));
    transferDomain.mockImplementationOnce(async () => {
      claims.set('acme.io', { domain: 'acme.io', tenantId: 'tyyyyyyyyyyyyyyyy', providerId: 'pthird00000' });
      return false;
    });
    // Act / Assess
    await expect(verifyDomain(deps, caller, 'pabcdefghij', 'acme.io')).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'already claimed' }],
    });
  });

  it('refuses to verify with a provider registered before domains were verified, looking nothing up', async () => {
    // Prepare: an older provider that lost one of its domains has nothing to prove it with.
    const { deps, events } = fakes(
      provider({ verificationToken: undefined, verifiedDomains: ['corp.io'] }),
      published(provider(), 'acme.io'),
    );
    // Act
    const verifying = verifyDomain(deps, caller, 'pabcdefghij', 'acme.io');
    // Assess
    await expect(verifying).rejects.toMatchObject({
      problems: [{ path: 'domain', message: 'provider has no verification token' }],
    });
    await expect(verifying).rejects.toThrow(
      'Identity provider pabcdefghij was registered before domains were verified: register a new provider to verify acme.io.',
    );
    expect(events).toEqual([]);
    expect(
      providerView(provider({ verificationToken: undefined, verifiedDomains: ['corp.io'] })).domains,
    ).toEqual([
      { domain: 'acme.io', verified: false },
      { domain: 'corp.io', verified: true },
    ]);
  });
});

describe('what an unverified domain does', () => {
  const tenant: Tenant = {
    tenantId: T,
    name: 'Acme',
    plan: 'pro',
    status: 'active',
    adminEmail: 'a@acme.io',
    createdAt: '',
    updatedAt: '',
  };
  const signIn = (p: IdentityProvider) =>
    provisionFromClaims({
      tenant,
      provider: p,
      claims: { email: 'dev@acme.io', groups: ['eng'] },
      existing: undefined,
      roleExists: () => true,
    });

  it('signs nobody in until verified', () => {
    // Act / Assess
    expect(signIn(provider())).toEqual({
      kind: 'refuse',
      reason: 'acme.io is not a verified domain of this identity provider.',
    });
    expect(signIn(provider({ verifiedDomains: ['acme.io'] }))).toMatchObject({ kind: 'create' });
    expect(signIn(provider({ verificationToken: undefined, verifiedDomains: undefined }))).toMatchObject({
      kind: 'create',
    });
  });

  it('is shown with the record that would prove it, and the token nowhere else', () => {
    // Act
    const view = providerView(provider({ verifiedDomains: ['corp.io'] }));
    // Assess
    expect(view.domains).toEqual([
      {
        domain: 'acme.io',
        verified: false,
        record: {
          name: '_meridian-verification.acme.io',
          type: 'TXT',
          value: `meridian-verification=${TOKEN}`,
        },
      },
      { domain: 'corp.io', verified: true },
    ]);
    expect(view).not.toHaveProperty('verificationToken');
    expect(view).not.toHaveProperty('verifiedDomains');
  });
});
