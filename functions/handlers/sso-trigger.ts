import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { ssoTriggerWiring } from '#adapters/wiring/sso-trigger.ts';
import { onTokenGeneration } from '#core/identity/federated.ts';
import { IDENTITY_SCHEMA } from '#shared/identity-schema.ts';
import { logger } from '#shared/observability.ts';

/**
 * Cognito pre-token-generation trigger (V1_0 event): just-in-time provisioning of federated users
 * and the "SSO required" refusal of password sign-ins (functions/core/identity/federated.ts). The
 * event comes back unchanged: the authorizer resolves users by `sub`, so no claim needs adding.
 */
export const handler = async (
  event: PreTokenGenerationTriggerEvent,
  context: { awsRequestId: string },
): Promise<PreTokenGenerationTriggerEvent> => {
  const outcome = await onTokenGeneration(
    ssoTriggerWiring(),
    { tenantClaim: IDENTITY_SCHEMA.tenantClaim, groupsAttribute: IDENTITY_SCHEMA.groupsAttribute },
    {
      userName: event.userName,
      triggerSource: event.triggerSource,
      attributes: event.request.userAttributes,
      meta: {
        requestId: context.awsRequestId,
        sourceIp: 'cognito',
        userAgent: `cognito:${event.triggerSource}`,
        now: new Date().toISOString(),
      },
    },
  ).catch((error: unknown) => {
    logger.warn('Sign-in refused', { triggerSource: event.triggerSource, reason: (error as Error).message });
    throw error;
  });
  logger.info('Token generation', { triggerSource: event.triggerSource, outcome });
  return event;
};
