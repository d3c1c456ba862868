import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '../access/permissions.ts';
import type { AuditContext } from '../audit/audit.ts';
import { ConflictError, NotFoundError, QuotaExceededError, ValidationError } from '../errors.ts';
import { randomToken } from '../ids.ts';
import { audited, type Caller, readAll } from '../tenancy/context.ts';
import type { Page, PageRequest, User } from '../tenancy/model.ts';
import type { ApiKeyStore, RoleStore, SecretVault, TenantStore, UserStore } from '../tenancy/ports.ts';
import { assertCanGrant } from '../tenancy/roles.ts';
import { revokeKeysOf } from '../tenancy/users.ts';
import {
  type DomainClaim,
  type GroupMapping,
  type IdentityProvider,
  normalizeDomain,
  PROVIDER_LIMITS,
  type ProviderType,
  providerUrlProblems,
  verifiedDomains,
} from './model.ts';

/** Persistence of identity providers and the platform-wide email-domain claims. */
export interface IdentityProviderStore {
  /** Writes the provider with its audit record; its domains are claimed when verified (domains.ts). */
  create(tenantId: string, provider: IdentityProvider, audit: AuditContext): Promise<void>;
  get(tenantId: string, providerId: string): Promise<IdentityProvider | undefined>;
  list(tenantId: string, page: PageRequest): Promise<Page<IdentityProvider>>;
  /**
   * Rewrites the provider (not its domain claims) with its audit record; ConflictError if its mapping,
   * default roles or verified domains changed meanwhile.
   */
  update(
    tenantId: string,
    next: IdentityProvider,
    previous: IdentityProvider,
    audit: AuditContext,
  ): Promise<void>;
  /** Deletes the provider with its audit record, then releases its domain claims. */
  delete(tenantId: string, provider: IdentityProvider, audit: AuditContext): Promise<void>;
  /** Who owns a domain (sign-in routing by email). */
  domainOwner(domain: string): Promise<DomainClaim | undefined>;
  /**
   * Claims a verified domain for the provider, platform-wide: false when another provider (of any
   * tenant) holds it; claiming it again for the same provider is a no-op.
   */
  claimDomain(tenantId: string, providerId: string, domain: string): Promise<boolean>;
  /** Releases the provider's claim on a domain (never another provider's). */
  releaseDomain(tenantId: string, providerId: string, domain: string): Promise<void>;
  /**
   * Adds a verified domain to the provider's record with its audit record, unless it is there already
   * (ConflictError) or the provider is gone or predates verification (ConflictError): an append, so
   * verifications of other domains and changes to the mapping do not undo one another.
   */
  addVerifiedDomain(tenantId: string, providerId: string, domain: string, audit: AuditContext): Promise<void>;
  /**
   * Takes a domain off the provider's verified ones (`verifiedDomains` of `provider` as read), with its
   * audit record; ConflictError if the record changed since it was read.
   */
  removeVerifiedDomain(
    tenantId: string,
    provider: IdentityProvider,
    domain: string,
    audit: AuditContext,
  ): Promise<void>;
  /** Moves a domain's claim from one provider to another, only if `from` still holds it. */
  transferDomain(
    domain: string,
    from: { readonly tenantId: string; readonly providerId: string },
    to: { readonly tenantId: string; readonly providerId: string },
  ): Promise<boolean>;
  /** The tenant's user with this email, if any (its email item names the user). */
  findUserByEmail(tenantId: string, email: string): Promise<User | undefined>;
}

/**
 * Where the provider is federated: Cognito identity providers on AWS, which the hosted login routes
 * to by the provider's verified domains; nothing to do locally.
 */
export interface FederationDirectory {
  register(tenantId: string, provider: IdentityProvider, clientSecret: string | undefined): Promise<void>;
  /**
   * Routes the provider's verified domains (`verifiedDomains`) to it, and no others, as `current`
   * reads the provider when it is its turn: concurrent calls leave the latest record routed. Nothing
   * to do for a provider that is gone.
   */
  identify(
    tenantId: string,
    providerId: string,
    current: () => Promise<IdentityProvider | undefined>,
  ): Promise<void>;
  remove(tenantId: string, provider: IdentityProvider): Promise<void>;
}

