import {
  type CognitoIdentityProviderClient,
  CreateIdentityProviderCommand,
  DeleteIdentityProviderCommand,
  DescribeUserPoolClientCommand,
  ResourceNotFoundException,
  UpdateIdentityProviderCommand,
  UpdateUserPoolClientCommand,
  type UpdateUserPoolClientCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import { NotFoundError } from '#core/errors.ts';
import { cognitoProviderName, type IdentityProvider, verifiedDomains } from '#core/identity/model.ts';
import type { FederationDirectory } from '#core/identity/providers.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';

/**
 * Runs `work` so that no other run, in any container, overlaps it: on AWS a DynamoDB lease
 * (functions/adapters/dynamo/lease.ts, on `keys.appClientLease`).
 */
export type Serialize = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Each tenant provider as a Cognito identity provider named `<tenantId>-<providerId>`, with the
 * provider's verified email domains as its identifiers (the hosted login routes an email to it), the group
 * claim mapped to `custom:idp_groups` for the pre-token-generation trigger, and listed among the
 * app client's supported providers. Every tenant's providers are listed on the one app client, whose
 * list is read, changed and written back whole (Cognito has no conditional update): `serialize`
 * keeps two registrations or removals, of any tenants, from losing one of the changes.
 */
export class CognitoFederation implements FederationDirectory {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly appClientId: string,
    private readonly serialize: Serialize,
  ) {}

  async register(
    tenantId: string,
    provider: IdentityProvider,
    clientSecret: string | undefined,
  ): Promise<void> {
    const name = cognitoProviderName(tenantId, provider.providerId);
    const details: Record<string, string> =
      provider.type === 'oidc'
        ? {
            client_id: provider.clientId ?? '',
            client_secret: clientSecret ?? '',
            oidc_issuer: provider.issuer ?? '',
            authorize_scopes: 'openid email profile',
            attributes_request_method: 'GET',
          }
        : { MetadataURL: provider.metadataUrl ?? '' };
    await this.client.send(
      new CreateIdentityProviderCommand({
        UserPoolId: this.userPoolId,
        ProviderName: name,
        ProviderType: provider.type === 'oidc' ? 'OIDC' : 'SAML',
        ProviderDetails: details,
        AttributeMapping: {
          email: 'email',
          [`custom:${IDENTITY_SCHEMA.groupsAttribute}`]: provider.groupsClaim,
        },
        // Only proven domains route (none yet for a new provider): see identify().
        IdpIdentifiers: [...verifiedDomains(provider)],
      }),
    );
    try {
      await this.updateClient((current) => [...new Set([...current, name])]);
    } catch (error) {
      await this.client
        .send(new DeleteIdentityProviderCommand({ UserPoolId: this.userPoolId, ProviderName: name }))
        .catch(() => {});
      throw error;
    }
  }

  /**
   * The hosted login routes the provider's verified domains to it (its identifiers), and no others:
   * the record is read when it is this call's turn on the app client's lease, so two verifications at
   * once leave the later record routed.
   */
  async identify(
    tenantId: string,
    providerId: string,
    current: () => Promise<IdentityProvider | undefined>,
  ): Promise<void> {
    await this.serialize(async () => {
      const provider = await current();
      if (!provider) return;
      try {
        await this.client.send(
          new UpdateIdentityProviderCommand({
            UserPoolId: this.userPoolId,
            ProviderName: cognitoProviderName(tenantId, providerId),
            IdpIdentifiers: [...verifiedDomains(provider)],
          }),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException)
          throw new NotFoundError(`No identity provider ${providerId}.`);
        throw error;
      }
    });
  }

  async remove(tenantId: string, provider: IdentityProvider): Promise<void> {
    const name = cognitoProviderName(tenantId, provider.providerId);
    // The client must stop offering it before the provider can be deleted.
    await this.updateClient((current) => current.filter((p) => p !== name));
    try {
      await this.client.send(
        new DeleteIdentityProviderCommand({ UserPoolId: this.userPoolId, ProviderName: name }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  /**
   * UpdateUserPoolClient resets every setting it is not given, so the current client is read and
   * written back whole with only the provider list changed, under `serialize` so that no other
   * change lands between the read and the write.
   */
  private updateClient(change: (current: readonly string[]) => string[]): Promise<void> {
    return this.serialize(() => this.readModifyWrite(change));
  }

  private async readModifyWrite(change: (current: readonly string[]) => string[]): Promise<void> {
    const out = await this.client.send(
      new DescribeUserPoolClientCommand({ UserPoolId: this.userPoolId, ClientId: this.appClientId }),
    );
    const c = out.UserPoolClient;
    if (!c) throw new Error(`Cognito returned no app client ${this.appClientId}`);
    const input: UpdateUserPoolClientCommandInput = {
      UserPoolId: this.userPoolId,
      ClientId: this.appClientId,
      ClientName: c.ClientName,
      RefreshTokenValidity: c.RefreshTokenValidity,
      AccessTokenValidity: c.AccessTokenValidity,
      IdTokenValidity: c.IdTokenValidity,
      TokenValidityUnits: c.TokenValidityUnits,
      ReadAttributes: c.ReadAttributes,
      WriteAttributes: c.WriteAttributes,
      ExplicitAuthFlows: c.ExplicitAuthFlows,
      SupportedIdentityProviders: change(c.SupportedIdentityProviders ?? []),
      CallbackURLs: c.CallbackURLs,
      LogoutURLs: c.LogoutURLs,
      DefaultRedirectURI: c.DefaultRedirectURI,
      AllowedOAuthFlows: c.AllowedOAuthFlows,
      AllowedOAuthScopes: c.AllowedOAuthScopes,
      AllowedOAuthFlowsUserPoolClient: c.AllowedOAuthFlowsUserPoolClient,
      AnalyticsConfiguration: c.AnalyticsConfiguration,
      PreventUserExistenceErrors: c.PreventUserExistenceErrors,
      EnableTokenRevocation: c.EnableTokenRevocation,
      EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData,
      AuthSessionValidity: c.AuthSessionValidity,
    };
    await this.client.send(new UpdateUserPoolClientCommand(input));
  }
}

/** The local platform federates nothing: its own relying party (bin/local/sso.ts) signs users in. */
export const noFederation: FederationDirectory = {
  register: async () => {},
  identify: async () => {},
  remove: async () => {},
};
