import type { PublishedVersion, WorkflowEngine } from '#core/versioning/engine.ts';
import type { Environment } from '#core/versioning/model.ts';
import { stateMachineName } from '#shared/resource-names.ts';

/**
 * The local platform's engine registry: Step Functions ARNs in the same shape as on AWS, so records
 * look alike in both places. The ASL itself is stored with each workflow version and run from there
 * by the local runtime (aws-local-stepfunctions), so publishing needs no state here.
 */
export class LocalEngine implements WorkflowEngine {
  constructor(private readonly namePrefix: string) {}

  async publish(input: { tenantId: string; workflowId: string; version: number }): Promise<PublishedVersion> {
    const stateMachineArn = `arn:aws:states:local:000000000000:stateMachine:${stateMachineName(this.namePrefix, input.tenantId, input.workflowId)}`;
    return { stateMachineArn, versionArn: `${stateMachineArn}:${input.version}` };
  }

  async promote(_input: { environment: Environment }): Promise<void> {
    // Environments are read from the workflow record when an execution starts locally.
  }

  async remove(_input: { stateMachineArn: string }): Promise<void> {
    // Nothing is registered locally: the ASL lives in the workflow's version records.
  }
}
