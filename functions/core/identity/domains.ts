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
 * alone (the platform-wide claim decides a race between tenants), handed to the federation (the
 * hosted login routes its emails to the provider) and accepted at sign-in. Until then the domain
 * routes nobody and blocks nobody: a tenant cannot take a domain it does not control from the tenant
 * that does. Verifying a verified domain changes nothing.
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
  const verified = verifiedDomains(provider);
  if (verified.includes(domain)) return provider;
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
  if (!(await deps.providers.claimDomain(tenantId, providerId, domain))) {
    // The store's wording: which tenant holds a domain is not the caller's to learn.
    throw new ConflictError(`The email domain ${domain} is already routed to an identity provider.`, [
      { path: 'domain', message: 'already claimed' },
    ]);
  }
  const next: IdentityProvider = { ...provider, verifiedDomains: [...verified, domain] };
  try {
    await deps.federation.identify(tenantId, next);
    await deps.providers.update(
      tenantId,
      next,
      provider,
      audited(caller, {
        action: 'idp.domain-verify',
        resourceType: 'identity-provider',
        resourceId: providerId,
        before: { verifiedDomains: verified },
        after: { verifiedDomains: next.verifiedDomains },
      }),
    );
  } catch (error) {
    // Deleted or changed meanwhile, or the federation refused: the claim must not outlive the
    // record that says the domain is verified (it would route the domain with nothing behind it).
    await deps.providers.releaseDomain(tenantId, providerId, domain).catch(() => {});
    await deps.federation.identify(tenantId, provider).catch(() => {});
    throw error;
  }
  return next;
}
