import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '#shared/observability.ts';

/**
 * AWS SDK v3 clients, created once per container and wrapped by the tracer. Every client honours
 * `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>` variables through the SDK's
 * own configured-endpoint support, so the same code runs on AWS, LocalStack and the local platform.
 */

const endpointConfigured = (service: string): boolean =>
  Boolean(process.env.AWS_ENDPOINT_URL || process.env[`AWS_ENDPOINT_URL_${service}`]);

/** Marshalling options shared by every document client. */
export const TRANSLATE = Object.freeze({
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  unmarshallOptions: { wrapNumbers: false },
});

let dynamo: DynamoDBDocumentClient | undefined;
/** The container's DynamoDB document client (the function's own role). */
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), TRANSLATE);
  return dynamo;
}

/** Path-style addressing when an endpoint override is set (s3rver, LocalStack). */
export function s3Options(): { forcePathStyle: boolean } {
  return { forcePathStyle: endpointConfigured('S3') };
}

let s3: S3Client | undefined;
/** The container's S3 client (the function's own role). */
export function s3Client(): S3Client {
  s3 ??= tracer.captureAWSv3Client(new S3Client(s3Options()));
  return s3;
}

let cognito: CognitoIdentityProviderClient | undefined;
/** The container's Cognito user pool client. */
export function cognitoClient(): CognitoIdentityProviderClient {
  cognito ??= tracer.captureAWSv3Client(new CognitoIdentityProviderClient({}));
  return cognito;
}