/** What identity-provider use cases need. */
export interface IdentityDeps {
  readonly providers: IdentityProviderStore;
  readonly federation: FederationDirectory;
  readonly vault: SecretVault;
  /** The tenant's SSO settings, the roles a mapping grants and the users it provisioned. */
  readonly store: Pick<TenantStore, 'getTenant' | 'updateTenant'> &
    Pick<RoleStore, 'getRoles'> &
    Pick<UserStore, 'listUsers' | 'updateUser'> &
    Pick<ApiKeyStore, 'listApiKeys' | 'updateApiKey'>;
  /** Local platform only: http://127.0.0.1 issuers (the local OpenID provider). */
  readonly allowLoopbackHttp: boolean;
  /** Whether SAML can be federated here (AWS: yes; the local platform has no SAML sign-in). */
  readonly samlSupported: boolean;
  /**
   * Counts one provider creation or deletion of the tenant against {@link PROVIDER_CHANGES_PER_MINUTE};
   * refused once the tenant has used them, with the seconds until it may again. Each one changes the app client all tenants share, under
   * one lease (functions/adapters/dynamo/lease.ts): without a cap one tenant could keep it busy.
   */
  readonly countChange?: (tenantId: string) => Promise<{ allowed: boolean; resetSeconds: number }>;
}

/** Provider creations and deletions a tenant may make per minute. */
export const PROVIDER_CHANGES_PER_MINUTE = 120;

async function countChange(deps: IdentityDeps, tenantId: string): Promise<void> {
  const counted = await deps.countChange?.(tenantId);
  if (counted && !counted.allowed) {
    throw new QuotaExceededError(
      `A tenant creates or deletes at most ${PROVIDER_CHANGES_PER_MINUTE} identity providers a minute; retry shortly.`,
      counted.resetSeconds,
    );
  }
}

/** What a tenant admin sends to register a provider. */
export interface ProviderInput {
  readonly type: ProviderType;
  readonly name: string;
  readonly issuer?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  readonly metadataUrl?: string | undefined;
  readonly emailDomains: readonly string[];
  readonly groupsClaim?: string | undefined;
  readonly groupMapping?: readonly GroupMapping[] | undefined;
  readonly defaultRoles?: readonly string[] | undefined;
}

/** The vault name of a provider's client secret (`/` cannot appear in tenants' own secret names). */
export const providerSecretName = (providerId: string): string => `identity-providers/${providerId}`;

/** A tenant has few providers (each needs its own domains). */
const MAX_PROVIDERS_PER_TENANT = 10;

function validate(deps: IdentityDeps, input: ProviderInput): string[] {
  const problems: { path: string; message: string }[] = [];
  const url = { allowLoopbackHttp: deps.allowLoopbackHttp };
  if (input.type === 'oidc') {
    if (!input.issuer) problems.push({ path: 'issuer', message: 'required for oidc' });
    else problems.push(...providerUrlProblems(input.issuer, 'issuer', url));
    if (!input.clientId) problems.push({ path: 'clientId', message: 'required for oidc' });
    if (!input.clientSecret) problems.push({ path: 'clientSecret', message: 'required for oidc' });
    if (input.metadataUrl) problems.push({ path: 'metadataUrl', message: 'only for saml' });
  } else {
    if (!deps.samlSupported) {
      problems.push({ path: 'type', message: 'saml providers are federated by Cognito: AWS only' });
    }
    if (!input.metadataUrl) problems.push({ path: 'metadataUrl', message: 'required for saml' });
    else problems.push(...providerUrlProblems(input.metadataUrl, 'metadataUrl', url));
    for (const field of ['issuer', 'clientId', 'clientSecret'] as const) {
      if (input[field]) problems.push({ path: field, message: 'only for oidc' });
    }
  }
  const domains: string[] = [];
  input.emailDomains.forEach((raw, i) => {
    const domain = normalizeDomain(raw);
    if (!domain) problems.push({ path: `emailDomains.${i}`, message: 'not a domain name' });
    else if (domains.includes(domain)) problems.push({ path: `emailDomains.${i}`, message: 'repeated' });
    else domains.push(domain);
  });
  const groups = new Set<string>();
  (input.groupMapping ?? []).forEach((rule, i) => {
    if (groups.has(rule.group)) problems.push({ path: `groupMapping.${i}.group`, message: 'repeated' });
    groups.add(rule.group);
  });
  if (problems.length > 0) throw new ValidationError('Invalid identity provider.', problems);
  return domains;
}

