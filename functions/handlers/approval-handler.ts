import { APPROVAL_HANDLER_SETTINGS, approvalHandlerWiring } from '#adapters/wiring/approval-handler.ts';
import { type ApprovalRequest, requestStepApproval } from '#core/approvals/steps.ts';
import { TransientError } from '#core/errors.ts';
import { config } from '#shared/config.ts';
import { annotate, logger, tracedHandler } from '#shared/observability.ts';

config(APPROVAL_HANDLER_SETTINGS);

const ATTEMPTS = 4;

/**
 * The Lambda behind approval steps (`.waitForTaskToken`): records the pending approval with its task
 * token and sets the execution to WAITING_APPROVAL. The execution resumes when someone decides.
 * A busy tenant's audit chain can make the write wait its turn: retried here, since the compiled
 * task retries only Lambda's own transient errors.
 */
export const handler = tracedHandler(
  'approval-handler',
  async (event: ApprovalRequest): Promise<{ approvalId: string }> => {
    logger.appendKeys({
      tenantId: event.context?.tenantId,
      executionId: event.context?.executionId,
      stepId: event.stepId,
    });
    annotate({
      tenantId: event.context?.tenantId,
      executionId: event.context?.executionId,
      workflowId: event.context?.workflowId,
    });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const approval = await requestStepApproval(approvalHandlerWiring(), event);
          logger.info('Approval requested', { approvalId: approval.approvalId });
          return { approvalId: approval.approvalId };
        } catch (error) {
          if (!(error instanceof TransientError) || attempt >= ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * Math.random()));
        }
      }
    } finally {
      logger.resetKeys();
    }
  },
);
