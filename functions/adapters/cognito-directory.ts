import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  type CognitoIdentityProviderClient,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { ConflictError } from '#core/errors.ts';
import type { IdentityDirectory } from '#core/tenancy/ports.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';

/** Cognito user pool as the {@link IdentityDirectory}: logins by email, the tenant as an immutable attribute. */
export class CognitoDirectory implements IdentityDirectory {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
  ) {}

  async createUser(email: string, tenantId: string): Promise<{ sub: string }> {
    try {
      const out = await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: email,
          DesiredDeliveryMediums: ['EMAIL'],
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: IDENTITY_SCHEMA.tenantClaim, Value: tenantId },
          ],
        }),
      );
      const sub = out.User?.Attributes?.find((a) => a.Name === 'sub')?.Value;
      if (!sub) throw new Error('Cognito returned a user without a sub');
      return { sub };
    } catch (error) {
      if (error instanceof UsernameExistsException) {
        throw new ConflictError('A user with this email already exists.', [
          { path: 'email', message: 'already in use' },
        ]);
      }
      throw error;
    }
  }

  async disableUser(email: string): Promise<void> {
    await this.client.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: email }));
  }

  async enableUser(email: string): Promise<void> {
    await this.client.send(new AdminEnableUserCommand({ UserPoolId: this.userPoolId, Username: email }));
  }

  async deleteUser(email: string): Promise<void> {
    try {
      await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: email }));
    } catch (error) {
      // Already gone is what we wanted.
      if (!(error instanceof UserNotFoundException)) throw error;
    }
  }
}