/**
 * Every permission the mapping and the default roles grant; each role must exist in the tenant
 * (problems name `groupMapping.<i>.roles.<j>` or `defaultRoles.<j>`). Custom roles are read once.
 */
async function mappedPermissions(
  store: Pick<RoleStore, 'getRoles'>,
  tenantId: string,
  mapping: readonly GroupMapping[],
  defaultRoles: readonly string[],
): Promise<Set<Permission>> {
  const names = [...new Set([...mapping.flatMap((rule) => rule.roles), ...defaultRoles])];
  const custom = new Map(
    (
      await store.getRoles(
        tenantId,
        names.filter((n) => !isBuiltInRole(n)),
      )
    ).map((r) => [r.name, r]),
  );
  const out = new Set<Permission>();
  const problems: { path: string; message: string }[] = [];
  const check = (name: string, path: string) => {
    const permissions = isBuiltInRole(name) ? BUILT_IN_ROLES[name] : custom.get(name)?.permissions;
    if (!permissions) problems.push({ path, message: `unknown role ${name}` });
    for (const p of permissions ?? []) out.add(p);
  };
  for (const [i, rule] of mapping.entries()) {
    for (const [j, name] of rule.roles.entries()) check(name, `groupMapping.${i}.roles.${j}`);
  }
  for (const [j, name] of defaultRoles.entries()) check(name, `defaultRoles.${j}`);
  if (problems.length > 0) throw new ValidationError('Unknown role.', problems);
  return out;
}

/**
 * Registers a tenant's provider: the secret into the tenant's vault, the provider into the
 * federation (Cognito), then the record. Its domains route nobody until verified (domains.ts). Every role the mapping grants must
 * exist and be grantable by the caller (nobody hands out, through a provider, permissions they lack).
 * Whatever was done is undone when a later step fails.
 */
export async function createProvider(
  deps: IdentityDeps,
  caller: Caller,
  input: ProviderInput,
): Promise<IdentityProvider> {
  const tenantId = caller.principal.tenantId;
  const emailDomains = validate(deps, input);
  const mapping = input.groupMapping ?? [];
  const defaultRoles = [...new Set(input.defaultRoles ?? [])];
  const granted = await mappedPermissions(deps.store, tenantId, mapping, defaultRoles);
  assertCanGrant(caller, granted);
  const existing = await deps.providers.list(tenantId, { limit: MAX_PROVIDERS_PER_TENANT });
  if (existing.items.length >= MAX_PROVIDERS_PER_TENANT) {
    throw new ConflictError(`A tenant has at most ${MAX_PROVIDERS_PER_TENANT} identity providers.`);
  }
  // Any domain may be listed, one another provider holds included: its DNS decides at verification
  // (domains.ts), so a domain's owner can register it whoever listed or held it first.
  await countChange(deps, tenantId);
  const provider: IdentityProvider = {
    providerId: `p${randomToken(10)}`,
    type: input.type,
    name: input.name,
    ...(input.issuer ? { issuer: input.issuer.replace(/\/+$/, '') } : {}),
    ...(input.clientId ? { clientId: input.clientId } : {}),
    ...(input.metadataUrl ? { metadataUrl: input.metadataUrl } : {}),
    emailDomains,
    // Unguessable and the provider's own: another tenant's record for the same domain proves nothing here.
    verificationToken: randomToken(32),
    verifiedDomains: [],
    groupsClaim: input.groupsClaim ?? 'groups',
    groupMapping: mapping.map((rule) => ({ group: rule.group, roles: [...new Set(rule.roles)] })),
    defaultRoles,
    createdAt: caller.meta.now,
    createdBy: caller.principal.onBehalfOf ?? caller.principal.principalId,
  };
  const secret = input.clientSecret;
  if (secret) await deps.vault.put(tenantId, providerSecretName(provider.providerId), secret);
  const undoSecret = async () => {
    if (secret) await deps.vault.delete(tenantId, providerSecretName(provider.providerId)).catch(() => {});
  };
  try {
    await deps.federation.register(tenantId, provider, secret);
  } catch (error) {
    await undoSecret();
    throw error;
  }
  try {
    await deps.providers.create(
      tenantId,
      provider,
      audited(caller, {
        action: 'idp.create',
        resourceType: 'identity-provider',
        resourceId: provider.providerId,
        after: provider,
      }),
    );
  } catch (error) {
    await deps.federation.remove(tenantId, provider).catch(() => {});
    await undoSecret();
    throw error;
  }
  return provider;
}

