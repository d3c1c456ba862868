import { BUILT_IN_ROLES, isBuiltInRole } from '../access/permissions.ts';
import type { AuditContext } from '../audit/audit.ts';
import { ForbiddenError } from '../errors.ts';
import type { RequestMeta } from '../principal.ts';
import type { Tenant, User } from '../tenancy/model.ts';
import type { ApiKeyStore, RoleStore, TenantStore, UserStore } from '../tenancy/ports.ts';
import { revokeKeysOf, userView } from '../tenancy/users.ts';
import { emailDomain, type IdentityProvider, PROVIDER_LIMITS, verifiedDomains } from './model.ts';
import type { IdentityProviderStore } from './providers.ts';

/** Claims of one sign-in, as the provider (or Cognito's attribute mapping) delivered them. */
export type SsoClaims = Readonly<Record<string, unknown>>;

/** What to do with a sign-in, decided from the claims alone (pure, so AWS and local agree). */
export type ProvisionDecision =
  | { readonly kind: 'create'; readonly email: string; readonly roles: readonly string[] }
  | { readonly kind: 'update'; readonly user: User; readonly roles: readonly string[] }
  | { readonly kind: 'disable'; readonly user: User }
  | { readonly kind: 'refuse'; readonly reason: string };

/**
 * The groups in a claim: an array of strings, or a string as Cognito's attribute mapping passes a
 * list (`[a, b]`) or a comma-separated one. Bounded in count and length; anything else is none.
 */
export function groupsOf(value: unknown): string[] {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === 'string') {
    const text = value.trim().replace(/^\[(.*)\]$/s, '$1');
    list = text === '' ? [] : text.split(',');
  } else list = [];
  return [
    ...new Set(
      list
        .filter((g): g is string => typeof g === 'string')
        .map((g) => g.trim())
        .filter((g) => g !== '' && g.length <= PROVIDER_LIMITS.maxGroupLength),
    ),
  ].slice(0, PROVIDER_LIMITS.maxClaimGroups);
}

/**
 * Just-in-time provisioning, decided: the roles are those mapped from the user's groups (unknown
 * groups ignored, roles deleted since the mapping was set dropped), else the provider's default
 * roles. A new user with no role is refused; an existing one loses access (disabled, so their keys
 * stop too: keys follow the provider). The email must be verified (when the claim says) and in one
 * of the provider's verified domains, and may not belong to a password user of the tenant. A disabled user
 * stays disabled: only an admin enables them again.
 */
export function provisionFromClaims(input: {
  readonly tenant: Tenant;
  readonly provider: IdentityProvider;
  readonly claims: SsoClaims;
  readonly existing: User | undefined;
  readonly roleExists: (name: string) => boolean;
}): ProvisionDecision {
  const { tenant, provider, claims, existing } = input;
  if (tenant.status !== 'active') return { kind: 'refuse', reason: 'The tenant is suspended.' };
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) {
    return { kind: 'refuse', reason: 'The provider sent no email address.' };
  }
  if (claims.email_verified === false || claims.email_verified === 'false') {
    return { kind: 'refuse', reason: 'The provider says the email address is not verified.' };
  }
  // A domain the tenant has not proven is no reason to trust an email in it.
  if (!verifiedDomains(provider).includes(emailDomain(email))) {
    return {
      kind: 'refuse',
      reason: `${emailDomain(email)} is not a verified domain of this identity provider.`,
    };
  }
  if (existing && existing.sso?.providerId !== provider.providerId) {
    return {
      kind: 'refuse',
      reason: existing.sso?.providerRemovedAt
        ? 'This user’s identity provider was deleted: an admin must delete them first.'
        : existing.sso
          ? 'This user signs in through another identity provider of the tenant.'
          : 'A password user of the tenant has this email: an admin must delete them first.',
    };
  }
  if (existing?.status === 'disabled') return { kind: 'refuse', reason: 'The user is disabled.' };
  const groups = new Set(groupsOf(claims[provider.groupsClaim]));
  const mapped = provider.groupMapping.filter((rule) => groups.has(rule.group)).flatMap((rule) => rule.roles);
  const candidates = mapped.length > 0 ? mapped : provider.defaultRoles;
  const roles = [...new Set(candidates)].filter(input.roleExists).sort();
  if (roles.length === 0) {
    return existing
      ? { kind: 'disable', user: existing }
      : { kind: 'refuse', reason: 'None of the user’s groups is mapped to a role here.' };
  }
  return existing ? { kind: 'update', user: existing, roles } : { kind: 'create', email, roles };
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((role, i) => role === [...b].sort()[i]);
}

