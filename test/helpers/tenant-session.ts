import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { TenantTableClients } from '#adapters/tenant-credentials.ts';
import type { sdkOptions } from './moto.ts';

/**
 * Per-tenant clients as a function builds them on AWS (functions/adapters/tenant-credentials.ts):
 * each tenant's calls go out on a session of `roleArn` tagged with the tenant. `sessionTags()` lists
 * the tags of every AssumeRole made so far, so a test can show which tenants' sessions its calls
 * used. The fenced clients take their endpoint from the environment, as on AWS: the caller restores
 * the stubbed environment (`vi.unstubAllEnvs`) and the spy (`vi.restoreAllMocks`) after the test.
 */
export function fencedClients(
  options: ReturnType<typeof sdkOptions>,
  roleArn: string,
): { clients: TenantTableClients; sessionTags: () => unknown[] } {
  const sts = new STSClient(options);
  const clients = new TenantTableClients(
    DynamoDBDocumentClient.from(new DynamoDBClient(options)),
    roleArn,
    sts,
  );
  // The fenced client assumes the role only when it signs a request: so an AssumeRole tagged with the
  // tenant shows that the calls went through it.
  const assumed = vi.spyOn(sts, 'send');
  if (options.endpoint) vi.stubEnv('AWS_ENDPOINT_URL', options.endpoint);
  vi.stubEnv('AWS_REGION', options.region);
  return {
    clients,
    sessionTags: () => assumed.mock.calls.map(([command]) => (command.input as { Tags?: unknown }).Tags),
  };
}
