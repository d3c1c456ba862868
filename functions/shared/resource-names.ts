import { ID_PATTERN } from '#core/ids.ts';

/**
 * Names and tags of the AWS resources the runtime creates per tenant (workflow state machines,
 * schedule groups, secrets) and of the tenant sessions it reaches them with. The CDK constructs
 * (lib/constructs/flows.ts, schedules.ts, tenant-data-role.ts) scope IAM by the same values, so a
 * rename on one side cannot leave the other allowing nothing, or too much.
 */

/**
 * The tag key that carries a tenant id: on every workflow state machine, schedule and tenant
 * secret, and as the session tag of a tenant data role (which IAM policy variables read).
 */
export const TENANT_TAG = 'TenantId';

/** The only other tag a workflow state machine carries. */
export const WORKFLOW_TAG = 'WorkflowId';

/**
 * Prefix of a stage's per-tenant resource names (`STATE_MACHINE_PREFIX`, `SCHEDULE_GROUP_PREFIX`):
 * machines are named `<prefix>-<tenantId>-<workflowId>`, schedule groups `<prefix>-<tenantId>`.
 */
export function stagePrefix(stage: string): string {
  return `meridian-${stage}`;
}

/** A workflow's state machine name: at most 80 characters (17-character ids keep it well under). */
export function stateMachineName(prefix: string, tenantId: string, workflowId: string): string {
  return `${prefix}-${tenantId}-${workflowId}`;
}

/**
 * The tenant from a state machine ARN: machines are named `<prefix>-<tenantId>-<workflowId>`. A
 * version or alias ARN (`…:stateMachine:<name>:<qualifier>`) names the same machine, and so does an
 * execution's (`…:execution:<name>:<execution>`).
 */
export function tenantOfStateMachine(stateMachineArn: string): string | undefined {
  const segments = stateMachineArn.split(':');
  // arn:aws:states:<region>:<account>:<stateMachine|execution>:<name>[:…]
  const kind = segments[5];
  if (kind !== 'stateMachine' && kind !== 'execution') return undefined;
  const name = segments[6] ?? '';
  const parts = name.split('-');
  const tenantId = parts[parts.length - 2];
  return tenantId?.startsWith('t') && ID_PATTERN.test(tenantId) ? tenantId : undefined;
}