/** What a sign-in needs. */
export interface SsoSignInDeps {
  readonly providers: Pick<IdentityProviderStore, 'get' | 'findUserByEmail'>;
  readonly store: Pick<TenantStore, 'getTenant'> &
    Pick<RoleStore, 'getRoles'> &
    Pick<UserStore, 'createUser' | 'updateUser'> &
    Pick<ApiKeyStore, 'listApiKeys' | 'updateApiKey'>;
}

/**
 * Applies a sign-in through `providerId` of `tenantId`: creates the user (their id is the login's
 * `sub`, which `login` gets or makes), updates their roles, or disables them, each audited as done by
 * the provider. Refusals are ForbiddenErrors whose message says why.
 */
export async function provisionSsoUser(
  deps: SsoSignInDeps,
  request: {
    readonly tenantId: string;
    readonly providerId: string;
    readonly claims: SsoClaims;
    readonly meta: RequestMeta;
    /** The login's id for this email (made when missing, locally; given by Cognito on AWS). */
    readonly login: (email: string) => Promise<{ sub: string; username: string }>;
  },
): Promise<User> {
  const { tenantId, providerId, meta } = request;
  const [tenant, provider] = await Promise.all([
    deps.store.getTenant(tenantId),
    deps.providers.get(tenantId, providerId),
  ]);
  if (!tenant || !provider) throw new ForbiddenError('No such identity provider.');
  const email = typeof request.claims.email === 'string' ? request.claims.email.trim().toLowerCase() : '';
  const existing = email ? await deps.providers.findUserByEmail(tenantId, email) : undefined;
  const wanted = [...provider.defaultRoles, ...provider.groupMapping.flatMap((rule) => rule.roles)];
  const custom = new Set(
    (await deps.store.getRoles(tenantId, [...new Set(wanted.filter((n) => !isBuiltInRole(n)))])).map(
      (r) => r.name,
    ),
  );
  const decision = provisionFromClaims({
    tenant,
    provider,
    claims: request.claims,
    existing,
    roleExists: (name) => name in BUILT_IN_ROLES || custom.has(name),
  });
  const audit = (action: string, before: User | undefined, after: User): AuditContext => ({
    tenantId,
    actor: { id: providerId, type: 'system' },
    meta,
    draft: {
      action,
      resourceType: 'user',
      resourceId: after.userId,
      ...(before ? { before: userView(before) } : {}),
      after: userView(after),
    },
  });
  switch (decision.kind) {
    case 'refuse':
      throw new ForbiddenError(decision.reason);
    case 'disable': {
      const next: User = {
        ...decision.user,
        status: 'disabled',
        sso: { ...decision.user.sso, providerId },
        updatedAt: meta.now,
      };
      await deps.store.updateUser(next, decision.user, audit('user.sso-disable', decision.user, next));
      // As when an admin disables a user: their keys go for good, so enabling them brings none back.
      await revokeKeysOf(
        deps.store,
        {
          tenantId,
          actorId: providerId,
          now: meta.now,
          audit: (draft) => ({ tenantId, actor: { id: providerId, type: 'system' }, meta, draft }),
        },
        next.userId,
      );
      throw new ForbiddenError('None of the user’s groups is mapped to a role here any more.');
    }
    case 'update': {
      const previous = decision.user;
      // An erased person keeps only an opaque id: nothing to sign in as.
      if (!previous.email) throw new ForbiddenError('This user was erased.');
      const login = await request.login(previous.email);
      if (login.sub !== previous.userId) {
        throw new ForbiddenError('This email belongs to another login of the tenant.');
      }
      const sso = { providerId, login: login.username };
      // Unchanged roles write nothing (Cognito runs the trigger on every token refresh too); a user
      // made before their login was recorded gets it once.
      if (sameRoles(previous.roles, decision.roles) && previous.sso?.login === sso.login)
        return userView(previous);
      const next: User = { ...previous, roles: decision.roles, sso, updatedAt: meta.now };
      await deps.store.updateUser(next, previous, audit('user.sso-update', previous, next));
      return userView(next);
    }
    case 'create': {
      const login = await request.login(decision.email);
      const user: User = {
        userId: login.sub,
        tenantId,
        email: decision.email,
        roles: decision.roles,
        teams: [],
        status: 'active',
        createdAt: meta.now,
        updatedAt: meta.now,
        sso: { providerId, login: login.username },
      };
      await deps.store.createUser(user, audit('user.sso-create', undefined, user));
      return userView(user);
    }
  }
}
