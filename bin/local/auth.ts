import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
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

/**
 * Signs in with USER_PASSWORD_AUTH (the flow the app client allows; cognito-local has no SRP), as a
 * client app would.
 */
export async function passwordLogin(
  cognito: { endpoint: string; clientId: string },
  username: string,
  password: string,
): Promise<Tokens> {
  const client = cognitoClient(cognito.endpoint);
  let output: InitiateAuthCommandOutput;
  try {
    output = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: cognito.clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
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
