import { ForbiddenError } from '../errors.ts';
import type { RequestMeta } from '../principal.ts';
import { parseCognitoProviderName } from './model.ts';
import { provisionSsoUser, type SsoSignInDeps } from './provisioning.ts';

/** What Cognito tells the pre-token-generation trigger about the user signing in. */
export interface TokenGenerationInput {
  /** `<providerName>_<subject at the provider>` for a federated user; the email (or an id) otherwise. */
  readonly userName: string;
  readonly attributes: Readonly<Record<string, string | undefined>>;
  /** Cognito's `triggerSource`, e.g. `TokenGeneration_HostedAuth` (a sign-in through the hosted login). */
  readonly triggerSource?: string;
  readonly meta: RequestMeta;
}

/** The attribute names the trigger reads (shared with the CDK construct and the federation adapter). */
export interface FederationAttributes {
  readonly tenantClaim: string;
  readonly groupsAttribute: string;
}

/** The provider a federated user came through: from `identities`, else from the user name's prefix. */
function providerNameOf(input: TokenGenerationInput): string | undefined {
  const identities = input.attributes.identities;
  if (identities) {
    try {
      const parsed = JSON.parse(identities) as { providerName?: unknown }[];
      const name = parsed[0]?.providerName;
      if (typeof name === 'string') return name;
    } catch {
      // Not JSON: fall back to the user name.
    }
  }
  const index = input.userName.indexOf('_');
  return index > 0 ? input.userName.slice(0, index) : undefined;
}

/**
 * Cognito's pre-token-generation trigger: it runs before every token Cognito issues (hosted-login and
 * federated sign-ins, password sign-ins, refreshes), so it is the one place that sees both kinds of
 * sign-in. A federated user (their provider named `<tenantId>-<providerId>`) is provisioned just in
 * time with the roles their groups map to (the same code as the local platform's sign-in); a password
 * user of a tenant that requires SSO is refused, unless they are its first admin (break-glass).
 * Throwing makes Cognito refuse the sign-in.
 */
export async function onTokenGeneration(
  deps: SsoSignInDeps,
  attributes: FederationAttributes,
  input: TokenGenerationInput,
): Promise<'provisioned' | 'password' | 'platform'> {
  const email = (input.attributes.email ?? '').toLowerCase();
  const providerName = providerNameOf(input);
  const federated = input.attributes.identities !== undefined && providerName !== undefined;
  const parsed = federated && providerName ? parseCognitoProviderName(providerName) : undefined;
  if (federated) {
    if (!parsed) throw new ForbiddenError('This identity provider belongs to no tenant.');
    // Refreshes change nothing: the groups attribute is fresh from the provider only at a sign-in
    // (a disabled or deleted user is refused by the authorizer anyway).
    if (input.triggerSource === 'TokenGeneration_RefreshTokens') return 'provisioned';
    const sub = input.attributes.sub;
    if (!sub) throw new ForbiddenError('Cognito sent no sub.');
    const provider = await deps.providers.get(parsed.tenantId, parsed.providerId);
    const groupsClaim = provider?.groupsClaim ?? 'groups';
    await provisionSsoUser(deps, {
      tenantId: parsed.tenantId,
      providerId: parsed.providerId,
      claims: {
        email,
        email_verified: input.attributes.email_verified,
        [groupsClaim]: input.attributes[`custom:${attributes.groupsAttribute}`],
      },
      meta: input.meta,
      // Cognito made the federated user and names it: that is the login to disable or delete.
      login: async () => ({ sub, username: input.userName }),
    });
    return 'provisioned';
  }
  const tenantId = input.attributes[attributes.tenantClaim];
  // Platform operators have no tenant.
  if (!tenantId) return 'platform';
  const tenant = await deps.store.getTenant(tenantId);
  if (tenant?.requireSso && email !== tenant.adminEmail.toLowerCase()) {
    const user = await deps.providers.findUserByEmail(tenantId, email);
    if (!user?.sso) throw new ForbiddenError('This organisation signs in with single sign-on only.');
  }
  return 'password';
}
