import { ConflictError, NotFoundError, TransientError } from '../errors.ts';
import { randomToken } from '../ids.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import { type IdentityProvider, normalizeDomain, verificationRecord, verifiedDomains } from './model.ts';
import { getProvider, type IdentityDeps } from './providers.ts';

/**
 * The TXT records of a DNS name, each record's strings joined; [] when it has none. Throws when the
 * lookup itself fails (timeout, server failure): the answer is then unknown, not negative.
 */
export type TxtLookup = (name: string) => Promise<string[]>;

/** What verifying a domain needs. */
export type DomainVerificationDeps = Pick<IdentityDeps, 'providers' | 'federation'> & {
  readonly txt: TxtLookup;
};

/**
 * Verifies that the tenant controls one of a provider's email domains: the domain must publish the
 * provider's TXT record (`verificationRecord`). Only then is the domain claimed for this provider
 * alone (the platform-wide claim decides a race between tenants), recorded as verified, handed to the
 * federation (the hosted login routes its emails to the provider) and accepted at sign-in. Until then
 * the domain routes nobody and blocks nobody: a tenant cannot take a domain it does not control from
 * the tenant that does.
 *
 * A domain held by a provider registered before domains were verified (which never proved it), or by
 * a provider that is gone, goes to the provider whose record the domain publishes (`claimOrTakeOver`).
 *
 * Verifying a verified domain looks nothing up: it claims and routes the domain again, which repairs
 * what an interrupted verification left undone. Concurrent verifications of one provider each add
 * their domain (the record is appended to, not rewritten), and the federation is given the record as
 * it is then, so the last one routes every verified domain.
 */
export async function verifyDomain(
  deps: DomainVerificationDeps,
  caller: Caller,
  providerId: string,
  rawDomain: string,
): Promise<IdentityProvider> {
  const tenantId = caller.principal.tenantId;
  const provider = await getProvider(deps, tenantId, providerId);
  const domain = normalizeDomain(rawDomain);
  if (!domain || !provider.emailDomains.includes(domain)) {
    throw new NotFoundError(`Identity provider ${providerId} has no email domain ${rawDomain}.`);
  }
  const current = () => deps.providers.get(tenantId, providerId);
  if (verifiedDomains(provider).includes(domain)) {
    await claim(deps, tenantId, providerId, domain);
    await route(deps, tenantId, providerId);
    return provider;
  }
  const token = provider.verificationToken;
  if (token === undefined) {
    // Registered before domains were verified: it has no token to prove a domain with.
    throw new ConflictError(
      `Identity provider ${providerId} was registered before domains were verified: register a new provider to verify ${domain}.`,
      [{ path: 'domain', message: 'provider has no verification token' }],
    );
  }
  const record = verificationRecord(token, domain);
  let published: string[];
  try {
    published = await deps.txt(record.name);
  } catch {
    throw new TransientError(`Could not look up ${record.name}; try again shortly.`);
  }
  if (!published.some((value) => value.trim() === record.value)) {
    throw new ConflictError(
      `${record.name} has no TXT record "${record.value}" yet: publish it, then verify again.`,
      [{ path: 'domain', message: 'verification record not found' }],
    );
  }
  await claimOrTakeOver(deps, caller, providerId, domain);
  try {
    await deps.providers.addVerifiedDomain(
      tenantId,
      providerId,
      domain,
      audited(caller, {
        action: 'idp.domain-verify',
        resourceType: 'identity-provider',
        resourceId: providerId,
        before: { verifiedDomains: verifiedDomains(provider) },
        after: { verifiedDomains: [...verifiedDomains(provider), domain] },
      }),
    );
  } catch (error) {
    // Another request verified the same domain meanwhile: its claim is ours, and it stays. Otherwise
    // (the provider deleted meanwhile) the claim must not outlive the record that explains it.
    const fresh = await current();
    if (!fresh || !verifiedDomains(fresh).includes(domain)) {
      await deps.providers.releaseDomain(tenantId, providerId, domain);
      throw fresh ? error : new NotFoundError(`No identity provider ${providerId}.`);
    }
  }
  await route(deps, tenantId, providerId);
  return (await current()) ?? provider;
}

