import { describe, expect, it } from 'vitest';
import { actionsOf, logicalId, roleStatements, synthStage } from '../helpers/synth.ts';

describe.each(['dev', 'prod'] as const)('schedules in %s', (stage) => {
  const { template, stack } = synthStage(stage);
  const { schedules } = stack;
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;

  it('tells the API its group prefix, the fire function and the scheduler role', () => {
    const env = (resources[logicalId(stack, stack.api.apiFunction.function)]?.Properties?.Environment ??
      {}) as {
      Variables?: Record<string, unknown>;
    };
    expect(env.Variables).toMatchObject({
      SCHEDULE_GROUP_PREFIX: `meridian-${stage}`,
      SCHEDULE_FIRE_ARN: { 'Fn::GetAtt': [logicalId(stack, schedules.fire.function), 'Arn'] },
      SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [logicalId(stack, schedules.schedulerRole), 'Arn'] },
    });
  });

  it('lets only EventBridge Scheduler of this account assume the scheduler role, to invoke only the fire function', () => {
    const role = resources[logicalId(stack, schedules.schedulerRole)];
    expect(role?.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const statements = roleStatements(template, logicalId(stack, schedules.schedulerRole));
    expect(statements).toEqual([
      {
        Sid: 'InvokeFireFunction',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [logicalId(stack, schedules.fire.function), 'Arn'] },
      },
    ]);
  });

  it('gives the API schedule permissions only in this stage’s tenant groups', () => {
    const statements = roleStatements(template, logicalId(stack, stack.api.apiFunction.role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('scheduler:')),
    );
    const resourcesOf = statements.map((s) => JSON.stringify(s.Resource));
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:CreateScheduleGroup',
      'scheduler:DeleteSchedule',
      'scheduler:DeleteScheduleGroup',
      'scheduler:GetScheduleGroup',
      'scheduler:TagResource',
    ]);
    for (const resource of resourcesOf) expect(resource).toContain(`meridian-${stage}-*`);
  });

  it('lets the API tag a schedule group only with its tenant, at creation', () => {
    const tagging = roleStatements(template, logicalId(stack, stack.api.apiFunction.role)).filter((s) =>
      actionsOf(s).includes('scheduler:TagResource'),
    );
    expect(tagging).toHaveLength(1);
    expect(actionsOf(tagging[0] as never).sort()).toEqual([
      'scheduler:CreateScheduleGroup',
      'scheduler:TagResource',
    ]);
    expect((tagging[0] as { Condition?: unknown }).Condition).toEqual({
      Null: { 'aws:RequestTag/TenantId': 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId'] },
    });
  });

  it("lets the fire function start its session tenant's executions and nothing else of Step Functions", () => {
    const states = (role: Parameters<typeof logicalId>[1]) =>
      roleStatements(template, logicalId(stack, role)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('states:')),
      );
    const tenantRole = schedules.fire.tenantDataRole;
    if (!tenantRole) throw new Error('the fire function has no tenant data role');
    // Its own role reaches no state machine; its tenant data role starts the session tenant's only.
    expect(states(schedules.fire.role)).toEqual([]);
    const onTenant = states(tenantRole);
    expect(onTenant.flatMap(actionsOf)).toEqual(['states:StartExecution']);
    expect(JSON.stringify(onTenant[0]?.Resource)).toContain(
      `meridian-${stage}-\${aws:PrincipalTag/TenantId}-*`,
    );
    expect(onTenant[0]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/TenantId': `\${aws:PrincipalTag/TenantId}` },
    });
  });
});
