import { isIP } from 'node:net';
import type { FieldProblem } from '../errors.ts';
import { forbiddenAddressClass } from '../net/address-guard.ts';

/** Kinds of identity provider; SAML only where Cognito federates it (AWS). */
export const PROVIDER_TYPES = ['oidc', 'saml'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Bounds on what a tenant admin may register (everything here ends up in Cognito or in a key). */
export const PROVIDER_LIMITS = Object.freeze({
  maxDomains: 20,
  maxMappings: 50,
  maxRolesPerMapping: 10,
  maxGroupLength: 256,
  /** Groups read from one sign-in's claims; more are ignored. */
  maxClaimGroups: 200,
  maxUrlLength: 2048,
});

/** One group → roles rule: a member of `group` at the provider gets `roles` here. */
export interface GroupMapping {
  readonly group: string;
  readonly roles: readonly string[];
}

/** A tenant's single sign-on provider. The OIDC client secret lives in the tenant's vault, never here. */
export interface IdentityProvider {
  /** `p` and 10 characters: short, so `<tenantId>-<providerId>` fits Cognito's 32-character names. */
  readonly providerId: string;
  readonly type: ProviderType;
  readonly name: string;
  /** OIDC: the issuer (its discovery document is `<issuer>/.well-known/openid-configuration`). */
  readonly issuer?: string;
  readonly clientId?: string;
  /** SAML: where Cognito reads the metadata. */
  readonly metadataUrl?: string;
  /**
   * Lower-case email domains this provider is for. Each signs in through it only once verified
   * ({@link verifiedDomains}), and a verified domain belongs to one tenant only.
   */
  readonly emailDomains: readonly string[];
  /**
   * Proves the domains: each publishes it in a TXT record ({@link verificationRecord}). Absent on
   * providers registered before domains were verified, whose domains were all claimed at registration.
   */
  readonly verificationToken?: string;
  /** The domains whose TXT record was found, in the order they were verified. */
  readonly verifiedDomains?: readonly string[];
  /** The claim carrying the user's groups (OIDC), default `groups`. */
  readonly groupsClaim: string;
  readonly groupMapping: readonly GroupMapping[];
  /** Roles of a user none of whose groups is mapped; empty: such a user may not sign in. */
  readonly defaultRoles: readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
}

/** The TXT record that proves a domain for a provider: `<name> TXT "<value>"`. */
export interface VerificationRecord {
  readonly name: string;
  readonly type: 'TXT';
  readonly value: string;
}

/** Where a domain publishes its proof: a name of its own, so it disturbs no other record. */
export const VERIFICATION_LABEL = '_meridian-verification';

/**
 * The record `domain` publishes to prove it for the provider whose `token` it is. A provider without
 * a token (registered before domains were verified) has no record to publish.
 */
export function verificationRecord(token: string, domain: string): VerificationRecord {
  return { name: `${VERIFICATION_LABEL}.${domain}`, type: 'TXT', value: `meridian-verification=${token}` };
}

/**
 * The provider's domains that route and provision: the verified ones. A provider registered before
 * domains were verified has no list: every one of its domains, until it loses one (domains.ts).
 */
export function verifiedDomains(provider: IdentityProvider): readonly string[] {
  return provider.verifiedDomains ?? (provider.verificationToken === undefined ? provider.emailDomains : []);
}

/**
 * One of a provider's domains as the API shows it; `record` until it is verified (never for a provider
 * registered before domains were verified, which has no token).
 */
export interface DomainView {
  readonly domain: string;
  readonly verified: boolean;
  readonly record?: VerificationRecord;
}

/** A provider as the API shows it: its token only inside the records, each domain verified or not. */
export type ProviderView = Omit<IdentityProvider, 'verificationToken' | 'verifiedDomains'> & {
  readonly domains: readonly DomainView[];
};

/** How the API shows `provider`. */
export function providerView(provider: IdentityProvider): ProviderView {
  const { verificationToken: _token, verifiedDomains: _verified, ...shown } = provider;
  const verified = verifiedDomains(provider);
  const token = provider.verificationToken;
  return {
    ...shown,
    domains: provider.emailDomains.map((domain) =>
      verified.includes(domain) || token === undefined
        ? { domain, verified: verified.includes(domain) }
        : { domain, verified: false, record: verificationRecord(token, domain) },
    ),
  };
}

/**
 * Who owns an email domain (a platform-level claim item, so no two tenants route the same domain),
 * written when the domain is verified.
 */
export interface DomainClaim {
  readonly domain: string;
  readonly tenantId: string;
  readonly providerId: string;
}

/** The Cognito identity provider name of a tenant's provider (≤ 32 characters, no `_`). */
export function cognitoProviderName(tenantId: string, providerId: string): string {
  return `${tenantId}-${providerId}`;
}

/** Reads `<tenantId>-<providerId>` back (the Cognito trigger gets only the provider name). */
export function parseCognitoProviderName(name: string): { tenantId: string; providerId: string } | undefined {
  const match = /^(t[a-z0-9]{16})-(p[a-z0-9]{10})$/.exec(name);
  return match?.[1] && match[2] ? { tenantId: match[1], providerId: match[2] } : undefined;
}

const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** A normalised email domain, or undefined when it is not one. */
export function normalizeDomain(text: string): string | undefined {
  const domain = text.trim().toLowerCase();
  return DOMAIN.test(domain) ? domain : undefined;
}

/** The domain part of an email, lower-cased. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Problems with a provider URL: https with a public host name, or, only where the platform runs
 * locally (`allowLoopbackHttp`), plain http to 127.0.0.1/localhost for the local OpenID provider.
 * Literal private or metadata addresses are refused: Cognito (or the local platform) fetches it.
 */
export function providerUrlProblems(
  value: string,
  path: string,
  options: { allowLoopbackHttp: boolean },
): FieldProblem[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [{ path, message: 'not a URL' }];
  }
  if (value.length > PROVIDER_LIMITS.maxUrlLength) return [{ path, message: 'too long' }];
  if (url.username || url.password || url.hash) {
    return [{ path, message: 'must not carry credentials or a fragment' }];
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === '127.0.0.1' || host === 'localhost';
  if (url.protocol === 'http:' && loopback && options.allowLoopbackHttp) return [];
  if (url.protocol !== 'https:') {
    return [
      {
        path,
        message: options.allowLoopbackHttp
          ? 'must be https (or http://127.0.0.1 on the local platform)'
          : 'must be https',
      },
    ];
  }
  if (
    loopback ||
    host.endsWith('.localhost') ||
    (isIP(host) !== 0 && forbiddenAddressClass(host) !== undefined)
  ) {
    return [{ path, message: 'must name a public host' }];
  }
  return [];
}
