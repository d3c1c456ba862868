import { adapters } from '#adapters/container.ts';
import { type ApprovalRequest, requestStepApproval } from '#core/executions/service.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/observability.ts';

config();

/**
 * The Lambda behind approval steps (`.waitForTaskToken`): records the pending approval with its task
 * token and sets the execution to WAITING_APPROVAL. The execution resumes when someone decides.
 */
export async function handler(event: ApprovalRequest): Promise<{ approvalId: string }> {
  logger.appendKeys({
    tenantId: event.context?.tenantId,
    executionId: event.context?.executionId,
    stepId: event.stepId,
  });
  try {
    const approval = await requestStepApproval(adapters().executions, event);
    logger.info('Approval requested', { approvalId: approval.approvalId });
    return { approvalId: approval.approvalId };
  } finally {
    logger.resetKeys();
  }
}
