import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  RespondToAuthChallengeCommand,
} from '@aws-sdk/client-cognito-identity-provider';

/**
 * A client for cognito-local: fixed region and dummy credentials, so the user's AWS configuration is
 * never consulted and a call can never reach real Cognito.
 */
export function cognitoClient(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** Tokens from one sign-in. */
export interface Tokens {
  readonly accessToken: string;
  readonly idToken: string;
  readonly refreshToken?: string;
}

/** An invited user's first sign-in: Cognito wants a new password before it issues tokens. */
export class NewPasswordRequiredError extends Error {
  constructor(readonly username: string) {
    super(`${username} signs in for the first time and must choose a password (--new-password).`);
  }
}

/**
 * Signs in with USER_PASSWORD_AUTH (the flow the app client allows; cognito-local has no SRP), as a
 * client app would.
 */
export async function passwordLogin(
  cognito: { endpoint: string; clientId: string },
  username: string,
  password: string,
  /** Answers NEW_PASSWORD_REQUIRED (an invited user's first sign-in) with this password. */
  newPassword?: string,
): Promise<Tokens> {
  const client = cognitoClient(cognito.endpoint);
  let output: Pick<InitiateAuthCommandOutput, 'AuthenticationResult' | 'ChallengeName'>;
  try {
    output = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: cognito.clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    if (output.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
      const session = (output as InitiateAuthCommandOutput).Session;
      if (!newPassword) throw new NewPasswordRequiredError(username);
      output = await client.send(
        new RespondToAuthChallengeCommand({
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          ClientId: cognito.clientId,
          Session: session,
          ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
        }),
      );
    }
  } finally {
    client.destroy();
  }
  const result = output.AuthenticationResult;
  if (!result?.AccessToken || !result.IdToken) {
    throw new Error(
      `Sign-in of ${username} did not return tokens (challenge: ${output.ChallengeName ?? 'none'})`,
    );
  }
  return { accessToken: result.AccessToken, idToken: result.IdToken, refreshToken: result.RefreshToken };
}
