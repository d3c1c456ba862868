import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  UserPoolEmail,
  UserPoolGroup,
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import type { CognitoSesEmail, MfaMode } from '../config.ts';

/** Properties of {@link Identity}. */
export interface IdentityProps {
  /** MFA enforcement; the second factor is always TOTP (no SMS: it costs money and can be SIM-swapped). */
  readonly mfa: MfaMode;
  /**
   * Plus feature plan with standard threat protection enforced (compromised credentials, adaptive
   * authentication). Billed per monthly active user, so it is a stage decision.
   */
  readonly threatProtection: boolean;
  /** Cognito hosted login domain prefix (`<prefix>.auth.<region>.amazoncognito.com`); may be a token. */
  readonly domainPrefix: string;
  /** OAuth callback URLs of the app client; the first one is used for the hosted login URL output. */
  readonly callbackUrls: readonly string[];
  /** OAuth sign-out URLs of the app client. */
  readonly logoutUrls: readonly string[];
  /** Removal policy of the user pool: RETAIN in prod. */
  readonly removalPolicy: RemovalPolicy;
  /** Cognito deletion protection (prod). */
  readonly deletionProtection: boolean;
  /** Send Cognito's e-mail through SES. @default - Cognito's built-in sender (low daily cap) */
  readonly sesEmail?: CognitoSesEmail;
}

/**
 * Who may call Meridian: one Cognito user pool (users are invited by tenant admins, never self
 * registered), the tenant carried in an immutable custom attribute, a platform-admin group, the hosted
 * login with authorization code + PKCE, and a resource server whose scope the app client requests.
 */
export class Identity extends Construct {
  /** The user pool. */
  readonly userPool: UserPool;
  /** The public app client (no secret) used by the hosted login and the CLI. */
  readonly client: UserPoolClient;
  /** The hosted login domain. */
  readonly domain: UserPoolDomain;
  /** The resource server that defines Meridian's OAuth scopes. */
  readonly resourceServer: UserPoolResourceServer;
  /** The platform operators' group. */
  readonly platformAdminsGroup: UserPoolGroup;
  /** The hosted login page for the first callback URL (authorization code flow). */
  readonly hostedLoginUrl: string;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const [firstCallback] = props.callbackUrls;
    if (firstCallback === undefined || props.logoutUrls.length === 0) {
      throw new Error(`${this.node.path}: at least one callback URL and one logout URL are required`);
    }

    this.userPool = new UserPool(this, 'UserPool', {
      // Tenant admins invite users through AdminCreateUser; nobody signs themselves up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // Immutable: once a user belongs to a tenant, no API call (theirs or an admin's) can move them.
        [IDENTITY_SCHEMA.tenantAttribute]: new StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
        // A federated user's groups at their provider, rewritten by attribute mapping at every sign-in
        // (functions/adapters/cognito-federation.ts) and read by the pre-token-generation trigger.
        [IDENTITY_SCHEMA.groupsAttribute]: new StringAttribute({ minLen: 0, maxLen: 2048, mutable: true }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      mfa: Mfa[props.mfa],
      ...(props.mfa === 'OFF' ? {} : { mfaSecondFactor: { otp: true, sms: false } }),
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      ...(props.sesEmail
        ? {
            email: UserPoolEmail.withSES({
              fromEmail: props.sesEmail.fromEmail,
              sesRegion: props.sesEmail.sesRegion,
              ...(props.sesEmail.sesVerifiedDomain
                ? { sesVerifiedDomain: props.sesEmail.sesVerifiedDomain }
                : {}),
            }),
          }
        : {}),
      featurePlan: props.threatProtection ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(props.threatProtection
        ? { standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION }
        : {}),
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    if (props.mfa !== 'REQUIRED') {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason: `MFA is ${props.mfa} in this stage by configuration (lib/config.ts): development pools are signed into by scripts and tests; prod requires TOTP.`,
      });
    }
    if (!props.threatProtection) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus plan (threat protection) is billed per monthly active user; this stage opts out in lib/config.ts (dev has only test users). prod enables it.',
      });
    }

    this.platformAdminsGroup = new UserPoolGroup(this, 'PlatformAdminsGroup', {
      userPool: this.userPool,
      // The name is a contract with the runtime (the `cognito:groups` claim), hence fixed.
      groupName: IDENTITY_SCHEMA.platformAdminGroup,
      description: 'Platform operators: manage tenants, belong to none',
    });

    const scopes = IDENTITY_SCHEMA.resourceServer.scopes.map(
      (scope) => new ResourceServerScope({ scopeName: scope.name, scopeDescription: scope.description }),
    );
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: IDENTITY_SCHEMA.resourceServer.identifier,
      userPoolResourceServerName: 'Meridian API',
      scopes,
    });

    this.domain = this.userPool.addDomain('HostedLoginDomain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
    });

    this.client = this.userPool.addClient('AppClient', {
      // A public client (browser, CLI): PKCE protects the code exchange instead of a secret.
      generateSecret: false,
      // USER_PASSWORD_AUTH (+ refresh, always allowed) for the CLI and scripted local runs.
      authFlows: { userPassword: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [
          OAuthScope.OPENID,
          OAuthScope.EMAIL,
          OAuthScope.PROFILE,
          ...scopes.map((scope) => OAuthScope.resourceServer(this.resourceServer, scope)),
        ],
        callbackUrls: [...props.callbackUrls],
        logoutUrls: [...props.logoutUrls],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
        .withCustomAttributes(IDENTITY_SCHEMA.tenantAttribute),
      // Users may edit their profile, never their tenant. The groups attribute must be writable for
      // attribute mapping; the trigger trusts it only on a federated sign-in, where Cognito has just
      // rewritten it from the provider.
      writeAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, fullname: true })
        .withCustomAttributes(IDENTITY_SCHEMA.groupsAttribute),
    });

    this.hostedLoginUrl = this.domain.signInUrl(this.client, { redirectUri: firstCallback });
  }
}
