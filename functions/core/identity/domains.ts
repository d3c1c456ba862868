import { ConflictError, NotFoundError, TransientError } from '../errors.ts';
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
 * A domain follows its DNS: once it publishes only this provider's record, a provider that verified
 * it before loses it to this one (`claimOrTakeOver`).
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
  const record = verificationRecord(provider, domain);
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
  await claimOrTakeOver(deps, caller, providerId, domain, published);
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
 * Claims the domain. When another provider holds it but the domain does not publish that provider's
 * record (only this one's), the domain has changed hands, or was never proven (a provider registered
 * before records existed, or a claim left without its provider): the holder loses it (its record and
 * routing, with an audit record in its own trail that does not name the new holder) and the claim
 * moves here. A holder whose record the domain still publishes keeps it.
 */
async function claimOrTakeOver(
  deps: DomainVerificationDeps,
  caller: Caller,
  providerId: string,
  domain: string,
  published: readonly string[],
) {
  const tenantId = caller.principal.tenantId;
  if (await deps.providers.claimDomain(tenantId, providerId, domain)) return;
  const holder = await deps.providers.domainOwner(domain);
  if (holder) {
    const holding = await deps.providers.get(holder.tenantId, holder.providerId);
    const stillProven =
      holding?.verificationToken !== undefined &&
      published.some((value) => value.trim() === verificationRecord(holding, domain).value);
    if (!stillProven) {
      if (holding) await loseDomain(deps, caller, holding, holder.tenantId, domain);
      if (await deps.providers.transferDomain(domain, holder, { tenantId, providerId })) return;
    }
  }
  await claim(deps, tenantId, providerId, domain);
}

// The holder's side of a takeover, in its own trail, by the system: the new holder is not named.
async function loseDomain(
  deps: DomainVerificationDeps,
  caller: Caller,
  holding: IdentityProvider,
  holderTenantId: string,
  domain: string,
) {
  const before = verifiedDomains(holding);
  await deps.providers.removeVerifiedDomain(holderTenantId, holding, domain, {
    tenantId: holderTenantId,
    actor: { id: 'domain-verification', type: 'system' },
    meta: caller.meta,
    draft: {
      action: 'idp.domain-lost',
      resourceType: 'identity-provider',
      resourceId: holding.providerId,
      before: { verifiedDomains: before },
      after: { verifiedDomains: before.filter((d) => d !== domain) },
    },
  });
  await route(deps, holderTenantId, holding.providerId);
}

// The platform-wide claim; the store's wording: which tenant holds a domain is not the caller's to learn.
async function claim(deps: DomainVerificationDeps, tenantId: string, providerId: string, domain: string) {
  if (!(await deps.providers.claimDomain(tenantId, providerId, domain))) {
    throw new ConflictError(`The email domain ${domain} is already routed to an identity provider.`, [
      { path: 'domain', message: 'already claimed' },
    ]);
  }
}

// The domain is verified and claimed once this runs: a failure here is repaired by verifying again.
async function route(deps: DomainVerificationDeps, tenantId: string, providerId: string) {
  try {
    await deps.federation.identify(tenantId, providerId, () => deps.providers.get(tenantId, providerId));
  } catch (error) {
    if (error instanceof NotFoundError) throw error;
    throw new TransientError(
      'The domain is verified, but its sign-ins could not be routed to the provider yet: verify it again shortly.',
    );
  }
}
