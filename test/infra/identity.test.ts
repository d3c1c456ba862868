import { Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { logicalId, synthStage } from '../helpers/synth.ts';

describe('user pool', () => {
  const { template, config } = synthStage('dev');

  it('signs users in by e-mail', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { UsernameAttributes: ['email'] });
  });

  it('lets only administrators create users (no self sign-up)', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: Match.objectLike({ AllowAdminCreateUserOnly: true }),
    });
  });

  it('has the tenant attribute from IDENTITY_SCHEMA, immutable', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([
        Match.objectLike({
          Name: IDENTITY_SCHEMA.tenantAttribute,
          AttributeDataType: 'String',
          Mutable: false,
        }),
      ]),
    });
  });

  it('requires 12-character passwords with every character class', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it('has the platform-admins group from IDENTITY_SCHEMA', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: IDENTITY_SCHEMA.platformAdminGroup,
    });
  });

  it('has a hosted login domain made of the configured prefix and the account id', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['-', [config.hostedLoginDomainPrefix, { Ref: 'AWS::AccountId' }]] },
    });
  });

  it('has the resource server and scopes from IDENTITY_SCHEMA', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: IDENTITY_SCHEMA.resourceServer.identifier,
      Scopes: IDENTITY_SCHEMA.resourceServer.scopes.map((scope) => ({
        ScopeName: scope.name,
        ScopeDescription: scope.description,
      })),
    });
  });
});

describe.each([
  { stage: 'dev' as const, mfa: 'OPTIONAL', protection: 'INACTIVE', plan: 'ESSENTIALS', policy: 'Delete' },
  { stage: 'prod' as const, mfa: 'ON', protection: 'ACTIVE', plan: 'PLUS', policy: 'Retain' },
])('user pool in $stage', ({ stage, mfa, protection, plan, policy }) => {
  const { template } = synthStage(stage);

  it(`sets MFA to ${mfa} with TOTP only`, () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: mfa,
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it(`has deletion protection ${protection}`, () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: protection });
  });

  it(`is on the ${plan} feature plan`, () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: plan });
  });

  it(`has removal policy ${policy}`, () => {
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: policy });
  });
});

describe('user pool in prod', () => {
  const { template } = synthStage('prod');

  it('enforces threat protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });
});

describe('app client', () => {
  const { template, stack, config } = synthStage('dev');

  it('is a public client (no secret)', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false });
  });

  it('allows only the authorization code flow (PKCE on a public client)', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
    });
  });

  it('allows the password auth flows of IDENTITY_SCHEMA and nothing else', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: Match.arrayEquals(IDENTITY_SCHEMA.passwordAuthFlows.map((flow) => `ALLOW_${flow}`)),
    });
  });

  it('requests openid, email, profile and the resource-server scopes', () => {
    const resourceServerId = logicalId(stack, stack.identity.resourceServer);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthScopes: Match.arrayEquals([
        'openid',
        'email',
        'profile',
        ...IDENTITY_SCHEMA.resourceServer.scopes.map((scope) => ({
          'Fn::Join': ['', [{ Ref: resourceServerId }, `/${scope.name}`]],
        })),
      ]),
    });
  });

  it("uses the configured callback and logout URLs, then the console's", () => {
    const consoleUrl = {
      'Fn::Join': [
        '',
        [
          'https://',
          { 'Fn::GetAtt': [logicalId(stack, stack.console.distribution), 'DomainName'] },
          '/console/',
        ],
      ],
    };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: [...config.callbackUrls, consoleUrl],
      LogoutURLs: [...config.logoutUrls, consoleUrl],
    });
  });

  it('prevents user existence errors', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { PreventUserExistenceErrors: 'ENABLED' });
  });

  it('issues access tokens valid for one hour', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AccessTokenValidity: 60,
      TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes' }),
    });
  });

  it('may write only e-mail, name and the mapped provider groups, never the tenant attribute', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      WriteAttributes: [`custom:${IDENTITY_SCHEMA.groupsAttribute}`, 'email', 'name'],
    });
  });

  it('runs the SSO trigger before every token, and keeps the provider groups in a mutable attribute', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: { PreTokenGeneration: Match.anyValue() },
      Schema: Match.arrayWith([Match.objectLike({ Name: IDENTITY_SCHEMA.groupsAttribute, Mutable: true })]),
    });
  });

  it('may read the tenant attribute', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ReadAttributes: Match.arrayWith([IDENTITY_SCHEMA.tenantClaim]),
    });
  });
});
