import { tenantPk } from '#adapters/dynamo/keys.ts';
import { LIFECYCLE_SETTINGS, lifecycleWiring } from '#adapters/wiring/lifecycle.ts';
import { runExport } from '#core/tenancy/exports.ts';
import { runOffboardingStep } from '#core/tenancy/offboarding.ts';
import { config } from '#shared/config.ts';
import { annotate, logger, tracedHandler } from '#shared/observability.ts';

config(LIFECYCLE_SETTINGS);

/** The task input the lifecycle state machines send (functions/shared/lifecycle-asl.ts). */
export interface LifecycleTask {
  readonly kind: 'offboarding' | 'export';
  readonly tenantId: string;
  readonly jobId: string;
}

/**
 * One batch of a lifecycle job: offboarding erases one bounded batch of the current phase; an export
 * writes its file. Returns `done` for the state machine's loop.
 */
export const handler = tracedHandler('lifecycle', async (task: LifecycleTask): Promise<{ done: boolean }> => {
  // The ids come from the job's own state machine input, but are checked like any key part.
  tenantPk(task.tenantId);
  annotate({ tenantId: task.tenantId });
  if (task.kind === 'offboarding') {
    const out = await runOffboardingStep(lifecycleWiring().offboarding, task.tenantId).catch(
      (error: unknown) => {
        // The state machine retries the batch; the log says why it failed.
        logger.error('Offboarding batch failed', { tenantId: task.tenantId, error });
        throw error;
      },
    );
    logger.info('Offboarding batch', { tenantId: task.tenantId, phase: out.phase, done: out.done });
    return { done: out.done };
  }
  if (task.kind === 'export') {
    const out = await runExport(lifecycleWiring().exports, task.tenantId, task.jobId);
    logger.info('Export written', { tenantId: task.tenantId, exportId: task.jobId });
    return out;
  }
  throw new Error(`Unknown lifecycle job kind ${String((task as { kind?: unknown }).kind)}`);
});
