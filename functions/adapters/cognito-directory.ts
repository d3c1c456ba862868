import { randomBytes } from 'node:crypto';
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
import type { LocalMailbox } from './local-mailbox.ts';

/** Meets Cognito's default policy (upper, lower, digit, symbol): 96 random bits and one of each. */
function newTemporaryPassword(): string {
  return `${randomBytes(12).toString('base64url')}-Aa1`;
}

/** Cognito user pool as the {@link IdentityDirectory}: logins by email, the tenant as an immutable attribute. */
export class CognitoDirectory implements IdentityDirectory {
  /**
   * @param mailbox Local platform only: Cognito's own invitation is suppressed and written to the
   *   local mailbox instead, with a temporary password chosen here, so a developer can read it.
   */
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly mailbox?: LocalMailbox,
  ) {}

  async createUser(email: string, tenantId: string): Promise<{ sub: string }> {
    const temporaryPassword = this.mailbox ? newTemporaryPassword() : undefined;
    try {
      const out = await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: email,
          ...(temporaryPassword
            ? { MessageAction: 'SUPPRESS', TemporaryPassword: temporaryPassword }
            : { DesiredDeliveryMediums: ['EMAIL'] }),
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: IDENTITY_SCHEMA.tenantClaim, Value: tenantId },
          ],
        }),
      );
      const sub = out.User?.Attributes?.find((a) => a.Name === 'sub')?.Value;
      if (!sub) throw new Error('Cognito returned a user without a sub');
      if (this.mailbox && temporaryPassword) {
        await this.mailbox.send({
          to: email,
          subject: 'Your Meridian invitation',
          text: [
            `You have been invited to Meridian (tenant ${tenantId}).`,
            `Username: ${email}`,
            `Temporary password: ${temporaryPassword}`,
            'Sign in once to choose your own password, e.g. npx tsx bin/token.ts <username> --new-password <password>.',
          ].join('\n'),
        });
      }
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