/** What `PATCH /identity-providers/{providerId}` may change: the name and who gets which roles. */
export interface ProviderPatch {
  readonly name?: string | undefined;
  readonly groupsClaim?: string | undefined;
  readonly groupMapping?: readonly GroupMapping[] | undefined;
  readonly defaultRoles?: readonly string[] | undefined;
}

/**
 * Changes the mapping (or name, or groups claim) of a provider; users get the new roles at their next
 * sign-in. The same rules as at registration: roles must exist and be grantable by the caller.
 * Issuer, client and domains are not changed here: a new provider is registered instead.
 */
export async function updateProvider(
  deps: IdentityDeps,
  caller: Caller,
  providerId: string,
  patch: ProviderPatch,
): Promise<IdentityProvider> {
  const tenantId = caller.principal.tenantId;
  const previous = await getProvider(deps, tenantId, providerId);
  const mapping = patch.groupMapping ?? previous.groupMapping;
  const groups = new Set<string>();
  const problems: { path: string; message: string }[] = [];
  for (const [i, rule] of (patch.groupMapping ?? []).entries()) {
    if (groups.has(rule.group)) problems.push({ path: `groupMapping.${i}.group`, message: 'repeated' });
    groups.add(rule.group);
  }
  if (problems.length > 0) throw new ValidationError('Invalid identity provider.', problems);
  const defaultRoles = [...new Set(patch.defaultRoles ?? previous.defaultRoles)];
  assertCanGrant(caller, await mappedPermissions(deps.store, tenantId, mapping, defaultRoles));
  const next: IdentityProvider = {
    ...previous,
    ...(patch.name ? { name: patch.name } : {}),
    ...(patch.groupsClaim ? { groupsClaim: patch.groupsClaim } : {}),
    groupMapping: mapping.map((rule) => ({ group: rule.group, roles: [...new Set(rule.roles)] })),
    defaultRoles,
  };
  await deps.providers.update(
    tenantId,
    next,
    previous,
    audited(caller, {
      action: 'idp.update',
      resourceType: 'identity-provider',
      resourceId: providerId,
      before: previous,
      after: next,
    }),
  );
  return next;
}

/** One provider of the caller's tenant (another tenant's id is simply not found). */
export async function getProvider(
  deps: Pick<IdentityDeps, 'providers'>,
  tenantId: string,
  providerId: string,
): Promise<IdentityProvider> {
  const provider = await deps.providers.get(tenantId, providerId);
  if (!provider) throw new NotFoundError(`No identity provider ${providerId}.`);
  return provider;
}

/** The tenant's providers. */
export function listProviders(
  deps: Pick<IdentityDeps, 'providers'>,
  tenantId: string,
  page: PageRequest,
): Promise<Page<IdentityProvider>> {
  return deps.providers.list(tenantId, page);
}

async function removeProvider(
  deps: IdentityDeps,
  provider: IdentityProvider,
  audit: AuditContext,
  users: 'disable' | 'leave' = 'disable',
) {
  // The federation first: once the record is gone nothing would remember the Cognito provider.
  await deps.federation.remove(audit.tenantId, provider);
  if (users === 'disable') await disableUsersOf(deps, provider, audit);
  await deps.providers.delete(audit.tenantId, provider, audit);
  await deps.vault.delete(audit.tenantId, providerSecretName(provider.providerId));
}

/**
 * The provider's users are disabled with it and marked as no longer SSO users (`providerRemovedAt`):
 * required SSO lets in any user a live provider made, so without this their tokens, API keys and
 * schedules would outlive the provider that vouched for them. An admin deletes them, or enables
 * them again, which lets them act only while SSO is not required.
 */
async function disableUsersOf(deps: IdentityDeps, provider: IdentityProvider, audit: AuditContext) {
  const users = await readAll((page) => deps.store.listUsers(audit.tenantId, page));
  const now = audit.meta.now;
  const disabled: string[] = [];
  for (const user of users) {
    if (user.sso?.providerId !== provider.providerId || user.sso.providerRemovedAt !== undefined) continue;
    // Disabled users too: an admin who enables one later must not bring back an SSO user.
    const next: User = {
      ...user,
      status: 'disabled',
      sso: { ...user.sso, providerRemovedAt: now },
      updatedAt: now,
    };
    await deps.store.updateUser(next, user, {
      ...audit,
      draft: {
        action: 'user.sso-disable',
        resourceType: 'user',
        resourceId: user.userId,
        before: { status: user.status },
        after: { status: next.status, providerRemovedAt: now },
      },
    });
    if (user.status === 'active') disabled.push(user.userId);
  }
  // As when an admin disables a user: their keys go for good.
  await revokeKeysOf(
    deps.store,
    { tenantId: audit.tenantId, actorId: audit.actor.id, now, audit: (draft) => ({ ...audit, draft }) },
    ...disabled,
  );
}

