import { describe, expect, it } from 'vitest';
import { lifecycleMachineName } from '../../lib/constructs/lifecycle.ts';
import { actionsOf, logicalId, roleStatements, synthStage } from '../helpers/synth.ts';

/** The tenant lifecycle jobs (lib/constructs/lifecycle.ts): two machines looping one fenced Lambda. */
describe.each(['dev', 'prod'] as const)('tenant lifecycle in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const lifecycleMachines = Object.entries(machines).filter(([, r]) =>
    String((r.Properties as { StateMachineName?: string }).StateMachineName ?? '').startsWith(
      'meridian-lifecycle-',
    ),
  );
  const fnId = logicalId(stack, stack.lifecycle.fn.function);

  it('deploys an offboarding and an export machine, named outside the tenant workflow prefix', () => {
    const names = lifecycleMachines.map(
      ([, r]) => (r.Properties as { StateMachineName: string }).StateMachineName,
    );
    expect(names.sort()).toEqual([
      lifecycleMachineName(stage, 'export'),
      lifecycleMachineName(stage, 'offboarding'),
    ]);
    for (const name of names) expect(name.startsWith(`meridian-${stage}-`)).toBe(false);
  });

  it('loops the lifecycle function until it answers done, as the local platform runs it', () => {
    for (const [, resource] of lifecycleMachines) {
      const body = JSON.stringify((resource.Properties as { DefinitionString: unknown }).DefinitionString);
      expect(body).toContain('"Variable\\":\\"$.result.done\\"');
      expect(body).toContain('\\"Default\\":\\"Batch\\"');
      expect(body).toContain(fnId);
    }
  });

  it('lets the API start only those two machines', () => {
    const api = roleStatements(template, logicalId(stack, stack.api.apiFunction.role));
    const start = api.find((s) => s.Sid === 'StartLifecycleJobs');
    expect(start && actionsOf(start)).toEqual(['states:StartExecution']);
    expect(start?.Resource).toEqual(
      expect.arrayContaining([
        { Ref: logicalId(stack, stack.lifecycle.offboarding) },
        { Ref: logicalId(stack, stack.lifecycle.export) },
      ]),
    );
    expect(start?.Resource).toHaveLength(2);
  });

  it("gives the function's tenant role secret deletion only, and object deletes only under the tenant prefix", () => {
    const tenant = roleStatements(template, logicalId(stack, stack.lifecycle.tenantRole));
    const secrets = tenant.find((s) => s.Sid === 'TenantSecretsOnly');
    expect(secrets && actionsOf(secrets)).toEqual(['secretsmanager:DeleteSecret']);
    const objects = tenant.find((s) => s.Sid === 'TenantArtifactsOnly');
    expect(objects && actionsOf(objects).sort()).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:PutObject',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM
    expect(JSON.stringify(objects?.Resource)).toContain('/tenants/${aws:PrincipalTag/TenantId}/*');
    const own = roleStatements(template, logicalId(stack, stack.lifecycle.fn.role));
    expect(own.flatMap(actionsOf)).not.toContain('s3:DeleteObject');
    expect(own.flatMap(actionsOf)).not.toContain('dynamodb:BatchWriteItem');
  });
});