/**
 * Claims the domain. A claim held by a provider registered before domains were verified (which
 * never proved the domain), or by a provider that is gone, is taken over by the provider whose record
 * the domain publishes: the holder loses the domain (its record and routing, with an audit record in
 * its own trail that names neither the new holder nor its request), then the claim moves here. A
 * claim held by a provider that proved the domain stays with it.
 */
async function claimOrTakeOver(
  deps: DomainVerificationDeps,
  caller: Caller,
  providerId: string,
  domain: string,
) {
  const tenantId = caller.principal.tenantId;
  if (await deps.providers.claimDomain(tenantId, providerId, domain)) return;
  const holder = await deps.providers.domainOwner(domain);
  if (holder) {
    const holding = await deps.providers.get(holder.tenantId, holder.providerId);
    if (holding?.verificationToken === undefined) {
      if (holding) await loseDomain(deps, caller, holder.tenantId, holding.providerId, domain);
      if (await deps.providers.transferDomain(domain, holder, { tenantId, providerId })) return;
    }
  }
  await claim(deps, tenantId, providerId, domain);
}

/**
 * The holder's side of a takeover, by the system: the domain leaves its record (read afresh, so a
 * change meanwhile is not undone) and its routing. Each step is done again by a retry until the claim
 * moves, so a failure part-way only delays the takeover.
 */
async function loseDomain(
  deps: DomainVerificationDeps,
  caller: Caller,
  holderTenantId: string,
  holderId: string,
  domain: string,
) {
  for (let attempt = 0; ; attempt++) {
    const holding = await deps.providers.get(holderTenantId, holderId);
    if (!holding || !verifiedDomains(holding).includes(domain)) break;
    const before = verifiedDomains(holding);
    try {
      await deps.providers.removeVerifiedDomain(holderTenantId, holding, domain, {
        tenantId: holderTenantId,
        actor: { id: 'domain-verification', type: 'system' },
        // Not the new holder's request: its address and client are another tenant's.
        meta: {
          requestId: `domain-verification-${randomToken(16)}`,
          sourceIp: 'domain-verification',
          userAgent: 'meridian-domain-verification',
          now: caller.meta.now,
        },
        draft: {
          action: 'idp.domain-lost',
          resourceType: 'identity-provider',
          resourceId: holderId,
          before: { verifiedDomains: before },
          after: { verifiedDomains: before.filter((d) => d !== domain) },
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === 2) throw error;
    }
  }
  try {
    await route(
      deps,
      holderTenantId,
      holderId,
      'The domain could not be moved to this provider yet: verify it again shortly.',
    );
  } catch (error) {
    // Its federated provider is gone (being deleted): nothing routes the domain to it any more.
    if (!(error instanceof NotFoundError)) throw error;
  }
}

// The platform-wide claim; the store's wording: which tenant holds a domain is not the caller's to learn.
async function claim(deps: DomainVerificationDeps, tenantId: string, providerId: string, domain: string) {
  if (!(await deps.providers.claimDomain(tenantId, providerId, domain))) {
    throw new ConflictError(`The email domain ${domain} is already routed to an identity provider.`, [
      { path: 'domain', message: 'already claimed' },
    ]);
  }
}

/**
 * Hands the provider's record as it is now to the federation. A provider the federation does not
 * know is passed on as NotFoundError; any other failure is `failure`, a retryable answer, since
 * verifying again repeats the routing.
 */
async function route(
  deps: DomainVerificationDeps,
  tenantId: string,
  providerId: string,
  failure = 'The domain is verified, but its sign-ins could not be routed to the provider yet: verify it again shortly.',
) {
  try {
    await deps.federation.identify(tenantId, providerId, () => deps.providers.get(tenantId, providerId));
  } catch (error) {
    if (error instanceof NotFoundError) throw error;
    throw new TransientError(failure);
  }
}
