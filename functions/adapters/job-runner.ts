import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { JobRunner } from '#core/tenancy/offboarding.ts';

/**
 * Lifecycle jobs on Step Functions: one Standard execution per run, named by the run (so a retried
 * start of the same run starts nothing new).
 */
export class SfnJobRunner implements JobRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly machines: { readonly offboarding: string; readonly export: string },
  ) {}

  async start(input: Parameters<JobRunner['start']>[0]): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.machines[input.kind],
          name: input.runName,
          input: JSON.stringify(input.input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }
}