/**
 * Deletes a provider: its users can no longer sign in through it and are disabled (their records
 * stay, for an admin to delete or enable for password sign-in). The last provider cannot go while SSO is required.
 */
export async function deleteProvider(deps: IdentityDeps, caller: Caller, providerId: string): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const provider = await getProvider(deps, tenantId, providerId);
  const tenant = await deps.store.getTenant(tenantId);
  if (tenant?.requireSso) {
    const all = await deps.providers.list(tenantId, { limit: MAX_PROVIDERS_PER_TENANT });
    if (all.items.length <= 1) {
      throw new ConflictError('Single sign-on is required: turn that off before deleting the last provider.');
    }
  }
  await countChange(deps, tenantId);
  await removeProvider(
    deps,
    provider,
    audited(caller, {
      action: 'idp.delete',
      resourceType: 'identity-provider',
      resourceId: providerId,
      before: provider,
    }),
  );
}

/** The tenant's single sign-on settings. */
export interface SsoSettings {
  readonly requireSso: boolean;
}

/** Reads whether the tenant requires single sign-on. */
export async function getSsoSettings(
  deps: Pick<IdentityDeps, 'store'>,
  tenantId: string,
): Promise<SsoSettings> {
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError('No such tenant.');
  return { requireSso: tenant.requireSso === true };
}

/** Requires single sign-on (or stops requiring it); requiring it needs a provider to sign in with. */
export async function setSsoSettings(
  deps: IdentityDeps,
  caller: Caller,
  settings: SsoSettings,
): Promise<SsoSettings> {
  const tenantId = caller.principal.tenantId;
  const previous = await deps.store.getTenant(tenantId);
  if (!previous) throw new NotFoundError('No such tenant.');
  if (settings.requireSso) {
    // Without a verified domain nobody signs in by SSO, and every user but the break-glass admin is shut out.
    const providers = await deps.providers.list(tenantId, { limit: MAX_PROVIDERS_PER_TENANT });
    if (!providers.items.some((provider) => verifiedDomains(provider).length > 0)) {
      throw new ValidationError(
        'Register an identity provider and verify one of its domains before requiring single sign-on.',
        [{ path: 'requireSso', message: 'no identity provider with a verified domain' }],
      );
    }
  }
  const { requireSso: _r, ...rest } = previous;
  const next = { ...rest, ...(settings.requireSso ? { requireSso: true } : {}), updatedAt: caller.meta.now };
  await deps.store.updateTenant(
    next,
    previous,
    audited(caller, {
      action: 'sso.update',
      resourceType: 'tenant',
      resourceId: tenantId,
      before: { requireSso: previous.requireSso === true },
      after: { requireSso: settings.requireSso },
    }),
  );
  return { requireSso: settings.requireSso };
}

/**
 * Offboarding: removes every provider of a tenant (Cognito providers, records, domain claims and
 * secrets), each with an audit record by the system.
 */
export async function deleteAllForTenant(
  deps: IdentityDeps,
  tenantId: string,
  meta: Caller['meta'],
): Promise<number> {
  const providers = await readAll((page) => deps.providers.list(tenantId, page));
  for (const provider of providers) {
    await removeProvider(
      deps,
      provider,
      {
        tenantId,
        actor: { id: 'offboarding', type: 'system' },
        meta,
        draft: {
          action: 'idp.delete',
          resourceType: 'identity-provider',
          resourceId: provider.providerId,
          before: provider,
        },
        // Offboarding: the tenant is already refused everything, and the job erases its users and
        // keys; disabling them one by one here would only slow the DELETE request.
      },
      'leave',
    );
  }
  return providers.length;
}

/** Bounds for the HTTP layer's schema, shared so the domain and the API agree. */
export const PROVIDER_INPUT_LIMITS = { ...PROVIDER_LIMITS, maxProviders: MAX_PROVIDERS_PER_TENANT };
