import type { PublishedVersion, WorkflowEngine } from '#core/versioning/engine.ts';
import type { Environment } from '#core/versioning/model.ts';
import { stateMachineName, tenantOfStateMachine } from '#shared/resource-names.ts';

/** What AWS answers a call on a machine outside the session tenant's (lib/constructs/tenant-data-role.ts). */
export class TenantFenceError extends Error {
  override readonly name = 'AccessDeniedException';
}

/**
 * Refuses, as IAM does on AWS, a call for `tenantId` on a machine or execution of another tenant (or
 * of no tenant): the local platform keeps tenants apart by the same rule, so a core path that names
 * the wrong tenant fails its tests here rather than on AWS.
 */
export function assertTenantMachine(tenantId: string, arn: string): void {
  if (tenantOfStateMachine(arn) !== tenantId)
    throw new TenantFenceError(`Tenant ${tenantId} may not act on ${arn}`);
}

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

  async promote(input: {
    tenantId: string;
    stateMachineArn: string;
    environment: Environment;
  }): Promise<void> {
    // Environments are read from the workflow record when an execution starts locally.
    assertTenantMachine(input.tenantId, input.stateMachineArn);
  }

  async remove(input: { tenantId: string; stateMachineArn: string }): Promise<void> {
    // Nothing is registered locally: the ASL lives in the workflow's version records.
    assertTenantMachine(input.tenantId, input.stateMachineArn);
  }
}
