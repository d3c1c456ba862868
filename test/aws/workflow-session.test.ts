import { randomUUID } from 'node:crypto';
import { DescribeStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { executionEngine, workflowEngine } from '#adapters/wiring/step-functions.ts';
import { core, machines, parseConfig, workflows } from '#shared/config.ts';
import { sdkOptions } from '../helpers/moto.ts';
import { fencedClients } from '../helpers/tenant-session.ts';

const unique = (): string => randomUUID().replaceAll('-', '').slice(0, 16);
const tenant = (): string => `t${unique()}a`.slice(0, 17);
const TENANT_ROLE =
  process.env.MERIDIAN_AWS_TEST_TENANT_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-tenant-data';
const WORKFLOW_ROLE =
  process.env.MERIDIAN_AWS_TEST_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-workflows';
const ASL = JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 600, End: true } } });

// The API's engines, wired as the API wires them (functions/adapters/wiring/step-functions.ts): every
// call on a workflow machine goes out on the session of the tenant it names, which IAM fences to that
// tenant's machines (lib/constructs/tenant-data-role.ts grantTenantWorkflows).
describe("the API's Step Functions calls, on each tenant's session", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  const options = sdkOptions(inject('awsEndpoint'));

  it('publish, promote, stop and remove through a session tagged with the tenant they name', async () => {
    // Prepare
    const prefix = `meridian-t${unique().slice(0, 6)}`;
    const [first, second] = [tenant(), tenant()];
    const cfg = parseConfig(
      {
        STAGE: 'test',
        MERIDIAN_MODE: 'aws',
        TABLE_NAME: 'meridian-test',
        STATE_MACHINE_PREFIX: prefix,
        STEP_RUNNER_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:step-runner',
        APPROVAL_HANDLER_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:approval-handler',
        WORKFLOW_ROLE_ARN: WORKFLOW_ROLE,
        WORKFLOW_LOG_GROUP_ARN: 'arn:aws:logs:us-east-1:123456789012:log-group:/meridian/test/workflows:*',
      },
      [core, machines, workflows],
    );
    const { clients, sessionTags } = fencedClients(options, TENANT_ROLE);
    const engine = workflowEngine(cfg, clients);
    const executions = executionEngine(cfg, clients);
    // Act: the first tenant's workflow from publish to delete; the second tenant publishes one too
    const published = await engine.publish({
      tenantId: first,
      workflowId: `w${unique()}`,
      version: 1,
      asl: ASL,
    });
    await engine.promote({
      tenantId: first,
      workflowId: 'w',
      stateMachineArn: published.stateMachineArn,
      environment: 'prod',
      versionArn: published.versionArn,
    });
    // moto starts no execution through an alias (docs/emulators.md): this one starts on the machine.
    const started = await new SFNClient(options).send(
      new StartExecutionCommand({ stateMachineArn: published.stateMachineArn, name: `x${unique()}` }),
    );
    const engineArn = String(started.executionArn);
    await executions.stop({ tenantId: first, engineArn, error: 'Execution.Cancelled', cause: 'test' });
    await engine.publish({ tenantId: second, workflowId: `w${unique()}`, version: 1, asl: ASL });
    await engine.remove({ tenantId: first, stateMachineArn: published.stateMachineArn });
    // Assess: one AssumeRole per tenant, each tagged with that tenant; the machine is gone
    expect(sessionTags()).toEqual([
      [{ Key: 'TenantId', Value: first }],
      [{ Key: 'TenantId', Value: second }],
    ]);
    const after = await new SFNClient(options)
      .send(new DescribeStateMachineCommand({ stateMachineArn: published.stateMachineArn }))
      .then(
        (d) => d.status,
        (e: Error) => e.name,
      );
    expect(['StateMachineDoesNotExist', 'DELETING']).toContain(after);
  }, 60_000);
});
